"""Decisions kept beside a model whose own format cannot hold them.

A Threat Dragon file, an Open Threat Model file, or a .tm7 reviewed with threatdelta's built-in
pack has nowhere to write threatdelta's dispositions and controls. They go into a decisions file
next to the model, named after it: ``models/pump.json`` -> ``models/pump.json.threatdelta.yaml``.
It holds ``controls:`` and ``threats:`` exactly as in the native model (and may say
``version: 1``), is read with the same bounded YAML loader, schema and checks, and its
dispositions and controls join the model's. It is reviewed like the model: a change to it is a
change of the model's decisions.

Where the model file itself records a decision for the same threat (a Threat Dragon status, a
.tm7 state), the decisions file's entry is the one used, and the reader says so when the two
differ. A control id may not be defined in both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from threatdelta.diagnostics import Diagnostics
from threatdelta.errors import InputError, Location
from threatdelta.formats.interface import ParsedModel
from threatdelta.formats.native import (
    build_controls,
    build_dispositions,
    schema_errors,
    semantic_errors,
)
from threatdelta.limits import check_size
from threatdelta.model.model import Control, Disposition, Model
from threatdelta.yaml_loader import load_yaml

SUFFIX = ".threatdelta.yaml"
"""Appended to a model's file name to name its decisions file."""


@dataclass(frozen=True)
class Decisions:
    """The content of one decisions file."""

    path: str
    """Where it was read from."""
    controls: tuple[Control, ...] = ()
    """Its controls, sorted by id."""
    dispositions: tuple[Disposition, ...] = ()
    """Its dispositions, sorted by key."""


def decisions_path(model_path: str) -> str:
    """The decisions file that belongs to ``model_path``."""
    return model_path + SUFFIX


def is_decisions_path(path: str) -> bool:
    """True for a decisions file's name (never a model of its own)."""
    return path.endswith(SUFFIX)


def read_decisions(data: bytes, path: str) -> Decisions:
    """Parse a decisions file; every problem is reported at once, located."""
    check_size(len(data), path, "decisions file")
    doc = load_yaml(data, path)
    diagnostics = Diagnostics(path)
    diagnostics.extend(schema_errors(doc, decisions=True))
    if not diagnostics:
        diagnostics.extend(semantic_errors(doc))
    diagnostics.check()
    dispositions = build_dispositions(doc)
    return Decisions(
        path=path,
        controls=tuple(sorted(build_controls(doc), key=lambda c: c.id)),
        dispositions=tuple(dispositions[k] for k in sorted(dispositions)),
    )


def target_path(model: Model) -> str:
    """Where threatdelta's decisions about ``model`` are written: the model itself when it is
    native YAML, else its decisions file."""
    return model.path if model.format == "native" else decisions_path(model.path)


def decisions_view(model: Model) -> Model:
    """``model`` as the file its decisions are written to sees it: for another tool's format,
    only the controls and dispositions its decisions file holds (the rest are the tool's own)."""
    if model.format == "native":
        return model
    target = decisions_path(model.path)

    def held(location: Location | None) -> bool:
        return location is not None and location.path == target

    return replace(
        model,
        controls=tuple(c for c in model.controls if held(c.location)),
        dispositions={k: d for k, d in model.dispositions.items() if held(d.location)},
    )


def with_decisions(parsed: ParsedModel, decisions: Decisions) -> ParsedModel:
    """``parsed`` with the decisions file's controls and dispositions joined in."""
    model = parsed.model
    notes = Diagnostics(decisions.path)
    if model.format == "native":
        notes.warn(
            "ignored: a threatdelta YAML model holds its decisions itself; move them into its "
            "controls: and threats:"
        )
        return replace(parsed, warnings=(*parsed.warnings, *notes.warnings()))
    known = {c.id: c for c in model.controls}
    for control in decisions.controls:
        if control.id in known:
            raise InputError(
                f"control id '{control.id}' is already defined by the model {model.path}; "
                "rename it in the decisions file",
                control.location,
            )
    dispositions = dict(model.dispositions)
    for disposition in decisions.dispositions:
        own = dispositions.get(disposition.key)
        if own is not None and own.status != "open" and own.status != disposition.status:
            notes.warn(
                f"the model file records '{disposition.key}' as {own.status}; the "
                f"decisions file's {disposition.status} is used",
                disposition.location,
            )
        dispositions[disposition.key] = disposition
    controls = sorted((*model.controls, *decisions.controls), key=lambda c: c.id)
    joined = replace(
        model, controls=tuple(controls), dispositions=dict(sorted(dispositions.items()))
    )
    return replace(parsed, model=joined, warnings=(*parsed.warnings, *notes.warnings()))
