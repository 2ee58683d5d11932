"""Numbers of the history, worked out from snapshots alone (pure functions, no git, no files).

**Per revision**: the model's size, its threats counted by status, what changed against the
previous readable revision (new, resolved and transitioned threats) and what got worse
(regressions). A threat counts under its status only while the status holds: a threat marked
mitigated with an unknown control, or accepted past its expiry date, counts as *open*, so the
status counts always add up to the total. Expiry is judged as of the revision's commit date.

**Per iteration** (between two markers: tags, or merges into the default branch): the
retrospective compares the state at the iteration's end with the state at the previous one's end,
and looks at the revisions in between:

- *added*: threats at the end that were not there at the start;
- *closed*: threats open at the start (or added since) that are addressed at the end;
  *gone*: threats open at the start that no longer exist at the end;
- *still open*: threats unaddressed at the end;
- *time to disposition*: for threats first addressed in this iteration, the time from the
  revision where the threat first appeared (anywhere in the history) to the revision where it was
  first addressed, in days (commit dates) and in model revisions; median and maximum;
- *expired* and *expiring*: acceptances and transfers whose expiry date is before the end date, or
  within 90 days after it;
- *controls without evidence*: controls at the end that name no evidence, or whose evidence path
  does not exist at the end commit;
- *reopened*: threats that went from addressed to unaddressed in a revision of this iteration.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from threatdelta.history.snapshot import ControlState, Snapshot, ThreatState
from threatdelta.register import evidence_path
from threatdelta.review.delta import (
    ControlStanding,
    Regression,
    Standing,
    State,
    StatusChange,
    delta,
    rekeyed,
)

EXPIRING_WITHIN = dt.timedelta(days=90)
"""How far ahead an expiry counts as *expiring*."""


def day_of(timestamp: int) -> dt.date:
    """The UTC calendar date of a commit timestamp."""
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date()


@dataclass(frozen=True)
class RevisionInput:
    """One model revision as the git side found it."""

    sha: str
    """Commit SHA."""
    timestamp: int
    """Committer date, seconds since the epoch."""
    subject: str
    """Commit subject line."""
    path: str
    """The model file's path at this commit."""
    snapshot: Snapshot | None
    """The model, or None when it could not be read at this commit."""
    error: str = ""
    """Why the model could not be read."""
    missing: frozenset[str] = frozenset()
    """Evidence paths of the model's controls that do not exist at this commit."""


@dataclass(frozen=True)
class IterationEnd:
    """Where an iteration ends, as the git side found it."""

    name: str
    """Tag name(s), a merge label, or ``unreleased``."""
    sha: str
    """The commit where it ends."""
    timestamp: int
    """Its commit date."""
    subject: str
    """Its subject line."""
    revisions_before: int
    """How many model revisions are at or before this commit."""
    missing: frozenset[str] = frozenset()
    """Evidence paths missing at this commit."""
    as_of: dt.date | None = None
    """The date expiries are judged at, when not the commit date (``--today``)."""

    @property
    def date(self) -> dt.date:
        """The date the iteration's end state is judged at."""
        return self.as_of if self.as_of is not None else day_of(self.timestamp)


@dataclass(frozen=True)
class StatusCounts:
    """Threats counted by effective status (the five numbers add up to ``total``)."""

    open: int = 0
    """Unaddressed: no disposition, or one that does not hold."""
    mitigated: int = 0
    """Mitigated by a known control."""
    accepted: int = 0
    """Accepted, with a justification that has not expired."""
    transferred: int = 0
    """Transferred, with a justification that has not expired."""
    not_applicable: int = 0
    """Declared not applicable, with a reason."""
    total: int = 0
    """All threats."""


