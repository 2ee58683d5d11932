"""OWASP Threat Dragon models (v2 JSON, and v1 as far as it goes) read into a :class:`Model`.

A Threat Dragon file is a list of diagrams, each a list of drawing cells. Cells are told apart by
``data.type`` (v2) or ``type`` (v1), with the cell's ``shape`` as a fallback:

- ``tm.Actor`` -> external entity, ``tm.Process`` -> process, ``tm.Store`` -> data store;
- ``tm.Flow`` -> data flow; ``tm.Boundary`` (a curve) -> line boundary; ``tm.BoundaryBox`` -> a
  border boundary that contains the elements drawn inside it;
- ``tm.Text`` is a note and is skipped; anything else is skipped with a warning.

Cell ids (UUIDs) are the element and flow ids, so threat keys survive renames. The file does not
say which boundary a flow crosses, so it is worked out from the drawing (see
:mod:`threatdelta.formats.geometry`): a flow crosses a box when exactly one of its ends is
inside it, and a curve when the two polylines meet. A flow marked ``isPublicNetwork`` also crosses
a ``public-network`` boundary that the reader adds to the model. Threats stored on cells become
:attr:`Model.stored_threats` keyed ``td:<threat id>``, each with a disposition from its status;
a threat stored as Mitigated with a mitigation text is mitigated by a control that text describes
(id ``mitigation:`` + the key, see :mod:`threatdelta.formats.mitigations`), as a .tm7 Mitigated
threat is. Those threats are read by :mod:`threatdelta.formats.dragon_threats`; locations,
warnings and the cell itself live in :mod:`threatdelta.formats.dragon_document`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from threatdelta.errors import InputError, Location
from threatdelta.formats.dragon_document import Cell, CellKind, clean, text_of
from threatdelta.formats.dragon_threats import ThreatsReader
from threatdelta.formats.geometry import (
    Point,
    Rect,
    box_parents,
    finite_point,
    finite_rect,
    innermost,
    nearest_rect,
    polylines_intersect,
)
from threatdelta.formats.interface import ParsedModel
from threatdelta.formats.json_source import decode_json
from threatdelta.formats.vocabulary import protocol_for
from threatdelta.limits import (
    MAX_BOUNDARIES,
    MAX_ELEMENTS,
    MAX_FILE_BYTES,
    MAX_FLOWS,
    check_model_counts,
)
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
    scope_of,
)
from threatdelta.model.nesting import chains, check_nesting
from threatdelta.model.types import boundary_chain, element_chain, flow_chain
from threatdelta.threat import Threat

name = "dragon"
"""Format name."""

MAX_BYTES = MAX_FILE_BYTES
"""Largest file read."""
MAX_CELLS = MAX_ELEMENTS + MAX_FLOWS + MAX_BOUNDARIES
"""Most cells over all diagrams (the model limits of :mod:`threatdelta.limits` together)."""
MAX_POINTS = 1_000
"""Most vertices on one flow or boundary curve."""
MAX_GEOMETRY_WORK = 5_000_000
"""Most shape-against-shape tests one diagram may need; a larger drawing is refused."""
SNAP_DISTANCE = 30.0
"""How far (diagram units) a loose flow end may be from an element and still be attached to it."""

PUBLIC_NETWORK_ID = "public-network"
"""Id of the boundary added for flows marked ``isPublicNetwork``."""

# --------------------------------------------------------------------------------------------
# The reader.


def sniff(path: str, data: bytes) -> bool:
    """True for a JSON object with ``detail.diagrams`` (and not an Open Threat Model file)."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return False
    return b'"diagrams"' in data and b'"detail"' in data and b'"otmVersion"' not in data


def read(data: bytes, path: str) -> ParsedModel:
    """Parse a Threat Dragon model; raise :class:`InputError` when it is not one."""
    text, document = decode_json(data, path)
    return _Reader(text, path).read(document)


