"""The review of one model file between a base and a head revision.

``compare`` is pure: it takes the two registers (either may be absent when the file was added or
deleted) and the model diff, and returns a :class:`Review`: new threats, resolved threats with the
reason, status transitions, regressions, and the unaddressed threats in the changed scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from threatdelta.errors import Location
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import CONTROL_STATUSES, Model
from threatdelta.register import Entry, Register, disposition_location
from threatdelta.review.diff import ModelDiff, diff_models
from threatdelta.review.impact import Impact, read_attributes, semantic_scope
from threatdelta.review.reasons import resolution_reason
from threatdelta.rules.pack import RulePack

FileChange = Literal["added", "removed", "changed", "unchanged", "renamed"]


@dataclass(frozen=True)
class Resolved:
    """A threat present at base and gone at head."""

    entry: Entry
    """The threat as it stood at base."""
    code: str
    """removed, rule-removed, excluded, property, boundary or other."""
    reason: str
    """Why, in plain words."""


@dataclass(frozen=True)
class Transition:
    """A threat whose status changed."""

    entry: Entry
    """The threat at head."""
    before: str
    """Status at base (``needs-investigation`` for an open threat flagged for a closer look)."""
    after: str
    """Status at head (``needs-investigation`` likewise)."""
    was_addressed: bool
    """Whether it was addressed at base."""


@dataclass(frozen=True, order=True)
class Regression:
    """Something the change made worse."""

    code: str
    """control-removed, control-downgraded, evidence-removed, evidence-missing, expired,
    status-downgraded."""
    message: str
    """Plain words."""
    key: str = ""
    """The threat concerned, if one."""
    location: Location | None = None
    """Where to look at head."""


@dataclass(frozen=True)
class Review:
    """What a change did to one model's threats."""

    path: str
    """The model file at head (at base when it was removed)."""
    base_path: str | None
    """The model file at base, when it was there (differs from ``path`` after a rename)."""
    file_change: FileChange
    """added, removed, changed, unchanged or renamed."""
    base: Register | None
    """The register at base (None when the file was added)."""
    head: Register | None
    """The register at head (None when the file was removed)."""
    pack: RulePack | None
    """The rule pack at head (at base when removed)."""
    diff: ModelDiff | None
    """The model diff (None when the file was added or removed)."""
    new: tuple[Entry, ...]
    """Threats at head that were not at base."""
    resolved: tuple[Resolved, ...]
    """Threats at base that are not at head, with the reason."""
    transitions: tuple[Transition, ...]
    """Threats whose status changed."""
    regressions: tuple[Regression, ...]
    """Lost countermeasures, removed evidence, expired justifications, downgraded statuses."""
    unaddressed: tuple[Entry, ...]
    """Threats in the changed scope with neither a countermeasure nor a justification."""
    impact: Impact | None = None
    """What was re-enumerated (for incremental reviews)."""

    @property
    def empty(self) -> bool:
        """Nothing to report."""
        return not (
            self.new or self.resolved or self.transitions or self.regressions or self.unaddressed
        )


_RANK = {status: i for i, status in enumerate(CONTROL_STATUSES)}

NEEDS_INVESTIGATION = "needs-investigation"
"""How a transition names an open threat that is flagged for investigation."""


def _state(entry: Entry) -> str:
    """The status a transition shows: flagging an open threat is a triage step of its own."""
    disposition = entry.disposition
    if entry.status == "open" and disposition is not None and disposition.needs_investigation:
        return NEEDS_INVESTIGATION
    return entry.status


def _control_regressions(base: Register, head: Register, head_model: Model) -> list[Regression]:
    result: list[Regression] = []
    head_keys = head.by_key()
    for entry in base.entries:
        if entry.status != "mitigated" or not entry.addressed:
            continue
        for control in entry.controls:
            now = head_model.control(control.id)
            still = head_keys.get(entry.key)
            if now is None:
                # Only while the threat still claims the mitigation: when its status changed
                # too, the transition says what happened (status-downgraded, or a new decision).
                if still is not None and still.status == "mitigated":
                    result.append(
                        Regression(
                            "control-removed",
                            f"control '{control.id}' was removed; '{entry.key}' lost its countermeasure",
                            entry.key,
                            disposition_location(still),
                        )
                    )
                continue
            if _RANK[now.status] < _RANK[control.status]:
                result.append(
                    Regression(
                        "control-downgraded",
                        f"control '{control.id}' went from {control.status} to {now.status}",
                        entry.key,
                        now.location,
                    )
                )
            lost = [e for e in control.evidence if e not in now.evidence]
            for item in lost:
                result.append(
                    Regression(
                        "evidence-removed",
                        f"evidence '{item}' was removed from control '{control.id}'",
                        entry.key,
                        now.location,
                    )
                )
    return result


