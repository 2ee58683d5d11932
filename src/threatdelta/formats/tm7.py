"""Microsoft Threat Modeling Tool models (.tm7) as threatdelta models.

A .tm7 file is DataContract XML holding the diagram tabs, the stored threats and the template
(KnowledgeBase) the model was drawn with. The reader turns

- every tab's stencils into elements (ids are the tool's GUIDs; ``kind`` is the stencil TypeId;
  the type chain follows the template's ParentIds up to ``ROOT``),
- connectors into flows, and border and line boundaries into boundaries,
- the drawing's geometry into containment (an element belongs to the innermost border boundary
  around its centre; a border boundary's parent is the smallest one enclosing it) and into
  crossings (a flow crosses a border boundary when exactly one of its ends is inside it, and a
  line boundary when their curves meet),
- stored threats into dispositions keyed exactly as the tool keys them (a Mitigated threat's
  justification becomes the control its disposition names, see
  :mod:`threatdelta.formats.tm7_threats`),
- and the embedded template into a rule pack (:mod:`threatdelta.formats.tb7`).

Type chains are the template's own: a custom template that defines its own generic types (by
GUID, with ParentId ``ROOT``) gives chains without the tool's core generic ids, exactly as the
tool matches its GenerationFilters (a box of a custom boundary type is not crossed for
``flow crosses 'GE.TB.B'``). What a shape *is* (process, data store, external interactor, border
or line boundary, flow) follows from how its type is drawn; threatdelta's own packs see the core
generic id through that (see :class:`threatdelta.subjects.SubjectFactory`). Only a type the
template does not define falls back to the core generic id.

A flow marked "Out Of Scope" (:data:`OUT_OF_SCOPE`) has no threats, as in the tool; its "Reason
For Out Of Scope" (:data:`OUT_OF_SCOPE_REASON`) is the decision's justification. On an element
the flag changes nothing: the tool still generates the threats of the flows that touch it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import PurePath

from threatdelta.diagnostics import Diagnostics
from threatdelta.errors import InputError, Location
from threatdelta.formats.geometry import (
    Point,
    Rect,
    curve,
    enclosing_parent,
    innermost,
    polylines_intersect,
)
from threatdelta.formats.interface import ParsedModel
from threatdelta.formats.tb7 import pack_from_kb, severity_for, stride_for
from threatdelta.formats.tm7_drawing import Shape, Surface, read_surfaces
from threatdelta.formats.tm7_kb import (
    GENERIC_BY_REPRESENTATION,
    KnowledgeBase,
    find_knowledge_base,
    read_knowledge_base,
)
from threatdelta.formats.tm7_threats import (
    StoredThreat,
    disposition_for,
    mitigation_control,
    read_stored_threats,
)
from threatdelta.formats.tm7_xml import child, local_name, parse_xml, text, xml_positions
from threatdelta.model.model import (
    Boundary,
    Control,
    Disposition,
    Element,
    ElementType,
    Flow,
    Model,
    Value,
    frozen_props,
)
from threatdelta.model.types import PROTOCOLS, ROOT
from threatdelta.positions import Positions
from threatdelta.threat import Threat

name = "tm7"
"""Short format name."""

DIAGRAM_PROPERTY = "diagram"
"""Property holding the name of the diagram tab a shape is drawn on."""

OUT_OF_SCOPE = "71f3d9aa-b8ef-4e54-8126-607a1d903103"
"""Attribute name of the tool's "Out Of Scope" flag (a boolean on every stencil and flow)."""

OUT_OF_SCOPE_REASON = "752473b6-52d4-4776-9a24-202153f7d579"
"""Attribute name of the tool's "Reason For Out Of Scope" text."""

_ELEMENT_TYPES: dict[str, ElementType] = {
    "GE.P": "process",
    "GE.DS": "data-store",
    "GE.EI": "external-entity",
}
_GENERIC_BY_SHAPE: dict[str, str] = {
    "StencilEllipse": "GE.P",
    "StencilParallelLines": "GE.DS",
    "StencilRectangle": "GE.EI",
    "BorderBoundary": "GE.TB.B",
    "LineBoundary": "GE.TB.L",
    "Connector": "GE.DF",
}


def sniff(path: str, data: bytes) -> bool:
    """True when ``data`` looks like a .tm7 model (by extension, else by its root element)."""
    if path.lower().endswith(".tm7"):
        return True
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<?xml"):
        end = head.find(b"?>")
        head = head[end + 2 :].lstrip() if end >= 0 else head
    return head.startswith(b"<ThreatModel")


