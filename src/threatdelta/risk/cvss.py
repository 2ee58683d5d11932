"""CVSS vectors a disposition may give: v3.1 and v4.0, parsed, validated and scored.

CVSS v3.1: the base, temporal and environmental scores are computed with the formulas and
weights of the FIRST specification (section 7), including its ``Roundup`` (an exact decimal
round-up to one place). CVSS v4.0: the vector is checked here (every base metric present once,
every value allowed, no unknown metric); its score comes from a table of expert-rated macro
vectors and the specification's interpolation, which the ``cvss`` library (Red Hat Product
Security) maintains against FIRST's reference calculator, so threatdelta scores v4.0 vectors
with it rather than keeping a copy of the table.

What a vector says about exploitability is also worked out (``exploitability``): for v3.1 from
the exploitability sub-score (8.22 x AV x AC x PR x UI: 2.8 or more is high, 1.6 or more medium,
else low); for v4.0 from the exploitability metrics (threatdelta's own reading, documented in
the README: network access without conditions, privileges or user action is high, physical
access low).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from threatdelta.rules.pack import Exploitability

MAX_VECTOR_LENGTH = 300

_V31_METRICS: dict[str, tuple[str, ...]] = {
    # base
    "AV": ("N", "A", "L", "P"),
    "AC": ("L", "H"),
    "PR": ("N", "L", "H"),
    "UI": ("N", "R"),
    "S": ("U", "C"),
    "C": ("H", "L", "N"),
    "I": ("H", "L", "N"),
    "A": ("H", "L", "N"),
    # temporal
    "E": ("X", "H", "F", "P", "U"),
    "RL": ("X", "U", "W", "T", "O"),
    "RC": ("X", "C", "R", "U"),
    # environmental
    "CR": ("X", "H", "M", "L"),
    "IR": ("X", "H", "M", "L"),
    "AR": ("X", "H", "M", "L"),
    "MAV": ("X", "N", "A", "L", "P"),
    "MAC": ("X", "L", "H"),
    "MPR": ("X", "N", "L", "H"),
    "MUI": ("X", "N", "R"),
    "MS": ("X", "U", "C"),
    "MC": ("X", "H", "L", "N"),
    "MI": ("X", "H", "L", "N"),
    "MA": ("X", "H", "L", "N"),
}
_V31_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")

_V40_METRICS: dict[str, tuple[str, ...]] = {
    # base
    "AV": ("N", "A", "L", "P"),
    "AC": ("L", "H"),
    "AT": ("N", "P"),
    "PR": ("N", "L", "H"),
    "UI": ("N", "P", "A"),
    "VC": ("H", "L", "N"),
    "VI": ("H", "L", "N"),
    "VA": ("H", "L", "N"),
    "SC": ("H", "L", "N"),
    "SI": ("H", "L", "N"),
    "SA": ("H", "L", "N"),
    # threat
    "E": ("X", "A", "P", "U"),
    # environmental
    "CR": ("X", "H", "M", "L"),
    "IR": ("X", "H", "M", "L"),
    "AR": ("X", "H", "M", "L"),
    "MAV": ("X", "N", "A", "L", "P"),
    "MAC": ("X", "L", "H"),
    "MAT": ("X", "N", "P"),
    "MPR": ("X", "N", "L", "H"),
    "MUI": ("X", "N", "P", "A"),
    "MVC": ("X", "H", "L", "N"),
    "MVI": ("X", "H", "L", "N"),
    "MVA": ("X", "H", "L", "N"),
    "MSC": ("X", "H", "L", "N"),
    "MSI": ("X", "S", "H", "L", "N"),
    "MSA": ("X", "S", "H", "L", "N"),
    # supplemental
    "S": ("X", "N", "P"),
    "AU": ("X", "N", "Y"),
    "R": ("X", "A", "U", "I"),
    "V": ("X", "D", "C"),
    "RE": ("X", "L", "M", "H"),
    "U": ("X", "Clear", "Green", "Amber", "Red"),
}
_V40_BASE = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_E = {"X": 1.0, "H": 1.0, "F": 0.97, "P": 0.94, "U": 0.91}
_RL = {"X": 1.0, "U": 1.0, "W": 0.97, "T": 0.96, "O": 0.95}
_RC = {"X": 1.0, "C": 1.0, "R": 0.96, "U": 0.92}
_REQUIREMENT = {"X": 1.0, "H": 1.5, "M": 1.0, "L": 0.5}


class CvssError(ValueError):
    """A vector that is not a valid CVSS v3.1 or v4.0 vector; the message says why."""


@dataclass(frozen=True)
class Cvss:
    """A parsed CVSS vector."""

    version: str
    """``3.1`` or ``4.0``."""
    vector: str
    """The vector as written."""
    metrics: Mapping[str, str]
    """Metric -> value, as written."""
    base_score: float | None
    """The base score (v3.1); for v4.0 the one CVSS-B/BT/BE/BTE score the vector's metrics
    give."""
    temporal_score: float | None
    """The temporal score (v3.1)."""
    environmental_score: float | None
    """The environmental score (v3.1)."""
    exploitability: Exploitability
    """What the exploitability metrics say, in threatdelta's three levels."""

    @property
    def score(self) -> float | None:
        """The most specific score computed: environmental, else temporal, else base."""
        if self.version != "3.1":
            return self.base_score
        if any(self.metrics.get(m, "X") != "X" for m in _ENVIRONMENTAL_V31):
            return self.environmental_score
        if any(self.metrics.get(m, "X") != "X" for m in ("E", "RL", "RC")):
            return self.temporal_score
        return self.base_score

    @property
    def rating(self) -> str | None:
        """The qualitative rating of :attr:`score`: none, low, medium, high or critical."""
        return None if self.score is None else rating(self.score)


