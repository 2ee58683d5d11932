"""The risk matrix: exploitability x severity -> risk, and what controls leave of it.

Security risk for medical devices is judged by exploitability (how easily a threat is carried
out), not by probability, together with severity (the harm if it is). threatdelta's matrix:

=============  ========  ========  ========
severity       low expl. medium    high
=============  ========  ========  ========
critical       high      critical  critical
high           medium    high      critical
medium         low       medium    high
low            low       low       medium
=============  ========  ========  ========

Controls lower exploitability, never severity: a mitigation whose controls are all verified
leaves exploitability ``low``; one whose controls are at least implemented lowers it one step;
planned controls lower nothing. An accepted or transferred threat keeps its risk; a threat
declared not applicable has no residual risk (``none``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Literal

from threatdelta.rules.pack import EXPLOITABILITIES, SEVERITIES, Exploitability, Severity

Risk = Literal["low", "medium", "high", "critical"]
RISKS: tuple[Risk, ...] = ("low", "medium", "high", "critical")
Residual = Literal["none", "low", "medium", "high", "critical"]
RESIDUALS: tuple[Residual, ...] = ("none", "low", "medium", "high", "critical")

MATRIX: Mapping[Severity, Mapping[Exploitability, Risk]] = MappingProxyType(
    {
        "critical": MappingProxyType({"low": "high", "medium": "critical", "high": "critical"}),
        "high": MappingProxyType({"low": "medium", "medium": "high", "high": "critical"}),
        "medium": MappingProxyType({"low": "low", "medium": "medium", "high": "high"}),
        "low": MappingProxyType({"low": "low", "medium": "low", "high": "medium"}),
    }
)
"""severity -> exploitability -> risk."""


def risk_of(severity: Severity, exploitability: Exploitability) -> Risk:
    """The matrix cell."""
    return MATRIX[severity][exploitability]


def raise_severity(severity: Severity, steps: int = 1) -> Severity:
    """``severity`` raised by ``steps`` levels, at most critical."""
    index = min(SEVERITIES.index(severity) + steps, len(SEVERITIES) - 1)
    return SEVERITIES[index]


def at_least(severity: Severity, floor: Severity) -> Severity:
    """The higher of the two."""
    return max(severity, floor, key=SEVERITIES.index)


def lower_exploitability(exploitability: Exploitability, steps: int) -> Exploitability:
    """``exploitability`` lowered by ``steps`` levels, at least low."""
    index = max(EXPLOITABILITIES.index(exploitability) - steps, 0)
    return EXPLOITABILITIES[index]


def residual_exploitability(
    exploitability: Exploitability, control_statuses: Iterable[str]
) -> Exploitability:
    """What exploitability is left once controls in these statuses are in place."""
    statuses = list(control_statuses)
    done = [s for s in statuses if s in ("implemented", "verified")]
    if not done:
        return exploitability
    if len(done) == len(statuses) and all(s == "verified" for s in statuses):
        return "low"
    return lower_exploitability(exploitability, 1)
