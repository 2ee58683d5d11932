"""A :class:`Model` written as an Open Threat Model 0.2.0 JSON file.

- Border boundaries become trust zones (the zone type is the boundary kind, or the OTM type it was
  read from; ``trust_rating`` gives ``risk.trustRating``, 50 when unknown). Elements outside every
  boundary are put in one added zone marked ``threatdelta_outside``, since OTM wants a parent
  for every component; :mod:`threatdelta.formats.otm` drops that zone again.
- Elements become components typed ``<type>/<kind>`` (or the OTM type they were read from);
  flows become data flows with ``attributes.protocol``.
- Stored threats become threat definitions and instances on their component or data flow, with
  the disposition as the instance state; a disposition of a threat the rules produce is written
  as an instance too, its definition marked ``threatdelta_generated``. What OTM has no field for
  (the threat key, justification, approval, expiry) goes into ``threatdelta_*`` attributes of a
  definition used once.
- Controls become mitigations (``riskReduction`` 50, status and evidence in attributes); a
  disposition's controls are its instance's implemented mitigations, a stored threat's other
  countermeasures its recommended ones.

Line boundaries, crossings that nesting does not imply and type chains are lost, and noted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from threatdelta.formats.otm import OUTSIDE_ATTRIBUTE
from threatdelta.formats.otm_document import ATTR
from threatdelta.formats.otm_threats import RULE_ID
from threatdelta.formats.otm_types import boundary_kind_for, element_type_for, kind_for
from threatdelta.formats.vocabulary import stride_for
from threatdelta.formats.writing import (
    GENERIC_TYPE_IDS,
    Note,
    Written,
    chain_note,
    crossing_notes,
    plain_element_chain,
    plain_flow_chain,
    sorted_model,
)
from threatdelta.formats.writing import label as _label
from threatdelta.model.model import (
    Boundary,
    Control,
    Disposition,
    Element,
    Flow,
    Model,
    Value,
)
from threatdelta.model.types import boundary_chain
from threatdelta.rules.pack import STRIDE_NAMES
from threatdelta.threat import Threat

OTM_VERSION = "0.2.0"
"""The OTM version written."""

FORMAT = "otm"
"""The target format's name, for notes."""

DEFAULT_TRUST_RATING = 50
"""``risk.trustRating`` of a zone whose rating the model does not know."""
DEFAULT_RISK_REDUCTION = 50
"""``riskReduction`` of a mitigation (the model does not record one)."""

_IMPACT = {"low": 20, "medium": 50, "high": 75, "critical": 100}
"""``risk.impact`` per severity; read back by :func:`threatdelta.formats.otm.severity_from_risk`."""

_STATES = {
    "open": "exposed",
    "mitigated": "mitigated",
    "accepted": "accepted",
    "transferred": "transferred",
    "not-applicable": "not-applicable",
}
_OWN_PROPERTIES = frozenset({"otm_type", "trust_rating", "description", "tags", "parent_component"})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "threat-model"


def _attributes(properties: Mapping[str, Value], label: str, notes: list[Note]) -> dict[str, Value]:
    result: dict[str, Value] = {}
    for key in sorted(properties):
        value = properties[key]
        if key in _OWN_PROPERTIES:
            continue
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            notes.append(Note(f"the empty value of property '{key}' of {label}"))
            continue
        result[key] = value
    return result


def _tags(properties: Mapping[str, Value]) -> list[str]:
    tags = properties.get("tags")
    if not isinstance(tags, str):
        return []
    return [t.strip() for t in tags.split(",") if t.strip()]


