"""The one delta: what changed between two register states, and what got worse.

Both ``threatdelta review`` (two registers read from git) and ``threatdelta history`` (the cached
snapshot of every model revision) reduce each side to a :class:`State` and call :func:`delta`, so
they answer the same question the same way: which threats are new, which are resolved, whose
status changed, and which :class:`Regression` codes apply.

A state is already *judged*: whether a justification has expired and whether a control's evidence
exists are worked out by whoever builds the state (against the review date, or a revision's commit
date; against the revision's files). The delta itself reads no dates, no files and no git, so it
is cheap enough to run on every pair of revisions.

Regression codes:

- ``control-removed``: a control that mitigated a threat was deleted, and the threat still says
  *mitigated* without being addressed (it still names the control, or names nothing else);
- ``control-downgraded``: a control a mitigated threat still relies on went down in status
  (verified > implemented > planned);
- ``evidence-removed``: such a control lost an evidence item;
- ``evidence-missing``: evidence of a control a mitigated threat relies on does not exist, and it
  did exist for that threat before (or the threat relied on the control only now);
- ``expired``: an acceptance or transfer that had not expired now has;
- ``status-downgraded``: a threat that was addressed no longer is, for a reason none of the codes
  above names.

What is *not* a regression: a threat re-decided in the change (a removed control whose threats now
say *accepted*, or name another control that exists, is a decision shown as a status change); a
problem that already stood at the base (an expired justification that was already expired is not
something this change did; ``any-open`` is the policy for that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from threatdelta.errors import Location
from threatdelta.model.model import CONTROL_STATUSES
from threatdelta.model.renames import rekey
from threatdelta.register import (
    Entry,
    EvidenceCheck,
    Register,
    disposition_location,
    is_repository_path,
)

_RANK: dict[str, int] = {status: i for i, status in enumerate(CONTROL_STATUSES)}

NEEDS_INVESTIGATION = "needs-investigation"
"""How a transition names an open threat that is flagged for investigation."""

REGRESSION_CODES = (
    "control-removed",
    "control-downgraded",
    "evidence-removed",
    "evidence-missing",
    "expired",
    "status-downgraded",
)
"""Every code the delta gives. A review adds two about model files: ``model-removed`` (the change
deleted a model) and ``model-dropped`` (the change's ``models`` setting no longer matches it)."""


@dataclass(frozen=True)
class Standing:
    """One threat at one revision, as the delta needs it."""

    key: str
    """The threat key."""
    status: str
    """The stated status: open, mitigated, accepted, transferred or not-applicable."""
    addressed: bool
    """Mitigated or justified, with nothing that undoes it (judged at the state's date)."""
    controls: tuple[str, ...] = ()
    """Ids of the existing controls its disposition names."""
    expired: bool = False
    """An acceptance or transfer whose expiry date has passed."""
    expires: str = ""
    """The expiry date of an acceptance or transfer (ISO), if any."""
    investigating: bool = False
    """Open, and flagged as needing investigation."""
    location: Location | None = None
    """Where its disposition is written (else where its subject is declared)."""

    @property
    def state(self) -> str:
        """The status a transition shows: flagging an open threat is a triage step of its own."""
        if self.status == "open" and self.investigating:
            return NEEDS_INVESTIGATION
        return self.status


@dataclass(frozen=True)
class ControlStanding:
    """One control at one revision."""

    id: str
    """Control id."""
    status: str
    """planned, implemented or verified."""
    evidence: tuple[str, ...] = ()
    """Evidence texts as written."""
    missing: tuple[str, ...] = ()
    """Evidence texts that name a repository path that does not exist at the revision."""
    location: Location | None = None
    """Where the control is declared."""


@dataclass(frozen=True)
class State:
    """A register reduced to what the delta compares."""

    threats: Mapping[str, Standing] = field(default_factory=dict)
    """Threats by key."""
    controls: Mapping[str, ControlStanding] = field(default_factory=dict)
    """Controls by id."""
    plain: frozenset[str] = frozenset()
    """Keys of further threats that are open with no disposition at all: such a threat takes
    part in no transition or regression unless the other state decided it, so it is kept as
    its key alone (a large model's undecided majority costs no :class:`Standing`)."""

    def keys(self) -> set[str]:
        """Every threat key."""
        return set(self.threats) | self.plain

    def standing(self, key: str) -> Standing:
        """The threat's standing (an undecided open one for a plain key)."""
        found = self.threats.get(key)
        return found if found is not None else Standing(key, "open", False)


@dataclass(frozen=True, order=True)
class Regression:
    """Something a change made worse."""

    code: str
    """One of :data:`REGRESSION_CODES`, ``model-removed`` or ``model-dropped``."""
    message: str
    """Plain words."""
    key: str = ""
    """The threat concerned, if one."""
    location: Location | None = field(default=None, compare=False)
    """Where to look at the later revision (None when not known, as in the history)."""


@dataclass(frozen=True)
class StatusChange:
    """A threat whose status, or whether it is addressed, changed."""

    key: str
    """Threat key."""
    before: str
    """State before (a status, or ``needs-investigation``)."""
    after: str
    """State after."""
    was_addressed: bool
    """Whether it was addressed before."""
    addressed: bool
    """Whether it is addressed after."""


@dataclass(frozen=True)
class Delta:
    """What changed between two states; every tuple is sorted."""

    new: tuple[str, ...] = ()
    """Keys after that were not there before."""
    resolved: tuple[str, ...] = ()
    """Keys before that are gone after."""
    transitions: tuple[StatusChange, ...] = ()
    """Threats in both whose state or addressed-ness changed."""
    regressions: tuple[Regression, ...] = ()
    """What got worse."""


def rekeyed(state: State, renames: Mapping[str, str]) -> State:
    """``state`` with its threat keys written with the ids of a later revision (``renames``: old
    id -> new id, the later revision's ``renamed_from`` declarations), so a renamed item's threats
    meet themselves instead of showing as resolved and new."""
    if not renames:
        return state
    threats: dict[str, Standing] = {}
    plain: set[str] = set()
    # In key order, the first of two keys that meet under one new key wins.
    for key in sorted(state.keys()):
        new = rekey(key, renames)
        if new in threats or new in plain:
            continue
        standing = state.threats.get(key)
        if standing is None:
            plain.add(new)
        else:
            threats[new] = replace(standing, key=new) if new != key else standing
    return State(threats, state.controls, frozenset(plain))


def register_state(register: Register, evidence_exists: EvidenceCheck | None = None) -> State:
    """The state of a register (judged at its date), with evidence looked up by ``evidence_exists``
    (the check the register was built with; None: evidence is not looked up)."""
    threats: dict[str, Standing] = {}
    plain: set[str] = set()
    for entry in register.entries:
        if entry.disposition is None and entry.status == "open":
            plain.add(entry.threat.key)
        else:
            threats[entry.threat.key] = entry_standing(entry)
    controls = {
        c.id: ControlStanding(
            c.id, c.status, c.evidence, missing_evidence(c.evidence, evidence_exists), c.location
        )
        for c in register.model.controls
    }
    return State(threats, controls, frozenset(plain))


def entry_standing(entry: Entry) -> Standing:
    """One register entry as a :class:`Standing`."""
    disposition = entry.disposition
    return Standing(
        key=entry.key,
        status=entry.status,
        addressed=entry.addressed,
        controls=tuple(c.id for c in entry.controls),
        expired=any(p.code == "expired" for p in entry.problems),
        expires=(
            disposition.expires.isoformat()
            if disposition is not None
            and disposition.expires is not None
            and entry.status in ("accepted", "transferred")
            else ""
        ),
        investigating=disposition is not None and disposition.needs_investigation,
        location=disposition_location(entry),
    )


def missing_evidence(evidence: tuple[str, ...], exists: EvidenceCheck | None) -> tuple[str, ...]:
    """The evidence texts naming a repository path that ``exists`` says is absent (as the
    register's ``missing-evidence`` problem judges it)."""
    if exists is None:
        return ()
    return tuple(
        item for item in evidence if is_repository_path(item) and not exists(item.split("#", 1)[0])
    )


def _control_regressions(before: State, after: State) -> list[Regression]:
    found: list[Regression] = []
    for threat in before.threats.values():
        if threat.status != "mitigated" or not threat.addressed:
            continue
        now = after.threats.get(threat.key)
        if now is None:
            continue  # gone, or open and undecided now: neither names a control
        for control_id in threat.controls:
            old = before.controls.get(control_id)
            control = after.controls.get(control_id)
            if control is None:
                if now.status == "mitigated" and not now.addressed:
                    found.append(
                        Regression(
                            "control-removed",
                            f"control '{control_id}' was removed; '{threat.key}' lost its "
                            "countermeasure",
                            threat.key,
                            now.location,
                        )
                    )
                continue
            if now.status != "mitigated" or control_id not in now.controls or old is None:
                continue
            if _RANK.get(control.status, 0) < _RANK.get(old.status, 0):
                found.append(
                    Regression(
                        "control-downgraded",
                        f"control '{control_id}' went from {old.status} to {control.status}",
                        threat.key,
                        control.location,
                    )
                )
            for item in old.evidence:
                if item not in control.evidence:
                    found.append(
                        Regression(
                            "evidence-removed",
                            f"evidence '{item}' was removed from control '{control_id}'",
                            threat.key,
                            control.location,
                        )
                    )
    return found


def _evidence_regressions(before: State, after: State) -> list[Regression]:
    found: list[Regression] = []
    for threat in after.threats.values():
        if threat.status != "mitigated":
            continue
        old = before.threats.get(threat.key)
        for control_id in threat.controls:
            control = after.controls.get(control_id)
            if control is None:
                continue
            was_missing: tuple[str, ...] = ()
            old_control = before.controls.get(control_id)
            if (
                old is not None
                and old.status == "mitigated"
                and control_id in old.controls
                and old_control is not None
            ):
                was_missing = old_control.missing
            for item in control.missing:
                if item not in was_missing:
                    found.append(
                        Regression(
                            "evidence-missing",
                            f"evidence '{item}' of control '{control_id}' does not exist",
                            threat.key,
                            control.location,
                        )
                    )
    return found


def delta(before: State, after: State) -> Delta:
    """Compare two states of the same model."""
    old_keys, new_keys = before.keys(), after.keys()
    # Threats open and undecided on both sides cannot change: only the others are looked at.
    both = (set(before.threats) | set(after.threats)) & old_keys & new_keys
    transitions: list[StatusChange] = []
    for key in sorted(both):
        old, cur = before.standing(key), after.standing(key)
        if old.state != cur.state or old.addressed != cur.addressed:
            transitions.append(
                StatusChange(key, old.state, cur.state, old.addressed, cur.addressed)
            )
    regressions = _control_regressions(before, after) + _evidence_regressions(before, after)
    for key in sorted(both):
        old, cur = before.standing(key), after.standing(key)
        if cur.expired and not old.expired:
            regressions.append(
                Regression(
                    "expired",
                    f"the justification of '{key}' expired on {cur.expires}",
                    key,
                    cur.location,
                )
            )
    covered = {r.key for r in regressions}
    for change in transitions:
        if change.was_addressed and not change.addressed and change.key not in covered:
            cur = after.standing(change.key)
            regressions.append(
                Regression(
                    "status-downgraded",
                    f"'{change.key}' went from {change.before} to {change.after}"
                    + ("" if cur.status == "open" else " (no longer addressed)"),
                    change.key,
                    cur.location,
                )
            )
    unique: dict[tuple[str, str, str], Regression] = {}
    for regression in regressions:
        unique.setdefault((regression.code, regression.key, regression.message), regression)
    return Delta(
        new=tuple(sorted(new_keys - old_keys)),
        resolved=tuple(sorted(old_keys - new_keys)),
        transitions=tuple(transitions),
        regressions=tuple(sorted(unique.values(), key=lambda r: (r.key, r.code, r.message))),
    )
