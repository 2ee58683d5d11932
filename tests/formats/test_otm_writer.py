"""Tests for the Open Threat Model writer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.formats.test_native_writer import pump_model

from threatdelta.formats import otm, otm_writer
from threatdelta.formats.writing import Note
from threatdelta.model.model import Disposition, Element, Model
from threatdelta.model.types import element_chain


def write(model: Model | None = None) -> tuple[dict[str, Any], list[str]]:
    written = otm_writer.write(model or pump_model())
    return json.loads(written.text), [n.sentence("otm") for n in written.notes]


def read_back(model: Model | None = None) -> Model:
    return otm.read(otm_writer.write(model or pump_model()).text.encode(), "m.otm.json").model


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def test_document_shape() -> None:
    document, _ = write()
    assert document["otmVersion"] == "0.2.0"
    assert document["project"] == {"name": "Infusion pump", "id": "infusion-pump"}
    zones = by_id(document["trustZones"])
    assert zones["device"]["parent"] == {"trustZone": "hospital"}
    assert zones["device"]["risk"] == {"trustRating": otm_writer.DEFAULT_TRUST_RATING}
    assert zones["hospital"]["type"] == "network"
    assert "fw" not in zones  # a line boundary has no OTM form


def test_elements_outside_every_boundary_get_the_outside_zone() -> None:
    document, _ = write()
    zones = by_id(document["trustZones"])
    outside = [z for z in zones.values() if z.get("attributes", {}).get(otm.OUTSIDE_ATTRIBUTE)]
    assert len(outside) == 1
    components = by_id(document["components"])
    assert components["clinician"]["parent"] == {"trustZone": outside[0]["id"]}
    assert components["controller"]["type"] == "process/control-unit"
    back = read_back()
    assert back.element("clinician").boundary is None  # type: ignore[union-attr]
    assert {b.id for b in back.boundaries} == {"device", "hospital"}


def test_elements_and_flows_survive_a_round_trip() -> None:
    original = pump_model()
    back = read_back(original)
    assert {e.id for e in back.elements} == {e.id for e in original.elements}
    for element in original.elements:
        again = back.element(element.id)
        assert again is not None
        assert (again.type, again.boundary, again.name) == (
            element.type,
            element.boundary,
            element.name,
        )
    controller = back.element("controller")
    assert controller is not None
    assert controller.kind == "control-unit"
    assert controller.properties["sanitizes_input"] is True
    assert controller.description == "Runs the dosing loop.\nSecond line."
    dose, settings = back.flow("dose-cmd"), back.flow("settings")
    assert dose is not None and settings is not None
    assert (dose.protocol, dose.properties["authenticated"]) == ("can", False)
    assert (settings.protocol, settings.bidirectional) == ("generic", True)
    assert settings.properties["protocol_label"] == "ODBC"


def test_every_disposition_survives_that_names_a_subject() -> None:
    original = pump_model()
    back = read_back(original)
    expected = {k: d for k, d in original.dispositions.items() if k != "nothing-here@ghost"}
    expected["td:t2"] = Disposition("td:t2", "open", title="Settings altered")
    assert back.dispositions == expected


def test_stored_threats_survive_with_their_keys() -> None:
    original = pump_model()
    back = read_back(original)
    assert back.stored_threats == original.stored_threats


def test_rule_dispositions_are_generated_instances() -> None:
    document, _ = write()
    definitions = by_id(document["threats"])
    flooding = definitions["flooding@dose-cmd"]
    assert flooding["attributes"]["threatdelta_generated"] == "true"
    assert flooding["attributes"]["threatdelta_expires"] == "2027-06-30"
    flows = by_id(document["dataflows"])
    states = {i["threat"]: i for i in flows["dose-cmd"]["threats"]}
    assert states["flooding@dose-cmd"]["state"] == "accepted"
    assert states["spoofing-flow@dose-cmd"]["mitigations"] == [
        {"mitigation": "x509", "state": "implemented"}
    ]
    assert states["process-spoofing@clinician>dose-cmd>controller"]["state"] == "transferred"
    components = by_id(document["components"])
    assert components["controller"]["threats"] == [
        {"threat": "elevation@controller", "state": "needs-investigation"}
    ]


def test_mitigations_keep_status_and_evidence() -> None:
    document, _ = write()
    x509 = by_id(document["mitigations"])["x509"]
    assert x509["riskReduction"] == otm_writer.DEFAULT_RISK_REDUCTION
    assert x509["attributes"]["threatdelta_evidence"] == (
        "tests/security/test_mtls.py\nPT-2026-03#F-4"
    )
    controls = {c.id: c for c in read_back().controls}
    assert controls == {c.id: c for c in pump_model().controls}


def test_what_otm_cannot_hold_is_noted() -> None:
    _, notes = write()
    assert (
        "line boundary 'Firewall' (fw) is not kept by otm; "
        "OTM trust zones are areas that hold components"
    ) in notes
    assert any(s.startswith("the crossing of boundary 'Firewall' (fw)") for s in notes)
    assert any(s.startswith("the type chain SE.DS.TMCore.NoSQL > GE.DS > ROOT") for s in notes)
    assert (
        "the disposition of threat 'nothing-here@ghost' is not kept by otm; "
        "its key names no element or flow of the model"
    ) in notes
    assert any(s.startswith("the empty value of property 'gone'") for s in notes)


def test_shared_definition_cannot_hold_one_instances_justification() -> None:
    threat = dataclasses.replace(pump_model().stored_threats[1], key="otm:shared@db")
    model = dataclasses.replace(
        pump_model(),
        stored_threats=(threat,),
        dispositions={"otm:shared@db": Disposition("otm:shared@db", "accepted", justification="j")},
    )
    document, notes = write(model)
    assert [d["id"] for d in document["threats"]] == ["shared"]
    assert any(
        "justification, approval and expiry of stored threat 'otm:shared@db'" in n for n in notes
    )


def test_tmt_style_key_finds_its_flow_inside_the_key() -> None:
    key = "TH17" + "clinician" + "dose-cmd" + "controller"
    model = dataclasses.replace(
        pump_model(), dispositions={key: Disposition(key, "not-applicable", justification="no")}
    )
    document, notes = write(model)
    instances = by_id(document["dataflows"])["dose-cmd"]["threats"]
    assert {"threat": key, "state": "not-applicable"} in instances
    assert not any("TH17" in n for n in notes)
    assert read_back(model).dispositions[key] == Disposition(
        key, "not-applicable", justification="no"
    )


def test_component_in_a_component_keeps_its_parent() -> None:
    outer = Element("svc", "Service", "process", type_chain=element_chain("process", "generic"))
    inner = Element(
        "lib",
        "Library",
        "process",
        properties={"parent_component": "svc"},
        type_chain=element_chain("process", "generic"),
    )
    document, _ = write(Model(system="S", elements=(inner, outer)))
    assert by_id(document["components"])["lib"]["parent"] == {"component": "svc"}


def test_output_is_deterministic() -> None:
    assert otm_writer.write(pump_model()) == otm_writer.write(pump_model())


def test_notes_are_notes() -> None:
    assert all(isinstance(n, Note) for n in otm_writer.write(pump_model()).notes)


def test_output_is_valid_against_the_published_schema(samples_dir: Path) -> None:
    schema = json.loads((samples_dir / "otm" / "otm_schema.json").read_text())
    document, _ = write()
    jsonschema.validate(document, schema)


@pytest.mark.parametrize(
    "name",
    ["v2-threat-model.json", "iot-device.json", "three-tier-web-app.json", "payment-online.json"],
)
def test_dragon_samples_write_schema_valid_otm(samples_dir: Path, name: str) -> None:
    from threatdelta.formats import dragon

    schema = json.loads((samples_dir / "otm" / "otm_schema.json").read_text())
    path = samples_dir / "dragon" / name
    model = dragon.read(path.read_bytes(), str(path)).model
    jsonschema.validate(json.loads(otm_writer.write(model).text), schema)
