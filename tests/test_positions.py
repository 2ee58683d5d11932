"""Tests for the one positions protocol and its small implementations."""

from __future__ import annotations

import re

from threatdelta.errors import Location
from threatdelta.formats.json_source import JsonPositions
from threatdelta.positions import FirstMention, Positions, WholeFile
from threatdelta.yaml_loader import load_yaml

GUID = re.compile(r"<Guid>([^<]*)</Guid>")


def test_every_reader_side_answers_the_one_protocol() -> None:
    yaml_doc = load_yaml(b"elements:\n  - id: a\n", "m.yaml")
    sides: list[Positions] = [
        yaml_doc,
        JsonPositions('{"a": 1}', "m.json"),
        FirstMention("<Guid>x</Guid>", "m.tm7", GUID),
        WholeFile("m.tm7"),
    ]
    for side in sides:
        assert isinstance(side, Positions)
    assert [str(s.location(())) for s in sides[1:]] == ["m.json:1:1", "m.tm7", "m.tm7"]
    assert str(yaml_doc.location(("elements", 0, "id"))) == "m.yaml:2:9"


def test_first_mention_locates_the_first_time_an_id_is_written() -> None:
    text = "<A>\n  <Guid>one</Guid>\n  <B><Guid>two</Guid></B>\n  <Guid>one</Guid>\n</A>"
    positions = FirstMention(text, "m.tm7", GUID)
    assert positions.location(("one",)) == Location("m.tm7", 2, 3)
    assert positions.location(("two",)) == Location("m.tm7", 3, 6)


def test_first_mention_falls_back_to_the_file() -> None:
    positions = FirstMention("<Guid>one</Guid>", "m.tm7", GUID)
    assert positions.location(("absent",)) == Location("m.tm7")
    assert positions.location(()) == Location("m.tm7")


def test_whole_file_knows_only_the_file() -> None:
    assert WholeFile("m.tb7").location(("anything", 3)) == Location("m.tb7")
