"""Round trips between formats: what a review sees survives every conversion a writer offers.

"What a review sees" is the threats the built-in pack finds, each threat's status and whether it
is addressed, which boundaries each flow crosses, and the controls with their status and
evidence. Generated native models go native -> native, native -> OTM, and native -> OTM ->
native; the Threat Dragon and Threat Modeling Tool fixtures go to native and to OTM. Whatever a
target cannot hold must be said in the writer's notes (``convert`` prints them on stderr).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.review.test_impact import models

from threatdelta.engine import enumerate_threats
from threatdelta.formats import dragon, native, native_writer, otm, otm_writer, tm7
from threatdelta.formats.writing import Written
from threatdelta.model.graph import facts
from threatdelta.model.model import Boundary, Control, Disposition, Model
from threatdelta.model.types import boundary_chain
from threatdelta.register import build_register
from threatdelta.rules.packfile import builtin_pack

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2026, 11, 25)
PACK = builtin_pack()

Reader = Callable[[bytes, str], Any]
WRITE: dict[str, tuple[Callable[[Model], Written], Reader, str]] = {
    "native": (native_writer.write, native.read, "model.yaml"),
    "otm": (otm_writer.write, otm.read, "model.otm.json"),
}


def seen(model: Model) -> dict[str, Any]:
    """What a review of ``model`` with the built-in pack sees."""
    register = build_register(model, enumerate_threats(model, PACK), today=TODAY)
    model_facts = facts(model)
    return {
        "threats": {e.key: (e.status, e.addressed) for e in register.entries},
        "crossings": {f.id: model_facts.crossings(f) for f in model.flows},
        "controls": {c.id: (c.status, c.evidence) for c in model.controls},
    }


def convert(model: Model, *targets: str) -> tuple[Model, list[str]]:
    notes: list[str] = []
    for target in targets:
        write, read, path = WRITE[target]
        written = write(model)
        notes += [n.sentence(target) for n in written.notes]
        model = read(written.text.encode("utf-8"), path).model
    return model, notes


@st.composite
def decided_models(draw: st.DrawFn) -> Model:
    """A generated model with controls of every status, dispositions, a line boundary that
    some flows cross, and flows out of scope."""
    base = draw(models())
    controls = tuple(
        Control(
            id=f"c{i}",
            name=f"Control {i}",
            status=draw(st.sampled_from(("planned", "implemented", "verified"))),
            evidence=tuple(
                draw(st.lists(st.sampled_from(("tests/t.py", "PT-1#F-2")), max_size=2, unique=True))
            ),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    threats = enumerate_threats(base, PACK)
    dispositions: dict[str, Disposition] = {}
    for threat in (
        draw(st.lists(st.sampled_from(threats), max_size=4, unique=True)) if threats else []
    ):
        status = draw(st.sampled_from(("mitigated", "accepted", "not-applicable")))
        dispositions[threat.key] = Disposition(
            key=threat.key,
            status=status,
            controls=(controls[0].id,) if status == "mitigated" and controls else (),
            justification="" if status == "mitigated" else "The enclosure is sealed.",
            approved_by="security-lead" if status == "accepted" else "",
        )
    boundaries = list(base.boundaries)
    flows = list(base.flows)
    if flows and draw(st.booleans()):
        line = Boundary(
            id="line", name="Internet", type_chain=boundary_chain("generic", line=True), line=True
        )
        boundaries.append(line)
        model_facts = facts(base)
        crossing = set(draw(st.sets(st.sampled_from([f.id for f in flows]), max_size=3)))
        flows = [
            dataclasses.replace(f, crosses=(*model_facts.crossings(f), "line"))
            if f.id in crossing
            else f
            for f in flows
        ]
    if flows and draw(st.booleans()):
        index = draw(st.integers(0, len(flows) - 1))
        props = {**flows[index].properties, "out_of_scope": True, "out_of_scope_reason": "Bench"}
        flows[index] = dataclasses.replace(
            flows[index],
            properties=props,
            out_of_scope=True,
            out_of_scope_reason="Bench",
        )
    return dataclasses.replace(
        base,
        boundaries=tuple(sorted(boundaries, key=lambda b: b.id)),
        flows=tuple(flows),
        controls=controls,
        dispositions=dict(sorted(dispositions.items())),
    )


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(decided_models())
def test_native_to_native_loses_nothing(model: Model) -> None:
    again, notes = convert(model, "native")
    assert notes == []
    assert seen(again) == seen(model)


@PROPERTY
@given(decided_models())
def test_native_to_otm_and_back_keeps_what_a_review_sees(model: Model) -> None:
    via_otm, notes = convert(model, "otm")
    back, more = convert(via_otm, "native")
    # Controls keep their status (planned stays planned) and evidence through OTM.
    assert seen(via_otm)["controls"] == seen(model)["controls"]
    assert seen(back)["controls"] == seen(model)["controls"]
    if not notes + more:
        assert seen(via_otm) == seen(model)
        assert seen(back) == seen(model)


# --- the other tools' models ------------------------------------------------------------------


def _dragon() -> Model:
    path = FIXTURES / "dragon" / "pump-v2.json"
    return dragon.read(path.read_bytes(), str(path)).model


def _tm7() -> Model:
    path = FIXTURES / "tm7" / "two_tabs.tm7"
    return tm7.read(path.read_bytes(), str(path)).model


@pytest.mark.parametrize("target", sorted(WRITE))
@pytest.mark.parametrize("source", [_dragon, _tm7], ids=["dragon", "tm7"])
def test_other_tools_models_convert_without_silent_loss(
    source: Callable[[], Model], target: str
) -> None:
    model = source()
    converted, notes = convert(model, target)
    before, after = seen(model), seen(converted)
    # A crossing the target loses is named in a note (convert prints them on stderr).
    for flow_id, crossed in before["crossings"].items():
        if after["crossings"].get(flow_id) != crossed:
            assert any(f"({flow_id})" in n and "crossing" in n for n in notes), flow_id
    if after["crossings"] == before["crossings"]:
        assert {k: v[0] for k, v in after["threats"].items()} == {
            k: v[0] for k, v in before["threats"].items()
        } or notes
    assert after["controls"] == before["controls"]


def test_dragon_to_native_keeps_line_boundaries_and_stored_threats_with_status() -> None:
    model = _dragon()
    converted, notes = convert(model, "native")
    assert notes == []
    assert seen(converted) == seen(model)
    assert (
        {b.id for b in converted.boundaries if b.is_line}
        == {b.id for b in model.boundaries if b.is_line}
        != set()
    )
    assert {t.key for t in converted.stored_threats} == {t.key for t in model.stored_threats}