@dataclass(frozen=True)
class RevisionMetrics:
    """The numbers of one model revision."""

    number: int
    """1-based position among all model revisions (oldest is 1)."""
    sha: str
    """Commit SHA."""
    timestamp: int
    """Commit date, seconds since the epoch."""
    subject: str
    """Commit subject."""
    path: str
    """Model path at this commit."""
    renamed_from: str | None
    """The previous path, when the file was renamed in this commit."""
    error: str
    """Why the model could not be read here ('' when it was read)."""
    elements: int = 0
    """Number of elements."""
    flows: int = 0
    """Number of flows."""
    boundaries: int = 0
    """Number of trust boundaries."""
    controls: int = 0
    """Number of controls."""
    counts: StatusCounts = field(default_factory=StatusCounts)
    """Threats by effective status."""
    new: tuple[str, ...] = ()
    """Threat keys not in the previous readable revision."""
    resolved: tuple[str, ...] = ()
    """Threat keys of the previous readable revision that are gone."""
    transitions: tuple[StatusChange, ...] = ()
    """Threats whose status, or whether they are addressed, changed."""
    regressions: tuple[Regression, ...] = ()
    """What got worse."""

    @property
    def date(self) -> dt.date:
        """Commit date (UTC)."""
        return day_of(self.timestamp)


@dataclass(frozen=True)
class Durations:
    """Time from a threat's first appearance to its first disposition."""

    count: int = 0
    """Threats measured."""
    median_days: float | None = None
    """Median, in days."""
    max_days: float | None = None
    """Maximum, in days."""
    median_revisions: float | None = None
    """Median, in model revisions."""
    max_revisions: int | None = None
    """Maximum, in model revisions."""


@dataclass(frozen=True)
class ExpiryNote:
    """An acceptance or transfer that has expired or will soon."""

    key: str
    """Threat key."""
    status: str
    """accepted or transferred."""
    expires: str
    """Expiry date (ISO)."""
    approved_by: str
    """Who approved it."""


@dataclass(frozen=True)
class ControlGap:
    """A control that cannot show it works."""

    id: str
    """Control id."""
    name: str
    """Control name."""
    status: str
    """planned, implemented or verified."""
    missing: tuple[str, ...]
    """Evidence texts that name a path that does not exist; empty when no evidence is named."""
    threats: int
    """How many threats name this control in a mitigated disposition."""

    @property
    def reason(self) -> str:
        """In words."""
        if not self.missing:
            return "names no evidence"
        return "evidence not found: " + ", ".join(self.missing)


@dataclass(frozen=True)
class Retrospective:
    """How the threat picture changed over one iteration."""

    name: str
    """Tag name(s), merge label, or ``unreleased``."""
    end_sha: str
    """Commit where the iteration ends."""
    end_date: dt.date
    """Date its end state is judged at."""
    start_sha: str | None
    """Commit where the previous iteration ended (None for the first)."""
    start_date: dt.date | None
    """Date of the start."""
    revisions: tuple[int, ...]
    """Numbers of the model revisions in this iteration."""
    start: StatusCounts
    """Threat counts at the start."""
    end: StatusCounts
    """Threat counts at the end."""
    added: tuple[str, ...]
    """Threats at the end that were not there at the start."""
    closed: tuple[str, ...]
    """Threats open at the start or added since, addressed at the end."""
    gone: tuple[str, ...]
    """Threats open at the start that no longer exist at the end."""
    still_open: tuple[str, ...]
    """Threats unaddressed at the end."""
    time_to_disposition: Durations
    """For threats first addressed in this iteration."""
    expired: tuple[ExpiryNote, ...]
    """Justifications expired at the end date."""
    expiring: tuple[ExpiryNote, ...]
    """Justifications expiring within 90 days of the end date."""
    controls_without_evidence: tuple[ControlGap, ...]
    """Controls naming no evidence or evidence that does not exist at the end commit."""
    reopened: tuple[str, ...]
    """Threats that went from addressed to unaddressed during the iteration."""


def effective_status(threat: ThreatState, on: dt.date) -> str:
    """The threat's status if it holds on ``on``, else ``open``."""
    return threat.status if threat.addressed(on) else "open"


