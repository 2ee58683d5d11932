"""Tests for Threat Modeling Tool templates as rule packs."""

from __future__ import annotations

from pathlib import Path

import pytest

from threatdelta.errors import InputError
from threatdelta.formats.tb7 import plain_text, read_tb7, severity_for, sniff, stride_for
from threatdelta.formats.tm7_kb import KbCategory
from threatdelta.rules.lang.ast import Const

FIXTURES = Path(__file__).parent / "fixtures" / "tm7"


@pytest.fixture(scope="module")
def template_bytes() -> bytes:
    return (FIXTURES / "template.tb7").read_bytes()


def test_a_template_is_a_tmt_keyed_pack_of_interaction_rules(template_bytes: bytes) -> None:
    pack = read_tb7(template_bytes, "pump.tb7")
    assert pack.name == "Pump Template 0.9"
    assert pack.key_style == "tmt"
    assert [r.id for r in pack.rules] == ["P1", "P2", "P3", "P4", "P5"]
    assert {r.scope for r in pack.rules} == {"interaction"}
    assert pack.type_parents == {
        "GE.P": "ROOT",
        "GE.EI": "ROOT",
        "GE.DF": "ROOT",
        "GE.TB.B": "ROOT",
        "SE.P.Pump": "GE.P",
        "SE.EI.Button": "GE.EI",
    }
    assert len(pack.digest) == 64


def test_rule_fields(template_bytes: bytes) -> None:
    rules = {r.id: r for r in read_tb7(template_bytes, "pump.tb7").rules}
    spoofing = rules["P1"]
    assert spoofing.title == "Spoofing the {source.Name}"  # placeholders are kept
    assert spoofing.include_text == "source is 'GE.EI' and flow crosses 'GE.TB.B'"
    assert spoofing.exclude_text == "target.implementsAuthenticationScheme is 'Yes'"
    assert spoofing.exclude is not None
    assert (spoofing.stride, spoofing.category, spoofing.severity) == ("S", "Spoofing", "high")
    assert spoofing.cwe == (319,) and spoofing.capec == (157,)
    assert spoofing.location is not None and spoofing.location.path == "pump.tb7"
    assert (rules["P2"].stride, rules["P2"].severity) == ("D", "low")
    # Template categories of their own: the original name is kept.
    assert (rules["P3"].stride, rules["P3"].category) == ("E", "Abuse")
    assert (rules["P4"].stride, rules["P4"].category) == ("T", "Patient Safety")
    assert rules["P3"].severity == "high"  # unset Priority: the tool shows High


def test_root_type_tests_never_hold_as_in_the_tool(template_bytes: bytes) -> None:
    rules = {r.id: r for r in read_tb7(template_bytes, "pump.tb7").rules}
    assert rules["P5"].include_text == "source is 'ROOT'"
    assert rules["P5"].include == Const(False)


def test_an_empty_include_never_fires() -> None:
    data = (
        b"<KnowledgeBase><ThreatTypes><ThreatType><GenerationFilters><Include/><Exclude/>"
        b"</GenerationFilters><Id>X1</Id><ShortTitle>Off</ShortTitle><Category>T</Category>"
        b"</ThreatType></ThreatTypes></KnowledgeBase>"
    )
    (rule,) = read_tb7(data, "off.tb7").rules
    assert rule.include == Const(False)
    assert (rule.include_text, rule.exclude, rule.exclude_text) == ("", None, "")


def test_a_filter_that_cannot_be_parsed_names_the_threat_type() -> None:
    data = (
        b"<KnowledgeBase><Manifest name='T'/><ThreatTypes><ThreatType><GenerationFilters>"
        b"<Include>flow crosses</Include></GenerationFilters><Id>BAD1</Id>"
        b"<ShortTitle>Broken</ShortTitle></ThreatType></ThreatTypes></KnowledgeBase>"
    )
    with pytest.raises(InputError, match=r"threat type 'BAD1' \('Broken'\).*Include") as e:
        read_tb7(data, "bad.tb7")
    assert e.value.location is not None and e.value.location.path == "bad.tb7"


