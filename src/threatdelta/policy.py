"""Policies: when does a register or a review fail the gate.

A policy is a set of conditions, each written as on the command line or in
``.threatdelta.yml``:

``unaddressed``
    a threat in the changed scope (new, or touched by the change) is not addressed, or the
    change marks a flow out of scope without a written reason (a decision without a
    justification, like an acceptance without one).
``any-open``
    any threat in the whole model is not addressed, or any flow is out of scope without a
    written reason.
``severity:LEVEL``
    an unaddressed threat of that severity or higher (low, medium, high, critical).
``regressions``
    the change lost a countermeasure, removed evidence, or let a justification expire.
``reconfirm``
    a disposition needs re-confirmation: what it was decided on (an element's boundary, type,
    kind or a property a rule reads; a flow's ends, protocol, properties or crossed boundaries)
    changed and its entry was not edited in the same change (part of the default policy).
``unverified``
    a threat in the changed scope is mitigated only by controls that are planned, name no
    evidence, or name evidence that does not exist at the revision (without this condition such
    threats pass, shown as "mitigated (planned, no evidence)").
``max-accepted-severity:LEVEL``
    an acceptance added or changed in the change is for a threat of that severity or higher.
``approvers:NAME``
    an acceptance or transfer added or changed in the change names an approver who is not one of
    the NAMEs (repeat the condition for each name; in ``.threatdelta.yml`` write
    ``- approvers: [security-lead, quality-manager]``).
``none``
    never fail.

``check`` uses ``open`` as the name for ``any-open``; there, ``unverified``,
``max-accepted-severity`` and ``approvers`` look at every threat of the model.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from threatdelta.encoding import as_shown
from threatdelta.errors import InputError
from threatdelta.model.model import Flow
from threatdelta.register import Entry, unverified
from threatdelta.rules.pack import SEVERITIES

CONDITIONS = ("unaddressed", "any-open", "regressions", "reconfirm", "unverified", "none")


@dataclass(frozen=True)
class Policy:
    """Parsed fail-on conditions."""

    unaddressed: bool = False
    """Fail on an unaddressed threat in the changed scope."""
    any_open: bool = False
    """Fail on any unaddressed threat."""
    regressions: bool = False
    """Fail on regressions."""
    min_severity: str | None = None
    """Fail on an unaddressed threat at or above this severity."""
    unverified: bool = False
    """Fail on a threat in scope mitigated only by planned or evidence-less controls."""
    max_accepted_severity: str | None = None
    """Fail on an acceptance (added or changed) of a threat at or above this severity."""
    approvers: tuple[str, ...] = ()
    """When set, acceptances and transfers (added or changed) must name one of these."""
    reconfirm: bool = False
    """Fail on a disposition whose ground changed while its entry was left as it was."""

    def describe(self) -> str:
        """The policy as the user would write it."""
        parts = []
        if self.unaddressed:
            parts.append("unaddressed")
        if self.any_open:
            parts.append("any-open")
        if self.min_severity:
            parts.append(f"severity:{self.min_severity}")
        if self.regressions:
            parts.append("regressions")
        if self.reconfirm:
            parts.append("reconfirm")
        if self.unverified:
            parts.append("unverified")
        if self.max_accepted_severity:
            parts.append(f"max-accepted-severity:{self.max_accepted_severity}")
        parts += [f"approvers:{name}" for name in self.approvers]
        return ",".join(parts) or "none"


def _lowest(current: str | None, level: str) -> str:
    if current is None or SEVERITIES.index(level) < SEVERITIES.index(current):
        return level
    return current


def parse_policy(conditions: Iterable[str], where: str = "--fail-on") -> Policy:
    """Parse conditions such as ``unaddressed,severity:high``; ``open`` means ``any-open``."""
    unaddressed = any_open = regressions = unverified_ = reconfirm = False
    min_severity: str | None = None
    max_accepted: str | None = None
    approvers: dict[str, None] = {}
    for raw in conditions:
        for part in raw.split(","):
            item = part.strip().lower()
            if not item or item == "none":
                continue
            if item == "unaddressed":
                unaddressed = True
            elif item in ("any-open", "open"):
                any_open = True
            elif item == "regressions":
                regressions = True
            elif item == "unverified":
                unverified_ = True
            elif item == "reconfirm":
                reconfirm = True
            elif item.startswith("severity:") and item[9:] in SEVERITIES:
                min_severity = _lowest(min_severity, item[9:])
            elif (
                item.startswith("max-accepted-severity:")
                and item.split(":", 1)[1].strip() in SEVERITIES
            ):
                max_accepted = _lowest(max_accepted, item.split(":", 1)[1].strip())
            elif item.startswith("approvers:") and part.split(":", 1)[1].strip():
                approvers[part.split(":", 1)[1].strip()] = None
            else:
                raise InputError(
                    f"{where}: unknown condition '{part.strip()}'; expected unaddressed, any-open, "
                    "regressions, reconfirm, unverified, none, severity:LEVEL, max-accepted-severity:LEVEL "
                    f"(LEVEL one of {', '.join(SEVERITIES)}) or approvers:NAME"
                )
    return Policy(
        unaddressed,
        any_open,
        regressions,
        min_severity,
        unverified_,
        max_accepted,
        tuple(approvers),
        reconfirm,
    )


def _count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 threat``, ``2 threats``."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def at_or_above(entry: Entry, level: str) -> bool:
    """True when the entry's severity is ``level`` or higher."""
    return SEVERITIES.index(entry.severity) >= SEVERITIES.index(level)


