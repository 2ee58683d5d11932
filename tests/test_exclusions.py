"""Threats designed out: listed with the property that excludes them and the control behind it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import element, flow, model

from threatdelta.assess import assess_bytes
from threatdelta.cli import main
from threatdelta.exclusions import Exclusion, _cause, _plan, _planned_cause, excluded_threats
from threatdelta.formats.registry import read_model
from threatdelta.model.model import Control, Element, Flow, frozen_controls, frozen_props
from threatdelta.rules.lang.ast import referenced_attributes, unparse
from threatdelta.rules.lang.parser import parse

MODEL = """\
version: 1
system: Pump
boundaries:
  - {id: device, name: Device, kind: device}
elements:
  - {id: gateway, name: Gateway, type: process, kind: web-service}
  - {id: comms, name: Comms, type: process, kind: firmware, boundary: device, properties: {sanitizes_input: true}}
flows:
  - id: telemetry
    name: Telemetry
    from: comms
    to: gateway
    protocol: tcp
    properties: {encrypted: true, providesIntegrity: 'Yes'}
    implemented_by: {encrypted: tls, providesIntegrity: [tls, ghost]}
controls:
  - {id: tls, name: Mutual TLS, status: verified, evidence: [evidence/tls.md]}
"""


def _exclusions(text: str, existing: set[str]) -> dict[str, Exclusion]:
    assessment = assess_bytes(text.encode(), "threatmodel.yaml", None, today=dt.date(2026, 11, 25))
    found = excluded_threats(
        assessment.register.model, assessment.pack, evidence_exists=lambda p: p in existing
    )
    assert not {e.key for e in found} & {e.key for e in assessment.register.entries}
    return {e.key: e for e in found}


def test_an_excluding_property_names_the_control_and_its_evidence() -> None:
    found = _exclusions(MODEL, {"evidence/tls.md"})
    sniffing = found["crossing-sniffing@comms>telemetry>gateway"]
    assert sniffing.text == "excluded by encrypted: true"
    (cause,) = sniffing.causes
    assert cause.item == "telemetry" and cause.name == "encrypted" and cause.value is True
    (impl,) = cause.implemented_by
    assert impl.control is not None and impl.control.evidence == ("evidence/tls.md",)
    assert impl.problems == ()
    # TMT vocabulary in the model, native name in the rule: the same property
    tampering = found["crossing-tampering@comms>telemetry>gateway"]
    assert tampering.text == "excluded by providesIntegrity: Yes"
    codes = [p.code for i in tampering.causes[0].implemented_by for p in i.problems]
    assert codes == ["unknown-control"]  # 'ghost' is not defined


def test_missing_evidence_of_the_implementing_control_is_flagged() -> None:
    found = _exclusions(MODEL, set())
    (impl,) = found["crossing-sniffing@comms>telemetry>gateway"].causes[0].implemented_by
    assert [p.code for p in impl.problems] == ["missing-evidence"]


def test_without_the_property_the_threat_exists_and_is_not_excluded() -> None:
    text = MODEL.replace("encrypted: true, ", "").replace("{encrypted: tls, ", "{")
    found = _exclusions(text, set())
    assert "crossing-sniffing@comms>telemetry>gateway" not in found


def test_implemented_by_must_name_a_property_the_item_sets() -> None:
    from threatdelta.errors import InputError

    text = MODEL.replace("{encrypted: tls,", "{authenticated: tls, encrypted: tls,")
    with pytest.raises(InputError) as error:
        read_model(text.encode(), "threatmodel.yaml")
    assert "threatmodel.yaml:15:" in str(error.value)
    assert "implemented_by names property 'authenticated'" in str(error.value)


def test_check_lists_threats_designed_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "tls.md").write_text("verified\n")
    model = tmp_path / "threatmodel.yaml"
    model.write_text(MODEL)
    main(["check", str(model), "--format", "json", "--today", "2026-11-25"])
    data = json.loads(capsys.readouterr().out)
    by_id = {x["id"]: x for x in data["excluded"]}
    sniffing = by_id["crossing-sniffing@comms>telemetry>gateway"]
    assert sniffing["excluded_by"] == "encrypted: true"
    assert sniffing["causes"][0]["implemented_by"][0] == {
        "id": "tls",
        "name": "Mutual TLS",
        "status": "verified",
        "evidence": ["evidence/tls.md"],
        "problems": [],
    }
    main(["check", str(model), "--today", "2026-11-25"])
    text = capsys.readouterr().out
    assert "Designed out (" in text
    assert "excluded by encrypted: true" in text
    assert "implemented by tls (verified; evidence: evidence/tls.md)" in text
    main(["check", str(model), "--format", "markdown", "--today", "2026-11-25"])
    assert "**Designed out**" in capsys.readouterr().out


def test_the_native_writer_keeps_implemented_by() -> None:
    from threatdelta.formats.native_writer import write

    model = read_model(MODEL.encode(), "threatmodel.yaml").model
    again = read_model(write(model).text.encode(), "threatmodel.yaml").model
    assert again.flow("telemetry").implemented_by == {  # type: ignore[union-attr]
        "encrypted": ("tls",),
        "providesIntegrity": ("tls", "ghost"),
    }


_NAMES = ("encrypted", "providesConfidentiality", "authenticated", "authenticatesSource", "x")
_SUBJECTS = ("element", "source", "flow", "target", "other")


@st.composite
def _conditions(draw: st.DrawFn) -> str:
    reads = draw(
        st.lists(st.tuples(st.sampled_from(_SUBJECTS), st.sampled_from(_NAMES)), min_size=1)
    )
    joiner = draw(st.sampled_from((" and ", " or ")))
    return joiner.join(f"{subject}.{name}" for subject, name in reads)


@st.composite
def _items(draw: st.DrawFn, index: int, is_flow: bool) -> Element | Flow:
    properties = draw(
        st.dictionaries(st.sampled_from(_NAMES), st.sampled_from((True, False, "Yes", 3)))
    )
    implemented = draw(
        st.dictionaries(
            st.sampled_from(_NAMES), st.lists(st.sampled_from(("tls", "ghost")), min_size=1)
        )
    )
    made = flow(f"f{index}", "a", "b") if is_flow else element(f"e{index}")
    return dataclasses.replace(
        made,
        properties=frozen_props(properties),
        implemented_by=frozen_controls({k: tuple(v) for k, v in implemented.items()}),
    )


@settings(max_examples=300)
@given(_conditions(), st.booleans(), st.data())
def test_a_cause_found_from_its_conditions_plan_is_the_cause_found_step_by_step(
    condition: str, at_flow: bool, data: st.DataObject
) -> None:
    # The plan of a condition (what it reads of which subject) is made once per condition;
    # the cause it finds must be the one the condition's own text and attributes find.
    names = ("source", "flow", "target") if at_flow else ("element",)
    items = tuple(data.draw(_items(i, is_flow=name == "flow")) for i, name in enumerate(names))
    the_model = model(
        [e for e in items if isinstance(e, Element)],
        controls=[Control("tls", "TLS", "verified", ("evidence/tls.md",))],
    )
    evidence = data.draw(st.sampled_from((None, lambda path: path.startswith("evidence/"))))
    expr = parse(condition)
    plan = _plan(expr, names)
    written = (unparse(expr), sorted(referenced_attributes(expr)))
    expected = _cause(written, dict(zip(names, items, strict=True)), the_model, evidence)
    assert _planned_cause(plan, items, the_model, evidence) == expected
