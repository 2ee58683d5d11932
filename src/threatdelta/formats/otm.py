"""Open Threat Model (OTM 0.2.0) files, JSON or YAML, read into a :class:`Model`.

- ``trustZones`` become border boundaries, nested through ``parent.trustZone``; the zone's
  ``risk.trustRating`` is kept as the property ``trust_rating`` and its type as ``otm_type``.
- ``components`` become elements. OTM types are free text (``web-service``,
  ``CD-MICROSOFT-AZURE-DB-POSTGRESQL``), so the element type is read from the words in it: data
  stores for databases and storage, external entities for clients, users and browsers (or a tag
  ``external``), processes otherwise (:mod:`threatdelta.formats.otm_types`). A component inside another component sits in that
  component's trust zone (``parent_component`` keeps the link).
- ``dataflows`` become flows; ``attributes.protocol`` (or a tag naming a protocol) sets the
  protocol.
- ``threats`` are definitions; each instance on a component or data flow becomes a stored threat
  keyed ``otm:<threat id>@<component or flow id>`` with a disposition from the instance's state.
  Every ``mitigations`` entry becomes a :class:`Control`. A mitigated instance's implemented
  mitigations (all of them, when none is marked implemented) are its disposition's controls; the
  rest are the threat's countermeasures.

Attributes (and the non-standard ``properties`` some tools write) become properties. The writer
(:mod:`threatdelta.formats.otm_writer`) stores what OTM has no field for under attributes named
``threatdelta_*``; this reader reads them back. Representations and assets are not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatdelta.errors import InputError, Location
from threatdelta.formats.interface import ParsedModel
from threatdelta.formats.otm_document import ATTR, list_of, load, string_of
from threatdelta.formats.otm_threats import ThreatsReader
from threatdelta.formats.otm_types import (
    boundary_kind_for,
    element_type_for,
    is_number,
    kind_for,
)
from threatdelta.formats.vocabulary import protocol_for
from threatdelta.limits import BOUNDARIES, ELEMENTS, FLOWS, MAX_FILE_BYTES, check_sections
from threatdelta.model.model import (
    Boundary,
    Element,
    Flow,
    Model,
    frozen_props,
    scope_of,
)
from threatdelta.model.types import boundary_chain, element_chain, flow_chain

name = "otm"
"""Format name."""

OUTSIDE_ATTRIBUTE = f"{ATTR}outside"
"""Marks the trust zone the writer adds for elements outside every boundary."""


def sniff(path: str, data: bytes) -> bool:
    """True for JSON or YAML with a top-level ``otmVersion``."""
    return b"otmVersion" in data[:MAX_FILE_BYTES]


def read(data: bytes, path: str) -> ParsedModel:
    """Parse an OTM file; raise :class:`InputError` (or :class:`InputErrors`) when it is bad."""
    return _Reader(load(data, path)).read()


# --------------------------------------------------------------------------------------------


class _Reader(ThreatsReader):
    """Reads the whole file: trust zones, components and data flows here, threats in the base."""

    # ---- top level --------------------------------------------------------------------------

    def read(self) -> ParsedModel:
        data = self.doc.data
        if not isinstance(data, Mapping):
            raise InputError(
                "an Open Threat Model file is a mapping with otmVersion and project",
                Location(self.path, 1, 1),
            )
        version = data.get("otmVersion")
        if not isinstance(version, str):
            self._error("otmVersion is missing or not a string; write otmVersion: 0.2.0", ())
        elif not version.startswith("0."):
            self._warn(f"otmVersion {version} is newer than 0.2.0; read as 0.2.0", ("otmVersion",))
        project = data.get("project")
        system = string_of(project.get("name")) if isinstance(project, Mapping) else ""
        if not system:
            self._error("project.name is missing; name the project", ("project",))
        self._raise()
        check_sections(
            data,
            {"components": ELEMENTS, "dataflows": FLOWS, "trustZones": BOUNDARIES},
            self.doc.positions.location,
        )

        zones, outside = self._zones(data)
        ids: dict[str, str] = {b.id: "trust zone" for b in zones}
        elements = self._components(data, {b.id for b in zones}, outside, ids)
        by_element = {e.id: e for e in elements}
        flows = self._flows(data, by_element, ids)
        self._raise()
        controls, definitions = self._catalogue(data)
        instances = list(self._instances(data, by_element, {f.id: f for f in flows}))
        threats, dispositions = self._threats(instances, definitions, controls)
        self._raise()
        model = Model(
            system=system,
            elements=tuple(sorted(elements, key=lambda e: e.id)),
            flows=tuple(sorted(flows, key=lambda f: f.id)),
            boundaries=tuple(sorted(zones, key=lambda b: b.id)),
            controls=tuple(sorted(controls.values(), key=lambda c: c.id)),
            dispositions={k: dispositions[k] for k in sorted(dispositions)},
            stored_threats=tuple(sorted(threats, key=lambda t: t.key)),
            format=name,
            path=self.path,
        )
        return ParsedModel(model=model, warnings=self.diagnostics.warnings())

    # ---- trust zones ------------------------------------------------------------------------

    def _zones(self, data: Mapping[str, Any]) -> tuple[list[Boundary], set[str]]:
        raw: list[tuple[int, str, Mapping[str, Any]]] = []
        outside: set[str] = set()
        seen: dict[str, str] = {}
        for index, item in self._items(data, "trustZones"):
            zone_id = self._id(item, ("trustZones", index), "trust zone", seen)
            if zone_id is None:
                continue
            attributes = item.get("attributes")
            if (
                isinstance(attributes, Mapping)
                and str(attributes.get(OUTSIDE_ATTRIBUTE, "")).lower() == "true"
            ):
                outside.add(zone_id)
                continue
            raw.append((index, zone_id, item))
        known = {zone_id for _, zone_id, _ in raw}
        parents: dict[str, str] = {}
        for index, zone_id, item in raw:
            parent = item.get("parent")
            if parent is None:
                continue
            target = parent.get("trustZone") if isinstance(parent, Mapping) else None
            if isinstance(target, str) and target in known and target != zone_id:
                parents[zone_id] = target
            elif isinstance(target, str) and target in outside:
                continue
            else:
                self._warn(
                    f"trust zone '{zone_id}' names a parent that is not a trust zone; "
                    "it is read as a top-level zone",
                    ("trustZones", index, "parent"),
                )
        for index, zone_id, _ in raw:
            chain = [zone_id]
            current = zone_id
            while current in parents:
                current = parents[current]
                if current in chain:
                    self._error(
                        "trust zone parents form a cycle: " + " -> ".join([*chain, current]),
                        ("trustZones", index, "parent"),
                    )
                    parents.pop(zone_id, None)
                    break
                chain.append(current)
        zones = []
        for index, zone_id, item in raw:
            otm_type = string_of(item.get("type"))
            props = self._properties(item)
            rating = (
                item.get("risk", {}).get("trustRating")
                if isinstance(item.get("risk"), Mapping)
                else None
            )
            if is_number(rating):
                props["trust_rating"] = rating
            kind = boundary_kind_for(otm_type)
            if otm_type and otm_type != kind:
                props["otm_type"] = otm_type
            description = string_of(item.get("description"))
            if description:
                props["description"] = description
            zones.append(
                Boundary(
                    id=zone_id,
                    name=string_of(item.get("name")) or zone_id,
                    kind=kind,
                    parent=parents.get(zone_id),
                    type_chain=boundary_chain(kind),
                    properties=frozen_props(props),
                    location=self.doc.positions.location(("trustZones", index)),
                )
            )
        return zones, outside

    # ---- components -------------------------------------------------------------------------

    def _components(
        self, data: Mapping[str, Any], zones: set[str], outside: set[str], ids: dict[str, str]
    ) -> list[Element]:
        raw: list[tuple[int, str, Mapping[str, Any]]] = []
        for index, item in self._items(data, "components"):
            component_id = self._id(item, ("components", index), "component", ids)
            if component_id is not None:
                raw.append((index, component_id, item))
        parent_zone: dict[str, str | None] = {}
        parent_component: dict[str, str] = {}
        known = {component_id for _, component_id, _ in raw}
        for index, component_id, item in raw:
            parent = item.get("parent")
            zone = parent.get("trustZone") if isinstance(parent, Mapping) else None
            owner = parent.get("component") if isinstance(parent, Mapping) else None
            if isinstance(zone, str) and zone in zones:
                parent_zone[component_id] = zone
            elif isinstance(zone, str) and zone in outside:
                parent_zone[component_id] = None
            elif isinstance(owner, str) and owner in known and owner != component_id:
                parent_component[component_id] = owner
            elif parent is not None:
                self._warn(
                    f"component '{component_id}' names a parent that is neither a trust zone nor "
                    "a component; it is read as outside every trust zone",
                    ("components", index, "parent"),
                )
        elements = []
        for index, component_id, item in raw:
            zone = self._zone_of(component_id, parent_zone, parent_component)
            otm_type = string_of(item.get("type"))
            props = self._properties(item)
            tags = [t for t in list_of(item.get("tags")) if isinstance(t, str)]
            element_type = element_type_for(otm_type, tags)
            kind = kind_for(element_type, otm_type)
            if otm_type and otm_type.lower() not in (element_type, f"{element_type}/{kind}"):
                props["otm_type"] = otm_type
            if component_id in parent_component:
                props["parent_component"] = parent_component[component_id]
            elements.append(
                Element(
                    id=component_id,
                    name=string_of(item.get("name")) or component_id,
                    type=element_type,
                    kind=kind,
                    boundary=zone,
                    properties=frozen_props(props),
                    type_chain=element_chain(element_type, kind),
                    description=string_of(item.get("description")),
                    location=self.doc.positions.location(("components", index)),
                )
            )
        return elements

    @staticmethod
    def _zone_of(
        component_id: str,
        parent_zone: Mapping[str, str | None],
        parent_component: Mapping[str, str],
    ) -> str | None:
        current = component_id
        seen = {current}
        while current in parent_component:
            current = parent_component[current]
            if current in seen:
                return None
            seen.add(current)
        return parent_zone.get(current)

    # ---- data flows -------------------------------------------------------------------------

    def _flows(
        self, data: Mapping[str, Any], elements: Mapping[str, Element], ids: dict[str, str]
    ) -> list[Flow]:
        flows = []
        for index, item in self._items(data, "dataflows"):
            pointer: tuple[str | int, ...] = ("dataflows", index)
            flow_id = self._id(item, pointer, "data flow", ids)
            if flow_id is None:
                continue
            ends = []
            for key in ("source", "destination"):
                ref = item.get(key)
                if not isinstance(ref, str) or not ref:
                    self._error(f"data flow '{flow_id}' has no {key}", pointer)
                elif ref not in elements:
                    self._warn(
                        f"data flow '{flow_id}' has its {key} on '{ref}', which is not a "
                        "component; the flow is skipped",
                        (*pointer, key),
                    )
                else:
                    ends.append(ref)
            if len(ends) != 2:
                continue
            props = self._properties(item)
            protocol = "generic"
            label = props.pop("protocol", None)
            candidates = [label] if isinstance(label, str) else []
            candidates += [t for t in list_of(item.get("tags")) if isinstance(t, str)]
            for candidate in candidates:
                mapped = protocol_for(candidate)
                if mapped is not None:
                    protocol = mapped
                    break
            if isinstance(label, str) and protocol_for(label) != label.strip().lower():
                props["protocol_label"] = label
            flows.append(
                Flow(
                    id=flow_id,
                    name=string_of(item.get("name")) or flow_id,
                    source=ends[0],
                    target=ends[1],
                    protocol=protocol,
                    bidirectional=item.get("bidirectional") is True,
                    properties=frozen_props(props),
                    type_chain=flow_chain(protocol),
                    description=string_of(item.get("description")),
                    location=self.doc.positions.location(pointer),
                    out_of_scope=scope_of(props)[0],
                    out_of_scope_reason=scope_of(props)[1],
                )
            )
        return flows