_ENVIRONMENTAL_V31 = ("CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA")


def rating(score: float) -> str:
    """The CVSS qualitative severity rating of a score."""
    if score == 0.0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"


def roundup(value: float) -> float:
    """CVSS v3.1 Roundup: the smallest number with one decimal place that is >= ``value``."""
    whole = round(value * 100000)
    if whole % 10000 == 0:
        return whole / 100000.0
    return (math.floor(whole / 10000) + 1) / 10.0


def parse(vector: str) -> Cvss:
    """Parse (and for v3.1 score) ``vector``; raise :class:`CvssError` when it is not valid."""
    text = vector.strip()
    if len(text) > MAX_VECTOR_LENGTH:
        raise CvssError(f"a CVSS vector is at most {MAX_VECTOR_LENGTH} characters")
    if text.startswith("CVSS:3.1/"):
        metrics = _metrics(text[len("CVSS:3.1/") :], _V31_METRICS, _V31_BASE, "3.1")
        return _score_v31(text, metrics)
    if text.startswith("CVSS:4.0/"):
        metrics = _metrics(text[len("CVSS:4.0/") :], _V40_METRICS, _V40_BASE, "4.0")
        return Cvss(
            "4.0", text, metrics, _score_v40(text), None, None, _v40_exploitability(metrics)
        )
    if text.startswith("CVSS:3.0/"):
        raise CvssError("CVSS v3.0 is not supported; write the vector as CVSS:3.1/...")
    raise CvssError(
        "a CVSS vector starts with CVSS:3.1/ or CVSS:4.0/, e.g. "
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    )


def _metrics(
    body: str, allowed: Mapping[str, tuple[str, ...]], base: tuple[str, ...], version: str
) -> Mapping[str, str]:
    found: dict[str, str] = {}
    for part in body.split("/"):
        name, sep, value = part.partition(":")
        if not sep or not name or not value:
            raise CvssError(f"'{part}' is not a METRIC:VALUE pair")
        if name not in allowed:
            raise CvssError(f"'{name}' is not a CVSS v{version} metric")
        if name in found:
            raise CvssError(f"metric '{name}' is given twice")
        if value not in allowed[name]:
            raise CvssError(
                f"'{value}' is not a value of {name} in CVSS v{version} "
                f"(one of: {', '.join(allowed[name])})"
            )
        found[name] = value
    missing = [m for m in base if m not in found]
    if missing:
        raise CvssError(f"the base metrics {', '.join(missing)} are missing")
    return MappingProxyType(found)


def _modified(metrics: Mapping[str, str], name: str) -> str:
    value = metrics.get(f"M{name}", "X")
    return metrics[name] if value == "X" else value


def _score_v31(text: str, m: Mapping[str, str]) -> Cvss:
    changed = m["S"] == "C"
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    if changed:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    else:
        impact = 6.42 * iss
    privileges = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
    exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * privileges * _UI[m["UI"]]
    if impact <= 0:
        base = 0.0
    elif changed:
        base = roundup(min(1.08 * (impact + exploitability), 10))
    else:
        base = roundup(min(impact + exploitability, 10))
    temporal_factor = _E[m.get("E", "X")] * _RL[m.get("RL", "X")] * _RC[m.get("RC", "X")]
    temporal = roundup(base * temporal_factor)

    modified_changed = _modified(m, "S") == "C"
    miss = min(
        1
        - (1 - _REQUIREMENT[m.get("CR", "X")] * _CIA[_modified(m, "C")])
        * (1 - _REQUIREMENT[m.get("IR", "X")] * _CIA[_modified(m, "I")])
        * (1 - _REQUIREMENT[m.get("AR", "X")] * _CIA[_modified(m, "A")]),
        0.915,
    )
    if modified_changed:
        modified_impact = 7.52 * (miss - 0.029) - 3.25 * (miss * 0.9731 - 0.02) ** 13
    else:
        modified_impact = 6.42 * miss
    modified_privileges = (_PR_CHANGED if modified_changed else _PR_UNCHANGED)[_modified(m, "PR")]
    modified_exploitability = (
        8.22
        * _AV[_modified(m, "AV")]
        * _AC[_modified(m, "AC")]
        * modified_privileges
        * _UI[_modified(m, "UI")]
    )
    if modified_impact <= 0:
        environmental = 0.0
    elif modified_changed:
        environmental = roundup(
            roundup(min(1.08 * (modified_impact + modified_exploitability), 10)) * temporal_factor
        )
    else:
        environmental = roundup(
            roundup(min(modified_impact + modified_exploitability, 10)) * temporal_factor
        )
    level: Exploitability = (
        "high" if exploitability >= 2.8 else "medium" if exploitability >= 1.6 else "low"
    )
    return Cvss("3.1", text, m, base, temporal, environmental, level)


def _score_v40(vector: str) -> float:
    """The CVSS v4.0 score of a vector already validated here."""
    from cvss import CVSS4  # imported when a v4.0 vector is scored
    from cvss.exceptions import CVSSError

    try:
        return float(CVSS4(vector).base_score)
    except CVSSError as error:
        raise CvssError(f"not a valid CVSS v4.0 vector: {error}") from error


def _v40_exploitability(m: Mapping[str, str]) -> Exploitability:
    points = {"N": 3, "A": 2, "L": 1, "P": 0}[m["AV"]]
    if m["AC"] == "H" or m["AT"] == "P":
        points -= 1
    points -= {"N": 0, "L": 1, "H": 2}[m["PR"]]
    if m["UI"] != "N":
        points -= 1
    return "high" if points >= 3 else "medium" if points >= 1 else "low"
