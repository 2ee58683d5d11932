"""A Threat Dragon file as the reader sees it: the parsed JSON text, where a pointer or an id is
written in it, the warnings collected while reading it, and the drawing cell every part of the
reader works on. The cells and the model are read by :mod:`threatdelta.formats.dragon`, the
threats stored on cells by :mod:`threatdelta.formats.dragon_threats`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from threatdelta.errors import Location
from threatdelta.formats.json_source import json_location

CellKind = Literal["actor", "process", "store", "flow", "curve", "box", "text"]
_ID_IN_TEXT = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Cell:
    """One drawing cell, with what the reader needs to know about it."""

    id: str
    kind: CellKind
    data: Mapping[str, object]
    """The cell's ``data`` (v2) or the cell itself (v1)."""
    raw: Mapping[str, object]
    """The cell as saved."""
    pointer: tuple[str | int, ...]
    diagram: int
    v1: bool


def clean(value: object) -> str:
    """A display string: whitespace runs (newlines included) become single spaces."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def text_of(value: object) -> str:
    """Free text kept as written (trimmed)."""
    return value.strip() if isinstance(value, str) else ""


class DocumentReader:
    """Locations and warnings every part of the Threat Dragon reader uses."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.warnings: list[str] = []
        self._id_offsets: dict[str, int] | None = None
        self._newlines: list[int] | None = None

    # ---- locations -------------------------------------------------------------------------

    def _at(self, pointer: Sequence[str | int]) -> Location:
        found = json_location(self.text, pointer)
        if found is None:
            return Location(self.path)
        return Location(self.path, found[0], found[1])

    def _of_id(self, identifier: str) -> Location:
        """Where ``"id": "<identifier>"`` is first written (cells and threats carry unique ids)."""
        if self._id_offsets is None:
            offsets: dict[str, int] = {}
            for match in _ID_IN_TEXT.finditer(self.text):
                offsets.setdefault(match.group(1), match.start())
            self._id_offsets = offsets
            self._newlines = [i for i, ch in enumerate(self.text) if ch == "\n"]
        offset = self._id_offsets.get(identifier)
        if offset is None or self._newlines is None:
            return Location(self.path)
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return Location(self.path, line + 1, offset - start + 1)

    def _warn(self, message: str, location: Location | None = None) -> None:
        self.warnings.append(f"{location or Location(self.path)}: {message}")
