"""A :class:`Model` written as a native threat model (``threatmodel.yaml``).

The text starts with a ``yaml-language-server`` comment so editors find the schema, lists
boundaries, elements, flows and controls sorted by id, and keeps every disposition under
``threats:``. Ids are kept. What the native format cannot hold comes back as :class:`Note` s,
one per thing lost, for ``threatdelta convert`` to print:

- a crossing the boundary nesting implies but the source tool did not draw (native models work
  crossings out from nesting; line boundaries, ``line: true``, and crossings the nesting does not
  give, ``crosses:``, are kept);
- type chains that the element's type and kind do not give (a TMT stencil's own type ids);
- ids, property names, kinds and values the native schema does not allow are rewritten, and said so.

The output is deterministic: the same model always gives the same text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import yaml

from threatdelta.formats.writing import (
    GENERIC_TYPE_IDS,
    Note,
    Written,
    chain_note,
    crossing_notes,
    derived_crossings,
    plain_element_chain,
    plain_flow_chain,
    sorted_model,
)
from threatdelta.formats.writing import label as _label
from threatdelta.model.model import (
    Asset,
    Boundary,
    Control,
    Disposition,
    Element,
    Flow,
    Model,
    Value,
)
from threatdelta.model.types import (
    BOUNDARY_KINDS,
    ELEMENT_KINDS,
    PROTOCOLS,
    boundary_chain,
)
from threatdelta.threat import Threat

SCHEMA_COMMENT = "# yaml-language-server: $schema=threatmodel.schema.json"
"""First line of every native file written."""

FORMAT = "native"
"""The target format's name, for notes."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_ID_MAX = 200
_PROPERTY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_KEY_MAX = 1000

_BOOLEAN_PROPERTIES: dict[str, frozenset[str]] = {
    "flow": frozenset(
        {
            "authenticated", "encrypted", "integrity_protected", "carries_firmware", "signed",
            "debug_interface", "broadcast", "rate_limited",
        }
    ),
    "process": frozenset(
        {
            "sanitizes_input", "runs_privileged", "secure_boot", "debug_interface", "watchdog",
            "tamper_resistant",
        }
    ),
    "data-store": frozenset(
        {"stores_logs", "stores_credentials", "encrypted", "tamper_protected", "backed_up"}
    ),
    "external-entity": frozenset({"authenticated"}),
    "boundary": frozenset(),
}  # fmt: skip
"""Property names the native schema types as booleans, per kind of item."""


class _Ids:
    """Maps model ids to ids the native schema accepts, noting every change."""

    def __init__(self, notes: list[Note]) -> None:
        self.notes = notes
        self.mapped: dict[tuple[str, str], str] = {}
        self.taken: dict[str, set[str]] = {}

    def add(self, namespace: str, item_id: str, label: str) -> str:
        taken = self.taken.setdefault(namespace, set())
        new = item_id
        if not _ID.match(new) or len(new) > _ID_MAX:
            new = re.sub(r"[^A-Za-z0-9_.:-]+", "-", new).strip("_.:-")[:_ID_MAX] or "id"
            if not new[0].isalnum():
                new = f"id-{new}"[:_ID_MAX]
        base, number = new, 1
        while new in taken:
            number += 1
            suffix = f"-{number}"
            new = base[: _ID_MAX - len(suffix)] + suffix
        taken.add(new)
        self.mapped[(namespace, item_id)] = new
        if new != item_id:
            self.notes.append(
                Note(
                    f"the id of {label}",
                    f"written as '{new}' (threat keys built from the old id no longer match)",
                )
            )
        return new

    def get(self, namespace: str, item_id: str | None) -> str | None:
        if item_id is None:
            return None
        return self.mapped.get((namespace, item_id))


def clean_properties(
    properties: Mapping[str, Value], kind: str, label: str, notes: list[Note], target: str
) -> dict[str, Value]:
    """Properties the native schema accepts: valid names, no nulls, booleans where typed."""
    result: dict[str, Value] = {}
    booleans = _BOOLEAN_PROPERTIES.get(kind, frozenset())
    for key in sorted(properties):
        value = properties[key]
        name = key
        if not _PROPERTY.match(name) or len(name) > _ID_MAX:
            name = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:_ID_MAX] or "property"
            notes.append(Note(f"the property name '{key}' of {label}", f"written as '{name}'"))
        if name in result:
            notes.append(Note(f"property '{key}' of {label}", f"its name clashes with '{name}'"))
            continue
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            notes.append(Note(f"the empty value of property '{key}' of {label}"))
            continue
        if name in booleans and not isinstance(value, bool):
            text = str(value).strip().lower()
            if text in ("true", "yes", "1"):
                value = True
            elif text in ("false", "no", "0"):
                value = False
            else:
                notes.append(
                    Note(
                        f"property '{key}' = {value!r} of {label}",
                        f"{target} wants true or false there",
                    )
                )
                continue
        result[name] = value
    return result


