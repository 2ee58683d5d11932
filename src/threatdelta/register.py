"""The threat register: every threat joined with its disposition, its status and its problems.

A threat is *addressed* when it is mitigated by at least one known control, or accepted,
transferred or declared not applicable with a written justification that has not expired. Anything
else is open. Problems are what an auditor would flag: a mitigation naming an unknown control, a
control with no evidence, evidence that does not exist in the repository, an acceptance without
justification or approver, an expired justification, a disposition for a threat that no longer
exists, and a placeholder from a suggested skeleton left in place (see
:mod:`threatdelta.model.placeholders`): a skeleton pasted as it stands never addresses a threat.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import attrgetter, lt, ne

from threatdelta.collector import relaxed_collection
from threatdelta.errors import InputError, Location
from threatdelta.files import repo_path
from threatdelta.model.model import Control, Disposition, DispositionStatus, Flow, Model
from threatdelta.model.placeholders import is_blank, placeholder_in
from threatdelta.model.renames import declared_renames, rekey
from threatdelta.risk.cvss import Cvss, CvssError
from threatdelta.risk.cvss import parse as parse_cvss
from threatdelta.risk.matrix import Residual, Risk, residual_exploitability, risk_of
from threatdelta.rules.pack import EXPLOITABILITIES, SEVERITIES, Exploitability, Severity
from threatdelta.threat import Threat

EvidenceCheck = Callable[[str], bool]
"""Answers whether a repository path exists (at the revision being looked at)."""

BLOCKING_PROBLEMS = frozenset(
    {
        "no-controls",
        "unknown-control",
        "missing-justification",
        "missing-approver",
        "missing-recipient",
        "expired",
        "placeholder",
    }
)
"""Problems that leave a threat unaddressed whatever its stated status."""

_PATH_LIKE = re.compile(r"^[^\s#]*(/|\.[A-Za-z0-9]{1,8}$)[^\s#]*$")


@dataclass(frozen=True, order=True)
class Problem:
    """Something wrong with a threat's treatment."""

    code: str
    """Stable short code: no-controls, unknown-control, no-evidence, missing-evidence,
    control-planned, missing-justification, missing-approver, missing-recipient, expired,
    expiring, needs-investigation, placeholder, orphaned, old-key."""
    message: str
    """Plain-words explanation."""
    control: str = ""
    """The control the problem is about, for problems of a control (planned, evidence)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One threat in the register."""

    threat: Threat
    """The threat."""
    status: DispositionStatus
    """Its stated status (open when it has no disposition)."""
    disposition: Disposition | None
    """The disposition, if any."""
    controls: tuple[Control, ...]
    """The known controls its disposition names."""
    problems: tuple[Problem, ...]
    """What an auditor would flag, sorted."""

    @property
    def key(self) -> str:
        """The threat key."""
        return self.threat.key

    @property
    def reference(self) -> str:
        """A short readable name to show next to the key: the source tool's threat number and
        type (``#12 TH54``) when the file stores the threat, else the threat's own reference
        (a TMT threat type id), else ''."""
        if self.disposition is not None and self.disposition.reference:
            return self.disposition.reference
        return self.threat.reference

    @property
    def addressed(self) -> bool:
        """Mitigated or justified, with no problem that undoes it."""
        if self.status == "open":
            return False
        return not any(p.code in BLOCKING_PROBLEMS for p in self.problems)

    @property
    def cvss(self) -> Cvss | None:
        """The disposition's CVSS vector, parsed (None when there is none or it is invalid)."""
        vector = self.disposition.cvss if self.disposition is not None else ""
        if not vector:
            return None
        try:
            return parse_cvss(vector)
        except CvssError:
            return None

    @property
    def exploitability(self) -> Exploitability:
        """The team's exploitability if they gave one, else the CVSS vector's, else the rule's."""
        stated = self.disposition.exploitability if self.disposition is not None else ""
        for level in EXPLOITABILITIES:
            if level == stated:
                return level
        cvss = self.cvss
        return cvss.exploitability if cvss is not None else self.threat.exploitability

    @property
    def severity(self) -> Severity:
        """The team's severity if they gave one, else the computed one."""
        stated = self.disposition.severity if self.disposition is not None else ""
        for level in SEVERITIES:
            if level == stated:
                return level
        return self.threat.severity

    @property
    def risk(self) -> Risk:
        """Risk before controls: the matrix cell of severity and exploitability."""
        return risk_of(self.severity, self.exploitability)

    @property
    def residual_exploitability(self) -> Exploitability:
        """Exploitability left after the controls of a mitigation that holds."""
        if self.status != "mitigated" or not self.addressed:
            return self.exploitability
        return residual_exploitability(self.exploitability, [c.status for c in self.controls])

    @property
    def residual_risk(self) -> Residual:
        """Risk after controls; ``none`` for a threat justified as not applicable."""
        if self.status == "not-applicable" and self.addressed:
            return "none"
        return risk_of(self.severity, self.residual_exploitability)


