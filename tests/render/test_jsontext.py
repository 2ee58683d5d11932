"""JSON text: written as a stream, the same text as the standard library's indented, key-sorted
JSON of the same data."""

from __future__ import annotations

import io
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from threatdelta.render.jsontext import Rows, dumps, write_json


def reference(data: Any) -> str:
    """What the report writers gave before they streamed: the standard library's text."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def streamed(data: Any) -> str:
    out = io.StringIO()
    write_json(out.write, data)
    return out.getvalue()


def as_rows(items: list[Any]) -> Rows[Any]:
    return Rows(items, lambda item: item)


def test_rows_are_made_when_read_and_can_be_read_again() -> None:
    made: list[int] = []

    def make(n: int) -> dict[str, Any]:
        made.append(n)
        return {"n": n}

    rows = Rows([1, 2, 3], make)
    assert made == [] and len(rows) == 3 and rows
    assert list(rows) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert list(rows) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert made == [1, 2, 3, 1, 2, 3]
    assert not Rows([], make)


def test_a_document_with_rows_is_written_as_the_same_document_with_lists() -> None:
    threats = [
        {"id": "b@x", "title": 'Pump → cloud "quoted"\nnewline', "cwe": [319], "problems": []},
        {"id": "a@y", "nested": {"z": [{}], "a": {"deep": [1, [2, []]]}}, "hazards": ["H-1"]},
    ]
    document = {
        "threats": as_rows(threats),
        "excluded": as_rows([]),
        "summary": {"total": 2, "open": 2},
        "model": "threatmodel.yaml",
        "orphaned_dispositions": [],
    }
    expected = {**document, "threats": threats, "excluded": []}
    assert streamed(document) == reference(expected)
    several = {"models": [document, {**document, "threats": as_rows(threats[:1])}]}
    assert streamed(several) == reference(
        {"models": [expected, {**expected, "threats": threats[:1]}]}
    )


def test_what_the_compiled_encoder_refuses_is_written_by_the_standard_library() -> None:
    huge = {"value": 2**80, "text": "x"}
    assert dumps(huge) == reference(huge)
    assert streamed({"rows": as_rows([huge, {"value": 1}])}) == reference(
        {"rows": [huge, {"value": 1}]}
    )


def test_numbers_that_are_not_finite_are_written_as_null_so_the_text_stays_json() -> None:
    text = dumps({"values": [math.nan, math.inf, -math.inf, 7.5]})
    assert json.loads(text, parse_constant=refuse_constant) == {"values": [None, None, None, 7.5]}


def refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f == 0 or abs(f) >= 1e-4)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)


@given(st.dictionaries(st.text(max_size=6), st.lists(JSON_VALUES, max_size=4), max_size=4))
@settings(max_examples=200)
def test_any_document_streams_to_the_standard_librarys_text(document: dict[str, Any]) -> None:
    with_rows = {key: as_rows(items) for key, items in document.items()}
    assert streamed(with_rows) == reference(document)
    assert dumps(document) == reference(document)