_KIND_BY_TYPE: dict[str, CellKind] = {
    "tm.Actor": "actor",
    "tm.Process": "process",
    "tm.Store": "store",
    "tm.Flow": "flow",
    "tm.Boundary": "curve",
    "tm.BoundaryBox": "box",
    "tm.Text": "text",
}
_KIND_BY_SHAPE: dict[str, CellKind] = {
    "actor": "actor",
    "process": "process",
    "store": "store",
    "flow": "flow",
    "trust-boundary-curve": "curve",
    "trust-broundary-curve": "curve",  # spelling written by some Threat Dragon releases
    "trust-boundary-box": "box",
    "trust-broundary-box": "box",
    "td-text-block": "text",
    **_KIND_BY_TYPE,
}
_ELEMENT_TYPES: dict[str, ElementType] = {
    "actor": "external-entity",
    "process": "process",
    "store": "data-store",
}
_BOOLEAN_PROPERTIES: dict[str, str] = {
    "isEncrypted": "encrypted",
    "isPublicNetwork": "public_network",
    "providesAuthentication": "authenticated",
    "isALog": "stores_logs",
    "storesCredentials": "stores_credentials",
    "isSigned": "signed",
    "handlesCardPayment": "handles_card_payment",
    "handlesGoodsOrServices": "handles_goods_or_services",
    "isWebApplication": "is_web_application",
    "storesInventory": "stores_inventory",
    "outOfScope": "out_of_scope",
}
_TEXT_PROPERTIES: dict[str, str] = {
    "privilegeLevel": "privilege_level",
    "reasonOutOfScope": "out_of_scope_reason",
}
_NOT_PROPERTIES = frozenset(
    {
        # read into fields, or derived by the tool
        "type", "name", "description", "threats", "hasOpenThreats", "threatFrequency",
        "isTrustBoundary", "isBidirectional", "protocol", "modelType", "trustBoundaryIds",
        "new", "number", "score",
        # v1 drawing state kept on the cell itself
        "id", "z", "zIndex", "angle", "size", "position", "attrs", "smooth", "source", "target",
        "vertices", "labels", "ports", "shape", "visible", "connector", "tools", "width",
        "height", "markup", "router", "embeds", "parent", "data",
    }
)  # fmt: skip


@dataclass(frozen=True)
class _End:
    """Where one end of a flow is: an element (with its centre, when drawn) or nowhere."""

    element: str | None
    point: Point | None


def _get(mapping: object, *keys: str | int) -> object:
    """Nested lookup that answers None on any missing or mistyped step."""
    current = mapping
    for key in keys:
        if isinstance(key, int):
            if not isinstance(current, list) or not -len(current) <= key < len(current):
                return None
            current = current[key]
        else:
            if not isinstance(current, Mapping):
                return None
            current = current.get(key)
    return current