def test_a_subject_the_tool_does_not_know_is_refused() -> None:
    data = (
        b"<KnowledgeBase><ThreatTypes><ThreatType><GenerationFilters>"
        b"<Include>element is 'GE.P'</Include></GenerationFilters><Id>BAD2</Id>"
        b"</ThreatType></ThreatTypes></KnowledgeBase>"
    )
    with pytest.raises(InputError, match="BAD2"):
        read_tb7(data, "bad.tb7")


def test_duplicate_threat_type_ids_are_refused() -> None:
    one = (
        b"<ThreatType><GenerationFilters><Include>source is 'GE.P'</Include>"
        b"</GenerationFilters><Id>D1</Id></ThreatType>"
    )
    data = b"<KnowledgeBase><ThreatTypes>" + one + one + b"</ThreatTypes></KnowledgeBase>"
    with pytest.raises(InputError, match="'D1' twice"):
        read_tb7(data, "dup.tb7")


def test_a_file_that_is_not_a_template_is_refused() -> None:
    with pytest.raises(InputError, match="not <KnowledgeBase>"):
        read_tb7(b"<Other/>", "x.tb7")


def test_sniff(template_bytes: bytes) -> None:
    assert sniff("a.tb7", b"")
    assert sniff("template.xml", template_bytes)
    assert not sniff("model.xml", b"<ThreatModel/>")


@pytest.mark.parametrize(
    ("name", "category_id", "letter"),
    [
        ("Spoofing", "S", "S"),
        ("Tampering", "T", "T"),
        ("Repudiation", "R", "R"),
        ("Information Disclosure", "I", "I"),
        ("Denial Of Service", "D", "D"),
        ("Elevation of Privileges", "E", "E"),
        ("Elevation Of Privilege", "E", "E"),
        ("Privacy", "guid-1", "I"),
        ("Abuse", "A", "E"),
        ("Patient Safety", "guid-2", "T"),
        ("Availability risks", "guid-3", "D"),
        ("Something else", "guid-4", "T"),
    ],
)
def test_stride_for(name: str, category_id: str, letter: str) -> None:
    assert stride_for(KbCategory(category_id, name), category_id) == letter


def test_stride_for_an_undeclared_category_id() -> None:
    assert stride_for(None, "R") == "R"


@pytest.mark.parametrize(
    ("priority", "severity"),
    [
        ("High", "high"),
        ("Medium", "medium"),
        ("low", "low"),
        ("highest", "critical"),
        ("", "high"),
        ("whatever", "high"),
    ],
)
def test_severity_for(priority: str, severity: str) -> None:
    assert severity_for(priority) == severity


def test_plain_text_turns_links_into_text() -> None:
    assert plain_text('See <a href="https://x.org/a">https://x.org/a</a> now') == (
        "See https://x.org/a now"
    )
    assert (
        plain_text('Use &lt;a href="https://x.org"&gt;TLS&lt;/a&gt;') == "Use TLS (https://x.org)"
    )


def test_each_rule_is_located_at_its_threat_types_id(template_bytes: bytes) -> None:
    lines = template_bytes.decode("utf-8-sig").split("\n")
    pack = read_tb7(template_bytes, "pump.tb7")
    for rule in pack.rules:
        assert rule.location is not None and rule.location.line is not None
        assert rule.location.path == "pump.tb7"
        written = lines[rule.location.line - 1][(rule.location.column or 1) - 1 :]
        assert written.startswith(f"<Id>{rule.id}</Id>")


def test_a_filter_that_cannot_be_read_is_located_at_its_threat_type(template_bytes: bytes) -> None:
    text = template_bytes.decode("utf-8-sig")
    broken = text.replace(
        "<Include>source is 'GE.EI' and flow crosses 'GE.TB.B'</Include>",
        "<Include>source is and and</Include>",
        1,
    )
    assert broken != text
    with pytest.raises(InputError) as caught:
        read_tb7(broken.encode(), "pump.tb7")
    line = broken.split("\n").index("      <Id>P1</Id>") + 1
    assert str(caught.value.location) == f"pump.tb7:{line}:7"
    assert "threat type 'P1'" in caught.value.message