def write(model: Model) -> Written:
    """``model`` as OTM 0.2.0 JSON text, and notes on what OTM cannot hold."""
    model = sorted_model(model)
    notes: list[Note] = []
    borders = [b for b in model.boundaries if not b.is_line]
    border_ids = {b.id for b in borders}
    for boundary in model.boundaries:
        if boundary.is_line:
            notes.append(
                Note(
                    _label("line boundary", boundary.name, boundary.id),
                    "OTM trust zones are areas that hold components",
                )
            )
    if model.assets:
        notes.append(Note(f"{len(model.assets)} data assets", "they are left out"))
    items: list[Element | Flow] = [*model.elements, *model.flows]
    for item in items:
        if item.hazards or item.essential_performance or item.data:
            notes.append(
                Note(
                    f"the hazards, essential performance and data of '{item.id}'",
                    "they are left out",
                )
            )
    zones = [_zone(b, border_ids, notes) for b in borders]
    outside: str | None = None
    if any(e.boundary not in border_ids for e in model.elements):
        taken = {b.id for b in model.boundaries} | {e.id for e in model.elements}
        outside = "threatdelta-outside"
        while outside in taken:
            outside = f"{outside}-"
        zones.append(
            {
                "id": outside,
                "name": "Outside every trust boundary",
                "type": "generic",
                "risk": {"trustRating": 0},
                "attributes": {OUTSIDE_ATTRIBUTE: "true"},
            }
        )
    components = {e.id: _component(e, border_ids, outside, model, notes) for e in model.elements}
    dataflows = {f.id: _dataflow(f, notes) for f in model.flows}
    notes.extend(crossing_notes(model, borders, FORMAT))

    definitions: dict[str, dict[str, Any]] = {}
    control_ids = {c.id for c in model.controls}
    for threat in model.stored_threats:
        _stored_threat(threat, model, components, dataflows, definitions, control_ids, notes)
    stored_keys = {t.key for t in model.stored_threats}
    for key in sorted(model.dispositions):
        if key not in stored_keys:
            _generated(
                model.dispositions[key], model, components, dataflows, definitions, control_ids,
                notes,
            )  # fmt: skip

    document: dict[str, Any] = {
        "otmVersion": OTM_VERSION,
        "project": {"name": model.system or "Unnamed system", "id": _slug(model.system)},
        "trustZones": zones,
        "components": [components[i] for i in sorted(components)],
        "dataflows": [dataflows[i] for i in sorted(dataflows)],
        "threats": [definitions[i] for i in sorted(definitions)],
        "mitigations": [_mitigation(c) for c in model.controls],
    }
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return Written(text=text, notes=tuple(notes))


def _zone(boundary: Boundary, borders: set[str], notes: list[Note]) -> dict[str, Any]:
    label = _label("boundary", boundary.name, boundary.id)
    props = boundary.properties
    otm_type = props.get("otm_type")
    kind = "generic" if boundary.kind in GENERIC_TYPE_IDS else boundary.kind
    zone_type = (
        otm_type if isinstance(otm_type, str) and boundary_kind_for(otm_type) == kind else kind
    )
    if boundary.type_chain != boundary_chain(boundary.kind) and boundary.type_chain[:1] != (
        "GE.TB.B",
    ):
        notes.append(chain_note(boundary.type_chain, label))
    rating = props.get("trust_rating")
    if isinstance(rating, bool) or not isinstance(rating, (int, float)):
        rating = DEFAULT_TRUST_RATING
    zone: dict[str, Any] = {
        "id": boundary.id,
        "name": boundary.name,
        "type": zone_type,
        "risk": {"trustRating": rating},
    }
    description = props.get("description")
    if isinstance(description, str) and description:
        zone["description"] = description
    if boundary.parent is not None and boundary.parent in borders:
        zone["parent"] = {"trustZone": boundary.parent}
    attributes = _attributes(props, label, notes)
    if attributes:
        zone["attributes"] = attributes
    return zone