def status_counts(snapshot: Snapshot | None, on: dt.date) -> StatusCounts:
    """Threats of ``snapshot`` by effective status on ``on``."""
    if snapshot is None:
        return StatusCounts()
    tally = {"open": 0, "mitigated": 0, "accepted": 0, "transferred": 0, "not-applicable": 0}
    for threat in snapshot.threats:
        tally[effective_status(threat, on)] += 1
    return StatusCounts(
        tally["open"],
        tally["mitigated"],
        tally["accepted"],
        tally["transferred"],
        tally["not-applicable"],
        len(snapshot.threats),
    )


def _missing_items(control: ControlState, missing: frozenset[str]) -> tuple[str, ...]:
    return tuple(item for item in control.evidence if evidence_path(item) in missing)


def snapshot_state(snapshot: Snapshot, on: dt.date, missing: frozenset[str]) -> State:
    """The snapshot as the one delta compares it: judged on ``on``, with ``missing`` evidence."""
    threats = {
        t.key: Standing(
            key=t.key,
            status=t.status,
            addressed=t.addressed(on),
            controls=t.controls,
            expired=t.expired(on),
            expires=t.expires or "",
            investigating=t.investigating,
        )
        for t in snapshot.threats
    }
    controls = {
        c.id: ControlStanding(c.id, c.status, c.evidence, _missing_items(c, missing))
        for c in snapshot.controls
    }
    return State(threats, controls)


def revision_metrics(inputs: Sequence[RevisionInput]) -> list[RevisionMetrics]:
    """The numbers of every revision, each compared with the previous readable one."""
    result: list[RevisionMetrics] = []
    previous: RevisionInput | None = None
    previous_state = State()
    previous_path: str | None = None
    for number, rev in enumerate(inputs, start=1):
        renamed = previous_path if previous_path not in (None, rev.path) else None
        previous_path = rev.path
        snapshot = rev.snapshot
        if snapshot is None:
            result.append(
                RevisionMetrics(
                    number,
                    rev.sha,
                    rev.timestamp,
                    rev.subject,
                    rev.path,
                    renamed,
                    rev.error or "the model could not be read",
                )
            )
            continue
        on = day_of(rev.timestamp)
        after = snapshot_state(snapshot, on, rev.missing)
        before = State()
        if previous is not None and previous.snapshot is not None:
            # The state the previous revision was compared as (nothing changes a State).
            before = previous_state
        change = delta(rekeyed(before, dict(snapshot.renames)), after)
        result.append(
            RevisionMetrics(
                number,
                rev.sha,
                rev.timestamp,
                rev.subject,
                rev.path,
                renamed,
                "",
                elements=snapshot.elements,
                flows=snapshot.flows,
                boundaries=snapshot.boundaries,
                controls=len(snapshot.controls),
                counts=status_counts(snapshot, on),
                new=change.new,
                resolved=change.resolved,
                transitions=change.transitions,
                regressions=change.regressions,
            )
        )
        previous, previous_state = rev, after
    return result


def _readable_before(inputs: Sequence[RevisionInput], count: int) -> RevisionInput | None:
    for rev in reversed(inputs[:count]):
        if rev.snapshot is not None:
            return rev
    return None


def _median(values: list[float]) -> float:
    return round(float(statistics.median(values)), 1)


def _first_events(inputs: Sequence[RevisionInput]) -> tuple[dict[str, int], dict[str, int]]:
    """Revision numbers where each threat first appeared, and where it was first addressed."""
    first_seen: dict[str, int] = {}
    first_addressed: dict[str, int] = {}
    for number, rev in enumerate(inputs, start=1):
        if rev.snapshot is None:
            continue
        on = day_of(rev.timestamp)
        for threat in rev.snapshot.threats:
            first_seen.setdefault(threat.key, number)
            if threat.addressed(on):
                first_addressed.setdefault(threat.key, number)
    return first_seen, first_addressed


def _durations(
    inputs: Sequence[RevisionInput],
    events: tuple[dict[str, int], dict[str, int]],
    numbers: set[int],
) -> Durations:
    first_seen, first_addressed = events
    days: list[float] = []
    revs: list[int] = []
    for key, number in sorted(first_addressed.items()):
        if number not in numbers:
            continue
        seen = first_seen[key]
        days.append((inputs[number - 1].timestamp - inputs[seen - 1].timestamp) / 86400)
        revs.append(number - seen)
    if not days:
        return Durations()
    return Durations(
        len(days), _median(days), round(max(days), 1), _median([float(r) for r in revs]), max(revs)
    )


