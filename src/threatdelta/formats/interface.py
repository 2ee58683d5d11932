"""What every model reader provides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from threatdelta.model import Model
from threatdelta.rules.pack import RulePack


@dataclass(frozen=True)
class ParsedModel:
    """A model as read from one file."""

    model: Model
    """The model itself."""
    pack: RulePack | None = None
    """Rules the file carries with it (a .tm7's embedded template), if any."""
    warnings: tuple[str, ...] = field(default=())
    """Things the reader tolerated (unknown shapes, dropped fields), as ``path: message`` lines."""


class ModelReader(Protocol):
    """What a format reader offers: each reader module under ``threatdelta.formats`` exposes these,
    and :data:`threatdelta.formats.registry.READERS` registers each as a typed object."""

    @property
    def name(self) -> str:
        """Short format name: native, tm7, dragon, otm."""
        ...

    def sniff(self, path: str, data: bytes) -> bool:
        """True when ``data`` (read from ``path``) looks like this format."""
        ...

    def read(self, data: bytes, path: str) -> ParsedModel:
        """Parse ``data``; raise ``threatdelta.errors.InputError`` with a location on bad input."""
        ...