def _component(
    element: Element,
    borders: set[str],
    outside: str | None,
    model: Model,
    notes: list[Note],
) -> dict[str, Any]:
    label = _label(element.type, element.name, element.id)
    props = element.properties
    tags = _tags(props)
    otm_type = props.get("otm_type")
    if (
        isinstance(otm_type, str)
        and element_type_for(otm_type, tags) == element.type
        and kind_for(element.type, otm_type) == element.kind
    ):
        component_type = otm_type
    else:
        kind = "generic" if element.kind in GENERIC_TYPE_IDS else element.kind
        component_type = element.type if kind == "generic" else f"{element.type}/{kind}"
    if not plain_element_chain(element):
        notes.append(chain_note(element.type_chain, label))
    owner = props.get("parent_component")
    owner_element = model.element(owner) if isinstance(owner, str) else None
    if owner_element is not None and owner_element.boundary == element.boundary:
        parent = {"component": owner_element.id}
    elif element.boundary in borders:
        parent = {"trustZone": element.boundary}
    else:
        assert outside is not None  # added whenever an element is outside every border
        parent = {"trustZone": outside}
    component: dict[str, Any] = {
        "id": element.id,
        "name": element.name,
        "type": component_type,
        "parent": parent,
    }
    if element.description:
        component["description"] = element.description
    if tags:
        component["tags"] = tags
    attributes = _attributes(props, label, notes)
    if attributes:
        component["attributes"] = attributes
    return component


def _dataflow(flow: Flow, notes: list[Note]) -> dict[str, Any]:
    label = _label("flow", flow.name, flow.id)
    props = dict(flow.properties)
    dataflow: dict[str, Any] = {
        "id": flow.id,
        "name": flow.name,
        "source": flow.source,
        "destination": flow.target,
        "bidirectional": flow.bidirectional,
    }
    if flow.description:
        dataflow["description"] = flow.description
    tags = _tags(props)
    if tags:
        dataflow["tags"] = tags
    attributes = _attributes(props, label, notes)
    shown = props.get("protocol_label")
    attributes.pop("protocol_label", None)
    if isinstance(shown, str) and shown:
        attributes["protocol"] = shown
    elif flow.protocol != "generic":
        attributes["protocol"] = flow.protocol
    if not plain_flow_chain(flow):
        notes.append(chain_note(flow.type_chain, label))
    if attributes:
        dataflow["attributes"] = attributes
    return dataflow


def _disposition_attributes(disposition: Disposition | None) -> dict[str, str]:
    if disposition is None:
        return {}
    extra = {
        "justification": disposition.justification,
        "approved_by": disposition.approved_by,
        "approved_on": disposition.approved_on.isoformat() if disposition.approved_on else "",
        "expires": disposition.expires.isoformat() if disposition.expires else "",
        "transferred_to": disposition.transferred_to,
    }
    return {f"{ATTR}{k}": v for k, v in extra.items() if v}


def _instance(
    definition_id: str,
    disposition: Disposition | None,
    countermeasures: tuple[str, ...],
    control_ids: set[str],
    label: str,
    notes: list[Note],
) -> dict[str, Any]:
    status = disposition.status if disposition is not None else "open"
    state = _STATES[status]
    if disposition is not None and disposition.needs_investigation and status == "open":
        state = "needs-investigation"
    mitigations = []
    done = disposition.controls if disposition is not None else ()
    for control_id in done:
        if control_id in control_ids:
            mitigations.append({"mitigation": control_id, "state": "implemented"})
        else:
            notes.append(Note(f"control '{control_id}' named by {label}", "no such control"))
    for control_id in countermeasures:
        if control_id in done:
            continue
        if control_id in control_ids:
            mitigations.append({"mitigation": control_id, "state": "recommended"})
        else:
            notes.append(Note(f"countermeasure '{control_id}' of {label}"))
    instance: dict[str, Any] = {"threat": definition_id, "state": state}
    if mitigations:
        instance["mitigations"] = mitigations
    return instance


def _subject_of(
    threat: Threat, components: Mapping[str, Any], dataflows: Mapping[str, Any]
) -> dict[str, Any] | None:
    if threat.flow is not None:
        found: dict[str, Any] | None = dataflows.get(threat.flow)
        return found
    if threat.element is not None:
        found = components.get(threat.element)
        return found
    return None


def _categories(threat: Threat) -> list[str]:
    parts = [c.strip() for c in threat.category.split(",") if c.strip()]
    if not parts or stride_for(parts[0]) != threat.stride:
        parts.insert(0, STRIDE_NAMES[threat.stride])
    return parts