_set_threat: Callable[[Entry, Threat], None] = Entry.__dict__["threat"].__set__
_set_status: Callable[[Entry, str], None] = Entry.__dict__["status"].__set__
_set_disposition: Callable[[Entry, None], None] = Entry.__dict__["disposition"].__set__
_set_controls: Callable[[Entry, tuple[()]], None] = Entry.__dict__["controls"].__set__
_set_problems: Callable[[Entry, tuple[()]], None] = Entry.__dict__["problems"].__set__


@dataclass(frozen=True)
class Orphan:
    """A disposition whose threat no longer exists (for .tm7: a stale stored threat)."""

    disposition: Disposition
    """The disposition."""
    message: str
    """Why it is reported."""


@dataclass(frozen=True)
class Register:
    """All threats of one model at one revision, with their treatment."""

    model: Model
    """The model."""
    entries: tuple[Entry, ...]
    """One per threat, sorted by key."""
    orphans: tuple[Orphan, ...]
    """Dispositions for threats that were not found, sorted by key."""
    today: dt.date
    """The date expiries were judged against."""

    def entry(self, key: str) -> Entry | None:
        """The entry for a threat key."""
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None

    def by_key(self) -> dict[str, Entry]:
        """Entries by threat key."""
        return {e.key: e for e in self.entries}

    def counts(self) -> dict[str, int]:
        """Number of threats per status, plus ``unaddressed`` and ``total``."""
        statuses = list(map(_status, self.entries))
        found = Counter(statuses)
        counts = {status: found[status] for status in _STATUSES}
        # an open threat is never addressed; only the others are looked at one by one
        others = compress(self.entries, map(ne, statuses, repeat("open")))
        counts["unaddressed"] = counts["open"] + sum(1 for e in others if not e.addressed)
        counts["total"] = len(statuses)
        return counts


_status = attrgetter("status")
_STATUSES = ("open", "mitigated", "accepted", "transferred", "not-applicable")


def is_repository_path(evidence: str) -> bool:
    """True for evidence that names a file (``tests/x.py``, ``docs/pt.pdf#F-4``), not a report id."""
    path = evidence.split("#", 1)[0]
    return bool(path) and bool(_PATH_LIKE.match(path))


def evidence_path(item: str) -> str | None:
    """The repository path an evidence text names (without ``#fragment``; a leading ``/`` means
    the repository root), or None for a report id."""
    if not is_repository_path(item):
        return None
    path = item.split("#", 1)[0].strip("/")
    return path or None


def _leaves_repository(path: str) -> bool:
    try:
        repo_path(path)
    except InputError:
        return True
    return False


def control_problems(control: Control, evidence_exists: EvidenceCheck | None) -> list[Problem]:
    """Problems with one control: no evidence, evidence missing, still only planned."""
    problems: list[Problem] = []
    for field, values in (
        ("name", (control.name,)),
        ("description", (control.description,)),
        ("evidence", control.evidence),
    ):
        for value in values:
            marker = placeholder_in(value)
            if marker is not None:
                problems.append(
                    Problem(
                        "placeholder",
                        f"control '{control.id}': {field} is still the placeholder '{marker}'",
                        control.id,
                    )
                )
    if control.status == "planned":
        problems.append(
            Problem(
                "control-planned",
                f"control '{control.id}' is only planned, not implemented",
                control.id,
            )
        )
    if not control.evidence:
        problems.append(
            Problem(
                "no-evidence", f"control '{control.id}' names no verification evidence", control.id
            )
        )
    elif evidence_exists is not None:
        for item in control.evidence:
            path = evidence_path(item)
            if path is None:
                continue
            if _leaves_repository(path):
                problems.append(
                    Problem(
                        "missing-evidence",
                        f"evidence '{item}' of control '{control.id}' leads out of the "
                        "repository; only files inside it count as evidence",
                        control.id,
                    )
                )
            elif not evidence_exists(path):
                problems.append(
                    Problem(
                        "missing-evidence",
                        f"evidence '{item}' of control '{control.id}' does not exist",
                        control.id,
                    )
                )
    return problems


_UNVERIFIED = {
    "unknown-control": "unknown control",
    "control-planned": "planned",
    "no-evidence": "no evidence",
    "missing-evidence": "evidence missing",
}


