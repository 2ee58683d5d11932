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

import codecs
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, Generic, TypeVar

import orjson

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_PADS = [b"\n" + b"  " * depth for depth in range(16)]

Item = TypeVar("Item")


class Rows(Generic[Item]):
    """A list of output rows made on demand, one at a time, from the items they are made of.

    It can be iterated more than once and knows its length, so renderers treat it like the list
    it stands for; :func:`write_json` writes it row by row. ``encode``, when given, writes the
    rows without making them: given the items and a depth, it gives the JSON text (UTF-8) of the
    items' rows, each indented as at that depth and joined by ``,`` and a new line indented to
    that depth, exactly as the rows ``make`` gives would be written there, in pieces (each
    piece after the first starts with the text between two rows)."""

    __slots__ = ("_items", "_make", "encode")

    def __init__(
        self,
        items: Sequence[Item],
        make: Callable[[Item], dict[str, Any]],
        encode: Callable[[Sequence[Item], int], Iterable[bytes]] | None = None,
    ) -> None:
        self._items = items
        self._make = make
        self.encode = encode

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self._make, self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def encoded(self, depth: int) -> Iterable[bytes]:
        """The JSON text of the rows as they appear ``depth`` levels deep in an indented
        document, joined by ``,`` and a new line, in pieces (see :class:`Rows`)."""
        if self.encode is not None:
            return self.encode(self._items, depth)
        return _joined((nested(row, depth) for row in self), b"," + pad(depth))


def pad(depth: int) -> bytes:
    """A newline and the indentation of ``depth`` levels."""
    return _PADS[depth] if depth < len(_PADS) else b"\n" + b"  " * depth


def _encode(value: Any) -> str:
    try:
        return orjson.dumps(value, option=_OPTIONS).decode("utf-8")
    except orjson.JSONEncodeError:
        return _standard(value)


def _standard(value: Any) -> str:
    import json  # only for what the compiled encoder refuses

    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def encode_value(value: Any) -> bytes:
    """The JSON text (UTF-8) of ``value`` at the top of a document, as :func:`dumps` writes it."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return _standard(value).encode("utf-8")


def dumps(data: Any) -> str:
    """Deterministic JSON text of ``data`` (lists, dicts with string keys, strings, numbers,
    booleans, None), ending in a newline."""
    return _encode(data) + "\n"


def nested(value: Any, depth: int) -> bytes:
    """``value``'s JSON text (UTF-8) as it appears ``depth`` levels deep in an indented
    document."""
    text = encode_value(value)
    if depth and b"\n" in text:  # a newline in JSON text is always layout: strings escape theirs
        return text.replace(b"\n", pad(depth))
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


_BATCH = 512
"""Rows joined into one piece of text before it is written."""


def _joined(rows: Iterator[bytes], between: bytes) -> Iterator[bytes]:
    """``rows`` joined by ``between``, in pieces of :data:`_BATCH` rows."""
    batch = list(islice(rows, _BATCH))
    while batch:
        yield between.join(batch)
        batch = list(islice(rows, _BATCH))
        if batch:
            yield between


def _chunks(value: Any, depth: int) -> Iterator[bytes]:
    if isinstance(value, dict) and _streams(value):
        if not value:
            yield b"{}"
            return
        separator = b"{" + pad(depth + 1)
        for key in sorted(value):
            yield separator + nested(key, 0) + b": "
            yield from _chunks(value[key], depth + 1)
            separator = b"," + pad(depth + 1)
        yield pad(depth) + b"}"
    elif isinstance(value, Rows):  # its rows are plain data: each is encoded whole
        if not value:
            yield b"[]"
            return
        yield b"[" + pad(depth + 1)
        yield from value.encoded(depth + 1)
        yield pad(depth) + b"]"
    elif isinstance(value, list) and _streams(value):
        separator = b"[" + pad(depth + 1)
        for item in value:
            yield separator
            yield from _chunks(item, depth + 1)
            separator = b"," + pad(depth + 1)
        yield pad(depth) + b"]"
    else:
        yield nested(value, depth)


def json_chunks(data: Any) -> Iterator[bytes]:
    """The text :func:`dumps` gives for ``data`` with every :class:`Rows` turned into a list,
    as UTF-8 pieces of about a megabyte (the rows are made or encoded as the pieces are)."""
    pending: list[bytes] = []
    size = 0
    for chunk in _chunks(data, 0):
        if len(chunk) >= _PIECE:  # written as it is, not copied into a piece
            if pending:
                yield b"".join(pending)
                pending, size = [], 0
            yield chunk
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= _PIECE:
            yield b"".join(pending)
            pending, size = [], 0
    pending.append(b"\n")
    yield b"".join(pending)


_PIECE = 1 << 20


def write_json(write: Callable[[str], object], data: Any) -> None:
    """Write ``data`` with ``write`` as the text :func:`dumps` gives for it with every
    :class:`Rows` turned into a list, making and writing each row in turn.

    When ``write`` is the ``write`` of a UTF-8 text stream with a binary buffer beneath it
    (standard output, a file opened for text), the text is written to that buffer as it is
    encoded, after what the stream holds is flushed."""
    stream = getattr(write, "__self__", None)
    if (
        isinstance(stream, io.TextIOWrapper)
        and getattr(stream, "write", None) == write
        and codecs.lookup(stream.encoding).name == "utf-8"
    ):
        stream.flush()
        buffer = stream.buffer
        for chunk in json_chunks(data):
            buffer.write(chunk)
        buffer.flush()
        return
    for chunk in json_chunks(data):
        write(chunk.decode("utf-8"))