def _evidence_regressions(base: Register, head: Register) -> list[Regression]:
    before = {
        (e.key, p.message) for e in base.entries for p in e.problems if p.code == "missing-evidence"
    }
    result = []
    for entry in head.entries:
        for problem in entry.problems:
            if problem.code == "missing-evidence" and (entry.key, problem.message) not in before:
                result.append(
                    Regression(
                        "evidence-missing", problem.message, entry.key, entry.threat.location
                    )
                )
    return result


def _expired(head: Register) -> list[Regression]:
    result = []
    for entry in head.entries:
        for problem in entry.problems:
            if problem.code == "expired":
                location = entry.disposition.location if entry.disposition else None
                result.append(
                    Regression("expired", f"'{entry.key}': {problem.message}", entry.key, location)
                )
    return result


def _dedupe(regressions: list[Regression]) -> tuple[Regression, ...]:
    seen: dict[tuple[str, str, str], Regression] = {}
    for r in regressions:
        seen.setdefault((r.code, r.key, r.message), r)
    return tuple(sorted(seen.values(), key=lambda r: (r.key, r.code, r.message)))


def compare(
    path: str,
    base_path: str | None,
    base: Register | None,
    head: Register | None,
    base_pack: RulePack | None,
    head_pack: RulePack | None,
    impact: Impact | None = None,
    diff: ModelDiff | None = None,
) -> Review:
    """Compare two registers of the same model file."""
    if head is None and base is None:
        raise ValueError("a review needs at least one revision of the model")
    if head is None:
        assert base is not None
        return Review(path, base_path, "removed", base, None, base_pack, None, (), (), (), (), ())
    if base is None:
        return Review(
            path,
            None,
            "added",
            None,
            head,
            head_pack,
            None,
            head.entries,
            (),
            (),
            (),
            tuple(e for e in head.entries if not e.addressed),
        )
    assert base_pack is not None and head_pack is not None
    base_facts: ModelFacts = facts(base.model)
    head_facts: ModelFacts = facts(head.model)
    model_diff = diff or diff_models(
        base.model, head.model, base_facts=base_facts, head_facts=head_facts
    )
    before = base.by_key()
    after = head.by_key()
    new = tuple(after[k] for k in sorted(set(after) - set(before)))
    resolved = []
    for key in sorted(set(before) - set(after)):
        entry = before[key]
        if entry.threat.rule_id == "threat-dragon" or key in {
            t.key for t in base.model.stored_threats
        }:
            code, reason = "removed", "the stored threat was deleted from the model file"
        else:
            code, reason = resolution_reason(
                entry.threat, base.model, head.model, base_pack, head_pack, base_facts, head_facts
            )
        resolved.append(Resolved(entry, code, reason))
    transitions = []
    for key in sorted(set(before) & set(after)):
        old, cur = before[key], after[key]
        if _state(old) != _state(cur) or old.addressed != cur.addressed:
            transitions.append(Transition(cur, _state(old), _state(cur), old.addressed))
    regressions = _control_regressions(base, head, head.model)
    regressions += _evidence_regressions(base, head)
    regressions += _expired(head)
    covered = {r.key for r in regressions}
    for t in transitions:
        if t.was_addressed and not t.entry.addressed and t.entry.key not in covered:
            regressions.append(
                Regression(
                    "status-downgraded",
                    f"'{t.entry.key}' went from {t.before} to {t.after}"
                    + ("" if t.entry.status == "open" else " (no longer addressed)"),
                    t.entry.key,
                    t.entry.threat.location,
                )
            )
    touched = semantic_scope(
        base.model, head.model, model_diff, read_attributes(base_pack, head_pack)
    )
    changed_dispositions = set(model_diff.items["dispositions"].added) | set(
        model_diff.items["dispositions"].changed
    )
    new_keys = {e.key for e in new}
    regressed = {r.key for r in regressions}
    unaddressed = tuple(
        e
        for e in head.entries
        if not e.addressed
        and (
            e.key in new_keys
            or e.key in changed_dispositions
            or e.key in regressed
            or any(i in touched for i in e.threat.subject_ids)
        )
    )
    change: FileChange = (
        "renamed"
        if base_path not in (None, path)
        else ("unchanged" if model_diff.empty and not new and not resolved else "changed")
    )
    return Review(
        path,
        base_path,
        change,
        base,
        head,
        head_pack,
        model_diff,
        new,
        tuple(resolved),
        tuple(transitions),
        _dedupe(regressions),
        unaddressed,
        impact,
    )
