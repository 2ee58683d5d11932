"""Tests for what every part of the Threat Dragon reader shares: locations, warnings, text."""

from __future__ import annotations

from threatdelta.errors import Location
from threatdelta.formats.dragon_document import DocumentReader, clean, text_of

TEXT = '{\n  "cells": [\n    {"id": "a"},\n    {"x": 1, "id": "b\\"c"}\n  ]\n}'


def test_an_id_is_located_where_it_is_first_written() -> None:
    reader = DocumentReader(TEXT, "m.json")
    assert str(reader.ids.location(("a",))) == "m.json:3:6"
    assert str(reader.ids.location(('b\\"c',))) == "m.json:4:14"
    assert reader.ids.location(("missing",)) == Location("m.json")


def test_a_pointer_is_located_through_the_json_positions() -> None:
    reader = DocumentReader(TEXT, "m.json")
    assert str(reader.positions.location(("cells", 1))) == "m.json:4:5"


def test_warnings_go_through_the_collector_in_file_order() -> None:
    reader = DocumentReader(TEXT, "m.json")
    reader.diagnostics.warn("second")
    reader.diagnostics.warn("first", Location("m.json", 3, 6))
    reader.diagnostics.warn("first", Location("m.json", 3, 6))
    assert reader.diagnostics.warnings() == ("m.json:3:6: first", "m.json: second")


def test_clean_joins_whitespace_and_text_of_only_trims() -> None:
    assert clean("  Pump\n  firmware ") == "Pump firmware"
    assert text_of("  line one\nline two ") == "line one\nline two"
    assert clean(3) == text_of(None) == ""