def _stored_threat(
    threat: Threat,
    model: Model,
    components: Mapping[str, Any],
    dataflows: Mapping[str, Any],
    definitions: dict[str, dict[str, Any]],
    control_ids: set[str],
    notes: list[Note],
) -> None:
    label = f"stored threat '{threat.key}' ({threat.title})"
    subject = _subject_of(threat, components, dataflows)
    if subject is None:
        notes.append(Note(label, "it is not on any element or flow of the model"))
        return
    disposition = model.dispositions.get(threat.key)
    match = re.fullmatch(r"otm:(.+)@([^@]+)", threat.key)
    shared = match is not None and match.group(2) == subject["id"]
    definition_id = match.group(1) if match is not None and shared else threat.key
    if definition_id not in definitions:
        definition: dict[str, Any] = {
            "id": definition_id,
            "name": threat.title,
            "risk": {"likelihood": None, "impact": _IMPACT[threat.severity]},
            "categories": _categories(threat),
        }
        if threat.description:
            definition["description"] = threat.description
        if threat.cwe:
            definition["cwes"] = [f"CWE-{n}" for n in threat.cwe]
        attributes: dict[str, str] = {}
        if not shared:
            attributes[f"{ATTR}key"] = threat.key
            if threat.rule_id != RULE_ID:
                attributes[f"{ATTR}rule"] = threat.rule_id
            attributes.update(_disposition_attributes(disposition))
        if attributes:
            definition["attributes"] = attributes
        definitions[definition_id] = definition
    if shared and _disposition_attributes(disposition):
        notes.append(
            Note(
                f"the justification, approval and expiry of {label}",
                "its threat definition is shared with other instances",
            )
        )
    instance = _instance(
        definition_id, disposition, threat.countermeasures, control_ids, label, notes
    )
    subject.setdefault("threats", []).append(instance)


def _generated_subject(
    key: str, components: Mapping[str, Any], dataflows: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The component or data flow a rule's threat key is about (``rule@x``, ``rule@a>f>b``)."""
    if "@" in key:
        tail = key.rsplit("@", 1)[1]
        parts = tail.split(">")
        if len(parts) == 3 and parts[1] in dataflows:
            found: dict[str, Any] = dataflows[parts[1]]
            return found
        if tail in dataflows:
            found = dataflows[tail]
            return found
        if tail in components:
            found = components[tail]
            return found
    # Keys of other tools (TMT: type id + element GUIDs) name their flow somewhere inside.
    for flow_id in sorted(dataflows, key=len, reverse=True):
        if flow_id and flow_id in key:
            found = dataflows[flow_id]
            return found
    for element_id in sorted(components, key=len, reverse=True):
        if element_id and element_id in key:
            found = components[element_id]
            return found
    return None


def _generated(
    disposition: Disposition,
    model: Model,
    components: Mapping[str, Any],
    dataflows: Mapping[str, Any],
    definitions: dict[str, dict[str, Any]],
    control_ids: set[str],
    notes: list[Note],
) -> None:
    label = f"the disposition of threat '{disposition.key}'"
    subject = _generated_subject(disposition.key, components, dataflows)
    if subject is None:
        notes.append(Note(label, "its key names no element or flow of the model"))
        return
    attributes = {f"{ATTR}key": disposition.key, f"{ATTR}generated": "true"}
    attributes.update(_disposition_attributes(disposition))
    if disposition.needs_investigation and disposition.status != "open":
        attributes[f"{ATTR}needs_investigation"] = "true"
    definitions[disposition.key] = {
        "id": disposition.key,
        "name": disposition.title or disposition.key,
        "risk": {"likelihood": None, "impact": _IMPACT["medium"]},
        "attributes": attributes,
    }
    instance = _instance(disposition.key, disposition, (), control_ids, label, notes)
    subject.setdefault("threats", []).append(instance)


def _mitigation(control: Control) -> dict[str, Any]:
    attributes: dict[str, str] = {f"{ATTR}status": control.status}
    if control.evidence:
        attributes[f"{ATTR}evidence"] = "\n".join(control.evidence)
    mitigation: dict[str, Any] = {
        "id": control.id,
        "name": control.name,
        "riskReduction": DEFAULT_RISK_REDUCTION,
        "attributes": attributes,
    }
    if control.description:
        mitigation["description"] = control.description
    return mitigation
