"""Tests for the threats a Threat Dragon file stores on its cells."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.formats.dragon_helpers import V2, cell, minimal, read_doc, read_path

from threatdelta.formats.interface import ParsedModel
from threatdelta.register import build_register


@pytest.fixture(scope="module")
def pump() -> ParsedModel:
    return read_path(V2)


def test_stored_threats_with_ids_and_without(pump: ParsedModel) -> None:
    threats = {t.key: t for t in pump.model.stored_threats}
    assert set(threats) == {
        "td:t-spoof",
        "td:t-link",
        "td:t-log",
        "td:f-dose/dose-command-altered-on-the-bus",
    }
    spoof = threats["td:t-spoof"]
    assert (spoof.rule_id, spoof.stride, spoof.severity, spoof.scope) == (
        "threat-dragon",
        "S",
        "high",
        "flow",
    )
    assert (spoof.flow, spoof.source, spoof.target) == ("f-dose", "a-clinician", "p-controller")
    assert spoof.countermeasures == ()
    link = threats["td:t-link"]
    assert (link.stride, link.category, link.severity, link.element) == (
        "I",
        "Linkability",
        "critical",
        "p-controller",
    )
    assert threats["td:t-log"].stride == "R"
    assert threats["td:t-log"].location is not None
    assert threats["td:t-log"].location.line is not None


def test_dispositions_follow_the_threat_status(pump: ParsedModel) -> None:
    dispositions = pump.model.dispositions
    assert dispositions["td:t-spoof"].status == "mitigated"
    assert dispositions["td:t-spoof"].justification == (
        "Commands are signed with the clinician's badge key."
    )
    # The mitigation text is the countermeasure: a control of its own, which the threat names.
    assert dispositions["td:t-spoof"].controls == ("mitigation:td:t-spoof",)
    control = pump.model.control("mitigation:td:t-spoof")
    assert control is not None and control.status == "implemented"
    assert control.name == "Commands are signed with the clinician's badge key."
    assert dispositions["td:t-spoof"].title == "Clinician can be impersonated"
    assert dispositions["td:t-log"].status == "not-applicable"
    assert dispositions["td:t-log"].justification == "Entries are signed by the secure element."
    open_one = dispositions["td:f-dose/dose-command-altered-on-the-bus"]
    assert open_one.status == "open"
    assert open_one.justification == ""  # a proposed mitigation is no justification


def test_a_mitigated_threat_with_its_text_is_addressed(pump: ParsedModel) -> None:
    register = build_register(pump.model, (), today=dt.date(2026, 11, 25))
    entry = register.entry("td:t-spoof")
    assert entry is not None and entry.status == "mitigated" and entry.addressed
    assert [p.code for p in entry.problems] == ["no-evidence"]


def test_an_open_threats_proposed_mitigation_is_in_its_description(pump: ParsedModel) -> None:
    threat = next(t for t in pump.model.stored_threats if t.key.startswith("td:f-dose/"))
    assert "Proposed mitigation: Add a MAC to every frame." in threat.description


def test_same_threat_title_twice_gets_distinct_keys() -> None:
    threats = [{"title": "Same", "type": "Spoofing", "status": "Open"}] * 2
    parsed = read_doc(minimal([cell("p", "process", name="P", threats=threats)]))
    assert [t.key for t in parsed.model.stored_threats] == ["td:p/same", "td:p/same-2"]


def test_duplicate_threat_id_is_warned_and_keyed_apart() -> None:
    threat = {"id": "t1", "title": "A", "type": "Tampering", "status": "Open"}
    parsed = read_doc(
        minimal([cell("p", "process", threats=[threat]), cell("q", "process", threats=[threat])])
    )
    assert {t.key for t in parsed.model.stored_threats} == {"td:t1", "td:t1-2"}
    assert any("used twice" in w for w in parsed.warnings)


def test_unknown_status_and_severity() -> None:
    threat = {
        "id": "t1",
        "title": "A",
        "type": "Something new",
        "status": "Pondering",
        "severity": "TBA",
    }
    parsed = read_doc(minimal([cell("p", "process", threats=[threat])]))
    threat_read = parsed.model.stored_threats[0]
    assert (threat_read.severity, threat_read.stride) == ("medium", "I")
    assert parsed.model.dispositions["td:t1"].status == "open"
    assert any("unknown status 'Pondering'" in w for w in parsed.warnings)
