"""Where in a file a value was written: one protocol every reader asks.

A reader never works out line and column numbers itself. It holds a :class:`Positions` for the
file it reads and asks it ``location(pointer)``, where ``pointer`` is the reader's address of the
value:

- YAML (models, decisions files, rule packs, settings): keys and indexes from the root,
  answered by :class:`threatdelta.yaml_loader.YamlDocument`;
- JSON (Threat Dragon, OTM): keys and indexes from the root, answered by
  :class:`threatdelta.formats.json_source.JsonPositions`;
- an id the file gives an item (a Threat Dragon cell or threat id, a .tm7 element or flow GUID):
  the one-step pointer ``(id,)``, answered by :class:`FirstMention`, which finds where the id is
  first written;
- nothing finer than the file: :class:`WholeFile`.

Every answer is a :class:`Location`; when the exact value is not found the answer is the nearest
place known (an ancestor, or the file itself), never an error.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from threatdelta.errors import Location

Pointer = Sequence[str | int]
"""Keys and indexes from the root of a document, or ``(id,)`` for positions found by id."""


@runtime_checkable
class Positions(Protocol):
    """Where in one file a value was written."""

    @property
    def path(self) -> str:
        """The file, as named in locations."""
        ...

    def location(self, pointer: Pointer) -> Location:
        """Where the value at ``pointer`` was written, or the nearest place known."""
        ...


class WholeFile:
    """Positions of a file in which nothing finer than the file itself is known."""

    def __init__(self, path: str) -> None:
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def location(self, pointer: Pointer) -> Location:
        return Location(self._path)


class FirstMention:
    """Where each id is first written in a text, found with one scan on the first question.

    ``pattern`` is a regular expression whose first group is the id as written (for a JSON
    ``"id": "<id>"`` or an XML ``<Guid>id</Guid>``); the location is where the whole match
    starts. A pointer names one id, ``(id,)``; an id the text does not hold is located at the
    file.
    """

    def __init__(self, text: str, path: str, pattern: re.Pattern[str]) -> None:
        self._text = text
        self._path = path
        self._pattern = pattern
        self._offsets: dict[str, int] | None = None
        self._newlines: list[int] = []

    @property
    def path(self) -> str:
        return self._path

    def location(self, pointer: Pointer) -> Location:
        if self._offsets is None:
            offsets: dict[str, int] = {}
            for match in self._pattern.finditer(self._text):
                offsets.setdefault(match.group(1), match.start())
            self._offsets = offsets
            self._newlines = [m.start() for m in re.finditer("\n", self._text)]
        offset = self._offsets.get(str(pointer[-1])) if pointer else None
        if offset is None:
            return Location(self._path)
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return Location(self._path, line + 1, offset - start + 1)