def _expiry_notes(
    snapshot: Snapshot, on: dt.date
) -> tuple[tuple[ExpiryNote, ...], tuple[ExpiryNote, ...]]:
    expired, expiring = [], []
    for threat in snapshot.threats:
        if threat.status not in ("accepted", "transferred") or threat.expires is None:
            continue
        note = ExpiryNote(threat.key, threat.status, threat.expires, threat.approved_by)
        date = dt.date.fromisoformat(threat.expires)
        if date < on:
            expired.append(note)
        elif date <= on + EXPIRING_WITHIN:
            expiring.append(note)
    return tuple(expired), tuple(expiring)


def control_gaps(snapshot: Snapshot, missing: frozenset[str]) -> tuple[ControlGap, ...]:
    """Controls that name no evidence, or evidence paths that do not exist."""
    users: dict[str, int] = {}
    for threat in snapshot.threats:
        if threat.status == "mitigated":
            for control_id in threat.controls:
                users[control_id] = users.get(control_id, 0) + 1
    gaps = []
    for control in snapshot.controls:
        lost = _missing_items(control, missing)
        if not control.evidence or lost:
            gaps.append(
                ControlGap(control.id, control.name, control.status, lost, users.get(control.id, 0))
            )
    return tuple(gaps)


def retrospectives(
    inputs: Sequence[RevisionInput],
    metrics: Sequence[RevisionMetrics],
    ends: Sequence[IterationEnd],
) -> list[Retrospective]:
    """One retrospective per iteration; ``ends`` are sorted oldest first."""
    result: list[Retrospective] = []
    previous: IterationEnd | None = None
    events = _first_events(inputs)
    for end in ends:
        first = previous.revisions_before if previous is not None else 0
        numbers = tuple(range(first + 1, end.revisions_before + 1))
        start_rev = _readable_before(inputs, first)
        end_rev = _readable_before(inputs, end.revisions_before)
        start_snapshot = start_rev.snapshot if start_rev is not None else None
        end_snapshot = end_rev.snapshot if end_rev is not None else None
        start_on = previous.date if previous is not None else end.date
        before = start_snapshot.threat_map() if start_snapshot is not None else {}
        after = end_snapshot.threat_map() if end_snapshot is not None else {}
        open_before = {k for k, t in before.items() if not t.addressed(start_on)}
        candidates = open_before | (set(after) - set(before))
        reopened = sorted(
            {
                t.key
                for m in metrics
                if m.number in numbers
                for t in m.transitions
                if t.was_addressed and not t.addressed
            }
        )
        expired: tuple[ExpiryNote, ...] = ()
        expiring: tuple[ExpiryNote, ...] = ()
        gaps: tuple[ControlGap, ...] = ()
        if end_snapshot is not None:
            expired, expiring = _expiry_notes(end_snapshot, end.date)
            gaps = control_gaps(end_snapshot, end.missing)
        result.append(
            Retrospective(
                name=end.name,
                end_sha=end.sha,
                end_date=end.date,
                start_sha=previous.sha if previous is not None else None,
                start_date=previous.date if previous is not None else None,
                revisions=numbers,
                start=status_counts(start_snapshot, start_on),
                end=status_counts(end_snapshot, end.date),
                added=tuple(sorted(set(after) - set(before))),
                closed=tuple(
                    sorted(k for k in candidates if k in after and after[k].addressed(end.date))
                ),
                gone=tuple(sorted(k for k in open_before if k not in after)),
                still_open=tuple(sorted(k for k, t in after.items() if not t.addressed(end.date))),
                time_to_disposition=_durations(inputs, events, set(numbers)),
                expired=expired,
                expiring=expiring,
                controls_without_evidence=gaps,
                reopened=tuple(reopened),
            )
        )
        previous = end
    return result
