"""The Threat Modeling Tool's KnowledgeBase (a template): stencil types, categories, threat types.

A KnowledgeBase is embedded in every .tm7 model and is the whole of a .tb7 template. The two
spell some fields differently (``Id``/``ID``, ``ParentId``/``ParentElement``, a manifest of
child elements or of attributes, ``Values`` holding ``string`` or ``Value`` items); this module
reads either into the same frozen dataclasses. Turning threat types into rules is
:mod:`threatdelta.formats.tb7`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from xml.etree.ElementTree import Element as XmlElement

from threatdelta.errors import InputError, Location
from threatdelta.formats.tm7_xml import child, children, first_text, is_nil, local_name, text
from threatdelta.model.types import ROOT, chain_from_parents

GENERIC_BY_REPRESENTATION: dict[str, str] = {
    "Ellipse": "GE.P",
    "ParallelLines": "GE.DS",
    "Rectangle": "GE.EI",
    "Line": "GE.DF",
    "BorderBoundary": "GE.TB.B",
    "LineBoundary": "GE.TB.L",
    "Annotation": "GE.A",
}
"""The tool's generic type for each way a stencil is drawn (custom templates name their own
generic types by GUID, but draw them with these shapes)."""

GENERIC_IDS = frozenset(GENERIC_BY_REPRESENTATION.values())
"""The generic type ids of the tool's core templates."""


@dataclass(frozen=True)
class KbAttribute:
    """A property a stencil type offers (``providesConfidentiality``, a GUID-named one, ...)."""

    name: str
    """The name rules use (``flow.<name>``); may be a GUID."""
    display_name: str
    """The label the tool shows."""
    kind: str = "List"
    """The tool's attribute type (``List``, ``String``, ``Boolean``, ...)."""
    values: tuple[str, ...] = ()
    """Allowed values of a list attribute, in the tool's order (SelectedIndex counts into it)."""
    static: bool = False
    """True when the stencil fixes the value (the tool's ``Static`` mode)."""


@dataclass(frozen=True)
class KbType:
    """A stencil type: a generic element (``GE.P``) or a standard one (``SE.P.TMCore.WebServer``)."""

    id: str
    """Type id, written into drawn shapes as their TypeId."""
    parent: str
    """ParentId: the type it specialises (``ROOT`` for generic types)."""
    name: str
    """Display name."""
    representation: str = ""
    """How it is drawn: Ellipse, ParallelLines, Rectangle, Line, BorderBoundary, LineBoundary..."""
    generic: bool = False
    """True for the template's GenericElements."""
    hidden: bool = False
    """Hidden from the stencil palette."""
    attributes: tuple[KbAttribute, ...] = ()
    """Attributes the type declares itself (inherited ones live on its ancestors)."""


@dataclass(frozen=True)
class KbCategory:
    """A threat category (``S`` Spoofing, or a template's own, e.g. Patient Safety)."""

    id: str
    """Category id as threat types reference it (a letter or a GUID)."""
    name: str
    """Display name."""
    description: str = ""
    """Short description."""


@dataclass(frozen=True)
class KbThreatType:
    """One threat type with its GenerationFilters."""

    id: str
    """Threat type id (``TH153``, ``S1`` or a GUID): the first part of every stored key."""
    title: str
    """ShortTitle, with ``{source.Name}``-style placeholders kept."""
    category: str
    """Category id (see :class:`KbCategory`)."""
    description: str
    """Description, placeholders kept."""
    include: str
    """GenerationFilters Include expression ('' means: never generated)."""
    exclude: str
    """GenerationFilters Exclude expression ('' means: nothing excluded)."""
    properties: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Threat metadata values by name (``Priority``, ``PossibleMitigations``, GUIDs ...)."""
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Display label of each metadata name (``PossibleMitigations`` -> Possible Mitigation(s))."""

    def first(self, name: str) -> str:
        """The first non-empty value of metadata ``name``, or ''."""
        for value in self.properties.get(name, ()):
            if value.strip():
                return value
        return ""


