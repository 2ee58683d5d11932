"""Tests for the Open Threat Model reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatdelta.errors import InputError, InputErrors
from threatdelta.formats import native, native_writer, otm, otm_writer
from threatdelta.formats.interface import ParsedModel

FIXTURES = Path(__file__).parent / "fixtures" / "otm"
PUMP = FIXTURES / "pump.otm.yaml"


@pytest.fixture(scope="module")
def pump() -> ParsedModel:
    return otm.read(PUMP.read_bytes(), str(PUMP))


def as_json(doc: Any) -> bytes:
    return json.dumps(doc, indent=2).encode()


def base(**sections: Any) -> dict[str, Any]:
    return {"otmVersion": "0.2.0", "project": {"name": "P", "id": "p"}, **sections}


# --- the hand-made model ---------------------------------------------------------------------


def test_trust_zones_become_nested_boundaries(pump: ParsedModel) -> None:
    model = pump.model
    assert model.format == "otm"
    assert model.system == "Infusion pump"
    zones = {b.id: (b.kind, b.parent, b.properties["trust_rating"]) for b in model.boundaries}
    assert zones == {
        "internet": ("network", None, 10),
        "hospital": ("network", None, 60),
        "device": ("device", "hospital", 90),
    }
    assert model.boundary("hospital").properties["otm_type"] == "private-network"  # type: ignore[union-attr]


def test_components_get_types_and_kinds_from_their_type_words(pump: ParsedModel) -> None:
    found = {e.id: (e.type, e.kind, e.boundary) for e in pump.model.elements}
    assert found == {
        "clinician": ("external-entity", "person", "hospital"),
        "cloud": ("external-entity", "cloud-service", "internet"),
        "controller": ("process", "control-unit", "device"),
        "dose-library": ("process", "generic", "device"),
        "dose-log": ("data-store", "log", "device"),
    }


def test_component_inside_a_component_sits_in_its_zone(pump: ParsedModel) -> None:
    library = pump.model.element("dose-library")
    assert library is not None
    assert library.properties["parent_component"] == "controller"


def test_attributes_become_properties_with_booleans(pump: ParsedModel) -> None:
    controller = pump.model.element("controller")
    assert controller is not None
    assert controller.properties["sanitizes_input"] is True
    assert controller.properties["runs_privileged"] is False
    assert controller.properties["vendor"] == "Acme"
    assert controller.description == "Runs the dosing loop"


def test_dataflows_with_protocol_from_attributes_or_tags(pump: ParsedModel) -> None:
    flows = {f.id: f for f in pump.model.flows}
    assert (flows["dose-cmd"].source, flows["dose-cmd"].target) == ("clinician", "controller")
    assert flows["dose-cmd"].protocol == "can"
    assert flows["dose-cmd"].properties["encrypted"] is False
    assert flows["telemetry"].protocol == "mqtt"
    assert flows["telemetry"].bidirectional is True
    assert flows["write-log"].protocol == "generic"
    assert all(f.crosses is None for f in flows.values())  # nesting decides


def test_threat_instances_become_stored_threats(pump: ParsedModel) -> None:
    threats = {t.key: t for t in pump.model.stored_threats}
    assert set(threats) == {
        "otm:cmd-spoofing@dose-cmd",
        "otm:log-forgery@dose-log",
        "otm:log-forgery@write-log",
    }
    spoof = threats["otm:cmd-spoofing@dose-cmd"]
    assert (spoof.rule_id, spoof.stride, spoof.scope, spoof.flow) == (
        "otm",
        "S",
        "flow",
        "dose-cmd",
    )
    assert (spoof.source, spoof.target) == ("clinician", "controller")
    assert spoof.cwe == (290,)
    assert spoof.severity == "medium"  # likelihood 50 x impact 100
    assert spoof.countermeasures == ()  # its mitigation is a control now
    assert threats["otm:log-forgery@dose-log"].countermeasures == ("signed-log",)
    forgery = threats["otm:log-forgery@dose-log"]
    assert (forgery.stride, forgery.severity, forgery.element) == ("R", "low", "dose-log")


def test_dispositions_from_instance_states(pump: ParsedModel) -> None:
    dispositions = pump.model.dispositions
    assert dispositions["otm:cmd-spoofing@dose-cmd"].status == "mitigated"
    assert dispositions["otm:cmd-spoofing@dose-cmd"].controls == ("badge-auth",)
    assert dispositions["otm:log-forgery@dose-log"].status == "open"
    assert dispositions["otm:log-forgery@dose-log"].controls == ()
    assert dispositions["otm:log-forgery@write-log"].status == "not-applicable"
    assert dispositions["otm:log-forgery@write-log"].title == "Log entries forged"


def test_a_control_per_mitigation_with_status_from_instances(pump: ParsedModel) -> None:
    controls = {c.id: c for c in pump.model.controls}
    assert set(controls) == {"badge-auth", "signed-log"}
    assert controls["badge-auth"].status == "implemented"
    assert controls["signed-log"].status == "planned"
    assert controls["signed-log"].description == "Every entry carries a MAC."


def test_unused_threat_definition_is_a_warning(pump: ParsedModel) -> None:
    assert len(pump.warnings) == 1
    assert "'never-used' is not used" in pump.warnings[0]
    assert pump.warnings[0].startswith(f"{PUMP}:")


def test_yaml_and_json_read_the_same() -> None:
    doc = yaml.safe_load(PUMP.read_text())
    from_json = otm.read(as_json(doc), "pump.otm.json").model
    from_yaml = otm.read(PUMP.read_bytes(), str(PUMP)).model
    assert from_json.elements == from_yaml.elements
    assert from_json.flows == from_yaml.flows
    assert from_json.stored_threats == from_yaml.stored_threats
    assert from_json.dispositions == from_yaml.dispositions


def test_element_locations_point_at_the_component(pump: ParsedModel) -> None:
    controller = pump.model.element("controller")
    assert controller is not None and controller.location is not None
    line = PUMP.read_text().splitlines()[controller.location.line - 1]  # type: ignore[operator]
    assert "id: controller" in line


# --- edge cases and bad input ------------------------------------------------------------------


def test_flow_to_an_unknown_component_is_skipped_with_a_warning() -> None:
    doc = base(
        components=[{"id": "a", "name": "A", "type": "x", "parent": {"trustZone": "z"}}],
        dataflows=[{"id": "f", "name": "F", "source": "a", "destination": "ghost"}],
    )
    parsed = otm.read(as_json(doc), "m.json")
    assert parsed.model.flows == ()
    assert any("'ghost', which is not a component" in w for w in parsed.warnings)


def test_unknown_threat_state_with_implemented_mitigation_counts_as_mitigated() -> None:
    doc = base(
        components=[
            {
                "id": "a",
                "name": "A",
                "type": "x",
                "parent": {"trustZone": "z"},
                "threats": [
                    {
                        "threat": "t",
                        "state": "Handled",
                        "mitigations": [{"mitigation": "m", "state": "implemented"}],
                    }
                ],
            }
        ],
        threats=[{"id": "t", "name": "T", "risk": {"likelihood": 1, "impact": 1}}],
        mitigations=[{"id": "m", "name": "M", "riskReduction": 1}],
    )
    parsed = otm.read(as_json(doc), "m.json")
    assert parsed.model.dispositions["otm:t@a"].status == "mitigated"
    assert parsed.model.dispositions["otm:t@a"].controls == ("m",)
    assert any("'Handled' is not known" in w for w in parsed.warnings)


def test_needs_investigation_state_flags_an_open_threat() -> None:
    doc = base(
        components=[
            {"id": "a", "name": "A", "type": "x", "parent": {"trustZone": "z"},
             "threats": [{"threat": "t", "state": "NeedsInvestigation"}]}
        ],
        threats=[{"id": "t", "name": "T", "risk": {"likelihood": 1, "impact": 1}}],
    )  # fmt: skip
    disposition = otm.read(as_json(doc), "m.json").model.dispositions["otm:t@a"]
    assert (disposition.status, disposition.needs_investigation) == ("open", True)


def test_missing_project_name_is_an_error_with_a_position() -> None:
    text = b'{\n  "otmVersion": "0.2.0",\n  "project": {"id": "p"}\n}'
    with pytest.raises(InputError) as caught:
        otm.read(text, "m.otm.json")
    assert str(caught.value) == "m.otm.json:3:14: project.name is missing; name the project"


def test_duplicate_ids_are_all_reported() -> None:
    text = (
        "otmVersion: 0.2.0\nproject: {name: P, id: p}\n"
        "components:\n"
        "  - {id: a, name: A, type: x, parent: {trustZone: z}}\n"
        "  - {id: a, name: B, type: x, parent: {trustZone: z}}\n"
        "dataflows:\n"
        "  - {id: a, name: F, source: a, destination: a}\n"
        "  - {name: G, source: a, destination: a}\n"
    )
    with pytest.raises(InputErrors) as caught:
        otm.read(text.encode(), "m.otm.yaml")
    messages = [str(e) for e in caught.value.errors]
    assert messages[0].startswith("m.otm.yaml:5:10: id 'a' is already used by a component")
    assert messages[1].startswith("m.otm.yaml:7:10: id 'a' is already used by a component")
    assert messages[2] == "m.otm.yaml:8:5: this data flow has no id; give it one"


def test_trust_zone_cycle_is_an_error() -> None:
    doc = base(
        trustZones=[
            {"id": "a", "name": "A", "risk": {"trustRating": 1}, "parent": {"trustZone": "b"}},
            {"id": "b", "name": "B", "risk": {"trustRating": 1}, "parent": {"trustZone": "a"}},
        ]
    )
    with pytest.raises(InputError, match="form a cycle"):
        otm.read(as_json(doc), "m.json")


def test_not_a_mapping() -> None:
    with pytest.raises(InputError, match="is a mapping with otmVersion"):
        otm.read(b"- otmVersion\n", "m.yaml")


def test_yaml_syntax_error_is_located() -> None:
    with pytest.raises(InputError) as caught:
        otm.read(b"otmVersion: 0.2.0\nproject: [unclosed\n", "m.yaml")
    assert caught.value.location is not None
    assert caught.value.location.line is not None


def test_sniff() -> None:
    assert otm.sniff(str(PUMP), PUMP.read_bytes())
    assert otm.sniff("x.json", b'{"otmVersion": "0.2.0"}')
    assert not otm.sniff("x.json", b'{"detail": {"diagrams": []}}')


# --- the real-world samples -------------------------------------------------------------------

SAMPLE_COUNTS = {
    # file: (elements, flows, boundaries, stored threats, controls)
    "EXAMPLE.json": (4, 2, 2, 2, 2),
    "EXAMPLE.yaml": (4, 2, 2, 2, 2),
    "threatdragon-mobile-cloud.otm.json": (4, 6, 2, 43, 43),
}


def _sample(samples_dir: Path, name: str) -> ParsedModel:
    path = samples_dir / "otm" / name
    data = path.read_bytes()
    assert otm.sniff(str(path), data)
    return otm.read(data, str(path))


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_sample_counts(samples_dir: Path, name: str) -> None:
    model = _sample(samples_dir, name).model
    counts = (
        len(model.elements),
        len(model.flows),
        len(model.boundaries),
        len(model.stored_threats),
        len(model.controls),
    )
    assert counts == SAMPLE_COUNTS[name]


def test_sample_example_threat_on_two_subjects(samples_dir: Path) -> None:
    model = _sample(samples_dir, "EXAMPLE.yaml").model
    keys = {t.key for t in model.stored_threats}
    threat = "22724267-be7e-44c0-8b1f-d7d33e9a34ec"
    assert keys == {f"otm:{threat}@web-service", f"otm:{threat}@cc-store-in-db"}
    assert {e.id: e.type for e in model.elements}["customer-database"] == "data-store"
    assert {e.id: e.type for e in model.elements}["web-client"] == "external-entity"


def test_sample_mobile_cloud_types(samples_dir: Path) -> None:
    model = _sample(samples_dir, "threatdragon-mobile-cloud.otm.json").model
    types = sorted(e.type for e in model.elements)
    assert types == ["data-store", "data-store", "external-entity", "process"]
    assert all(d.status == "open" for d in model.dispositions.values())


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_sample_converts_to_otm_and_back(samples_dir: Path, name: str) -> None:
    model = _sample(samples_dir, name).model
    back = otm.read(otm_writer.write(model).text.encode(), "again.otm.json").model
    assert back.elements == model.elements
    assert back.flows == model.flows
    assert back.boundaries == model.boundaries
    assert back.controls == model.controls
    assert back.stored_threats == model.stored_threats
    assert back.dispositions == model.dispositions


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_sample_converts_to_native_and_back(samples_dir: Path, name: str) -> None:
    model = _sample(samples_dir, name).model
    back = native.read(native_writer.write(model).text.encode(), "threatmodel.yaml").model
    assert {e.id for e in back.elements} == {e.id for e in model.elements}
    assert {f.id for f in back.flows} == {f.id for f in model.flows}
    assert set(back.dispositions) == {t.key for t in model.stored_threats}
    assert {c.id for c in back.controls} == {c.id for c in model.controls}


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "name",
                    "type",
                    "parent",
                    "trustZone",
                    "component",
                    "source",
                    "destination",
                    "threats",
                    "threat",
                    "state",
                    "mitigations",
                    "mitigation",
                    "attributes",
                    "tags",
                    "risk",
                    "trustRating",
                    "categories",
                    "cwes",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["trustZones", "components", "dataflows", "threats", "mitigations"]),
        st.lists(_json, max_size=4),
    )
)
def test_arbitrary_sections_never_crash(sections: dict[str, Any]) -> None:
    try:
        parsed = otm.read(as_json(base(**sections)), "fuzz.otm.json")
    except InputError:
        return
    assert parsed.model.format == "otm"


def test_errors_come_out_in_file_order_whatever_section_is_read_first() -> None:
    text = (
        "otmVersion: 0.2.0\nproject: {name: P, id: p}\n"
        "dataflows:\n"
        "  - {name: F, source: a, destination: a}\n"
        "components:\n"
        "  - {name: A, type: x, parent: {trustZone: z}}\n"
    )
    with pytest.raises(InputErrors) as caught:
        otm.read(text.encode(), "m.otm.yaml")
    assert [str(e) for e in caught.value.errors] == [
        "m.otm.yaml:4:5: this data flow has no id; give it one",
        "m.otm.yaml:6:5: this component has no id; give it one",
    ]


def test_the_same_missing_mitigation_twice_is_warned_once() -> None:
    doc = base(
        components=[
            {
                "id": "a",
                "name": "A",
                "type": "x",
                "parent": {"trustZone": "z"},
                "threats": [
                    {
                        "threat": "t",
                        "state": "exposed",
                        "mitigations": [{"mitigation": "gone"}, {"mitigation": "gone"}],
                    }
                ],
            }
        ],
        threats=[{"id": "t", "name": "T", "risk": {"likelihood": 1, "impact": 1}}],
    )
    parsed = otm.read(as_json(doc), "m.json")
    missing = [w for w in parsed.warnings if "'gone' is not under mitigations" in w]
    assert len(missing) == 1 and missing[0].startswith("m.json:")
