"""A Threat Dragon file as the reader sees it: the parsed JSON text, its positions (by JSON
pointer and by id), the warnings collected while reading it, and the drawing cell every part of the
reader works on. The cells and the model are read by :mod:`threatdelta.formats.dragon`, the
threats stored on cells by :mod:`threatdelta.formats.dragon_threats`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from threatdelta.diagnostics import Diagnostics
from threatdelta.formats.json_source import JsonPositions
from threatdelta.positions import FirstMention, Positions

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
        self.diagnostics = Diagnostics(path)
        self.positions: Positions = JsonPositions(text, path)
        """Where a JSON pointer's value is written."""
        self.ids: Positions = FirstMention(text, path, _ID_IN_TEXT)
        """Where ``"id": "<id>"`` is first written, for ``(id,)`` (cells and threats carry
        unique ids)."""