def _date(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line strings as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(document: Mapping[str, Any]) -> str:
    """``document`` as block-style YAML, keys in the order given."""
    text: str = yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


def _disposition_entry(disposition: Disposition, ids: _Ids) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": disposition.status}
    controls = [ids.get("control", c) or c for c in disposition.controls]
    if controls:
        entry["controls"] = controls
    if disposition.justification:
        entry["justification"] = disposition.justification
    if disposition.approved_by:
        entry["approved_by"] = disposition.approved_by
    if disposition.approved_on is not None:
        entry["approved_on"] = _date(disposition.approved_on)
    if disposition.expires is not None:
        entry["expires"] = _date(disposition.expires)
    if disposition.transferred_to:
        entry["transferred_to"] = disposition.transferred_to
    if disposition.needs_investigation:
        entry["needs_investigation"] = True
    for field in ("exploitability", "severity", "rationale", "cvss"):
        value = getattr(disposition, field)
        if value:
            entry[field] = value
    return entry


def _safety(item: Element | Flow, entry: dict[str, Any]) -> None:
    """Hazards, essential performance and data assets, as written in the native format."""
    if item.hazards:
        entry["hazards"] = list(item.hazards)
    if item.essential_performance:
        entry["essential_performance"] = True
    if item.data:
        entry["data"] = list(item.data)


def _asset(asset: Asset) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": asset.id, "name": asset.name}
    entry["classification"] = asset.classification
    entry["confidentiality"] = asset.confidentiality
    entry["integrity"] = asset.integrity
    entry["availability"] = asset.availability
    if asset.description:
        entry["description"] = asset.description
    return entry


def write(model: Model) -> Written:
    """``model`` as native YAML text, and notes on what the native format cannot hold."""
    model = sorted_model(model)
    notes: list[Note] = []
    ids = _Ids(notes)
    borders = [b for b in model.boundaries if not b.is_line]
    for boundary in model.boundaries:
        ids.add("item", boundary.id, _label("boundary", boundary.name, boundary.id))
    for element in model.elements:
        ids.add("item", element.id, _label(element.type, element.name, element.id))
    for flow in model.flows:
        ids.add("item", flow.id, _label("flow", flow.name, flow.id))
    for control in model.controls:
        ids.add("control", control.id, _label("control", control.name, control.id))

    document: dict[str, Any] = {"version": 1, "system": model.system.strip() or "Unnamed system"}
    boundaries = [_boundary(b, ids, notes) for b in model.boundaries]
    elements = [_element(e, ids, notes) for e in model.elements]
    flows = [_flow(f, ids, notes) for f in model.flows]
    # Crossings the nesting does not give (line boundaries, geometry) are written as `crosses`;
    # only a crossing the nesting gives but the source tool did not draw is lost.
    for flow, entry in zip(model.flows, flows, strict=True):
        if flow.crosses is None:
            continue
        extra = sorted(set(flow.crosses) - derived_crossings(borders, model.elements, flow))
        written = [ids.get("item", b) for b in extra if model.boundary(b) is not None]
        if written:
            entry["crosses"] = [b for b in written if b is not None]
    notes.extend(n for n in crossing_notes(model, borders, FORMAT) if n.what.startswith("that "))
    controls = [_control(c, ids) for c in model.controls]
    if boundaries:
        document["boundaries"] = boundaries
    if elements:
        document["elements"] = elements
    if flows:
        document["flows"] = flows
    if controls:
        document["controls"] = controls
    if model.assets:
        document["assets"] = [_asset(a) for a in model.assets]

    stored = [_stored_threat(t, ids, notes) for t in model.stored_threats]
    if stored:
        document["stored_threats"] = [t for t in stored if t is not None]
    dispositions = dict(model.dispositions)
    threats: dict[str, Any] = {}
    for key in sorted(dispositions):
        if not key or len(key) > _KEY_MAX:
            notes.append(Note(f"the disposition of threat '{key[:60]}...'", "its key is too long"))
            continue
        threats[key] = _disposition_entry(dispositions[key], ids)
    if threats:
        document["threats"] = threats
    return Written(text=f"{SCHEMA_COMMENT}\n{dump_yaml(document)}", notes=tuple(notes))


def _boundary(boundary: Boundary, ids: _Ids, notes: list[Note]) -> dict[str, Any]:
    label = _label("boundary", boundary.name, boundary.id)
    entry: dict[str, Any] = {"id": ids.get("item", boundary.id), "name": boundary.name}
    properties = dict(boundary.properties)
    kind = "generic" if boundary.kind in GENERIC_TYPE_IDS else boundary.kind
    if boundary.type_chain not in (
        boundary_chain(boundary.kind),
        boundary_chain(boundary.kind, line=True),
    ) and boundary.type_chain[:1] not in (("GE.TB.B",), ("GE.TB.L",)):
        notes.append(chain_note(boundary.type_chain, label))
    if kind not in BOUNDARY_KINDS:
        notes.append(Note(f"the kind '{kind}' of {label}", "kept as property tool_kind"))
        properties.setdefault("tool_kind", kind)
        kind = "generic"
    if kind != "generic":
        entry["kind"] = kind
    if boundary.is_line:
        entry["line"] = True
    parent = ids.get("item", boundary.parent)
    if parent is not None:
        entry["parent"] = parent
    description = properties.pop("description", None)
    if isinstance(description, str) and description:
        entry["description"] = description
    props = clean_properties(properties, "boundary", label, notes, FORMAT)
    if props:
        entry["properties"] = props
    _renamed(entry, boundary)
    return entry


def _renamed(entry: dict[str, Any], item: Boundary | Element | Flow) -> None:
    """``renamed_from``, right after the id, as written."""
    if item.renamed_from:
        entry["renamed_from"] = item.renamed_from


def _element(element: Element, ids: _Ids, notes: list[Note]) -> dict[str, Any]:
    label = _label(element.type, element.name, element.id)
    entry: dict[str, Any] = {
        "id": ids.get("item", element.id),
        "name": element.name,
        "type": element.type,
    }
    properties = dict(element.properties)
    kind = "generic" if element.kind in GENERIC_TYPE_IDS else element.kind
    if kind not in ELEMENT_KINDS[element.type]:
        notes.append(Note(f"the kind '{kind}' of {label}", "kept as property tool_kind"))
        properties.setdefault("tool_kind", kind)
        kind = "generic"
    if kind != "generic":
        entry["kind"] = kind
    if not plain_element_chain(element):
        notes.append(chain_note(element.type_chain, label))
    boundary = ids.get("item", element.boundary)
    if boundary is not None:
        entry["boundary"] = boundary
    if element.description:
        entry["description"] = element.description
    _safety(element, entry)
    props = clean_properties(properties, element.type, label, notes, FORMAT)
    if props:
        entry["properties"] = props
    _implemented_by(entry, element.implemented_by, ids)
    _renamed(entry, element)
    return entry


def _flow(flow: Flow, ids: _Ids, notes: list[Note]) -> dict[str, Any]:
    label = _label("flow", flow.name, flow.id)
    entry: dict[str, Any] = {
        "id": ids.get("item", flow.id),
        "name": flow.name,
        "from": ids.get("item", flow.source) or flow.source,
        "to": ids.get("item", flow.target) or flow.target,
    }
    properties = dict(flow.properties)
    protocol = flow.protocol
    if protocol not in PROTOCOLS:
        notes.append(
            Note(f"the protocol '{protocol}' of {label}", "kept as property protocol_label")
        )
        properties.setdefault("protocol_label", protocol)
        protocol = "generic"
    if protocol != "generic":
        entry["protocol"] = protocol
    if flow.bidirectional:
        entry["bidirectional"] = True
    if flow.description:
        entry["description"] = flow.description
    if not plain_flow_chain(flow):
        notes.append(chain_note(flow.type_chain, label))
    _safety(flow, entry)
    props = clean_properties(properties, "flow", label, notes, FORMAT)
    if props:
        entry["properties"] = props
    _implemented_by(entry, flow.implemented_by, ids)
    _renamed(entry, flow)
    return entry


def _stored_threat(threat: Threat, ids: _Ids, notes: list[Note]) -> dict[str, Any] | None:
    """A threat the model file itself holds (Threat Dragon, OTM, a hand-added TMT threat)."""
    if not threat.key or len(threat.key) > _KEY_MAX:
        notes.append(Note(f"stored threat '{threat.key[:60]}...'", "its key is too long"))
        return None
    entry: dict[str, Any] = {
        "id": threat.key,
        "title": threat.title.strip() or threat.key,
        "stride": threat.stride,
        "severity": threat.severity,
    }
    if threat.category:
        entry["category"] = threat.category
    if threat.description:
        entry["description"] = threat.description
    if threat.element is not None:
        entry["element"] = ids.get("item", threat.element) or threat.element
    elif threat.flow is not None:
        entry["flow"] = ids.get("item", threat.flow) or threat.flow
    return entry


def _implemented_by(
    entry: dict[str, Any], implemented_by: Mapping[str, tuple[str, ...]], ids: _Ids
) -> None:
    """Keep ``implemented_by`` for the properties that were written."""
    kept = {
        name: [ids.get("control", c) or c for c in controls]
        for name, controls in implemented_by.items()
        if name in entry.get("properties", {})
    }
    if kept:
        entry["implemented_by"] = kept


def _control(control: Control, ids: _Ids) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": ids.get("control", control.id),
        "name": control.name.strip() or control.id,
        "status": control.status,
    }
    evidence = [e for e in control.evidence if e.strip()]
    if evidence:
        entry["evidence"] = evidence
    if control.description:
        entry["description"] = control.description
    return entry