def control_gaps(problems: Iterable[Problem], control_id: str) -> list[str]:
    """What control ``control_id`` lacks to back a claim, in words (``planned``, ``no evidence``,
    ``evidence missing``, ``unknown control``), from its problems among ``problems``."""
    return [
        _UNVERIFIED[p.code] for p in problems if p.control == control_id and p.code in _UNVERIFIED
    ]


def gaps_text(gaps: Iterable[str]) -> str:
    """``planned, no evidence``: the words of :func:`control_gaps`, once each, in a fixed order."""
    order = list(_UNVERIFIED.values())
    return ", ".join(sorted(dict.fromkeys(gaps), key=order.index))


def unverified(entry: Entry) -> str:
    """For an addressed mitigation that no control backs with evidence (every control it names
    is only planned, names no evidence, or names evidence that does not exist): what is lacking,
    e.g. ``planned, no evidence``. Empty otherwise."""
    if entry.status != "mitigated" or not entry.addressed or not entry.controls:
        return ""
    lacking: list[str] = []
    for control in entry.controls:
        gaps = control_gaps(entry.problems, control.id)
        if not gaps:
            return ""
        lacking += gaps
    return gaps_text(lacking)


def unexplained_scope(model: Model) -> tuple[Flow, ...]:
    """Flows marked out of scope without a written reason (blank, or still a placeholder).

    Marking a flow out of scope takes its threats away by a person's decision, as an acceptance
    does; a decision without a written justification does not address a threat, so the gate
    treats these flows as it treats an acceptance without one (see :mod:`threatdelta.policy`)."""
    return tuple(
        flow
        for flow in model.flows
        if flow.out_of_scope
        and (
            is_blank(flow.out_of_scope_reason)
            or placeholder_in(flow.out_of_scope_reason) is not None
        )
    )


def _unwritten(disposition: Disposition) -> list[Problem]:
    """Fields still holding a placeholder from a suggested skeleton: not a person's decision."""
    problems = []
    for field, value in (
        ("justification", disposition.justification),
        ("approved_by", disposition.approved_by),
        ("transferred_to", disposition.transferred_to),
    ):
        marker = placeholder_in(value)
        if marker is not None:
            problems.append(
                Problem(
                    "placeholder",
                    f"{field} is still the placeholder '{marker}': a skeleton is not a decision",
                )
            )
    return problems


def _disposition_problems(
    disposition: Disposition,
    model: Model,
    today: dt.date,
    evidence_exists: EvidenceCheck | None,
    expiring_within: dt.timedelta,
) -> tuple[list[Problem], list[Control]]:
    problems: list[Problem] = []
    controls: list[Control] = []
    status = disposition.status
    if status == "mitigated":
        if not disposition.controls:
            problems.append(Problem("no-controls", "marked mitigated but names no control"))
        for control_id in disposition.controls:
            if placeholder_in(control_id) is not None:
                problems.append(
                    Problem(
                        "placeholder",
                        f"names the placeholder '{control_id}', not a control defined under controls",
                    )
                )
                continue
            control = model.control(control_id)
            if control is None:
                problems.append(
                    Problem(
                        "unknown-control", f"names control '{control_id}', which is not defined"
                    )
                )
                continue
            controls.append(control)
            problems.extend(control_problems(control, evidence_exists))
    problems.extend(_unwritten(disposition))
    if status in ("accepted", "transferred", "not-applicable"):
        if is_blank(disposition.justification):
            problems.append(
                Problem("missing-justification", f"marked {status} without a written justification")
            )
    if status in ("accepted", "transferred") and is_blank(disposition.approved_by):
        problems.append(Problem("missing-approver", f"marked {status} without an approver"))
    if status == "transferred" and is_blank(disposition.transferred_to):
        problems.append(Problem("missing-recipient", "marked transferred without naming to whom"))
    if status in ("accepted", "transferred") and disposition.expires is not None:
        if disposition.expires < today:
            problems.append(
                Problem(
                    "expired", f"the justification expired on {disposition.expires.isoformat()}"
                )
            )
        elif disposition.expires <= today + expiring_within:
            problems.append(
                Problem(
                    "expiring",
                    f"the justification expires on {disposition.expires.isoformat()}",
                )
            )
    if disposition.needs_investigation:
        problems.append(Problem("needs-investigation", "flagged as needing investigation"))
    return problems, controls


