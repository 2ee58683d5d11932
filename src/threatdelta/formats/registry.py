"""Pick the reader for a model file and read it."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import cast

from threatdelta.encoding import as_utf8
from threatdelta.errors import InputError, Location
from threatdelta.formats.interface import ModelReader, ParsedModel
from threatdelta.formats.sidecar import (
    SUFFIX,
    decisions_path,
    is_decisions_path,
    read_decisions,
    with_decisions,
)
from threatdelta.limits import MAX_FILE_BYTES, check_model_counts, check_name, check_size
from threatdelta.model.model import Model
from threatdelta.model.nesting import check_nesting

MAX_MODEL_BYTES = MAX_FILE_BYTES
"""Largest model file read."""


@dataclass(frozen=True)
class RegisteredReader:
    """One format's reader, typed as :class:`ModelReader`; its module (and what it imports) is
    loaded on first use, so starting the command line never pays for every format."""

    name: str
    """The format name: native, tm7, dragon, otm."""
    module: str
    """The module that reads it."""
    suffixes: tuple[str, ...]
    """File name suffixes tried first for this format."""

    def _reader(self) -> ModelReader:
        return cast(ModelReader, importlib.import_module(self.module))

    def sniff(self, path: str, data: bytes) -> bool:
        """True when ``data`` (read from ``path``) looks like this format."""
        return self._reader().sniff(path, data)

    def read(self, data: bytes, path: str) -> ParsedModel:
        """Parse ``data``; raise :class:`InputError` with a location on bad input."""
        return self._reader().read(data, path)


READERS: Mapping[str, RegisteredReader] = MappingProxyType(
    {
        "native": RegisteredReader("native", "threatdelta.formats.native", (".yaml", ".yml")),
        "tm7": RegisteredReader("tm7", "threatdelta.formats.tm7", (".tm7",)),
        "dragon": RegisteredReader("dragon", "threatdelta.formats.dragon", (".json",)),
        "otm": RegisteredReader("otm", "threatdelta.formats.otm", (".json", ".yaml", ".yml")),
    }
)
"""Every model reader by format name, in the order sniffers are tried."""

FORMAT_NAMES: tuple[str, ...] = tuple(READERS)
"""Every model format, in the order sniffers are tried."""


def reader(name: str) -> ModelReader:
    """The reader of a format name."""
    found = READERS.get(name)
    if found is None:
        raise InputError(
            f"unknown model format '{name}'; expected one of {', '.join(FORMAT_NAMES)}"
        )
    return found


def _candidates(path: str) -> tuple[str, ...]:
    suffix = PurePosixPath(path).suffix.lower()
    named = tuple(name for name, r in READERS.items() if suffix in r.suffixes)
    return named or FORMAT_NAMES


def detect(path: str, data: bytes) -> str:
    """The format name of ``data`` read from ``path``."""
    if PurePosixPath(path).suffix.lower() == ".tb7":
        raise InputError(
            "this is a TMT template (.tb7), not a model: pass it as a rule pack with --rules",
            Location(path),
        )
    for name in _candidates(path):
        if reader(name).sniff(path, data):
            return name
    candidates = _candidates(path)
    if len(candidates) == 1:
        return candidates[0]
    raise InputError(
        "cannot tell which model format this is: expected a threatdelta YAML model "
        "(version: 1 with elements), a Threat Modeling Tool .tm7 file, "
        "an OWASP Threat Dragon JSON file or an Open Threat Model file",
        Location(path),
    )


def read_model(
    data: bytes,
    path: str,
    format_name: str | None = None,
    *,
    decisions: bytes | None = None,
) -> ParsedModel:
    """Parse ``data`` (read from ``path``) with the right reader; ``decisions`` is the content
    of the model's decisions file (:func:`threatdelta.formats.sidecar.decisions_path`), if
    there is one.

    Whatever the reader, the result is held to the limits of :mod:`threatdelta.limits` before
    anything works out its structure or enumerates its threats.
    """
    if is_decisions_path(path):
        raise InputError(
            "this is a decisions file, not a model: it is read together with the model it is "
            f"named after ({path.removesuffix(SUFFIX)})",
            Location(path),
        )
    check_size(len(data), path, "model file")
    if PurePosixPath(path).suffix.lower() not in (".tm7", ".tb7"):
        data = as_utf8(data, path)  # XML declares its own encoding; YAML and JSON may be UTF-16
    name = format_name or detect(path, data)
    parsed: ParsedModel = reader(name).read(data, path)
    check_model(parsed.model, path)
    if decisions is not None:
        parsed = with_decisions(parsed, read_decisions(decisions, decisions_path(path)))
    return parsed


def check_model(model: Model, path: str) -> None:
    """Refuse a model over the element, flow or boundary count, with an overlong id or name, or
    with boundaries nested deeper than the limit."""
    check_model_counts(len(model.elements), len(model.flows), len(model.boundaries), Location(path))
    check_name("the system name", model.system, Location(path))
    for kind, items in (
        ("element", model.elements),
        ("data flow", model.flows),
        ("trust boundary", model.boundaries),
        ("control", model.controls),
    ):
        for item in items:
            where_item = item.location or Location(path)
            check_name(f"the id of a {kind}", item.id, where_item)
            check_name(f"the name of {kind} '{item.id}'", item.name, where_item)
    where = {b.id: b.location or Location(path) for b in model.boundaries}
    check_nesting({b.id: b.parent for b in model.boundaries}, lambda b: where[b])
