"""An Open Threat Model document as the reader sees it: parsed JSON or YAML with positions, the
diagnostics collected while reading it, and the helpers every section uses (lists of items, ids,
properties). The sections are read by :mod:`threatdelta.formats.otm_threats` and
:mod:`threatdelta.formats.otm`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from threatdelta.diagnostics import Diagnostics
from threatdelta.formats.json_source import JsonPositions, decode_json
from threatdelta.limits import MAX_FILE_BYTES
from threatdelta.model.model import Value
from threatdelta.positions import Positions
from threatdelta.yaml_loader import load_yaml

MAX_BYTES = MAX_FILE_BYTES
"""Largest file read."""
MAX_ITEMS = 100_000
"""Most trust zones, components, flows, threats or mitigations in one list."""

ATTR = "threatdelta_"
"""Prefix of the attributes that carry what OTM has no field for."""
_BOOLEAN_NAMES = frozenset(
    {
        "authenticated", "encrypted", "integrity_protected", "carries_firmware", "signed",
        "debug_interface", "broadcast", "rate_limited", "sanitizes_input", "runs_privileged",
        "secure_boot", "watchdog", "tamper_resistant", "stores_logs", "stores_credentials",
        "tamper_protected", "backed_up", "public_network", "out_of_scope",
    }
)  # fmt: skip
"""Property names that hold true/false: ``"true"`` / ``"false"`` strings become booleans."""


@dataclass(frozen=True)
class Document:
    """Parsed data plus where each value was written."""

    data: Any
    path: str
    positions: Positions = field(compare=False)


def load(data: bytes, path: str) -> Document:
    """Parse ``data`` as JSON (when it starts with ``{``) or YAML, keeping positions."""
    start = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"{"):
        text, parsed = decode_json(data, path, MAX_BYTES)
        return Document(parsed, path, JsonPositions(text, path))
    document = load_yaml(data, path, max_bytes=MAX_BYTES)
    return Document(document.data, path, document)


def string_of(value: object) -> str:
    """A string value, stripped; empty for anything else."""
    return value.strip() if isinstance(value, str) else ""


def list_of(value: object) -> list[Any]:
    """A list value; empty for anything else."""
    return value if isinstance(value, list) else []


class DocumentReader:
    """Diagnostics and the item helpers every part of the OTM reader uses."""

    def __init__(self, document: Document) -> None:
        self.doc = document
        self.path = document.path
        self.diagnostics = Diagnostics(document.path)
        self.stated: set[str] = set()
        """Mitigations whose status threatdelta wrote itself (an attribute): kept as written."""

    def _error(self, message: str, pointer: Sequence[str | int]) -> None:
        self.diagnostics.error(message, self.doc.positions.location(pointer))

    def _warn(self, message: str, pointer: Sequence[str | int]) -> None:
        self.diagnostics.warn(message, self.doc.positions.location(pointer))

    def _raise(self) -> None:
        self.diagnostics.check()

    def _items(
        self, data: Mapping[str, Any], section: str
    ) -> Iterator[tuple[int, Mapping[str, Any]]]:
        items = data.get(section)
        if items is None:
            return
        if not isinstance(items, list):
            self._error(f"{section} must be a list", (section,))
            return
        if len(items) > MAX_ITEMS:
            self._error(f"{section} has more than {MAX_ITEMS} entries", (section,))
            return
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                self._error(f"{section}[{index}] must be a mapping", (section, index))
                continue
            yield index, item

    def _id(
        self,
        item: Mapping[str, Any],
        pointer: tuple[str | int, ...],
        what: str,
        ids: dict[str, str],
    ) -> str | None:
        value = item.get("id")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self._error(f"this {what} has no id; give it one", pointer)
            return None
        if value in ids:
            self._error(
                f"id '{value}' is already used by a {ids[value]}; every trust zone, component "
                "and data flow needs its own id",
                (*pointer, "id"),
            )
            return None
        ids[value] = what
        return value

    def _properties(self, item: Mapping[str, Any]) -> dict[str, Value]:
        props: dict[str, Value] = {}
        for section in ("properties", "attributes"):
            values = item.get(section)
            if not isinstance(values, Mapping):
                continue
            for key, value in values.items():
                if not isinstance(key, str) or not key or key.startswith(ATTR):
                    continue
                if isinstance(value, str) and key in _BOOLEAN_NAMES:
                    lowered = value.strip().lower()
                    if lowered in ("true", "false", "yes", "no"):
                        value = lowered in ("true", "yes")
                if isinstance(value, (str, bool, int, float)) and value != "":
                    props[key] = value
        tags = [t.strip() for t in list_of(item.get("tags")) if isinstance(t, str) and t.strip()]
        if tags:
            props["tags"] = ", ".join(tags)
        return props
