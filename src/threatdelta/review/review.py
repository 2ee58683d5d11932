"""The review of one model file between a base and a head revision.

``compare`` is pure: it takes the two registers (either may be absent when the file was added or
deleted) and the model diff, and returns a :class:`Review`: new threats, resolved threats with the
reason, status transitions, regressions, and the unaddressed threats in the changed scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Flow
from threatdelta.model.renames import (
    LikelyRename,
    declared_renames,
    likely_renames,
    rekey,
    with_new_ids,
)
from threatdelta.register import Entry, EvidenceCheck, Register, unexplained_scope
from threatdelta.review.decisions import Decision, risk_decisions
from threatdelta.review.delta import Regression, delta, register_state, rekeyed
from threatdelta.review.diff import ModelDiff, diff_models
from threatdelta.review.impact import Impact, condition_scope, read_attributes
from threatdelta.review.partial import looked_at
from threatdelta.review.reasons import (
    DECISION_CODES,
    resolution_reason,
)
from threatdelta.review.reconfirm import Stale, stale_dispositions
from threatdelta.rules.pack import RulePack
from threatdelta.threat import Threat

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
    unverified: str = ""
    """For a threat now excluded by a property the model says a control makes true
    (``implemented_by``): what every such control lacks (``planned, no evidence``), else empty."""


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
    scope: tuple[Entry, ...] = ()
    """Every threat at head in the changed scope, addressed or not (``unaddressed`` is its
    unaddressed part)."""
    stale: tuple[Stale, ...] = ()
    """Dispositions whose ground changed while their entry was left as it was (re-confirm)."""
    decisions: tuple[Decision, ...] = ()
    """Acceptances, transfers and not-applicable entries the change added or changed."""
    likely_renames: tuple[LikelyRename, ...] = ()
    """Items the change removed and added that look like one item renamed without
    ``renamed_from``: suggestions, never applied."""
    unexplained: tuple[Flow, ...] = ()
    """Flows the change marked out of scope without a written reason (newly, or by taking the
    reason away): a decision without a justification, which the gate treats like an
    acceptance without one."""
    scoped_out: tuple[Entry, ...] = ()
    """Threats the base did not have that a flow the change marked out of scope would have (a
    new flow drawn out of scope): decisions like an acceptance, shown with the others."""

    @property
    def scope_decisions(self) -> tuple[tuple[Entry, str], ...]:
        """Every threat the change took out of scope (a flow marked out of scope), with its
        status at base (empty when the base did not have it)."""
        taken = [(r.entry, r.entry.status) for r in self.resolved if r.code in DECISION_CODES]
        return tuple(taken + [(e, "") for e in self.scoped_out])

    @property
    def empty(self) -> bool:
        """Nothing to report."""
        return not (
            self.new
            or self.resolved
            or self.transitions
            or self.regressions
            or self.unaddressed
            or self.unexplained
            or self.scoped_out
        )


def compare(
    path: str,
    base_path: str | None,
    base: Register | None,
    head: Register | None,
    base_pack: RulePack | None,
    head_pack: RulePack | None,
    impact: Impact | None = None,
    diff: ModelDiff | None = None,
    *,
    base_evidence: EvidenceCheck | None = None,
    head_evidence: EvidenceCheck | None = None,
    scoped_out: tuple[Threat, ...] = (),
) -> Review:
    """Compare two registers of the same model file (``*_evidence``: the evidence checks the
    registers were built with, so the delta sees the same missing evidence; ``scoped_out``: the
    threats of the flows the change marked out of scope, see
    :func:`threatdelta.review.reasons.scoped_out_threats`)."""
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
            scope=head.entries,
            decisions=risk_decisions(None, head, head.model.dispositions),
            unexplained=unexplained_scope(head.model),
            scoped_out=tuple(Entry(t, "open", None, (), ()) for t in scoped_out),
        )
    assert base_pack is not None and head_pack is not None
    # The review reads entry by entry only what a partial register looked at: the threats
    # left out are open and undecided on both sides and outside the change, so no comparison
    # below can find anything in them.
    whole_base, whole_head = base, head
    base, head = looked_at(base), looked_at(head)
    base_facts: ModelFacts = facts(base.model)
    head_facts: ModelFacts = facts(head.model)
    renames = declared_renames(head.model)
    # Declared renames are not changes: the change is judged against the base written with the
    # head's ids, so a renamed item's threats come before the gate only for what else changed.
    compared = with_new_ids(base.model, renames)
    compared_facts = facts(compared) if renames else base_facts
    model_diff = (diff if not renames else None) or diff_models(
        compared, head.model, base_facts=compared_facts, head_facts=head_facts
    )
    before = base.by_key()
    if renames:
        before = {rekey(key, renames): entry for key, entry in before.items()}
    after = head.by_key()
    change_set = delta(
        rekeyed(register_state(base, base_evidence), renames),
        register_state(head, head_evidence),
    )
    new = tuple(after[k] for k in change_set.new)
    resolved = []
    stored = {t.key for t in base.model.stored_threats}
    for key in change_set.resolved:
        entry = before[key]
        if entry.threat.rule_id == "threat-dragon" or key in stored:
            code, reason, lacking = (
                "removed",
                "the stored threat was deleted from the model file",
                "",
            )
        else:
            code, reason, lacking = resolution_reason(
                entry.threat,
                base.model,
                head.model,
                base_pack,
                head_pack,
                base_facts,
                head_facts,
                head_evidence,
            )
        resolved.append(Resolved(entry, code, reason, lacking))
    transitions = [
        Transition(after[t.key], t.before, t.after, t.was_addressed) for t in change_set.transitions
    ]
    regressions = change_set.regressions
    # The impact was worked out on the diff of the two models as they are: it stands for this
    # diff unless declared renames made another one.
    conditions = condition_scope(
        compared,
        head.model,
        model_diff,
        base_pack,
        head_pack,
        known=impact if diff is not None and model_diff is diff else None,
    )
    changed_dispositions = set(model_diff.items["dispositions"].added) | set(
        model_diff.items["dispositions"].changed
    )
    new_keys = {e.key for e in new}
    regressed = {r.key for r in regressions}
    # A threat whose subjects the change did not touch is in scope only by its key.
    touched = conditions.structural | conditions.properties.keys()
    by_key = new_keys | changed_dispositions | regressed
    scope = tuple(
        e
        for e in head.entries
        if e.threat.key in by_key
        or (
            (
                e.threat.element in touched
                or e.threat.flow in touched
                or e.threat.source in touched
                or e.threat.target in touched
            )
            and conditions.touches(e.threat)
        )
    )
    unaddressed = tuple(e for e in scope if not e.addressed)
    change: FileChange = (
        "renamed"
        if base_path not in (None, path)
        else ("unchanged" if model_diff.empty and not new and not resolved else "changed")
    )
    unexplained_before = {f.id for f in unexplained_scope(compared)}
    return Review(
        path,
        base_path,
        change,
        whole_base,
        whole_head,
        head_pack,
        model_diff,
        new,
        tuple(resolved),
        tuple(transitions),
        regressions,
        unaddressed,
        impact,
        scope=scope,
        stale=stale_dispositions(
            base,
            head,
            base_facts,
            head_facts,
            frozenset(changed_dispositions),
            read_attributes(base_pack, head_pack),
            {new: old for old, new in renames.items()},
        ),
        decisions=risk_decisions(base, head, changed_dispositions),
        likely_renames=likely_renames(base.model, head.model),
        unexplained=tuple(
            f for f in unexplained_scope(head.model) if f.id not in unexplained_before
        ),
        scoped_out=tuple(Entry(t, "open", None, (), ()) for t in scoped_out if t.key not in before),
    )
