"""Tests for the .tm7 model reader, on the handmade two-tab fixture."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from tests.formats.fixtures.tm7.build_fixtures import (
    BELOW,
    BENT,
    CLINICIAN,
    CLOUD,
    CONTROLLER,
    DANGLING,
    DEVICE,
    DOSE_CMD,
    DOSE_LOG,
    GATEWAY,
    HOSPITAL,
    INTERNET,
    LOG_WRITE,
    NOTE,
    UPLINK,
    template_tb7,
    two_tabs_tm7,
)

from threatdelta.engine import enumerate_threats
from threatdelta.errors import InputError
from threatdelta.formats import tm7
from threatdelta.formats.interface import ParsedModel
from threatdelta.model.model import Model
from threatdelta.register import build_register

FIXTURES = Path(__file__).parent / "fixtures" / "tm7"
PATH = "models/pump.tm7"


@pytest.fixture(scope="module")
def parsed() -> ParsedModel:
    return tm7.read((FIXTURES / "two_tabs.tm7").read_bytes(), PATH)


@pytest.fixture(scope="module")
def model(parsed: ParsedModel) -> Model:
    return parsed.model


def test_committed_fixtures_match_their_builder() -> None:
    assert (FIXTURES / "two_tabs.tm7").read_bytes() == two_tabs_tm7()
    assert (FIXTURES / "template.tb7").read_bytes() == template_tb7()


def test_reader_identity_and_model_header(model: Model) -> None:
    assert tm7.name == "tm7"
    assert model.format == "tm7"
    assert model.path == PATH
    assert model.system == "Infusion pump demo"


def test_every_tab_is_read_and_annotations_are_not_elements(model: Model) -> None:
    assert [e.id for e in model.elements] == sorted(
        [CLINICIAN, CONTROLLER, DOSE_LOG, GATEWAY, CLOUD]
    )
    assert model.element(NOTE) is None
    diagrams = {e.name: e.properties["diagram"] for e in model.elements}
    assert diagrams == {
        "Clinician": "Clinic",
        "Pump controller": "Clinic",
        "Dose log": "Clinic",
        "Gateway": "Cloud",
        "Cloud service": "Cloud",
    }


def test_element_types_kinds_and_chains_follow_the_template(model: Model) -> None:
    controller = model.element(CONTROLLER)
    assert controller is not None
    assert controller.name == "Pump controller"
    assert controller.type == "process"
    assert controller.kind == "SE.P.Demo.WebServer"
    assert controller.type_chain == ("SE.P.Demo.WebServer", "GE.P", "ROOT")
    clinician = model.element(CLINICIAN)
    assert clinician is not None and clinician.type == "external-entity"
    assert clinician.type_chain == ("GE.EI", "ROOT")
    log = model.element(DOSE_LOG)
    assert log is not None and log.type == "data-store"


def test_properties_are_keyed_by_attribute_name_with_tool_values(model: Model) -> None:
    controller = model.element(CONTROLLER)
    assert controller is not None
    props = controller.properties
    assert props["Name"] == "Pump controller"
    assert props["hasInputSanitizers"] == "No"  # SelectedIndex 2 of Not Selected / Yes / No
    assert props["5e1c0b4a-6a43-4f55-9b38-0f4c6a1d2e77"] == "Select"  # GUID-named attribute
    assert props["71f3d9aa-b8ef-4e54-8126-607a1d903103"] is False  # a boolean property
    assert "Web Server" not in props  # header rows are not properties
    log = model.element(DOSE_LOG)
    assert log is not None and log.properties["storesLogData"] == "Yes"


def test_border_boundaries_nest_and_hold_elements_by_their_centre(model: Model) -> None:
    hospital = model.boundary(HOSPITAL)
    device = model.boundary(DEVICE)
    assert hospital is not None and device is not None
    assert (hospital.name, hospital.parent) == ("Hospital", None)
    assert (device.name, device.parent) == ("Device", HOSPITAL)
    assert hospital.type_chain == ("GE.TB.B", "ROOT")
    placed = {e.id: e.boundary for e in model.elements}
    assert placed == {
        CLINICIAN: None,
        CONTROLLER: DEVICE,  # innermost of Device and Hospital
        DOSE_LOG: HOSPITAL,
        GATEWAY: None,
        CLOUD: None,
    }


def test_line_boundary_has_a_line_chain(model: Model) -> None:
    internet = model.boundary(INTERNET)
    assert internet is not None
    assert internet.name == "Internet"
    assert internet.type_chain == ("SE.TB.L.Demo.Internet", "GE.TB.L", "ROOT")
    assert internet.is_line
    assert internet.parent is None


def test_flows_and_their_crossings(model: Model) -> None:
    assert [f.id for f in model.flows] == sorted([DOSE_CMD, LOG_WRITE, UPLINK, BELOW, BENT])
    crossings = {f.name: f.crosses for f in model.flows}
    assert crossings == {
        "Dose command": tuple(sorted((HOSPITAL, DEVICE))),  # outside -> inside both
        "Log write": (DEVICE,),  # from inside Device to inside Hospital only
        "Uplink": (INTERNET,),  # straight through the line boundary
        "Telemetry": (),  # passes below the end of the line boundary
        "Reply": (INTERNET,),  # ends below it, but the curve bends up through it
    }
    dose = model.flow(DOSE_CMD)
    assert dose is not None
    assert (dose.source, dose.target) == (CLINICIAN, CONTROLLER)
    assert dose.type_chain == ("SE.DF.Demo.HTTP", "GE.DF", "ROOT")
    assert dose.protocol == "http"
    assert dose.properties["providesConfidentiality"] == "No"
    uplink = model.flow(UPLINK)
    assert uplink is not None and uplink.protocol == "https"


def test_a_flow_attached_to_nothing_is_skipped_with_a_warning(parsed: ParsedModel) -> None:
    assert parsed.model.flow(DANGLING) is None
    assert any(DANGLING in w and "no source element" in w for w in parsed.warnings)


def test_stored_threats_become_dispositions(model: Model) -> None:
    key = "DEMO1" + CLINICIAN + DOSE_CMD + CONTROLLER
    spoofing = model.dispositions[key]
    assert spoofing.status == "not-applicable"
    # The threat's StateInformation property wins over the top-level field.
    assert spoofing.justification == "Clinicians badge in at the pump; no network identity."
    assert spoofing.title == "Spoofing of Clinician"
    assert not spoofing.needs_investigation

    readable = model.dispositions["DEMO3" + CLINICIAN + DOSE_CMD + CONTROLLER]
    assert readable.status == "mitigated"
    assert readable.justification == "TLS added in release 2.1"  # only the top-level field

    flagged = model.dispositions["DEMO2" + GATEWAY + UPLINK + CLOUD]
    assert (flagged.status, flagged.needs_investigation) == ("open", True)

    auto = model.dispositions["DEMO2" + GATEWAY + BELOW + CLOUD]
    assert (auto.status, auto.needs_investigation, auto.justification) == ("open", False, "")


def test_threats_of_unknown_type_are_kept_as_stored_threats(model: Model) -> None:
    key = "CUSTOM9" + GATEWAY + UPLINK + CLOUD
    assert model.dispositions[key].status == "mitigated"
    assert [t.key for t in model.stored_threats] == [key]
    stored = model.stored_threats[0]
    assert stored.rule_id == "CUSTOM9"
    assert stored.title == "Hand-written: certificate pinning reviewed"
    assert stored.stride == "S"
    assert (stored.source, stored.flow, stored.target) == (GATEWAY, UPLINK, CLOUD)


def test_the_embedded_template_is_the_pack(parsed: ParsedModel) -> None:
    pack = parsed.pack
    assert pack is not None
    assert pack.name == "Demo Template 1.2.3"
    assert pack.key_style == "tmt"
    assert [r.id for r in pack.rules] == [
        "DEMO1",
        "DEMO2",
        "DEMO3",
        "DEMO4",
        "DEMO5",
        "DEMOOFF",
        "DEMOV3",
    ]
    assert pack.type_parents["SE.P.Demo.WebServer"] == "GE.P"


def test_regenerated_threats_reconcile_with_the_stored_ones(parsed: ParsedModel) -> None:
    assert parsed.pack is not None
    threats = enumerate_threats(parsed.model, parsed.pack)
    regenerated = {t.key: t.title for t in threats}
    assert regenerated == {
        "DEMO1" + CLINICIAN + DOSE_CMD + CONTROLLER: "Spoofing of Clinician",
        "DEMO3"
        + CLINICIAN
        + DOSE_CMD
        + CONTROLLER: "Dose command readable in transit to Pump controller",
        "DEMO5" + CLINICIAN + DOSE_CMD + CONTROLLER: "Unsigned firmware on Pump controller",
        "DEMO4" + CONTROLLER + LOG_WRITE + DOSE_LOG: "Log Dose log can be altered",
        "DEMO2" + GATEWAY + UPLINK + CLOUD: "Uplink crosses the Internet",
        "DEMO2" + CLOUD + BENT + GATEWAY: "Reply crosses the Internet",
    }
    stored = set(parsed.model.dispositions)
    # Stored but no longer generated: the flow below the line boundary (an out-of-date stored
    # list) and the hand-added threat.
    assert stored - set(regenerated) == {
        "DEMO2" + GATEWAY + BELOW + CLOUD,
        "CUSTOM9" + GATEWAY + UPLINK + CLOUD,
    }


def test_the_register_joins_regenerated_threats_with_dispositions(parsed: ParsedModel) -> None:
    assert parsed.pack is not None
    threats = enumerate_threats(parsed.model, parsed.pack)
    register = build_register(parsed.model, threats, today=dt.date(2025, 1, 1))
    status = {e.threat.key: e.status for e in register.entries}
    assert status["DEMO1" + CLINICIAN + DOSE_CMD + CONTROLLER] == "not-applicable"
    assert status["DEMO4" + CONTROLLER + LOG_WRITE + DOSE_LOG] == "open"
    assert status["CUSTOM9" + GATEWAY + UPLINK + CLOUD] == "mitigated"  # the stored threat
    assert [o.disposition.key for o in register.orphans] == ["DEMO2" + GATEWAY + BELOW + CLOUD]


def test_sniff() -> None:
    data = (FIXTURES / "two_tabs.tm7").read_bytes()
    assert tm7.sniff("a.tm7", b"")
    assert tm7.sniff("model.xml", data)
    assert tm7.sniff("model.xml", b"\xef\xbb\xbf<?xml version='1.0'?>\n<ThreatModel/>")
    assert not tm7.sniff("model.xml", b"<KnowledgeBase/>")
    assert not tm7.sniff("threatmodel.yaml", b"version: 1\n")


def test_a_byte_order_mark_is_accepted(model: Model) -> None:
    data = b"\xef\xbb\xbf" + (FIXTURES / "two_tabs.tm7").read_bytes()
    again = tm7.read(data, PATH).model
    assert again == model


def test_a_template_given_as_a_model_is_refused_clearly() -> None:
    with pytest.raises(InputError, match=r"template \(\.tb7\), not a model") as caught:
        tm7.read(template_tb7(), "pump.tm7")
    assert caught.value.location is not None and caught.value.location.path == "pump.tm7"


def test_other_xml_is_refused_clearly() -> None:
    with pytest.raises(InputError, match="root element is <svg>"):
        tm7.read(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.tm7")


def test_a_model_without_template_reads_without_pack() -> None:
    parsed = tm7.read(b"<ThreatModel><DrawingSurfaceList/></ThreatModel>", "bare.tm7")
    assert parsed.pack is None
    assert parsed.model.elements == ()
    assert parsed.model.system == "bare"
    assert any("no embedded template" in w for w in parsed.warnings)


def test_a_type_missing_from_the_template_keeps_its_generic_type() -> None:
    data = (
        b"<ThreatModel><DrawingSurfaceList><DrawingSurfaceModel><Guid>tab</Guid><Borders>"
        b"<KV><Key>e1</Key><Value><Guid>e1</Guid><TypeId>SE.P.Gone</TypeId>"
        b"<GenericTypeId>GE.P</GenericTypeId><Left>0</Left><Top>0</Top><Width>10</Width>"
        b"<Height>10</Height></Value></KV></Borders></DrawingSurfaceModel></DrawingSurfaceList>"
        b"<KnowledgeBase><GenericElements><ElementType><Id>GE.P</Id><ParentId>ROOT</ParentId>"
        b"<Representation>Ellipse</Representation></ElementType></GenericElements>"
        b"</KnowledgeBase></ThreatModel>"
    )
    parsed = tm7.read(data, "gone.tm7")
    (element,) = parsed.model.elements
    assert (element.type, element.kind) == ("process", "SE.P.Gone")
    assert element.type_chain == ("SE.P.Gone", "GE.P", "ROOT")
    assert element.name == "SE.P.Gone"  # no Name property, no template name: the type id
    assert any("'SE.P.Gone'" in w and "not in the embedded template" in w for w in parsed.warnings)


def test_elements_flows_and_boundaries_are_located_at_their_guid(model: Model) -> None:
    text = (FIXTURES / "two_tabs.tm7").read_bytes().decode("utf-8-sig")
    lines = text.split("\n")
    for item in (model.element(CONTROLLER), model.flow(DOSE_CMD), model.boundary(DEVICE)):
        assert item is not None and item.location is not None
        assert item.location.path == PATH and item.location.line is not None
        written = lines[item.location.line - 1][item.location.column - 1 :]  # type: ignore[operator]
        assert re.match(rf"<(\w+:)?Guid[^>]*>{item.id}</", written), written[:80]
