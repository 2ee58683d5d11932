"""Tests for reading a KnowledgeBase in both spellings (.tm7-embedded and .tb7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from threatdelta.formats.tm7_kb import (
    KnowledgeBase,
    find_knowledge_base,
    read_knowledge_base,
)
from threatdelta.formats.tm7_xml import parse_xml

FIXTURES = Path(__file__).parent / "fixtures" / "tm7"


def _kb(file_name: str) -> KnowledgeBase:
    path = str(FIXTURES / file_name)
    root = parse_xml((FIXTURES / file_name).read_bytes(), path, file_name[-4:])
    node = find_knowledge_base(root)
    assert node is not None
    return read_knowledge_base(node, path)


@pytest.fixture(scope="module")
def embedded() -> KnowledgeBase:
    return _kb("two_tabs.tm7")


@pytest.fixture(scope="module")
def standalone() -> KnowledgeBase:
    return _kb("template.tb7")


def test_manifest_in_either_spelling(embedded: KnowledgeBase, standalone: KnowledgeBase) -> None:
    assert (embedded.name, embedded.version, embedded.author) == (
        "Demo Template",
        "1.2.3",
        "threatdelta tests",
    )
    assert (standalone.name, standalone.version) == ("Pump Template", "0.9")


def test_type_tree(embedded: KnowledgeBase, standalone: KnowledgeBase) -> None:
    web = embedded.types["SE.P.Demo.WebServer"]
    assert (web.parent, web.name, web.representation, web.generic) == (
        "GE.P",
        "Web Server",
        "Ellipse",
        False,
    )
    assert embedded.types["GE.P"].generic
    assert embedded.chain("SE.P.Demo.WebServer") == ("SE.P.Demo.WebServer", "GE.P", "ROOT")
    assert embedded.generic_of("SE.TB.L.Demo.Internet") == "GE.TB.L"
    assert embedded.generic_of("unknown") == ""
    assert standalone.parents["SE.EI.Button"] == "GE.EI"


def test_attributes_with_names_display_names_and_values(embedded: KnowledgeBase) -> None:
    attribute = embedded.attribute("SE.P.Demo.WebServer", "hasInputSanitizers")
    assert attribute is not None  # inherited from GE.P
    assert attribute.display_name == "Sanitizes Input"
    assert attribute.values == ("Not Selected", "Yes", "No")
    https = embedded.attribute("SE.DF.Demo.HTTPS", "providesConfidentiality")
    assert https is not None and https.static and https.values == ("Yes",)
    assert embedded.attribute("GE.EI", "nothing") is None


def test_categories_and_threat_types(embedded: KnowledgeBase, standalone: KnowledgeBase) -> None:
    assert embedded.categories["E"].name == "Elevation of Privileges"
    first = embedded.threat_types[0]
    assert (first.id, first.title, first.category) == ("DEMO1", "Spoofing of {source.Name}", "S")
    assert first.include == "source is 'GE.EI' and flow crosses 'GE.TB.B'"
    assert first.exclude == ""
    assert first.first("Priority") == "High"
    assert first.labels["PossibleMitigations"] == "Possible Mitigation(s)"
    assert "x509" in first.first("PossibleMitigations")
    unset = next(t for t in standalone.threat_types if t.id == "P3")
    assert unset.first("Priority") == ""  # xsi:nil
