"""Policies: when does a register or a review fail the gate.

A policy is a set of conditions, each written as on the command line or in
``.threatdelta.yml``:

``unaddressed``
    a threat in the changed scope (new, or touched by the change) is not addressed.
``any-open``
    any threat in the whole model is not addressed.
``severity:LEVEL``
    an unaddressed threat of that severity or higher (low, medium, high, critical).
``regressions``
    the change lost a countermeasure, removed evidence, or let a justification expire.
``none``
    never fail.

``check`` uses ``open`` as the name for ``any-open``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from threatdelta.errors import InputError
from threatdelta.register import Entry
from threatdelta.rules.pack import SEVERITIES

CONDITIONS = ("unaddressed", "any-open", "regressions", "none")


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
        return ",".join(parts) or "none"


def parse_policy(conditions: Iterable[str], where: str = "--fail-on") -> Policy:
    """Parse conditions such as ``unaddressed,severity:high``; ``open`` means ``any-open``."""
    unaddressed = any_open = regressions = False
    min_severity: str | None = None
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
            elif item.startswith("severity:") and item[9:] in SEVERITIES:
                level = item[9:]
                if min_severity is None or SEVERITIES.index(level) < SEVERITIES.index(min_severity):
                    min_severity = level
            else:
                raise InputError(
                    f"{where}: unknown condition '{part.strip()}'; expected unaddressed, any-open, "
                    f"regressions, none or severity:LEVEL with LEVEL one of {', '.join(SEVERITIES)}"
                )
    return Policy(unaddressed, any_open, regressions, min_severity)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 threat``, ``2 threats``."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def at_or_above(entry: Entry, level: str) -> bool:
    """True when the entry's severity is ``level`` or higher."""
    return SEVERITIES.index(entry.threat.severity) >= SEVERITIES.index(level)


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


def register_verdict(entries: Iterable[Entry], policy: Policy) -> Verdict:
    """The verdict of ``check``: looks at every threat of the model."""
    unaddressed = [e for e in entries if not e.addressed]
    reasons: list[str] = []
    if (policy.any_open or policy.unaddressed) and unaddressed:
        reasons.append(
            f"{_count(len(unaddressed), 'threat has', 'threats have')} neither a countermeasure nor a justification"
        )
    if policy.min_severity is not None:
        severe = [e for e in unaddressed if at_or_above(e, policy.min_severity)]
        if severe:
            reasons.append(
                f"{_count(len(severe), 'unaddressed threat')} of severity {policy.min_severity} or higher"
            )
    return Verdict(not reasons, tuple(reasons))


def review_verdict(
    unaddressed: Iterable[Entry],
    all_head_entries: Iterable[Entry],
    regressions: int,
    policy: Policy,
) -> Verdict:
    """The verdict of ``review``: unaddressed threats in the changed scope, regressions, and
    (with ``any-open``) every unaddressed threat of the head model."""
    in_scope = list(unaddressed)
    everything = [e for e in all_head_entries if not e.addressed]
    reasons: list[str] = []
    if policy.unaddressed and in_scope:
        reasons.append(
            f"{_count(len(in_scope), 'threat')} touched by this change {'has' if len(in_scope) == 1 else 'have'} neither a countermeasure nor a justification"
        )
    if policy.any_open and everything:
        reasons.append(
            f"{_count(len(everything), 'threat')} in the model {'is' if len(everything) == 1 else 'are'} not addressed"
        )
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
    return Verdict(not reasons, tuple(reasons))