@dataclass(frozen=True)
class Verdict:
    """The gate's answer."""

    passed: bool
    """True when no condition of the policy failed."""
    reasons: tuple[str, ...]
    """Why it failed (empty when it passed)."""

    @property
    def name(self) -> str:
        """``pass`` or ``fail``."""
        return "pass" if self.passed else "fail"


def _spelled(name: str) -> str:
    """``name`` as shown, with every character outside ASCII named, so a look-alike
    (``ѕecurity-lead`` with a Cyrillic letter) reads differently from the name it imitates."""
    shown = as_shown(name) or "(nobody)"
    odd = dict.fromkeys(ch for ch in shown if not ch.isascii())
    if not odd:
        return f"'{shown}'"
    spelled = ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in odd)
    return f"'{shown}' (written with {spelled})"


def decision_reasons(
    decided: Iterable[Entry], mitigated: Iterable[Entry], policy: Policy
) -> list[str]:
    """Why the decisions fail the policy: ``decided`` are the acceptances, transfers and
    not-applicable entries looked at (added or changed in a review; all of them in ``check``),
    ``mitigated`` the mitigated threats looked at."""
    reasons: list[str] = []
    decisions = list(decided)
    if policy.max_accepted_severity is not None:
        level = policy.max_accepted_severity
        severe = [e for e in decisions if e.status == "accepted" and at_or_above(e, level)]
        if severe:
            reasons.append(
                f"{_count(len(severe), 'acceptance')} of a threat of severity {level} or higher"
            )
    if policy.approvers:
        allowed = {as_shown(a).casefold() for a in policy.approvers}
        outside = [
            e
            for e in decisions
            if e.status in ("accepted", "transferred")
            and e.disposition is not None
            and as_shown(e.disposition.approved_by).casefold() not in allowed
        ]
        if outside:
            names = dict.fromkeys(
                _spelled(e.disposition.approved_by) for e in outside if e.disposition
            )
            reasons.append(
                f"{_count(len(outside), 'acceptance or transfer', 'acceptances or transfers')} "
                f"approved by someone who is not one of the approvers "
                f"({', '.join(policy.approvers)}): {', '.join(names)}"
            )
    if policy.unverified:
        weak = [e for e in mitigated if unverified(e)]
        if weak:
            reasons.append(
                f"{_count(len(weak), 'threat')} mitigated only by controls that are planned or "
                "lack evidence"
            )
    return reasons


def unexplained_reason(flows: Iterable[Flow]) -> list[str]:
    """The reason a gate fails on flows marked out of scope without a written reason."""
    found = list(flows)
    if not found:
        return []
    names = ", ".join(f"'{f.name or f.id}'" for f in found[:3])
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return [
        f"{_count(len(found), 'flow is', 'flows are')} marked out of scope without a written "
        f"reason ({names}{more}): taking threats out of scope is a decision, so write why"
    ]