def _snake(key: str) -> str:
    """``camelCase`` as ``camel_case``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


class _Reader(ThreatsReader):
    """Turns one parsed file into a model; holds the warnings gathered on the way."""

    # ---- structure -------------------------------------------------------------------------

    def read(self, document: object) -> ParsedModel:
        if not isinstance(document, Mapping):
            raise InputError(
                "a Threat Dragon model is a JSON object with 'summary' and 'detail'; "
                f"this file holds a JSON {type(document).__name__}",
                Location(self.path, 1, 1),
            )
        detail = document.get("detail")
        diagrams = _get(detail, "diagrams")
        if not isinstance(diagrams, list):
            where = ("detail", "diagrams") if isinstance(detail, Mapping) else ()
            raise InputError(
                "no 'detail.diagrams' list: this is not a Threat Dragon model "
                "(open it in Threat Dragon and save it again, or name the right file)",
                self.positions.location(where),
            )
        cells = list(self._cells(diagrams))
        system = clean(_get(document, "summary", "title")) or _stem(self.path)
        model = self._model(system, cells)
        return ParsedModel(model=model, warnings=self.diagnostics.warnings())

    def _cells(self, diagrams: list[object]) -> Iterator[Cell]:
        seen: set[str] = set()
        count = 0
        for number, diagram in enumerate(diagrams):
            where: tuple[str | int, ...] = ("detail", "diagrams", number)
            if not isinstance(diagram, Mapping):
                raise InputError(
                    f"diagram {number + 1} is not a JSON object", self.positions.location(where)
                )
            v1 = "cells" not in diagram and "diagramJson" in diagram
            if v1:
                raw_cells = _get(diagram, "diagramJson", "cells")
                where = (*where, "diagramJson", "cells")
            else:
                raw_cells = diagram.get("cells")
                where = (*where, "cells")
            if raw_cells is None:
                continue  # an empty diagram is saved without cells
            if not isinstance(raw_cells, list):
                raise InputError(
                    f"the cells of diagram {number + 1} are not a JSON list",
                    self.positions.location(where),
                )
            for index, raw in enumerate(raw_cells):
                count += 1
                if count > MAX_CELLS:
                    raise InputError(
                        f"more than {MAX_CELLS} cells: too large to be a threat model",
                        self.positions.location((*where, index)),
                    )
                cell = self._cell(raw, (*where, index), number, v1)
                if cell is None:
                    continue
                if cell.id in seen:
                    self.diagnostics.warn(
                        f"a second cell has the id '{cell.id}'; it is skipped "
                        "(give every shape its own id)",
                        self.positions.location((*where, index)),
                    )
                    continue
                seen.add(cell.id)
                yield cell

    def _cell(
        self, raw: object, pointer: tuple[str | int, ...], diagram: int, v1: bool
    ) -> Cell | None:
        if not isinstance(raw, Mapping):
            raise InputError(
                "a diagram cell is not a JSON object", self.positions.location(pointer)
            )
        cell_id = raw.get("id")
        if isinstance(cell_id, int) and not isinstance(cell_id, bool):
            cell_id = str(cell_id)
        if not isinstance(cell_id, str) or not cell_id.strip():
            self.diagnostics.warn(
                "a cell without an id is skipped", self.positions.location(pointer)
            )
            return None
        data = raw if v1 else raw.get("data")
        if not isinstance(data, Mapping):
            data = {}
        type_name = data.get("type") if not v1 else raw.get("type")
        shape = raw.get("shape")
        kind = _KIND_BY_TYPE.get(type_name) if isinstance(type_name, str) else None
        if kind is None and isinstance(shape, str):
            kind = _KIND_BY_SHAPE.get(shape)
            if kind is not None and isinstance(type_name, str) and type_name:
                self.diagnostics.warn(
                    f"cell '{cell_id}' has the unknown type '{type_name}'; "
                    f"read as its shape '{shape}' says",
                    self.ids.location((cell_id,)),
                )
        if kind is None:
            label = type_name if isinstance(type_name, str) and type_name else shape
            self.diagnostics.warn(
                f"cell '{cell_id}' has the unknown shape '{label}' and is skipped"
                + _suggestion(label),
                self.ids.location((cell_id,)),
            )
            return None
        return Cell(cell_id, kind, data, raw, pointer, diagram, v1)

    # ---- model -----------------------------------------------------------------------------

    def _model(self, system: str, cells: list[Cell]) -> Model:
        nodes = {c.id: c for c in cells if c.kind in _ELEMENT_TYPES}
        boxes = {c.id: c for c in cells if c.kind == "box" and self._is_trust(c)}
        curves = {c.id: c for c in cells if c.kind == "curve" and self._is_trust(c)}
        flows = [c for c in cells if c.kind == "flow"]
        check_model_counts(len(nodes), len(flows), len(boxes) + len(curves), Location(self.path))

        node_rects = {i: r for i, c in nodes.items() if (r := self._rect(c)) is not None}
        box_rects = {i: r for i, c in boxes.items() if (r := self._rect(c)) is not None}
        for box_id in boxes.keys() - box_rects.keys():
            self.diagnostics.warn(
                f"trust boundary box '{box_id}' has no usable position and size; "
                "it contains nothing",
                self.ids.location((box_id,)),
            )

        # Containment is decided per diagram: a box only holds what is drawn beside it.
        parents: dict[str, str | None] = {}
        membership: dict[str, str | None] = {}
        for diagram in sorted({c.diagram for c in cells}):
            here = {i: r for i, r in box_rects.items() if boxes[i].diagram == diagram}
            drawn = sum(1 for c in cells if c.diagram == diagram)
            self._budget(diagram, len(here) * (len(here) + drawn))
            parents.update(box_parents(here))
            for node_id, rect in node_rects.items():
                if nodes[node_id].diagram == diagram:
                    membership[node_id] = innermost(rect.centre, here.items(), strict=True)

        check_nesting(parents, lambda box_id: self.ids.location((box_id,)))
        boundaries = [self._box(boxes[i], parents.get(i)) for i in sorted(boxes)]
        curve_lines: dict[str, list[Point]] = {}
        for curve_id in sorted(curves):
            line = self._polyline(curves[curve_id], {})
            if line is None or len(line) < 2:
                self.diagnostics.warn(
                    f"trust boundary curve '{curve_id}' has no usable points; nothing crosses it",
                    self.ids.location((curve_id,)),
                )
            else:
                curve_lines[curve_id] = line
            boundaries.append(self._curve(curves[curve_id]))

        elements = [self._element(nodes[i], membership.get(i)) for i in sorted(nodes)]
        by_id = {e.id: e for e in elements}
        ancestors = _ancestors(parents)
        for diagram in sorted({c.diagram for c in cells}):
            flow_segments = sum(
                len(_list(c.raw.get("vertices"))) + 1 for c in flows if c.diagram == diagram
            )
            curve_segments = sum(
                len(line) - 1 for i, line in curve_lines.items() if curves[i].diagram == diagram
            )
            self._budget(diagram, flow_segments * curve_segments)

        model_flows: list[Flow] = []
        threats: list[Threat] = []
        dispositions: dict[str, Disposition] = {}
        controls: list[Control] = []
        keys: set[str] = set()
        public = False
        for cell in sorted(flows, key=lambda c: c.id):
            here = {i: r for i, r in node_rects.items() if nodes[i].diagram == cell.diagram}
            lines = {
                i: line for i, line in curve_lines.items() if curves[i].diagram == cell.diagram
            }
            flow = self._flow(cell, by_id, here, ancestors, lines)
            if flow is None:
                continue
            public = public or flow.properties.get("public_network") is True
            model_flows.append(flow)
            for threat, disposition, control in self._threats(cell, flow, keys):
                threats.append(threat)
                dispositions[threat.key] = disposition
                if control is not None:
                    controls.append(control)
        for element in elements:
            for threat, disposition, control in self._threats(nodes[element.id], element, keys):
                threats.append(threat)
                dispositions[threat.key] = disposition
                if control is not None:
                    controls.append(control)
        if public:
            boundaries.append(self._public_network({b.id for b in boundaries}))

        threats.sort(key=lambda t: t.key)
        return Model(
            system=system,
            elements=tuple(elements),
            flows=tuple(model_flows),
            boundaries=tuple(sorted(boundaries, key=lambda b: b.id)),
            controls=tuple(sorted(controls, key=lambda c: c.id)),
            dispositions={k: dispositions[k] for k in sorted(dispositions)},
            stored_threats=tuple(threats),
            format=name,
            path=self.path,
        )

    def _budget(self, diagram: int, work: int) -> None:
        if work > MAX_GEOMETRY_WORK:
            raise InputError(
                f"diagram {diagram + 1} is too large to work out its trust boundaries "
                f"({work} shape tests, at most {MAX_GEOMETRY_WORK}); split it into several diagrams",
                self.positions.location(("detail", "diagrams", diagram)),
            )

    def _is_trust(self, cell: Cell) -> bool:
        if cell.data.get("isTrustBoundary") is False:
            self.diagnostics.warn(
                f"boundary '{cell.id}' is marked as not a trust boundary and is skipped",
                self.ids.location((cell.id,)),
            )
            return False
        return True

    def _rect(self, cell: Cell) -> Rect | None:
        return finite_rect(cell.raw.get("position"), cell.raw.get("size"))

    def _name(self, cell: Cell) -> str:
        for candidate in (
            cell.data.get("name"),
            _get(cell.raw, "attrs", "text", "text"),
            _get(cell.raw, "attrs", "label", "text"),
            _get(cell.raw, "labels", 0, "attrs", "labelText", "text"),
            _get(cell.raw, "labels", 0, "attrs", "text", "text"),
            _get(cell.raw, "labels", 0),
        ):
            text = clean(candidate)
            if text:
                return text
        return ""

    def _properties(self, cell: Cell) -> dict[str, Value]:
        props: dict[str, Value] = {}
        for key, value in cell.data.items():
            if key in _BOOLEAN_PROPERTIES:
                flag = _boolean(value)
                if flag is not None:
                    props[_BOOLEAN_PROPERTIES[key]] = flag
            elif key in _TEXT_PROPERTIES:
                text = text_of(value)
                if text:
                    props[_TEXT_PROPERTIES[key]] = text
            elif key not in _NOT_PROPERTIES and not key.startswith("."):
                if isinstance(value, (bool, int, float)) or (isinstance(value, str) and value):
                    props[_snake(key)] = value
        return props

    def _element(self, cell: Cell, boundary: str | None) -> Element:
        element_type = _ELEMENT_TYPES[cell.kind]
        return Element(
            id=cell.id,
            name=self._name(cell) or element_type.replace("-", " ").capitalize(),
            type=element_type,
            kind="generic",
            boundary=boundary,
            properties=frozen_props(self._properties(cell)),
            type_chain=element_chain(element_type, "generic"),
            description=text_of(cell.data.get("description")),
            location=self.ids.location((cell.id,)),
        )

    def _box(self, cell: Cell, parent: str | None) -> Boundary:
        return Boundary(
            id=cell.id,
            name=self._name(cell) or "Trust boundary",
            kind="generic",
            parent=parent,
            type_chain=boundary_chain("generic"),
            location=self.ids.location((cell.id,)),
        )

    def _curve(self, cell: Cell) -> Boundary:
        return Boundary(
            id=cell.id,
            name=self._name(cell) or "Trust boundary",
            kind="generic",
            type_chain=boundary_chain("generic", line=True),
            location=self.ids.location((cell.id,)),
        )

    def _public_network(self, taken: set[str]) -> Boundary:
        boundary_id = PUBLIC_NETWORK_ID
        while boundary_id in taken:
            boundary_id = f"{boundary_id}-"
        return Boundary(
            id=boundary_id,
            name="Public network",
            kind="network",
            type_chain=boundary_chain("network"),
            properties=frozen_props({"added_for": "isPublicNetwork"}),
        )

    # ---- flows -----------------------------------------------------------------------------

    def _end(
        self, cell: Cell, side: str, elements: Mapping[str, Element], rects: Mapping[str, Rect]
    ) -> _End | None:
        end = cell.raw.get(side)
        ref = _get(end, "id" if cell.v1 else "cell")
        if not isinstance(ref, str):
            ref = _get(end, "cell") if cell.v1 else _get(end, "id")
        if isinstance(ref, str):
            if ref in elements:
                rect = rects.get(ref)
                return _End(ref, rect.centre if rect else None)
            self.diagnostics.warn(
                f"flow '{cell.id}' has its {side} on '{ref}', which is not an actor, process or "
                "store; the flow is skipped",
                self.ids.location((cell.id,)),
            )
            return None
        point = finite_point(end)
        if point is None:
            self.diagnostics.warn(
                f"flow '{cell.id}' has no {side}; the flow is skipped",
                self.ids.location((cell.id,)),
            )
            return None
        near = nearest_rect(point, rects, SNAP_DISTANCE)
        if near is None:
            self.diagnostics.warn(
                f"the {side} end of flow '{cell.id}' is not attached to any element; "
                "the flow is skipped (connect both ends in Threat Dragon)",
                self.ids.location((cell.id,)),
            )
            return None
        element_id, gap = near
        self.diagnostics.warn(
            f"the {side} end of flow '{cell.id}' is not attached to an element; it is taken to "
            f"be '{elements[element_id].name}', {gap:.0f} units away (connect it in Threat Dragon)",
            self.ids.location((cell.id,)),
        )
        return _End(element_id, point)

    def _polyline(self, cell: Cell, ends: Mapping[str, Point | None]) -> list[Point] | None:
        """Start, vertices, end; None when an end has no position."""
        vertices = cell.raw.get("vertices")
        points: list[Point] = []
        start = ends["source"] if "source" in ends else finite_point(cell.raw.get("source"))
        if start is None:
            return None
        points.append(start)
        if isinstance(vertices, list):
            if len(vertices) > MAX_POINTS:
                raise InputError(
                    f"cell '{cell.id}' has more than {MAX_POINTS} vertices",
                    self.ids.location((cell.id,)),
                )
            points.extend(p for v in vertices if (p := finite_point(v)) is not None)
        end = ends["target"] if "target" in ends else finite_point(cell.raw.get("target"))
        if end is None:
            return None
        points.append(end)
        return points

    def _flow(
        self,
        cell: Cell,
        elements: Mapping[str, Element],
        rects: Mapping[str, Rect],
        ancestors: Mapping[str | None, frozenset[str]],
        curves: Mapping[str, list[Point]],
    ) -> Flow | None:
        """The flow, or None (with a warning) when an end is not on an element.

        ``rects`` are the drawn elements of the flow's own diagram."""
        source = self._end(cell, "source", elements, rects)
        target = self._end(cell, "target", elements, rects)
        if source is None or target is None or source.element is None or target.element is None:
            return None
        props = self._properties(cell)
        protocol = "generic"
        raw_protocol = text_of(cell.data.get("protocol"))
        if raw_protocol:
            mapped = protocol_for(raw_protocol)
            if mapped is not None:
                protocol = mapped
            if mapped is None or " ".join(raw_protocol.lower().split()) != mapped:
                props["protocol_label"] = raw_protocol

        crosses = self._crossings(
            cell, source, target, elements, ancestors, curves, props.get("public_network") is True
        )
        src_name, tgt_name = elements[source.element].name, elements[target.element].name
        return Flow(
            id=cell.id,
            name=self._name(cell) or f"{src_name} to {tgt_name}",
            source=source.element,
            target=target.element,
            protocol=protocol,
            bidirectional=_boolean(cell.data.get("isBidirectional")) is True,
            properties=frozen_props(props),
            type_chain=flow_chain(protocol),
            crosses=crosses,
            description=text_of(cell.data.get("description")),
            location=self.ids.location((cell.id,)),
            out_of_scope=scope_of(props)[0],
            out_of_scope_reason=scope_of(props)[1],
        )

    def _crossings(
        self,
        cell: Cell,
        source: _End,
        target: _End,
        elements: Mapping[str, Element],
        ancestors: Mapping[str | None, frozenset[str]],
        curves: Mapping[str, list[Point]],
        public: bool,
    ) -> tuple[str, ...]:
        saved = cell.data.get("trustBoundaryIds")
        if isinstance(saved, list) and all(isinstance(b, str) for b in saved):
            crossed = set(saved)  # written by the tool itself: taken as it is
        else:
            assert source.element is not None and target.element is not None
            inside_source = ancestors.get(elements[source.element].boundary, frozenset())
            inside_target = ancestors.get(elements[target.element].boundary, frozenset())
            crossed = set(inside_source ^ inside_target)
            line = self._polyline(cell, {"source": source.point, "target": target.point})
            if line is not None:
                crossed.update(
                    curve_id
                    for curve_id, curve in curves.items()
                    if polylines_intersect(line, curve)
                )
        if public:
            crossed.add(PUBLIC_NETWORK_ID)
        return tuple(sorted(crossed))


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _ancestors(parents: Mapping[str, str | None]) -> dict[str | None, frozenset[str]]:
    """Box id -> itself and every box around it (linear in the chains' lengths, cycle-safe)."""
    result: dict[str | None, frozenset[str]] = {None: frozenset()}
    result.update((box_id, frozenset(chain)) for box_id, chain in chains(parents).items())
    return result


def _suggestion(label: object) -> str:
    if not isinstance(label, str) or not label:
        return ""
    known = sorted(set(_KIND_BY_SHAPE))
    close = difflib.get_close_matches(label, known, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _stem(path: str) -> str:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base