def build_register(
    model: Model,
    threats: Iterable[Threat],
    *,
    today: dt.date,
    evidence_exists: EvidenceCheck | None = None,
    expiring_within: dt.timedelta = dt.timedelta(days=90),
) -> Register:
    """Join ``threats`` (plus the model's stored threats) with the model's dispositions."""
    with relaxed_collection():  # every entry made stays alive: nothing for the collector
        ordered, keys = _in_key_order(model.stored_threats, threats)
        entries = _open_entries(ordered)
    known = _SortedKeys(keys)
    carried = carried_dispositions(model, known)
    decided = [(key, d) for key, d in model.dispositions.items() if key in known]
    decided += carried.items()
    for key, disposition in decided:
        index = known.index(key)
        threat = ordered[index]
        problems, controls = _disposition_problems(
            disposition, model, today, evidence_exists, expiring_within
        )
        if disposition.key != key:
            problems.append(
                Problem(
                    "old-key",
                    f"written under the key '{disposition.key}' it had before a rename; "
                    f"write it under '{key}'",
                )
            )
        entries[index] = Entry(
            threat, disposition.status, disposition, tuple(controls), tuple(sorted(problems))
        )
    used = {d.key for d in carried.values()}
    orphans = tuple(
        Orphan(model.dispositions[key], _orphan_message(model, model.dispositions[key]))
        for key in sorted(model.dispositions)
        if key not in known and key not in used
    )
    return Register(model, tuple(entries), orphans, today)


def _in_key_order(
    stored: Iterable[Threat], threats: Iterable[Threat]
) -> tuple[Sequence[Threat], list[str]]:
    """``stored`` and ``threats`` sorted by key, one per key (a later threat replacing an earlier
    one with its key), and their keys. An enumeration's threats come sorted, and are taken as
    they are."""
    if not stored:
        given = threats if isinstance(threats, (tuple, list)) else tuple(threats)
        keys = list(map(_key, given))
        if all(map(lt, keys, islice(keys, 1, None))):
            return given, keys
    by_key: dict[str, Threat] = {t.key: t for t in stored}
    by_key.update({t.key: t for t in threats})
    keys = sorted(by_key)
    return [by_key[key] for key in keys], keys


_key = attrgetter("key")


class _SortedKeys(Mapping[str, int]):
    """Threat keys in order, answering which are there and where (by bisection)."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = keys

    def index(self, key: str) -> int:
        """Where ``key`` is (it must be there)."""
        return bisect_left(self._keys, key)

    def __getitem__(self, key: str) -> int:
        at = bisect_left(self._keys, key)
        if at < len(self._keys) and self._keys[at] == key:
            return at
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        at = bisect_left(self._keys, key)
        return at < len(self._keys) and self._keys[at] == key

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


_new_entry = object.__new__


def _open_entries(threats: Sequence[Threat]) -> list[Entry]:
    """``Entry(threat, "open", None, (), ())`` for each of ``threats``, made without the frozen
    dataclass's checks: the entries are made, then each field set on all of them in turn
    (every pass a loop inside the interpreter, no Python call per entry)."""
    count = len(threats)
    entries: list[Entry] = list(map(_new_entry, repeat(Entry, count)))
    _each(map(_set_threat, entries, threats))
    _each(map(_set_status, entries, repeat("open", count)))
    _each(map(_set_disposition, entries, repeat(None, count)))
    _each(map(_set_controls, entries, repeat((), count)))
    _each(map(_set_problems, entries, repeat((), count)))
    return entries


def _each(calls: Iterator[None]) -> None:
    """Make every call of ``calls`` (a ``map`` of setters), keeping none of their results."""
    deque(calls, maxlen=0)


def carried_dispositions(model: Model, threats: Mapping[str, object]) -> dict[str, Disposition]:
    """New key -> disposition, for dispositions still written under a threat's key from before
    a declared rename (``renamed_from``) whose threat has no disposition of its own."""
    renames = declared_renames(model)
    if not renames:
        return {}
    carried: dict[str, Disposition] = {}
    for key, disposition in model.dispositions.items():
        if key in threats:
            continue
        new = rekey(key, renames)
        if new != key and new in threats and new not in model.dispositions:
            carried.setdefault(new, disposition)
    return carried


def _orphan_message(model: Model, disposition: Disposition) -> str:
    """Why a disposition has no threat, with the evidence the file gives."""
    key = disposition.key
    named = f"'{key}' ({disposition.reference})" if disposition.reference else f"'{key}'"
    if model.format != "tm7":
        return f"disposition for {named} is orphaned: no such threat is enumerated"
    if disposition.stale:
        evidence = disposition.stale
    elif disposition.status != "open" or disposition.needs_investigation:
        state = "needs-investigation" if disposition.status == "open" else disposition.status
        evidence = (
            f"it was triaged ({state}) but its threat type's filter no longer holds for this "
            "interaction"
        )
    else:
        evidence = "the template no longer generates it for this interaction"
    return f"stored threat {named} is stale: {evidence}"


def disposition_location(entry: Entry) -> Location | None:
    """Where the entry's disposition is written, else where its subject is declared."""
    if entry.disposition is not None and entry.disposition.location is not None:
        return entry.disposition.location
    return entry.threat.location
