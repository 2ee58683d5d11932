"""Tests for the Threat Dragon reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.formats.dragon_helpers import V1, V2, minimal, read_doc, read_path
from tests.formats.dragon_helpers import cell as _cell

from threatdelta.errors import InputError
from threatdelta.formats import (
    dragon,
    json_source,
    native,
    native_writer,
    otm,
    otm_writer,
    vocabulary,
)
from threatdelta.formats.interface import ParsedModel
from threatdelta.limits import MAX_BOUNDARIES
from threatdelta.model.model import Model


@pytest.fixture(scope="module")
def pump() -> ParsedModel:
    return read_path(V2)


# --- the hand-made v2 model ------------------------------------------------------------------


def test_reads_elements_flows_and_boundaries(pump: ParsedModel) -> None:
    model = pump.model
    assert model.format == "dragon"
    assert model.system == "Infusion pump"
    assert {e.id: e.type for e in model.elements} == {
        "a-clinician": "external-entity",
        "a-cloud": "external-entity",
        "p-controller": "process",
        "p-gateway": "process",
        "p-pharmacy": "process",
        "s-doselog": "data-store",
    }
    assert [f.id for f in model.flows] == ["f-dose", "f-log", "f-sync", "f-telemetry"]
    assert {b.id: b.is_line for b in model.boundaries} == {
        "b-device": False,
        "b-hospital": False,
        "c-firewall": True,
        dragon.PUBLIC_NETWORK_ID: False,
    }


def test_names_come_from_data_and_newlines_become_spaces(pump: ParsedModel) -> None:
    assert pump.model.element("a-clinician").name == "Clinician"  # type: ignore[union-attr]
    assert pump.model.boundary("b-device").name == "Pump device"  # type: ignore[union-attr]
    assert pump.model.element("a-clinician").description == "Sets the dose"  # type: ignore[union-attr]


def test_boxes_nest_and_elements_sit_in_the_innermost_box(pump: ParsedModel) -> None:
    model = pump.model
    assert model.boundary("b-device").parent == "b-hospital"  # type: ignore[union-attr]
    assert model.boundary("b-hospital").parent is None  # type: ignore[union-attr]
    where = {e.id: e.boundary for e in model.elements}
    assert where["p-controller"] == "b-device"
    assert where["s-doselog"] == "b-device"
    assert where["p-gateway"] == "b-hospital"
    assert where["a-clinician"] is None


def test_containment_is_per_diagram(pump: ParsedModel) -> None:
    # The pharmacy process is drawn where the device box is, but on another diagram.
    assert pump.model.element("p-pharmacy").boundary is None  # type: ignore[union-attr]


def test_crossings_from_boxes_curves_and_public_network(pump: ParsedModel) -> None:
    crosses = {f.id: f.crosses for f in pump.model.flows}
    assert crosses["f-dose"] == ("b-device", "b-hospital")
    assert crosses["f-log"] == ()
    assert crosses["f-telemetry"] == ("b-hospital", "c-firewall", dragon.PUBLIC_NETWORK_ID)
    assert crosses["f-sync"] == ("b-hospital", "c-firewall")


def test_properties_are_mapped_to_native_names(pump: ParsedModel) -> None:
    model = pump.model
    assert dict(model.element("a-clinician").properties) == {  # type: ignore[union-attr]
        "authenticated": True,
        "out_of_scope": False,
    }
    store = dict(model.element("s-doselog").properties)  # type: ignore[union-attr]
    assert store == {
        "encrypted": False,
        "signed": True,
        "stores_credentials": False,
        "stores_logs": True,
    }
    controller = dict(model.element("p-controller").properties)  # type: ignore[union-attr]
    assert controller["privilege_level"] == "root"
    assert controller["is_web_application"] is False
    telemetry = model.flow("f-telemetry")
    assert telemetry is not None
    assert dict(telemetry.properties) == {"encrypted": True, "public_network": True}
    assert telemetry.bidirectional is True


def test_protocols_map_or_stay_generic_with_the_label(pump: ParsedModel) -> None:
    model = pump.model
    dose, telemetry, sync = model.flow("f-dose"), model.flow("f-telemetry"), model.flow("f-sync")
    assert dose is not None and telemetry is not None and sync is not None
    assert dose.protocol == "can"
    assert dose.properties["protocol_label"] == "CAN bus"
    assert dose.type_chain[0] == "flow/can"
    assert telemetry.protocol == "https"
    assert "protocol_label" not in telemetry.properties
    assert sync.protocol == "generic"
    assert sync.properties["protocol_label"] == "UPnP"


def test_unknown_shapes_and_loose_flows_are_warnings(pump: ParsedModel) -> None:
    warnings = "\n".join(pump.warnings)
    assert "unknown shape 'tm.Proces'" in warnings
    assert "did you mean 'tm.Process'" in warnings
    assert "'f-note' has its target on 'n-note'" in warnings
    assert "it is taken to be 'Gateway', 5 units away" in warnings
    assert pump.model.element("x-odd") is None
    assert all(w.startswith(f"{V2}:") for w in pump.warnings)
    # the text block itself is no warning
    assert "n-note' has the unknown" not in warnings


def test_snapped_flow_end_is_attached(pump: ParsedModel) -> None:
    sync = pump.model.flow("f-sync")
    assert sync is not None
    assert (sync.source, sync.target) == ("a-cloud", "p-gateway")


def test_element_locations_point_at_the_cell(pump: ParsedModel) -> None:
    element = pump.model.element("p-controller")
    assert element is not None and element.location is not None
    line = V2.read_text().splitlines()[element.location.line - 1]  # type: ignore[operator]
    assert '"p-controller"' in line


def test_reading_is_deterministic() -> None:
    assert read_path(V2) == read_path(V2)


# --- v1 ------------------------------------------------------------------------------------


def test_reads_a_v1_model() -> None:
    parsed = read_path(V1)
    model = parsed.model
    assert parsed.warnings == ()
    assert {e.id: e.name for e in model.elements} == {
        "v1-log": "Event log",
        "v1-nurse": "Nurse",
        "v1-pump": "Pump firmware",
    }
    cmd = model.flow("v1-cmd")
    assert cmd is not None
    assert (cmd.name, cmd.protocol, cmd.crosses) == ("Start infusion", "usb", ("v1-edge",))
    assert model.flow("v1-write").crosses == ()  # type: ignore[union-attr]
    assert model.element("v1-log").properties["stores_logs"] is True  # type: ignore[union-attr]
    keys = {t.key for t in model.stored_threats}
    assert keys == {"td:v1-cmd/command-spoofed", "td:v1-pump/firmware-replaced"}
    assert model.dispositions["td:v1-cmd/command-spoofed"].status == "mitigated"


# --- edge cases ------------------------------------------------------------------------------


def test_duplicate_cell_id_is_skipped_with_a_warning() -> None:
    parsed = read_doc(minimal([_cell("p", "process", name="A"), _cell("p", "process", name="B")]))
    assert [e.name for e in parsed.model.elements] == ["A"]
    assert any("second cell has the id 'p'" in w for w in parsed.warnings)


def test_shape_is_used_when_data_type_is_missing() -> None:
    cell = _cell("s", "store", name="S")
    del cell["data"]["type"]
    parsed = read_doc(minimal([cell]))
    assert parsed.model.elements[0].type == "data-store"


def test_box_marked_as_no_trust_boundary_is_skipped() -> None:
    box = {
        "id": "box",
        "shape": "trust-boundary-box",
        "position": {"x": 0, "y": 0},
        "size": {"width": 500, "height": 500},
        "data": {"type": "tm.BoundaryBox", "isTrustBoundary": False},
    }
    parsed = read_doc(minimal([box, _cell("p", "process", 10, 10)]))
    assert parsed.model.boundaries == ()
    assert parsed.model.elements[0].boundary is None


def test_saved_boundary_ids_override_geometry() -> None:
    flow = {
        "id": "f",
        "shape": "flow",
        "source": {"cell": "a"},
        "target": {"cell": "b"},
        "data": {"type": "tm.Flow", "trustBoundaryIds": ["zone"]},
    }
    parsed = read_doc(minimal([_cell("a", "actor"), _cell("b", "process", 500, 0), flow]))
    assert parsed.model.flows[0].crosses == ("zone",)


def test_flow_end_far_from_everything_drops_the_flow() -> None:
    flow = {
        "id": "f",
        "shape": "flow",
        "source": {"cell": "a"},
        "target": {"x": 900, "y": 900},
        "data": {"type": "tm.Flow", "threats": []},
    }
    parsed = read_doc(minimal([_cell("a", "actor"), flow]))
    assert parsed.model.flows == ()
    assert any("not attached to any element" in w for w in parsed.warnings)


def test_empty_diagram_without_cells_reads_as_empty() -> None:
    parsed = read_doc({"summary": {"title": ""}, "detail": {"diagrams": [{"id": 0}]}}, "empty.json")
    assert parsed.model.elements == ()
    assert parsed.model.system == "empty"


# --- bad input -------------------------------------------------------------------------------


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(InputError) as caught:
        dragon.read(b'{"summary": {},\n  "detail": [}', "bad.json")
    location = caught.value.location
    assert location is not None
    assert (location.path, location.line, location.column) == ("bad.json", 2, 14)
    assert "not valid JSON" in caught.value.message


def test_top_level_list_is_refused() -> None:
    with pytest.raises(InputError, match="JSON object with 'summary' and 'detail'"):
        dragon.read(b"[1, 2]", "list.json")


def test_missing_diagrams_points_at_detail() -> None:
    text = b'{\n  "summary": {"title": "x"},\n  "detail": {\n    "diagrams": "nope"\n  }\n}'
    with pytest.raises(InputError) as caught:
        dragon.read(text, "m.json")
    assert str(caught.value).startswith("m.json:4:17: no 'detail.diagrams' list")


def test_cell_that_is_not_an_object_is_located() -> None:
    text = b'{"detail": {"diagrams": [{"cells": [\n  42\n]}]}}'
    with pytest.raises(InputError) as caught:
        dragon.read(text, "m.json")
    assert str(caught.value) == "m.json:2:3: a diagram cell is not a JSON object"


def test_not_utf8_is_refused_with_a_position() -> None:
    with pytest.raises(InputError, match="not valid UTF-8") as caught:
        dragon.read(b'{"a":\n "\xff"}', "m.json")
    assert str(caught.value).startswith("m.json:2:3:")


def test_too_deep_nesting_is_refused() -> None:
    with pytest.raises(InputError, match="nested too deeply"):
        dragon.read(b"[" * 100_000 + b"]" * 100_000, "deep.json")


def test_sniff() -> None:
    assert dragon.sniff(str(V2), V2.read_bytes())
    assert dragon.sniff(str(V1), V1.read_bytes())
    assert not dragon.sniff("x.json", b'{"otmVersion": "0.2.0", "detail": {"diagrams": []}}')
    assert not dragon.sniff("x.json", b'{"something": "else"}')
    assert not dragon.sniff("x.yaml", b"version: 1\n")


def test_json_location_follows_keys_and_indexes() -> None:
    text = '{"a": [1, {"b": "x\\"y", "c": [true, {"d": null}]}], "e": 2}'
    assert json_source.json_location(text, ()) == (1, 1)
    assert json_source.json_location(text, ("a", 1, "c", 1, "d")) == (1, 43)
    assert json_source.json_location(text, ("e",)) == (1, 58)
    assert json_source.json_location(text, ("missing",)) is None
    assert json_source.json_location(text, ("a", 7)) is None


@pytest.mark.parametrize(
    ("label", "letter"),
    [
        ("Spoofing", "S"),
        ("Information disclosure", "I"),
        ("Denial of service", "D"),
        ("Elevation of privilege", "E"),
        ("Non-repudiation", "R"),
        ("Confidentiality", "I"),
        ("Integrity", "T"),
        ("Availability", "D"),
        ("Detectability", "I"),
        ("e", "E"),
        ("Something else", None),
    ],
)
def test_stride_for(label: str, letter: str | None) -> None:
    assert vocabulary.stride_for(label) == letter


# --- the real-world samples -------------------------------------------------------------------

SAMPLE_COUNTS = {
    # file: (elements, flows, boundaries incl. the added public network, stored threats)
    "v2-threat-model.json": (7, 10, 4, 14),
    "iot-device.json": (11, 14, 1, 4),
    "three-tier-web-app.json": (3, 3, 2, 2),
    "payment-online.json": (5, 10, 3, 0),
}


def _sample(samples_dir: Path, name: str) -> ParsedModel:
    path = samples_dir / "dragon" / name
    data = path.read_bytes()
    assert dragon.sniff(str(path), data)
    return dragon.read(data, str(path))


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_sample_counts(samples_dir: Path, name: str) -> None:
    model = _sample(samples_dir, name).model
    counts = (
        len(model.elements),
        len(model.flows),
        len(model.boundaries),
        len(model.stored_threats),
    )
    assert counts == SAMPLE_COUNTS[name]
    assert set(model.dispositions) == {t.key for t in model.stored_threats}


def _flow_named(model: Model, name: str) -> tuple[str, ...]:
    flows = [f for f in model.flows if f.name == name]
    assert len(flows) == 1, name
    assert flows[0].crosses is not None
    return flows[0].crosses


def test_sample_crossings_follow_the_drawing(samples_dir: Path) -> None:
    demo = _sample(samples_dir, "v2-threat-model.json").model
    # The U-shaped curve around the database separates it from both processes.
    assert _flow_named(demo, "Queries") == ("4a7911c8-2493-46cc-960f-1b248b176d15",)
    assert _flow_named(demo, "Worker Queries") == ("4a7911c8-2493-46cc-960f-1b248b176d15",)
    assert _flow_named(demo, "Put Message") == ("6767506f-3d7f-4a5f-bbe2-ea03689d30fc",)
    assert _flow_named(demo, "Read web app config") == ()
    # Browser <-> web application: behind the curve, and over the public network.
    assert _flow_named(demo, "Web Response") == (
        "0adc088b-ebb1-46be-af7b-36112c60c419",
        dragon.PUBLIC_NETWORK_ID,
    )
    iot = _sample(samples_dir, "iot-device.json").model
    internet = "ba970f89-050f-4ac8-9348-99e7ce31ef65"
    crossing = {f.id for f in iot.flows if f.crosses == (internet,)}
    assert crossing == {
        "0cddb1fb-0555-4a62-82a4-696c18ff5d58",  # cloud integration -> social networks
        "0d5542d3-7cd1-466b-9977-be1bc390fa61",  # IoT device -> cloud API
        "a079af18-9e9b-4be2-a429-a50e5787ab5e",  # cloud API -> IoT device
        "d4ac0618-f5f5-4403-a26e-05e1cf9b153f",  # browser -> web site
    }
    three = _sample(samples_dir, "three-tier-web-app.json").model
    boxes = ("a10125fd-004a-44d9-b4a8-dffb49de91c4", "c54864d8-740f-40cb-bbb9-6ba008a336b6")
    assert three.flow("76b24277-4066-42a3-b75f-6b3e2c5c9d28").crosses == boxes  # type: ignore[union-attr]
    assert three.flow("91ccf804-a9b8-45ca-ab35-992337903633").crosses == ()  # type: ignore[union-attr]
    payment = _sample(samples_dir, "payment-online.json").model
    customer_zone = "347f80ba-5755-47a5-9a1b-295fe75552b2"
    logs_in = next(f for f in payment.flows if f.name.startswith("(1)"))
    assert logs_in.crosses == (customer_zone,)


def test_sample_loose_flow_end_is_attached_with_a_warning(samples_dir: Path) -> None:
    parsed = _sample(samples_dir, "v2-threat-model.json")
    request = parsed.model.flow("2d84bfae-f1ed-49e5-8542-10a02f4a1c57")
    assert request is not None
    assert request.source == "b394f9f7-07ca-42bc-b616-ad77c6fbfcce"  # the browser
    assert len(parsed.warnings) == 1


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_sample_converts_to_native_and_back(samples_dir: Path, name: str) -> None:
    model = _sample(samples_dir, name).model
    written = native_writer.write(model)
    back = native.read(written.text.encode(), "threatmodel.yaml").model
    assert {e.id for e in back.elements} == {e.id for e in model.elements}
    assert {f.id for f in back.flows} == {f.id for f in model.flows}
    # Stored threats survive as their dispositions.
    assert set(back.dispositions) == set(model.dispositions)
    assert len(back.dispositions) == len(model.stored_threats)
    assert {e.id: e.boundary for e in back.elements} == {e.id: e.boundary for e in model.elements}


@pytest.mark.parametrize("name", sorted(SAMPLE_COUNTS))
def test_sample_converts_to_otm_and_back(samples_dir: Path, name: str) -> None:
    model = _sample(samples_dir, name).model
    back = otm.read(otm_writer.write(model).text.encode(), "model.otm.json").model
    assert {e.id for e in back.elements} == {e.id for e in model.elements}
    assert {f.id for f in back.flows} == {f.id for f in model.flows}
    assert back.stored_threats == model.stored_threats  # locations aside, nothing changes
    assert back.dispositions == model.dispositions


def test_json_positions_find_values_and_fall_back_to_ancestors() -> None:
    text = '{\n  "a": [\n    {"b": 1},\n    {"c": {"d": [true]}}\n  ]\n}'
    positions = json_source.JsonPositions(text, "m.json", max_depth=3)
    assert str(positions.location(("a", 1))) == "m.json:4:5"
    assert str(positions.location(("a", 0, "b"))) == "m.json:3:11"
    # deeper than recorded, or absent: the nearest ancestor that is known
    assert str(positions.location(("a", 1, "c", "d", 0))) == "m.json:4:11"
    assert str(positions.location(("a", 9))) == "m.json:2:8"


def test_a_drawing_too_large_to_analyse_is_refused() -> None:
    boxes = [
        {
            "id": f"b{i}",
            "shape": "trust-boundary-box",
            "position": {"x": i, "y": 0},
            "size": {"width": 10, "height": 10},
            "data": {"type": "tm.BoundaryBox"},
        }
        for i in range(MAX_BOUNDARIES + 1)
    ]
    with pytest.raises(
        InputError,
        match=f"{MAX_BOUNDARIES + 1} trust boundaries; at most {MAX_BOUNDARIES} are accepted",
    ):
        read_doc(minimal(boxes))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "data",
                    "type",
                    "shape",
                    "source",
                    "target",
                    "cell",
                    "x",
                    "y",
                    "vertices",
                    "threats",
                    "position",
                    "size",
                    "width",
                    "height",
                    "name",
                    "status",
                    "title",
                    "cells",
                    "diagramJson",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_json, max_size=6))
def test_arbitrary_cells_never_crash(cells: list[Any]) -> None:
    doc = {"summary": {"title": "fuzz"}, "detail": {"diagrams": [{"cells": cells}]}}
    try:
        parsed = read_doc(doc)
    except InputError:
        return
    assert parsed.model.format == "dragon"


def test_warnings_come_out_in_file_order_and_once_per_place() -> None:
    # flows are read sorted by id, but their warnings read top to bottom like the file
    loose = [
        {
            "id": f,
            "shape": "flow",
            "data": {"type": "tm.Flow"},
            "source": {"x": 900, "y": 900},
            "target": {"x": 990, "y": 900},
        }
        for f in ("z-flow", "a-flow")
    ]
    odd = {"id": "odd", "shape": "hexagon"}  # written twice: one problem at one place
    parsed = read_doc(minimal([_cell("p", "process"), *loose, odd, dict(odd)]))
    found = [(int(w.split(":")[1]), w.split(": ", 1)[1][:30]) for w in parsed.warnings]
    assert [text for _, text in found] == [
        "the source end of flow 'z-flow",
        "the target end of flow 'z-flow",
        "the source end of flow 'a-flow",
        "the target end of flow 'a-flow",
        "cell 'odd' has the unknown sha",
    ]
    assert [line for line, _ in found] == sorted(line for line, _ in found)
