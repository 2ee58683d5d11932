"""Tests for the native YAML writer."""

from __future__ import annotations

import dataclasses
import datetime as dt

import yaml

from threatdelta.formats import native, native_writer
from threatdelta.formats.native_writer import SCHEMA_COMMENT
from threatdelta.formats.writing import Note
from threatdelta.model.graph import facts
from threatdelta.model.model import (
    Boundary,
    Control,
    Disposition,
    Element,
    Flow,
    Model,
    frozen_props,
)
from threatdelta.model.types import boundary_chain, element_chain, flow_chain
from threatdelta.threat import Threat

JUSTIFICATION = "The CAN bus is internal.\nFlooding it needs the chassis opened."


def pump_model() -> Model:
    """A pump: nested borders, a line boundary, odd ids and properties, threats of each kind."""
    boundaries = (
        Boundary("hospital", "Hospital network", "network", type_chain=boundary_chain("network")),
        Boundary(
            "device",
            "Pump device",
            "device",
            parent="hospital",
            type_chain=boundary_chain("device"),
        ),
        Boundary("fw", "Firewall", "generic", type_chain=boundary_chain("generic", line=True)),
    )
    elements = (
        Element(
            "controller",
            "Controller",
            "process",
            "control-unit",
            boundary="device",
            properties=frozen_props(
                {"sanitizes_input": True, "runs_privileged": "yes", "Odd Name": "x", "gone": None}
            ),
            type_chain=element_chain("process", "control-unit"),
            description="Runs the dosing loop.\nSecond line.",
        ),
        Element(
            "clinician",
            "Clinician",
            "external-entity",
            "person",
            type_chain=element_chain("external-entity", "person"),
        ),
        Element(
            "db",
            "Settings DB",
            "data-store",
            "SE.DS.TMCore.NoSQL",
            boundary="hospital",
            type_chain=("SE.DS.TMCore.NoSQL", "GE.DS", "ROOT"),
        ),
        Element(
            "bad id!",
            "Badly named",
            "process",
            boundary="device",
            type_chain=element_chain("process", "generic"),
        ),
    )
    flows = (
        Flow(
            "dose-cmd",
            "Dose command",
            "clinician",
            "controller",
            protocol="can",
            properties=frozen_props({"authenticated": False}),
            type_chain=flow_chain("can"),
            crosses=("device", "fw", "hospital"),
        ),
        Flow(
            "settings",
            "Read settings",
            "db",
            "controller",
            protocol="generic",
            bidirectional=True,
            properties=frozen_props({"protocol_label": "ODBC"}),
            type_chain=flow_chain("generic"),
        ),
    )
    controls = (
        Control(
            "x509",
            "Mutual TLS with device certificates",
            "verified",
            ("tests/security/test_mtls.py", "PT-2026-03#F-4"),
            "Both ends present certificates.",
        ),
        Control("badge", "Badge login", "implemented"),
    )
    stored = (
        Threat(
            key="td:t1",
            rule_id="threat-dragon",
            stride="S",
            title="Clinician impersonated",
            scope="flow",
            severity="high",
            description="Anyone at the bedside can send a dose.",
            category="Spoofing",
            cwe=(290,),
            flow="dose-cmd",
            source="clinician",
            target="controller",
        ),
        Threat(
            key="td:t2",
            rule_id="threat-dragon",
            stride="T",
            title="Settings altered",
            scope="element",
            severity="medium",
            category="Tampering",
            element="db",
        ),
    )
    dispositions = {
        "flooding@dose-cmd": Disposition(
            "flooding@dose-cmd",
            "accepted",
            justification=JUSTIFICATION,
            approved_by="security-lead",
            approved_on=dt.date(2026, 1, 15),
            expires=dt.date(2027, 6, 30),
        ),
        "spoofing-flow@dose-cmd": Disposition(
            "spoofing-flow@dose-cmd", "mitigated", controls=("x509",)
        ),
        "process-spoofing@clinician>dose-cmd>controller": Disposition(
            "process-spoofing@clinician>dose-cmd>controller",
            "transferred",
            justification="The hospital vets clinicians.",
            transferred_to="Hospital IT",
        ),
        "elevation@controller": Disposition(
            "elevation@controller", "open", needs_investigation=True
        ),
        "nothing-here@ghost": Disposition(
            "nothing-here@ghost", "not-applicable", justification="x"
        ),
        "td:t1": Disposition(
            "td:t1", "mitigated", controls=("badge",), title="Clinician impersonated"
        ),
    }
    return Model(
        system="Infusion pump",
        elements=tuple(sorted(elements, key=lambda e: e.id)),
        flows=flows,
        boundaries=tuple(sorted(boundaries, key=lambda b: b.id)),
        controls=tuple(sorted(controls, key=lambda c: c.id)),
        dispositions=dispositions,
        stored_threats=stored,
        format="native",
    )


