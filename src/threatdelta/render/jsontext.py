"""JSON text of every report: deterministic, indented by two spaces, keys sorted, non-ASCII text
written as it is (UTF-8), and written as a stream when a document is large.

Values are encoded with orjson, a compiled encoder, and with the standard library's ``json`` when
orjson refuses one (an integer beyond 64 bits, text that is not valid Unicode). Both write the same
text, except for what the standard library gets wrong or writes unusually: a number that is not
finite (NaN, infinity) is written ``null``, which keeps the output valid JSON, and a float below
1e-4 in exponent form is written without padding its exponent (``1e-5``, not ``1e-05``); both read
back as the same number.

:func:`write_json` writes a document in which some lists are :class:`Rows`, made one item at a
time while they are written: a register of tens of thousands of threats is never held as one
string nor as tens of thousands of dictionaries at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import orjson

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_PADS = ["\n" + "  " * depth for depth in range(16)]

Item = TypeVar("Item")


class Rows(Generic[Item]):
    """A list of output rows made on demand, one at a time, from the items they are made of.

    It can be iterated more than once and knows its length, so renderers treat it like the list
    it stands for; :func:`write_json` writes it row by row."""

    __slots__ = ("_items", "_make")

    def __init__(self, items: Sequence[Item], make: Callable[[Item], dict[str, Any]]) -> None:
        self._items = items
        self._make = make

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self._make, self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)


def _pad(depth: int) -> str:
    return _PADS[depth] if depth < len(_PADS) else "\n" + "  " * depth


def _encode(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def dumps(data: Any) -> str:
    """Deterministic JSON text of ``data`` (lists, dicts with string keys, strings, numbers,
    booleans, None), ending in a newline."""
    return _encode(data) + "\n"


def _nested(value: Any, depth: int) -> str:
    """``value``'s JSON text as it appears ``depth`` levels deep in an indented document."""
    text = _encode(value)
    if depth and "\n" in text:  # a newline in JSON text is always layout: strings escape theirs
        return text.replace("\n", _pad(depth))
    return text


def _streams(value: Any) -> bool:
    """Whether ``value`` holds :class:`Rows` (only dicts and lists are looked into; the rows of
    a :class:`Rows` are plain data)."""
    if isinstance(value, Rows):
        return True
    if isinstance(value, dict):
        return any(_streams(v) for v in value.values())
    if isinstance(value, list):
        return any(_streams(v) for v in value)
    return False


def _write(write: Callable[[str], object], value: Any, depth: int) -> None:
    if isinstance(value, dict) and _streams(value):
        if not value:
            write("{}")
            return
        separator = "{" + _pad(depth + 1)
        for key in sorted(value):
            write(separator + _nested(key, 0) + ": ")
            _write(write, value[key], depth + 1)
            separator = "," + _pad(depth + 1)
        write(_pad(depth) + "}")
    elif isinstance(value, Rows):  # its rows are plain data: each is encoded whole
        separator = "[" + _pad(depth + 1)
        empty = True
        for row in value:
            write(separator + _nested(row, depth + 1))
            separator = "," + _pad(depth + 1)
            empty = False
        write("[]" if empty else _pad(depth) + "]")
    elif isinstance(value, list) and _streams(value):
        separator = "[" + _pad(depth + 1)
        for item in value:
            write(separator)
            _write(write, item, depth + 1)
            separator = "," + _pad(depth + 1)
        write(_pad(depth) + "]")
    else:
        write(_nested(value, depth))


def write_json(write: Callable[[str], object], data: Any) -> None:
    """Write ``data`` with ``write`` as the text :func:`dumps` gives for it with every
    :class:`Rows` turned into a list, making and writing each row in turn."""
    _write(write, data, 0)
    write("\n")