def read(data: bytes, path: str) -> ParsedModel:
    """Parse a .tm7 file; raise :class:`InputError` with a clear message on bad input."""
    root = parse_xml(data, path, ".tm7")
    root_name = local_name(root.tag)
    if root_name == "KnowledgeBase":
        raise InputError(
            "this is a Threat Modeling Tool template (.tb7), not a model (.tm7); use it as a "
            "rule pack instead",
            Location(path),
        )
    if root_name != "ThreatModel":
        raise InputError(
            f"this is XML but not a Threat Modeling Tool model: its root element is "
            f"<{root_name}>, not <ThreatModel>",
            Location(path),
        )
    diagnostics = Diagnostics(path)
    kb_node = find_knowledge_base(root)
    kb = read_knowledge_base(kb_node, path) if kb_node is not None else KnowledgeBase(name="")
    if kb_node is None:
        diagnostics.warn("the model has no embedded template (KnowledgeBase)")
    positions = xml_positions(data, path)
    pack = pack_from_kb(kb, path, positions) if kb_node is not None else None

    builder = _Builder(kb, path, diagnostics, positions)
    for surface in read_surfaces(root):
        builder.add_surface(surface)

    stored = read_stored_threats(root)
    dispositions: dict[str, Disposition] = {}
    controls: dict[str, Control] = {}
    stored_threats: list[Threat] = []
    known_rules = {t.id for t in kb.threat_types}
    for threat in stored:
        if threat.key != threat.computed_key:
            diagnostics.warn(
                f"stored threat {threat.key!r} is keyed differently from its parts "
                f"({threat.computed_key!r}); the stored key is used"
            )
        if threat.key in dispositions:
            diagnostics.warn(f"threat {threat.key!r} is stored twice; the first is used")
            continue
        stale = _staleness(threat, builder)
        dispositions[threat.key] = disposition_for(threat, path, stale)
        control = mitigation_control(threat, path)
        if control is not None:
            controls[control.id] = control
        if threat.type_id not in known_rules and not stale:
            stored_threats.append(_stored_threat(threat, kb, path))

    system = text(child(root, "MetaInformation"), "ThreatModelName").strip()
    model = Model(
        system=system or PurePath(path).stem or "Threat model",
        elements=tuple(sorted(builder.elements.values(), key=lambda e: e.id)),
        flows=tuple(sorted(builder.flows.values(), key=lambda f: f.id)),
        boundaries=tuple(sorted(builder.boundaries.values(), key=lambda b: b.id)),
        controls=tuple(controls[k] for k in sorted(controls)),
        dispositions=dict(sorted(dispositions.items())),
        stored_threats=tuple(sorted(stored_threats, key=lambda t: t.key)),
        format=name,
        path=path,
    )
    return ParsedModel(model=model, pack=pack, warnings=diagnostics.warnings())


def _staleness(threat: StoredThreat, builder: _Builder) -> str:
    """Evidence in the file that a stored threat is out of date ('' when there is none).

    The tool keeps a threat in its list after the interaction changed: it marks the interaction
    Deleted, or the flow now joins other elements, or the flow was marked out of scope. Such a
    threat is never one the template regenerates, whatever its state says.
    """
    if threat.deleted:
        return "the Threat Modeling Tool marks its interaction as Deleted"
    if not threat.flow:
        return ""
    flow = builder.flows.get(threat.flow)
    if flow is None:
        return f"its flow {threat.flow} is no longer in the model"
    if (flow.source, flow.target) != (threat.source, threat.target):
        return (
            f"its flow {flow.name!r} now runs from {_name(builder, flow.source)} to "
            f"{_name(builder, flow.target)}, not from {_name(builder, threat.source)} to "
            f"{_name(builder, threat.target)}"
        )
    if flow.out_of_scope:
        return f"its flow {flow.name!r} is marked out of scope"
    return ""


def _name(builder: _Builder, guid: str) -> str:
    element = builder.elements.get(guid)
    return f"{element.name!r}" if element is not None else f"{guid} (no longer in the model)"


def _stored_threat(threat: StoredThreat, kb: KnowledgeBase, path: str) -> Threat:
    """A stored threat no template rule can produce (its threat type is not in the template)."""
    category = next(
        (c for c in kb.categories.values() if c.name.casefold() == threat.category.casefold()),
        None,
    )
    return Threat(
        key=threat.key,
        rule_id=threat.type_id,
        stride=stride_for(category, threat.category),
        title=threat.title or threat.type_id,
        scope="interaction",
        severity=severity_for(threat.priority),
        description=threat.description,
        category=threat.category,
        flow=threat.flow or None,
        source=threat.source or None,
        target=threat.target or None,
        location=Location(path),
        reference=threat.reference,
    )