def read_back(text: str) -> Model:
    return native.read(text.encode(), "threatmodel.yaml").model


def sentences(notes: tuple[Note, ...]) -> list[str]:
    return [n.sentence("native") for n in notes]


def test_output_starts_with_the_schema_comment_and_reads_back() -> None:
    written = native_writer.write(pump_model())
    assert written.text.startswith(SCHEMA_COMMENT + "\n")
    model = read_back(written.text)
    assert model.system == "Infusion pump"
    assert {b.id: b.parent for b in model.boundaries} == {
        "device": "hospital",
        "hospital": None,
        "fw": None,
    }


def test_ids_are_kept_and_invalid_ones_rewritten_with_a_note() -> None:
    written = native_writer.write(pump_model())
    model = read_back(written.text)
    assert {e.id for e in model.elements} == {"bad-id", "clinician", "controller", "db"}
    assert {f.id for f in model.flows} == {"dose-cmd", "settings"}
    assert model.element("bad-id").boundary == "device"  # type: ignore[union-attr]
    assert any(
        s.startswith("the id of process 'Badly named' (bad id!) is not kept by native; "
                     "written as 'bad-id'")
        for s in sentences(written.notes)
    )  # fmt: skip


def test_dispositions_are_kept_with_dates_as_strings() -> None:
    original = pump_model()
    written = native_writer.write(original)
    assert "approved_on: '2026-01-15'" in written.text
    assert "expires: '2027-06-30'" in written.text
    model = read_back(written.text)
    expected = dict(original.dispositions)  # a stored threat without one stays without one
    assert set(model.dispositions) == set(expected)
    for key, disposition in expected.items():
        assert model.dispositions[key] == dataclasses.replace(disposition, title=""), key


def test_multi_line_text_is_a_literal_block() -> None:
    text = native_writer.write(pump_model()).text
    assert "justification: |-\n      The CAN bus is internal.\n      Flooding it needs" in text
    document = yaml.safe_load(text)
    assert document["threats"]["flooding@dose-cmd"]["justification"] == JUSTIFICATION


def test_properties_fit_the_schema_and_changes_are_noted() -> None:
    written = native_writer.write(pump_model())
    controller = read_back(written.text).element("controller")
    assert controller is not None
    assert dict(controller.properties) == {
        "Odd_Name": "x",
        "runs_privileged": True,
        "sanitizes_input": True,
    }
    notes = sentences(written.notes)
    assert (
        "the property name 'Odd Name' of process 'Controller' (controller) is not kept by "
        "native; written as 'Odd_Name'"
    ) in notes
    assert (
        "the empty value of property 'gone' of process 'Controller' (controller) is not kept by native"
        in notes
    )


def test_tool_kinds_and_type_chains_are_noted() -> None:
    written = native_writer.write(pump_model())
    db = read_back(written.text).element("db")
    assert db is not None
    assert (db.kind, db.properties["tool_kind"]) == ("generic", "SE.DS.TMCore.NoSQL")
    notes = sentences(written.notes)
    assert any(s.startswith("the kind 'SE.DS.TMCore.NoSQL' of data-store") for s in notes)
    assert any(s.startswith("the type chain SE.DS.TMCore.NoSQL > GE.DS > ROOT") for s in notes)