@dataclass(frozen=True)
class KnowledgeBase:
    """A whole template."""

    name: str
    """Manifest name (``SDL TM Knowledge Base (Core)``)."""
    version: str = ""
    """Manifest version."""
    author: str = ""
    """Manifest author."""
    types: Mapping[str, KbType] = field(default_factory=lambda: MappingProxyType({}))
    """Stencil types by id, generic and standard."""
    categories: Mapping[str, KbCategory] = field(default_factory=lambda: MappingProxyType({}))
    """Threat categories by id."""
    threat_types: tuple[KbThreatType, ...] = ()
    """Threat types in file order."""

    @property
    def parents(self) -> dict[str, str]:
        """Type id -> ParentId, for :func:`threatdelta.model.types.chain_from_parents`."""
        return {t.id: t.parent for t in self.types.values() if t.parent and t.parent != t.id}

    def chain(self, type_id: str) -> tuple[str, ...]:
        """``type_id``'s chain through ParentIds up to ``ROOT``."""
        return chain_from_parents(type_id, self.parents)

    def generic_of(self, type_id: str) -> str:
        """The tool's core generic id (``GE.P``, ...) for ``type_id``, or '' when unknown.

        Walks the chain to the first core generic id; for a custom template whose generic types
        are GUIDs, the drawing representation of the chain's types decides.
        """
        chain = self.chain(type_id)
        for link in chain:
            if link in GENERIC_IDS:
                return link
        for link in chain:
            kb_type = self.types.get(link)
            if kb_type is not None and kb_type.representation in GENERIC_BY_REPRESENTATION:
                return GENERIC_BY_REPRESENTATION[kb_type.representation]
        return ""

    def attribute(self, type_id: str, name: str) -> KbAttribute | None:
        """The attribute ``name`` as the most specific type on ``type_id``'s chain declares it."""
        for link in self.chain(type_id):
            kb_type = self.types.get(link)
            if kb_type is None:
                continue
            for attribute in kb_type.attributes:
                if attribute.name == name:
                    return attribute
        return None


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

WELL_KNOWN_NAMES: dict[str, str] = {
    "71f3d9aa-b8ef-4e54-8126-607a1d903103": "out_of_scope",
    "752473b6-52d4-4776-9a24-202153f7d579": "out_of_scope_reason",
}
"""The tool's own attributes on every stencil, by the property names threatdelta uses for them
(as Threat Dragon's ``outOfScope`` / ``reasonOutOfScope`` are read)."""


def readable_name(display_name: str) -> str:
    """A property name from a display name: ``Show Boundary Threats`` -> ``show_boundary_threats``."""
    return re.sub(r"[^a-z0-9]+", "_", display_name.casefold()).strip("_")


def readable_names(kb: KnowledgeBase) -> dict[str, str]:
    """GUID-named attributes of the template -> readable property names (from their display
    names), for writing a model in a format meant to be read by people. Names stay unique: a
    display name that two different attributes share, or that is already an attribute name,
    gets the GUID's first block appended."""
    plain = {a.name for t in kb.types.values() for a in t.attributes if not _GUID.match(a.name)}
    labels: dict[str, str] = {}
    for kb_type in kb.types.values():
        for attribute in kb_type.attributes:
            if _GUID.match(attribute.name):
                labels.setdefault(attribute.name, attribute.display_name)
    result: dict[str, str] = {}
    taken: dict[str, str] = {}
    for guid in sorted(labels):
        name = WELL_KNOWN_NAMES.get(guid) or readable_name(labels[guid]) or guid
        owner = taken.get(name)
        if name in plain or (owner is not None and labels[owner] != labels[guid]):
            name = f"{name}_{guid.split('-')[0]}"
        taken.setdefault(name, guid)
        result[guid] = name
    for guid, name in WELL_KNOWN_NAMES.items():
        result.setdefault(guid, name)
    return result


def find_knowledge_base(root: XmlElement) -> XmlElement | None:
    """The KnowledgeBase element: ``root`` itself (a .tb7) or its child (a .tm7)."""
    if local_name(root.tag) == "KnowledgeBase":
        return root
    return child(root, "KnowledgeBase")