class _Builder:
    """Collects elements, flows and boundaries tab by tab."""

    def __init__(
        self, kb: KnowledgeBase, path: str, diagnostics: Diagnostics, positions: Positions
    ) -> None:
        self.kb = kb
        self.path = path
        self.positions = positions
        self.diagnostics = diagnostics
        self.parents = kb.parents
        self.elements: dict[str, Element] = {}
        self.flows: dict[str, Flow] = {}
        self.boundaries: dict[str, Boundary] = {}
        self._seen: set[str] = set()
        self._unknown_types: set[str] = set()

    def _generic(self, shape: Shape) -> str:
        """The core generic id of a shape: from its type's chain, else what was recorded/drawn."""
        generic = self.kb.generic_of(shape.type_id) if shape.type_id else ""
        if not generic:
            generic = self.kb.generic_of(shape.generic_type_id) if shape.generic_type_id else ""
        if not generic and shape.generic_type_id in GENERIC_BY_REPRESENTATION.values():
            generic = shape.generic_type_id
        if not generic:
            generic = _GENERIC_BY_SHAPE.get(shape.shape, "")
        return generic

    def _chain(self, shape: Shape, generic: str) -> tuple[str, ...]:
        """The type chain of a shape, most specific first, ending in ``ROOT``.

        A type the template defines keeps the template's own chain: a custom generic boundary
        type is not ``GE.TB.B``, so ``flow crosses 'GE.TB.B'`` does not see it, as in the tool.
        Only a type the template does not know falls back to what the shape recorded and the
        core generic id of how it is drawn.
        """
        base = shape.type_id or shape.generic_type_id or generic
        if base in self.kb.types:
            return self.kb.chain(base)
        if self.kb.types and base not in self._unknown_types:
            self._unknown_types.add(base)
            self.diagnostics.warn(
                f"type {base!r} (of {self._display_name(shape)!r}) is not in the "
                "embedded template; only its generic type takes part in rules",
                self.positions.location((shape.guid,)),
            )
        if shape.generic_type_id in self.kb.types:
            return (base, *self.kb.chain(shape.generic_type_id))
        chain = [base]
        for extra in (shape.generic_type_id, generic):
            if extra and extra != ROOT and extra not in chain:
                chain.append(extra)
        chain.append(ROOT)
        return tuple(chain)

    def _claim(self, shape: Shape) -> bool:
        if shape.guid in self._seen:
            self.diagnostics.warn(
                f"GUID {shape.guid} is used by more than one shape "
                f"(tab {shape.surface_name!r}); only the first is read",
                self.positions.location((shape.guid,)),
            )
            return False
        self._seen.add(shape.guid)
        return True

    def _props(self, shape: Shape) -> Mapping[str, Value]:
        props: dict[str, Value] = dict(shape.properties)
        props[DIAGRAM_PROPERTY] = shape.surface_name
        return frozen_props(props)

    def _display_name(self, shape: Shape) -> str:
        if shape.name:
            return shape.name
        kb_type = self.kb.types.get(shape.type_id)
        return kb_type.name if kb_type is not None else shape.type_id or shape.guid

    def add_surface(self, surface: Surface) -> None:
        """Add one diagram tab."""
        borders: list[tuple[str, Rect]] = []
        element_shapes: list[tuple[Shape, ElementType]] = []
        line_boundaries: list[Shape] = []
        connectors: list[Shape] = []

        for shape in surface.borders:
            generic = self._generic(shape)
            if generic == "GE.TB.B" and shape.rect is not None:
                if self._claim(shape):
                    borders.append((shape.guid, shape.rect))
                    self._add_boundary(shape, generic)
            elif generic in _ELEMENT_TYPES:
                if self._claim(shape):
                    element_shapes.append((shape, _ELEMENT_TYPES[generic]))
            elif generic != "GE.A":
                self.diagnostics.warn(
                    f"shape {shape.guid} ({shape.type_id or shape.shape}) on tab "
                    f"{surface.name!r} is of no known kind and was skipped",
                    self.positions.location((shape.guid,)),
                )
        for shape in surface.lines:
            generic = self._generic(shape)
            if generic == "GE.TB.L":
                if self._claim(shape):
                    line_boundaries.append(shape)
                    self._add_boundary(shape, generic)
            elif generic == "GE.DF" or shape.shape == "Connector":
                if self._claim(shape):
                    connectors.append(shape)
            else:
                self.diagnostics.warn(
                    f"line {shape.guid} ({shape.type_id or shape.shape}) on tab "
                    f"{surface.name!r} is of no known kind and was skipped",
                    self.positions.location((shape.guid,)),
                )

        # Border nesting and element placement by geometry.
        for boundary_id, rect in borders:
            parent = enclosing_parent(boundary_id, rect, borders)
            if parent is not None:
                boundary = self.boundaries[boundary_id]
                self.boundaries[boundary_id] = replace(boundary, parent=parent)
        centres: dict[str, Point] = {}
        for shape, element_type in element_shapes:
            home: str | None = None
            if shape.rect is not None:
                centres[shape.guid] = shape.rect.centre
                home = innermost(shape.rect.centre, borders)
            self.elements[shape.guid] = Element(
                id=shape.guid,
                name=self._display_name(shape),
                type=element_type,
                kind=shape.type_id or shape.generic_type_id or "generic",
                boundary=home,
                properties=self._props(shape),
                type_chain=self._chain(shape, self._generic(shape)),
                location=self.positions.location((shape.guid,)),
            )

        line_curves = [(shape.guid, _curve_of(shape)) for shape in line_boundaries]
        for shape in connectors:
            self._add_flow(shape, surface, borders, centres, line_curves)

    def _add_boundary(self, shape: Shape, generic: str) -> None:
        self.boundaries[shape.guid] = Boundary(
            id=shape.guid,
            name=self._display_name(shape),
            kind=shape.type_id or generic,
            parent=None,
            type_chain=self._chain(shape, generic),
            properties=self._props(shape),
            location=self.positions.location((shape.guid,)),
        )

    def _add_flow(
        self,
        shape: Shape,
        surface: Surface,
        borders: list[tuple[str, Rect]],
        centres: dict[str, Point],
        line_curves: list[tuple[str, tuple[Point, ...]]],
    ) -> None:
        missing = [
            end
            for end, guid in (("source", shape.source), ("target", shape.target))
            if guid not in self.elements
        ]
        if missing:
            self.diagnostics.warn(
                f"flow {self._display_name(shape)!r} ({shape.guid}) on tab "
                f"{surface.name!r} has no {' and no '.join(missing)} element attached; the tool "
                "generates no threats for it, and neither does threatdelta",
                self.positions.location((shape.guid,)),
            )
            return
        crossed: set[str] = set()
        source_centre = centres.get(shape.source)
        target_centre = centres.get(shape.target)
        if source_centre is not None and target_centre is not None:
            for boundary_id, rect in borders:
                if rect.contains(source_centre) != rect.contains(target_centre):
                    crossed.add(boundary_id)
        flow_curve = _curve_of(shape)
        for boundary_id, boundary_curve in line_curves:
            if polylines_intersect(flow_curve, boundary_curve):
                crossed.add(boundary_id)
        generic = self._generic(shape) or "GE.DF"
        out_of_scope = shape.properties.get(OUT_OF_SCOPE) is True
        reason = str(shape.properties.get(OUT_OF_SCOPE_REASON) or "").strip()
        if out_of_scope and not reason:
            self.diagnostics.warn(
                f"flow {self._display_name(shape)!r} ({shape.guid}) on tab "
                f"{surface.name!r} is marked Out Of Scope without a reason; it has no threats, "
                "so write why in its Reason For Out Of Scope",
                self.positions.location((shape.guid,)),
            )
        self.flows[shape.guid] = Flow(
            id=shape.guid,
            name=self._display_name(shape),
            source=shape.source,
            target=shape.target,
            protocol=_protocol(shape.type_id, self.kb),
            properties=self._props(shape),
            type_chain=self._chain(shape, generic),
            crosses=tuple(sorted(crossed)),
            location=self.positions.location((shape.guid,)),
            out_of_scope=out_of_scope,
            out_of_scope_reason=reason,
        )


def _curve_of(shape: Shape) -> tuple[Point, ...]:
    """The polyline of a line shape (empty when it lacks end points)."""
    if shape.source_point is None or shape.target_point is None:
        return ()
    return curve(shape.source_point, shape.handle, shape.target_point)


def _protocol(type_id: str, kb: KnowledgeBase) -> str:
    """A native protocol name for a flow stencil when its type says one (HTTPS, UDP, ...)."""
    candidates = [type_id.rpartition(".")[2]]
    kb_type = kb.types.get(type_id)
    if kb_type is not None:
        candidates.append(kb_type.name)
    for candidate in candidates:
        word = candidate.strip().lower()
        if word in PROTOCOLS:
            return word
    return "generic"
