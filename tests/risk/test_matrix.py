"""The risk matrix and what controls leave of a risk."""

from __future__ import annotations

from threatdelta.risk.matrix import (
    MATRIX,
    at_least,
    raise_severity,
    residual_exploitability,
    risk_of,
)
from threatdelta.rules.pack import EXPLOITABILITIES, SEVERITIES


def test_the_matrix_covers_every_cell_and_never_falls_as_either_axis_rises() -> None:
    order = ("low", "medium", "high", "critical")
    for severity in SEVERITIES:
        row = [order.index(MATRIX[severity][e]) for e in EXPLOITABILITIES]
        assert row == sorted(row), severity
    for exploitability in EXPLOITABILITIES:
        column = [order.index(MATRIX[s][exploitability]) for s in SEVERITIES]
        assert column == sorted(column), exploitability
    assert risk_of("critical", "high") == "critical"
    assert risk_of("high", "low") == "medium"
    assert risk_of("low", "low") == "low"


def test_severity_steps() -> None:
    assert raise_severity("medium") == "high"
    assert raise_severity("critical") == "critical"
    assert at_least("low", "high") == "high"
    assert at_least("critical", "high") == "critical"


def test_controls_lower_exploitability_by_how_far_they_have_come() -> None:
    assert residual_exploitability("high", []) == "high"
    assert residual_exploitability("high", ["planned"]) == "high"
    assert residual_exploitability("high", ["implemented"]) == "medium"
    assert residual_exploitability("high", ["implemented", "planned"]) == "medium"
    assert residual_exploitability("high", ["verified", "implemented"]) == "medium"
    assert residual_exploitability("high", ["verified", "verified"]) == "low"
    assert residual_exploitability("low", ["implemented"]) == "low"
