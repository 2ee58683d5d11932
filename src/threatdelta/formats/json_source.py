"""JSON model files: decoding with clear errors, and where a value sits in the text.

Shared by the Threat Dragon and Open Threat Model readers, so their messages can say
``path:line:column``.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence

from threatdelta.encoding import decode_text
from threatdelta.errors import InputError, Location
from threatdelta.limits import (
    MAX_FILE_BYTES,
    MAX_NUMBER_CHARS,
    check_data,
    check_size,
    number_problem,
)

MAX_BYTES = MAX_FILE_BYTES
"""Largest JSON model file read."""


# Unrolled (runs of plain characters, then one escape), so a long string is matched in one step
# per escape rather than one per character.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_WS = re.compile(r"[ \t\n\r]*")
_JSON_SCALAR = re.compile(r"[^,\]}\s]*")
_JSON_STRUCTURE = re.compile(r'["{}\[\]]')


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def json_location(text: str, pointer: Sequence[str | int]) -> tuple[int, int] | None:
    """1-based line and column where the value at ``pointer`` starts in the JSON ``text``.

    ``pointer`` is a path of object keys and array indexes. Returns None when the text does not
    hold that path. Only meant for error messages: it scans the text, so call it when needed.
    """
    try:
        offset = _json_offset(text, pointer)
    except (IndexError, ValueError, AttributeError):
        return None
    return None if offset is None else line_column(text, offset)


def _skip_ws(text: str, i: int) -> int:
    match = _JSON_WS.match(text, i)
    return match.end() if match else i


def _skip_json_value(text: str, i: int) -> int:
    ch = text[i]
    if ch == '"':
        match = _JSON_STRING.match(text, i)
        if match is None:
            raise ValueError("unterminated string")
        return match.end()
    if ch in "{[":
        depth = 0
        j = i
        while True:
            found = _JSON_STRUCTURE.search(text, j)
            if found is None:
                raise ValueError("unbalanced")
            j = found.start()
            mark = text[j]
            if mark == '"':
                j = _skip_json_value(text, j)
                continue
            depth += 1 if mark in "{[" else -1
            j += 1
            if depth == 0:
                return j
    match = _JSON_SCALAR.match(text, i)
    return match.end() if match else i + 1


def _json_offset(text: str, pointer: Sequence[str | int]) -> int | None:
    i = _skip_ws(text, 0)
    for part in pointer:
        ch = text[i]
        found: int | None = None
        if ch == "{" and isinstance(part, str):
            i = _skip_ws(text, i + 1)
            while text[i] != "}":
                match = _JSON_STRING.match(text, i)
                if match is None:
                    return None
                key = json.loads(match.group())
                i = _skip_ws(text, match.end())
                if text[i] != ":":
                    return None
                i = _skip_ws(text, i + 1)
                if key == part:
                    found = i  # the last duplicate wins, as in json.loads
                i = _skip_ws(text, _skip_json_value(text, i))
                if text[i] == ",":
                    i = _skip_ws(text, i + 1)
        elif ch == "[" and isinstance(part, int):
            i = _skip_ws(text, i + 1)
            index = 0
            while text[i] != "]":
                if index == part:
                    found = i
                    break
                i = _skip_ws(text, _skip_json_value(text, i))
                if text[i] == ",":
                    i = _skip_ws(text, i + 1)
                index += 1
        if found is None:
            return None
        i = found
    return i


class JsonPositions:
    """Where every value down to ``max_depth`` starts in a JSON text, found in one pass.

    For readers that attach a location to each item they read: one scan instead of one per item.
    Deeper values are located at their nearest recorded ancestor.
    """

    def __init__(self, text: str, path: str, max_depth: int = 6) -> None:
        self.path = path
        self._text = text
        self._max_depth = max_depth
        self._offsets: dict[tuple[str | int, ...], int] | None = None
        self._newlines: list[int] = []

    def location(self, pointer: Sequence[str | int]) -> Location:
        """The location of the value at ``pointer``, or of its nearest ancestor that exists."""
        if self._offsets is None:
            self._offsets = {}
            try:
                self._walk(_skip_ws(self._text, 0), (), 0)
            except (IndexError, ValueError, AttributeError):
                pass  # a partial index still answers for what it holds
            self._newlines = [m.start() for m in re.finditer("\n", self._text)]
        key = tuple(pointer)
        while key not in self._offsets and key:
            key = key[:-1]
        offset = self._offsets.get(key)
        if offset is None:
            return Location(self.path)
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return Location(self.path, line + 1, offset - start + 1)

    def _walk(self, i: int, pointer: tuple[str | int, ...], depth: int) -> int:
        assert self._offsets is not None
        text = self._text
        self._offsets[pointer] = i
        ch = text[i]
        if depth >= self._max_depth or ch not in "{[":
            return _skip_json_value(text, i)
        close = "}" if ch == "{" else "]"
        i = _skip_ws(text, i + 1)
        index = 0
        while text[i] != close:
            step: str | int = index
            if ch == "{":
                match = _JSON_STRING.match(text, i)
                if match is None:
                    raise ValueError("key expected")
                step = json.loads(match.group())
                i = _skip_ws(text, match.end())
                if text[i] != ":":
                    raise ValueError("colon expected")
                i = _skip_ws(text, i + 1)
            i = _skip_ws(text, self._walk(i, (*pointer, step), depth + 1))
            if text[i] == ",":
                i = _skip_ws(text, i + 1)
            index += 1
        return i + 1


class _Refused(Exception):
    """Raised from inside ``json.loads`` hooks; located afterwards by scanning the text."""

    def __init__(self, message: str, token: re.Pattern[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


# A string (skipped whole, so nothing inside it matches) or, in group 1, the token sought.
_LONG_NUMBER = re.compile(
    _JSON_STRING.pattern
    + "|"
    + rf"(-[0-9][0-9.eE+-]{{{MAX_NUMBER_CHARS - 1},}}|[0-9][0-9.eE+-]{{{MAX_NUMBER_CHARS},}})"
)
_CONSTANT = re.compile(_JSON_STRING.pattern + r"|(-?Infinity|NaN)")


def _number(text: str) -> float | int:
    problem = number_problem(text)
    if problem is not None:
        raise _Refused(f"this value is {problem}", _LONG_NUMBER)
    return float(text) if any(c in text for c in ".eE") else int(text)


def _constant(text: str) -> object:
    raise _Refused(f"'{text}' is not a JSON value; write a number or a string", _CONSTANT)


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Refused("duplicate key")
    return result


def _first_token(text: str, token: re.Pattern[str]) -> int | None:
    for match in token.finditer(text):
        if match.group(1) is not None:
            return match.start(1)
    return None


def _duplicate_key(text: str) -> tuple[int, str] | None:
    """Offset and text of the first key written twice in one object of valid JSON ``text``."""
    stack: list[set[str] | None] = []
    i = 0
    while True:
        found = _JSON_STRUCTURE.search(text, i)
        if found is None:
            return None
        i = found.start()
        mark = text[i]
        if mark == '"':
            match = _JSON_STRING.match(text, i)
            if match is None:
                return None
            end = match.end()
            keys = stack[-1] if stack else None
            if keys is not None and text[_skip_ws(text, end) : _skip_ws(text, end) + 1] == ":":
                key = json.loads(match.group())
                if key in keys:
                    return i, key
                keys.add(key)
            i = end
            continue
        if mark == "{":
            stack.append(set())
        elif mark == "[":
            stack.append(None)
        elif stack:
            stack.pop()
        i += 1


def decode_json(data: bytes, path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[str, object]:
    """``data`` as text and parsed JSON; bad bytes or syntax raise :class:`InputError`.

    Held to :mod:`threatdelta.limits` (size, nesting, values, strings, numbers) and stricter
    than ``json.loads`` where it would let a mistake through: a key written twice in one object,
    ``NaN`` and ``Infinity`` are refused, like YAML's duplicate keys.
    """
    check_size(len(data), path, "file")
    if len(data) > max_bytes:
        raise InputError(
            f"the file is {len(data)} bytes; models larger than {max_bytes} bytes are refused",
            Location(path),
        )
    text = decode_text(data, path)
    try:
        parsed = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_number,
            parse_float=_number,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as error:
        raise InputError(
            f"not valid JSON: {error.msg}", Location(path, error.lineno, error.colno)
        ) from None
    except RecursionError:
        raise InputError("the JSON is nested too deeply to be a model", Location(path)) from None
    except _Refused as refused:
        if refused.token is not None:
            offset = _first_token(text, refused.token)
            message = refused.message
        else:
            duplicate = _duplicate_key(text)
            offset = None if duplicate is None else duplicate[0]
            message = (
                "duplicate key in this object; each key may appear only once"
                if duplicate is None
                else f"duplicate key {json.dumps(duplicate[1])[:80]} in this object; each key "
                "may appear only once"
            )
        if offset is None:
            raise InputError(message, Location(path)) from None
        raise InputError(message, Location(path, *line_column(text, offset))) from None
    check_data(parsed, lambda pointer: _locate(text, path, pointer))
    return text, parsed


def _locate(text: str, path: str, pointer: Sequence[str | int]) -> Location:
    where = json_location(text, pointer)
    return Location(path) if where is None else Location(path, *where)
