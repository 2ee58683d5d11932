"""The diagram tabs of a .tm7 model (DrawingSurfaceModels) as plain shapes.

Each tab holds ``Borders`` (stencils drawn as boxes: processes, data stores, external
interactors, border boundaries, annotations) and ``Lines`` (connectors, i.e. data flows, and
line boundaries). A shape carries the tool's GUID, its TypeId and GenericTypeId, its geometry
and its property values. Property values are keyed by the attribute name rules use (a word such
as ``providesConfidentiality`` or a GUID); the display name ``Name`` is keyed ``Name``.

Values follow the tool: list properties give the text of the selected entry (``SelectedIndex``
into the stored list), boolean properties give ``True``/``False``, strings stay strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from xml.etree.ElementTree import Element as XmlElement

from threatdelta.formats.geometry import Point, Rect, make_rect
from threatdelta.formats.tm7_xml import child, children, is_nil, number, text, xsi_type
from threatdelta.model.model import Value

NIL_GUID = "00000000-0000-0000-0000-000000000000"
"""The GUID the tool writes for a connector end that is attached to nothing."""

NAME_PROPERTY = "Name"
"""Key of the display-name property."""


@dataclass(frozen=True)
class Shape:
    """One drawn thing on a diagram tab."""

    guid: str
    """The tool's GUID: the id of the element, flow or boundary."""
    shape: str
    """The serialised shape class (``StencilEllipse``, ``BorderBoundary``, ``Connector``, ...)."""
    type_id: str
    """The stencil type (``SE.P.TMCore.WebServer``, ``GE.DF``, a GUID in custom templates)."""
    generic_type_id: str
    """The generic type the tool recorded (``GE.P``, ..., or a custom template's GUID)."""
    surface: str
    """GUID of the diagram tab."""
    surface_name: str
    """Name of the diagram tab."""
    name: str = ""
    """The shape's Name property."""
    properties: Mapping[str, Value] = field(default_factory=lambda: MappingProxyType({}))
    """Property values by attribute name (``Name`` included)."""
    rect: Rect | None = None
    """Box of a stencil or border boundary."""
    source: str = ""
    """GUID of a line's source shape ('' when attached to nothing)."""
    target: str = ""
    """GUID of a line's target shape ('' when attached to nothing)."""
    source_point: Point | None = None
    """Where a line starts."""
    handle: Point | None = None
    """The line's bend handle."""
    target_point: Point | None = None
    """Where a line ends."""

    @property
    def is_line(self) -> bool:
        """True for connectors and line boundaries."""
        return self.source_point is not None and self.target_point is not None


@dataclass(frozen=True)
class Surface:
    """One diagram tab."""

    guid: str
    """The tab's GUID."""
    name: str
    """The tab's name (``Diagram 1``)."""
    borders: tuple[Shape, ...] = ()
    """Stencils and border boundaries, in file order."""
    lines: tuple[Shape, ...] = ()
    """Connectors and line boundaries, in file order."""


def read_surfaces(root: XmlElement) -> tuple[Surface, ...]:
    """Every diagram tab of a ThreatModel element, in file order."""
    surfaces: list[Surface] = []
    for index, node in enumerate(
        children(child(root, "DrawingSurfaceList"), "DrawingSurfaceModel"), start=1
    ):
        guid = text(node, "Guid").strip() or f"diagram-{index}"
        props = _properties(node)
        name = str(props.get(NAME_PROPERTY) or "").strip() or f"Diagram {index}"
        borders = tuple(
            _shape(value, guid, name)
            for value in _values(child(node, "Borders"))
            if text(value, "Guid").strip()
        )
        lines = tuple(
            _shape(value, guid, name)
            for value in _values(child(node, "Lines"))
            if text(value, "Guid").strip()
        )
        surfaces.append(Surface(guid=guid, name=name, borders=borders, lines=lines))
    return tuple(surfaces)


def _values(collection: XmlElement | None) -> list[XmlElement]:
    """The ``Value`` of every key/value pair of a serialised dictionary."""
    found: list[XmlElement] = []
    for pair in list(collection) if collection is not None else []:
        value = child(pair, "Value")
        if value is not None:
            found.append(value)
    return found


def _guid(node: XmlElement, name: str) -> str:
    value = text(node, name).strip()
    return "" if value in ("", NIL_GUID) else value


def _point(node: XmlElement, x_name: str, y_name: str) -> Point | None:
    x = number(node, x_name)
    y = number(node, y_name)
    if x is None or y is None:
        return None
    return (x, y)


def _shape(node: XmlElement, surface: str, surface_name: str) -> Shape:
    props = _properties(node)
    rect = None
    left, top = number(node, "Left"), number(node, "Top")
    width, height = number(node, "Width"), number(node, "Height")
    if left is not None and top is not None and width is not None and height is not None:
        rect = make_rect(left, top, width, height)
    source_point = _point(node, "SourceX", "SourceY")
    target_point = _point(node, "TargetX", "TargetY")
    return Shape(
        guid=text(node, "Guid").strip(),
        shape=xsi_type(node),
        type_id=text(node, "TypeId").strip(),
        generic_type_id=text(node, "GenericTypeId").strip(),
        surface=surface,
        surface_name=surface_name,
        name=str(props.get(NAME_PROPERTY) or "").strip(),
        properties=props,
        rect=rect,
        source=_guid(node, "SourceGuid"),
        target=_guid(node, "TargetGuid"),
        source_point=source_point,
        handle=_point(node, "HandleX", "HandleY"),
        target_point=target_point,
    )


def _properties(node: XmlElement) -> Mapping[str, Value]:
    """The property values of a shape (or tab), keyed by attribute name; headers skipped."""
    values: dict[str, Value] = {}
    container = child(node, "Properties")
    for prop in list(container) if container is not None else []:
        kind = xsi_type(prop)
        if kind == "HeaderDisplayAttribute":
            continue
        name = text(prop, "Name").strip()
        if not name:
            if text(prop, "DisplayName").strip() != NAME_PROPERTY:
                continue
            name = NAME_PROPERTY
        values.setdefault(name, _property_value(prop, kind))
    return MappingProxyType(values)


def _property_value(prop: XmlElement, kind: str) -> Value:
    value = child(prop, "Value")
    if value is None or is_nil(value):
        return None
    items = list(value)
    if items or kind.endswith("ListDisplayAttribute"):
        options = [item.text or "" for item in items]
        index_text = text(prop, "SelectedIndex").strip()
        if not options:
            return None
        if not index_text:
            return options[0] if len(options) == 1 else None
        try:
            index = int(index_text)
        except ValueError:
            return None
        return options[index] if 0 <= index < len(options) else None
    raw = value.text or ""
    if kind == "BooleanDisplayAttribute" or xsi_type(value) == "boolean":
        lowered = raw.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return raw