def read_knowledge_base(node: XmlElement, path: str) -> KnowledgeBase:
    """Read a KnowledgeBase element (either spelling) into a :class:`KnowledgeBase`."""
    manifest = child(node, "Manifest")
    name = first_text(manifest, "Name", "name").strip()
    version = first_text(manifest, "Version", "version").strip()
    author = first_text(manifest, "Author", "author").strip()

    types: dict[str, KbType] = {}
    for section, generic in (("GenericElements", True), ("StandardElements", False)):
        for element_type in children(child(node, section), "ElementType"):
            kb_type = _read_type(element_type, generic)
            if kb_type is not None:
                types.setdefault(kb_type.id, kb_type)

    categories: dict[str, KbCategory] = {}
    for category in children(child(node, "ThreatCategories"), "ThreatCategory"):
        category_id = first_text(category, "Id", "ID").strip()
        if category_id:
            categories.setdefault(
                category_id,
                KbCategory(
                    id=category_id,
                    name=text(category, "Name").strip() or category_id,
                    description=text(category, "ShortDescription").strip(),
                ),
            )

    threat_types: list[KbThreatType] = []
    seen: set[str] = set()
    for threat_type in children(child(node, "ThreatTypes"), "ThreatType"):
        read = _read_threat_type(threat_type)
        if not read.id:
            raise InputError(
                f"a threat type in template {name or '(unnamed)'!r} has no Id "
                f"(title {read.title!r}); give it one in the Template Editor",
                Location(path),
            )
        if read.id in seen:
            raise InputError(
                f"template {name or '(unnamed)'!r} defines threat type {read.id!r} twice; "
                "threat keys would be ambiguous, so remove or rename one of them",
                Location(path),
            )
        seen.add(read.id)
        threat_types.append(read)

    return KnowledgeBase(
        name=name,
        version=version,
        author=author,
        types=MappingProxyType(types),
        categories=MappingProxyType(categories),
        threat_types=tuple(threat_types),
    )


def _values(node: XmlElement | None) -> tuple[str, ...]:
    """The texts of a ``Values``/``AttributeValues`` list (nil items dropped)."""
    if node is None:
        return ()
    return tuple(item.text for item in node if not is_nil(item) and item.text is not None)


def _read_type(node: XmlElement, generic: bool) -> KbType | None:
    type_id = first_text(node, "Id", "ID").strip()
    if not type_id:
        return None
    parent = first_text(node, "ParentId", "ParentElement").strip() or ROOT
    attributes = tuple(
        KbAttribute(
            name=text(attribute, "Name").strip(),
            display_name=text(attribute, "DisplayName").strip(),
            kind=text(attribute, "Type").strip() or "List",
            values=_values(child(attribute, "AttributeValues")),
            static=text(attribute, "Mode").strip() == "Static",
        )
        for attribute in children(child(node, "Attributes"), "Attribute")
        if text(attribute, "Name").strip()
    )
    return KbType(
        id=type_id,
        parent=parent if type_id != ROOT else "",
        name=text(node, "Name").strip() or type_id,
        representation=text(node, "Representation").strip(),
        generic=generic,
        hidden=text(node, "Hidden").strip().lower() == "true",
        attributes=attributes,
    )


def _read_threat_type(node: XmlElement) -> KbThreatType:
    filters = child(node, "GenerationFilters")
    properties: dict[str, tuple[str, ...]] = {}
    labels: dict[str, str] = {}
    for datum in children(child(node, "PropertiesMetaData"), "ThreatMetaDatum"):
        datum_name = text(datum, "Name").strip()
        if not datum_name:
            continue
        properties.setdefault(datum_name, _values(child(datum, "Values")))
        labels.setdefault(datum_name, text(datum, "Label").strip() or datum_name)
    return KbThreatType(
        id=first_text(node, "Id", "ID").strip(),
        title=text(node, "ShortTitle").strip(),
        category=text(node, "Category").strip(),
        description=text(node, "Description").strip(),
        include=text(filters, "Include").strip(),
        exclude=text(filters, "Exclude").strip(),
        properties=MappingProxyType(properties),
        labels=MappingProxyType(labels),
    )