def test_line_boundaries_and_their_crossings_are_kept() -> None:
    written = native_writer.write(pump_model())
    assert not any("Firewall" in s for s in sentences(written.notes))
    model = read_back(written.text)
    firewall = model.boundary("fw")
    assert firewall is not None and firewall.is_line and firewall.parent is None
    original = pump_model()
    for flow in original.flows:
        again = model.flow(flow.id)
        assert again is not None
        assert facts(model).crossings(again) == facts(original).crossings(flow), flow.id


def test_stored_threats_are_kept_with_their_dispositions() -> None:
    written = native_writer.write(pump_model())
    assert not any("stored threat" in s for s in sentences(written.notes))
    model = read_back(written.text)
    original = {t.key: t for t in pump_model().stored_threats}
    again = {t.key: t for t in model.stored_threats}
    assert set(again) == set(original) == {"td:t1", "td:t2"}
    for key, threat in original.items():
        kept = again[key]
        assert (kept.title, kept.stride, kept.severity) == (
            threat.title,
            threat.stride,
            threat.severity,
        )
        assert (kept.element, kept.flow, kept.source, kept.target) == (
            threat.element,
            threat.flow,
            threat.source,
            threat.target,
        )
    for key in original:
        before = pump_model().dispositions.get(key)
        if before is not None:
            assert model.dispositions[key].status == before.status


def test_flow_fields() -> None:
    model = read_back(native_writer.write(pump_model()).text)
    settings = model.flow("settings")
    dose = model.flow("dose-cmd")
    assert settings is not None and dose is not None
    assert (settings.protocol, settings.bidirectional) == ("generic", True)
    assert settings.properties["protocol_label"] == "ODBC"
    assert (dose.protocol, dose.source, dose.target) == ("can", "clinician", "controller")


def test_controls_are_kept() -> None:
    model = read_back(native_writer.write(pump_model()).text)
    x509 = model.control("x509")
    assert x509 is not None
    assert x509.status == "verified"
    assert x509.evidence == ("tests/security/test_mtls.py", "PT-2026-03#F-4")


def test_output_is_deterministic_whatever_the_order() -> None:
    model = pump_model()
    shuffled = dataclasses.replace(
        model,
        elements=tuple(reversed(model.elements)),
        flows=tuple(reversed(model.flows)),
        controls=tuple(reversed(model.controls)),
        dispositions=dict(reversed(list(model.dispositions.items()))),
    )
    assert native_writer.write(shuffled) == native_writer.write(model)


def test_a_native_model_survives_a_round_trip_unchanged() -> None:
    first = read_back(native_writer.write(pump_model()).text)
    again = native_writer.write(first)
    assert again.notes == ()
    assert read_back(again.text) == first


def test_empty_model() -> None:
    written = native_writer.write(Model(system=""))
    assert read_back(written.text).system == "Unnamed system"
    assert written.notes == ()


def test_note_sentence() -> None:
    assert Note("x").sentence("otm") == "x is not kept by otm"
    assert Note("x", "y").sentence("native") == "x is not kept by native; y"


def test_element_kind_that_is_a_generic_tool_type_is_no_loss() -> None:
    element = Element("p", "P", "process", "GE.P", type_chain=("GE.P", "ROOT"))
    written = native_writer.write(Model(system="S", elements=(element,)))
    assert written.notes == ()
    assert read_back(written.text).elements[0].kind == "generic"


def test_date_written_for_approval() -> None:
    disposition = Disposition("k@p", "accepted", justification="j", approved_on=dt.date(2026, 2, 3))
    written = native_writer.write(Model(system="S", dispositions={"k@p": disposition}))
    assert read_back(written.text).dispositions["k@p"].approved_on == dt.date(2026, 2, 3)


def test_safety_links_data_assets_and_risk_overrides_survive_a_round_trip() -> None:
    from tests.formats.test_native import SAFETY_MODEL

    model = native.read(SAFETY_MODEL.encode(), "m.yaml").model
    text = native_writer.write(model).text
    again = native.read(text.encode(), "again.yaml").model
    assert again.assets == model.assets
    assert again.element("pump") == model.element("pump")
    assert again.flow("cmd") == model.flow("cmd")
    assert again.dispositions["fieldbus-spoofing@cmd"].cvss.startswith("CVSS:3.1/AV:A")
    assert again.dispositions["fieldbus-spoofing@cmd"].rationale.startswith("Needs a paired")