def register_verdict(
    entries: Iterable[Entry], policy: Policy, *, unexplained: Iterable[Flow] = ()
) -> Verdict:
    """The verdict of ``check``: looks at every threat of the model (``unexplained``: the flows
    marked out of scope without a written reason)."""
    every = list(entries)
    unaddressed = [e for e in every if not e.addressed]
    reasons: list[str] = []
    if (policy.any_open or policy.unaddressed) and unaddressed:
        reasons.append(
            f"{_count(len(unaddressed), 'threat has', 'threats have')} neither a countermeasure nor a justification"
        )
    if policy.any_open or policy.unaddressed:
        reasons += unexplained_reason(unexplained)
    if policy.min_severity is not None:
        severe = [e for e in unaddressed if at_or_above(e, policy.min_severity)]
        if severe:
            reasons.append(
                f"{_count(len(severe), 'unaddressed threat')} of severity {policy.min_severity} or higher"
            )
    reasons += decision_reasons(every, every, policy)
    return Verdict(not reasons, tuple(reasons))


def review_verdict(
    unaddressed: Iterable[Entry],
    all_head_entries: Iterable[Entry],
    regressions: int,
    policy: Policy,
    *,
    decided: Iterable[Entry] = (),
    touched: Iterable[Entry] = (),
    stale: int = 0,
    unexplained: Iterable[Flow] = (),
    unexplained_anywhere: Iterable[Flow] = (),
    unbacked: int = 0,
) -> Verdict:
    """The verdict of ``review``: unaddressed threats in the changed scope, regressions, and
    (with ``any-open``) every unaddressed threat of the head model; ``decided`` are the
    acceptances, transfers and not-applicable entries the change added or changed, ``touched``
    every threat in the changed scope (for ``unverified``), ``stale`` how many dispositions need
    re-confirmation (for ``reconfirm``), ``unexplained`` the flows the change marked out of scope
    without a written reason (``unexplained_anywhere``: all such flows, for ``any-open``),
    ``unbacked`` how many threats it excluded by a property that the model says rests on controls
    that are planned or lack evidence (for ``unverified``)."""
    in_scope = list(unaddressed)
    # Only ``any-open`` looks at the whole model: the others never read its entries.
    everything = [e for e in all_head_entries if not e.addressed] if policy.any_open else []
    reasons: list[str] = []
    if policy.unaddressed and in_scope:
        reasons.append(
            f"{_count(len(in_scope), 'threat')} touched by this change {'has' if len(in_scope) == 1 else 'have'} neither a countermeasure nor a justification"
        )
    if policy.any_open and everything:
        reasons.append(
            f"{_count(len(everything), 'threat')} in the model {'is' if len(everything) == 1 else 'are'} not addressed"
        )
    if policy.any_open:
        reasons += unexplained_reason(unexplained_anywhere)
    elif policy.unaddressed:
        reasons += unexplained_reason(unexplained)
    if policy.min_severity is not None:
        pool = everything if policy.any_open else in_scope
        severe = [e for e in pool if at_or_above(e, policy.min_severity)]
        if severe:
            reasons.append(
                f"{_count(len(severe), 'unaddressed threat')} of severity {policy.min_severity} or higher"
            )
    if policy.regressions and regressions:
        reasons.append(
            f"{_count(regressions, 'regression')}: countermeasures or evidence lost, or justifications expired"
        )
    if policy.reconfirm and stale:
        reasons.append(
            f"{_count(stale, 'decision needs', 'decisions need')} re-confirmation: what "
            f"{'it was' if stale == 1 else 'they were'} decided on changed"
        )
    reasons += decision_reasons(decided, touched, policy)
    if policy.unverified and unbacked:
        reasons.append(
            f"{_count(unbacked, 'threat')} excluded by a property that rests on controls that are "
            "planned or lack evidence"
        )
    return Verdict(not reasons, tuple(reasons))
