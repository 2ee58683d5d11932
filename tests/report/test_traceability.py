"""Traceability rows, control traces and the residual-risk register (pure)."""

from __future__ import annotations

import datetime as dt

from tests.helpers import element, flow, model

from threatdelta.model.model import Control, Disposition
from threatdelta.register import Register, build_register
from threatdelta.report.traceability import (
    control_traces,
    residual_risks,
    trace_rows,
)
from threatdelta.threat import Threat

TODAY = dt.date(2025, 6, 1)


def _threat(key: str, subject: str) -> Threat:
    return Threat(key, key.split("@")[0], "S", f"title of {key}", "element", element=subject)


def _register() -> tuple[Register, dict[str, bool]]:
    m = model(
        [
            element("a", "external-entity"),
            element("b"),
            element("c"),
            element("d"),
            element("e"),
            element("f"),
            element("g"),
        ],
        [flow("f1", "a", "b")],
        controls=[
            Control("ok", "Works", "verified", ("tests/ok.py", "PT-1#F-2")),
            Control("broken", "Broken link", "implemented", ("tests/gone.py",)),
            Control("bare", "No evidence", "implemented"),
            Control("plan", "Planned", "planned", ("tests/ok.py",)),
        ],
        dispositions=[
            Disposition("r@b", "mitigated", controls=("ok",)),
            Disposition("r@c", "mitigated", controls=("ok", "broken")),
            Disposition("r@d", "mitigated", controls=("bare",)),
            Disposition("r@e", "mitigated", controls=("plan",)),
            Disposition(
                "r@f",
                "accepted",
                justification="Sealed.",
                approved_by="lead",
                approved_on=dt.date(2025, 1, 1),
                expires=dt.date(2025, 7, 1),
            ),
            Disposition(
                "r@g",
                "transferred",
                justification="Theirs.",
                approved_by="lead",
                transferred_to="Hospital IT",
                expires=dt.date(2025, 5, 1),
            ),
            Disposition("r@x", "mitigated", controls=("nope",)),
        ],
    )
    threats = [_threat(f"r@{s}", s) for s in "abcdefg"] + [_threat("r@x", "a")]
    exists = {"tests/ok.py": True, "tests/gone.py": False}
    register = build_register(
        m, threats, today=TODAY, evidence_exists=lambda p: exists.get(p, False)
    )
    return register, exists


def test_verdicts() -> None:
    register, exists = _register()
    rows = {r.key: r for r in trace_rows(register, exists)}
    assert {k: r.verdict for k, r in rows.items()} == {
        "r@a": "open",
        "r@b": "verified",
        "r@c": "evidence-missing",
        "r@d": "no-evidence",
        "r@e": "planned",
        "r@f": "justified",
        "r@g": "not-addressed",  # expired on 2025-05-01
        "r@x": "not-addressed",  # unknown control
    }
    c = rows["r@c"]
    assert [(ctl.id, [(e.text, e.exists) for e in ctl.evidence]) for ctl in c.controls] == [
        ("ok", [("tests/ok.py", True), ("PT-1#F-2", None)]),
        ("broken", [("tests/gone.py", False)]),
    ]
    assert any("does not exist" in p for p in c.problems)
    assert rows["r@x"].controls[0].status == "unknown"
    assert rows["r@f"].justification == "Sealed."
    assert rows["r@b"].subject == "b" and rows["r@b"].stride == "S"


def test_control_traces_list_every_control_with_its_users() -> None:
    register, exists = _register()
    traces = {c.id: c for c in control_traces(register, exists)}
    assert traces["ok"].threats == ("r@b", "r@c")
    assert [e.text for e in traces["broken"].missing] == ["tests/gone.py"]
    assert traces["bare"].evidence == ()
    assert traces["plan"].missing == ()


def test_residual_risk_register() -> None:
    register, _ = _register()
    risks = residual_risks(register, TODAY)
    assert [(r.key, r.status, r.expiry) for r in risks] == [
        ("r@f", "accepted", "expiring"),
        ("r@g", "transferred", "expired"),
    ]
    assert risks[0].approved_on == "2025-01-01" and risks[0].expires == "2025-07-01"
    assert risks[1].transferred_to == "Hospital IT"
    later = residual_risks(register, dt.date(2024, 1, 1))
    assert [r.expiry for r in later] == ["valid", "valid"]


def test_the_matrix_shows_risk_before_and_after_controls_and_the_linked_hazards() -> None:
    import dataclasses

    register, exists = _register()
    hazardous = dataclasses.replace(register.entries[1].threat, hazards=("HAZ-9",))
    register = dataclasses.replace(
        register,
        entries=(
            register.entries[0],
            dataclasses.replace(register.entries[1], threat=hazardous),
            *register.entries[2:],
        ),
    )
    rows = {r.key: r for r in trace_rows(register, exists)}
    assert (rows["r@b"].risk, rows["r@b"].residual_risk) == ("medium", "low")  # verified
    assert rows["r@b"].hazards == ("HAZ-9",)
    assert (rows["r@e"].risk, rows["r@e"].residual_risk) == ("medium", "medium")  # planned
    assert rows["r@a"].residual_risk == "medium"  # open
    risks = {r.key: r for r in residual_risks(register, TODAY)}
    assert (risks["r@f"].risk, risks["r@f"].residual_risk) == ("medium", "medium")
