"""Tests for safe loading of Threat Modeling Tool XML: wrong files and hostile input."""

from __future__ import annotations

import io
import zipfile

import pytest

from threatdelta.errors import InputError
from threatdelta.formats import tm7, tm7_xml
from threatdelta.formats.tb7 import read_tb7

ENTITY_BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE ThreatModel [\n<!ENTITY a "aaaaaaaaaa">\n'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n'
    b"]>\n<ThreatModel>&c;</ThreatModel>"
)


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.tm7", "<ThreatModel/>")
    return buffer.getvalue()


def test_entity_declarations_are_refused_before_expansion() -> None:
    with pytest.raises(InputError, match=r"declares a DTD / entities, which are refused") as e:
        tm7.read(ENTITY_BOMB, "bomb.tm7")
    assert e.value.location is not None and e.value.location.path == "bomb.tm7"
    with pytest.raises(InputError, match="declares a DTD / entities"):
        read_tb7(ENTITY_BOMB.replace(b"ThreatModel", b"KnowledgeBase"), "bomb.tb7")


def test_a_dtd_hidden_after_a_long_comment_is_still_refused() -> None:
    data = (
        b"<!--"
        + b"x" * 10_000
        + b'-->\n<!DOCTYPE t [<!ENTITY e "e">]>\n<ThreatModel>&e;</ThreatModel>'
    )
    with pytest.raises(InputError, match="declares a DTD / entities"):
        tm7.read(data, "late.tm7")


def test_an_external_entity_is_refused() -> None:
    data = b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><ThreatModel>&x;</ThreatModel>'
    with pytest.raises(InputError, match="declares a DTD / entities"):
        tm7.read(data, "xxe.tm7")


def test_a_zip_archive_is_named_as_such() -> None:
    with pytest.raises(InputError, match=r"is a ZIP archive, not a \.tm7 file") as e:
        tm7.read(_zip_bytes(), "model.tm7")
    assert str(e.value).startswith("model.tm7: ")


def test_empty_and_json_files_are_named_as_such() -> None:
    with pytest.raises(InputError, match=r"empty, not a \.tm7 file"):
        tm7.read(b"\xef\xbb\xbf \n", "empty.tm7")
    with pytest.raises(InputError, match="looks like JSON"):
        tm7.read(b'{"version": "2.0"}', "dragon.tm7")


def test_malformed_xml_gives_a_position_and_no_traceback_worthy_error() -> None:
    with pytest.raises(InputError, match="not well-formed XML") as e:
        tm7.read(b"<ThreatModel>\n  <DrawingSurfaceList>\n</ThreatModel>", "broken.tm7")
    location = e.value.location
    assert location is not None
    assert (location.path, location.line) == ("broken.tm7", 3)
    assert location.column is not None


def test_input_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tm7_xml, "MAX_INPUT_BYTES", 100)
    with pytest.raises(InputError, match="larger than"):
        tm7.read(b"<ThreatModel>" + b" " * 200 + b"</ThreatModel>", "big.tm7")


def test_element_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tm7_xml, "MAX_ELEMENTS", 50)
    data = b"<ThreatModel>" + b"<Notes/>" * 60 + b"</ThreatModel>"
    with pytest.raises(InputError, match="more than 50 XML tags"):
        tm7.read(data, "many.tm7")


def test_lookups_ignore_namespaces() -> None:
    root = tm7_xml.parse_xml(
        b'<r xmlns="urn:a" xmlns:b="urn:b"><b:Name>x</b:Name><Left>12.5</Left><Top>nan</Top></r>',
        "r.xml",
        ".tm7",
    )
    assert tm7_xml.text(root, "Name") == "x"
    assert tm7_xml.number(root, "Left") == 12.5
    assert tm7_xml.number(root, "Top") is None
    assert tm7_xml.number(root, "Missing") is None
    assert tm7_xml.local_name(root.tag) == "r"


def test_xml_positions_find_a_guid_in_utf16_with_namespaced_tags() -> None:
    from threatdelta.formats.tm7_xml import xml_positions

    text = '<M>\n  <a:Key>g-1</a:Key>\n  <Guid xmlns="urn:x">g-1</Guid>\n</M>'
    positions = xml_positions(b"\xff\xfe" + text.encode("utf-16-le"), "m.tm7")
    assert str(positions.location(("g-1",))) == "m.tm7:3:3"
    assert str(positions.location(("g-2",))) == "m.tm7"
