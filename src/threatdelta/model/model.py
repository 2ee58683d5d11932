"""Frozen dataclasses for a data-flow-diagram threat model.

A :class:`Model` is what every reader in ``formats/`` produces and what the engine, the register
and the review consume. It holds no behaviour beyond lookups; structural questions (zones,
crossings, neighbours) live in :mod:`threatdelta.model.graph`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

from threatdelta.errors import Location
from threatdelta.threat import Threat

Value = str | bool | int | float | None
"""A property value: what a rule's ``X.attr is '...'`` compares against."""

ElementType = Literal["external-entity", "process", "data-store"]

DispositionStatus = Literal["open", "mitigated", "accepted", "transferred", "not-applicable"]
DISPOSITION_STATUSES: tuple[DispositionStatus, ...] = (
    "open",
    "mitigated",
    "accepted",
    "transferred",
    "not-applicable",
)

ControlStatus = Literal["planned", "implemented", "verified"]
CONTROL_STATUSES: tuple[ControlStatus, ...] = ("planned", "implemented", "verified")

_EMPTY: Mapping[str, Value] = MappingProxyType({})
_NO_CONTROLS: Mapping[str, tuple[str, ...]] = MappingProxyType({})


def frozen_controls(
    mapping: Mapping[str, tuple[str, ...]] | None,
) -> Mapping[str, tuple[str, ...]]:
    """A read-only, key-sorted copy of an ``implemented_by`` mapping."""
    if not mapping:
        return _NO_CONTROLS
    return MappingProxyType({k: tuple(mapping[k]) for k in sorted(mapping)})


OUT_OF_SCOPE_PROPERTY = "out_of_scope"
"""The property that marks a flow out of scope in formats that keep it as a property (native
YAML, Threat Dragon's ``outOfScope``, OTM attributes, a converted .tm7)."""

OUT_OF_SCOPE_REASON_PROPERTY = "out_of_scope_reason"
"""The property holding why the flow is out of scope."""


def scope_of(props: Mapping[str, Value] | None) -> tuple[bool, str]:
    """``(out_of_scope, reason)`` as a flow's properties say it."""
    if not props or props.get(OUT_OF_SCOPE_PROPERTY) is not True:
        return False, ""
    return True, str(props.get(OUT_OF_SCOPE_REASON_PROPERTY) or "").strip()


def frozen_props(props: Mapping[str, Value] | None) -> Mapping[str, Value]:
    """A read-only copy of ``props``, with keys sorted so iteration is deterministic."""
    if not props:
        return _EMPTY
    return MappingProxyType({k: props[k] for k in sorted(props)})


_REMEMBERED = 4096
"""Property mappings a :class:`SharedProps` keeps to answer them again: a parsed document shares
a handful among thousands of items; one whose items each have their own (a text the block
reader hands over) is not held in full until the model is built."""


class SharedProps:
    """:func:`frozen_props` for a reader building many items: items whose properties are equal
    (same keys, same values of the same types) get one shared read-only mapping, so a model of
    thousands of flows with a handful of property sets holds a handful of mappings. A reader
    keeps one per model it reads, and does not change a mapping once it has handed it over: a
    mapping handed over again (parsed documents share one among items written alike) is answered
    from what it held the first time."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], Mapping[str, Value]] = {}
        self._objects: dict[int, tuple[Mapping[str, Value], Mapping[str, Value]]] = {}
        """Mappings handed over (kept, so that their ids stay theirs) -> their frozen copies."""

    def __call__(self, props: Mapping[str, Value] | None) -> Mapping[str, Value]:
        """The frozen copy of ``props``, shared with earlier equal ones."""
        if not props:
            return _EMPTY
        known = self._objects.get(id(props))
        if known is not None and known[0] is props:
            return known[1]
        found = self._frozen(props)
        if len(self._objects) < _REMEMBERED:
            self._objects[id(props)] = (props, found)
        return found

    def _frozen(self, props: Mapping[str, Value]) -> Mapping[str, Value]:
        kinds = tuple(map(type, props.values()))
        if float in kinds:  # 0.0 == -0.0 and nan != nan: floats are not shared
            return frozen_props(props)
        key = (tuple(props.items()), kinds)
        try:
            found = self._seen.get(key)
        except TypeError:  # a value that is not a plain scalar: nothing to share
            return frozen_props(props)
        if found is None:
            found = self._seen[key] = frozen_props(props)
        return found


@dataclass(frozen=True)
class Boundary:
    """A trust boundary: a border around elements (nested) or a line that flows cross."""

    id: str
    """Stable identifier, written by the user or the source tool's GUID."""
    name: str
    """Display name; renaming it never changes a threat key."""
    kind: str = "generic"
    """Native kind (device, process, network, ...) or the source tool's type id."""
    parent: str | None = None
    """The enclosing boundary's id, for border boundaries."""
    type_chain: tuple[str, ...] = ("GE.TB.B", "ROOT")
    """Type ids from most specific to ``ROOT``; ``GE.TB.B`` border, ``GE.TB.L`` line."""
    properties: Mapping[str, Value] = field(default_factory=lambda: _EMPTY)
    """Free-form properties."""
    location: Location | None = field(default=None, compare=False)
    """Where the boundary is declared."""
    line: bool = False
    """Drawn as a line that flows cross (set by readers whose templates name their own line
    boundary types, whose chains need not hold ``GE.TB.L``)."""
    renamed_from: str | None = None
    """The id this item had before a rename (``renamed_from: OLD-ID``): threats whose keys changed
    only through it are the same threats, and decisions written under the old keys carry over."""

    @property
    def is_line(self) -> bool:
        """True for line boundaries (crossed by geometry, never containing elements)."""
        return self.line or "GE.TB.L" in self.type_chain


Need = Literal["low", "medium", "high"]
NEEDS: tuple[Need, ...] = ("low", "medium", "high")

CLASSIFICATIONS: dict[str, tuple[Need, Need, Need]] = {
    "phi": ("high", "medium", "low"),
    "personal-data": ("medium", "low", "low"),
    "credentials": ("high", "high", "low"),
    "keys": ("high", "high", "low"),
    "therapy-command": ("low", "high", "high"),
    "therapy-settings": ("low", "high", "medium"),
    "alarm": ("low", "high", "high"),
    "clinical-data": ("medium", "high", "medium"),
    "telemetry": ("medium", "medium", "low"),
    "firmware": ("low", "high", "medium"),
    "audit-log": ("medium", "high", "medium"),
    "configuration": ("low", "high", "medium"),
    "public": ("low", "low", "low"),
    "generic": ("medium", "medium", "medium"),
}
"""Data classification -> default (confidentiality, integrity, availability) needs."""


@dataclass(frozen=True)
class Asset:
    """A kind of data the system handles, defined once and named by flows and stores."""

    id: str
    """Stable identifier, named in ``data:`` lists."""
    name: str
    """Display name."""
    classification: str = "generic"
    """One of :data:`CLASSIFICATIONS` (phi, credentials, keys, therapy-command, ...)."""
    confidentiality: Need = "medium"
    """How much harm disclosure does."""
    integrity: Need = "medium"
    """How much harm an undetected change does."""
    availability: Need = "medium"
    """How much harm its loss or delay does."""
    description: str = ""
    """Free text."""
    location: Location | None = field(default=None, compare=False)
    """Where the asset is declared."""


@dataclass(frozen=True, slots=True)
class Element:
    """An external entity, process or data store (readers building many use :func:`new_element`)."""

    id: str
    """Stable identifier."""
    name: str
    """Display name."""
    type: ElementType
    """The DFD element type."""
    kind: str = "generic"
    """Subtype: person, device, cloud-service, control-unit, web-service, ... or a tool type id."""
    boundary: str | None = None
    """Id of the innermost border boundary that contains the element, if any."""
    properties: Mapping[str, Value] = field(default_factory=lambda: _EMPTY)
    """Properties that rules read (``sanitizes_input``, ``stores_logs``, ...)."""
    type_chain: tuple[str, ...] = ()
    """Type ids from most specific to ``ROOT`` (e.g. ``process/control-unit``, ``GE.P``)."""
    hazards: tuple[str, ...] = ()
    """Ids of hazards in the safety risk file this element is linked to."""
    essential_performance: bool = False
    """The element provides essential performance (therapy delivery, alarms, dosing data)."""
    data: tuple[str, ...] = ()
    """Ids of the assets it holds (data stores) or handles."""
    description: str = ""
    """Free text."""
    location: Location | None = field(default=None, compare=False)
    """Where the element is declared."""
    implemented_by: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _NO_CONTROLS)
    """Property name -> ids of the controls that make the property true (``encrypted`` ->
    ``aes-at-rest``): the evidence behind a property that keeps a threat from existing."""
    renamed_from: str | None = None
    """The id this item had before a rename (``renamed_from: OLD-ID``): threats whose keys changed
    only through it are the same threats, and decisions written under the old keys carry over."""


@dataclass(frozen=True, slots=True)
class Flow:
    """A data flow from one element to another (readers building many use :func:`new_flow`)."""

    id: str
    """Stable identifier."""
    name: str
    """Display name."""
    source: str
    """Id of the element the data leaves."""
    target: str
    """Id of the element the data reaches."""
    protocol: str = "generic"
    """Transport or bus: http, https, can, udp, tcp, ble, usb, serial, mqtt, ..."""
    bidirectional: bool = False
    """Data also flows from target to source."""
    properties: Mapping[str, Value] = field(default_factory=lambda: _EMPTY)
    """Properties that rules read (``authenticated``, ``encrypted``, ``integrity_protected``)."""
    type_chain: tuple[str, ...] = ("GE.DF", "ROOT")
    """Type ids from most specific to ``ROOT``."""
    crosses: tuple[str, ...] | None = None
    """Ids of the boundaries this flow crosses, when the format knows them from geometry.

    ``None`` means: derive them from the boundary nesting (see :mod:`threatdelta.model.graph`)."""
    hazards: tuple[str, ...] = ()
    """Ids of hazards in the safety risk file this flow is linked to."""
    essential_performance: bool = False
    """The flow carries essential performance (therapy commands, alarms, dosing data)."""
    data: tuple[str, ...] = ()
    """Ids of the assets it carries."""
    description: str = ""
    """Free text."""
    location: Location | None = field(default=None, compare=False)
    """Where the flow is declared."""
    implemented_by: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: _NO_CONTROLS)
    """Property name -> ids of the controls that make the property true (``encrypted`` ->
    ``mutual-tls``)."""
    renamed_from: str | None = None
    """The id this item had before a rename (``renamed_from: OLD-ID``): threats whose keys changed
    only through it are the same threats, and decisions written under the old keys carry over."""
    out_of_scope: bool = False
    """Marked out of scope (the Threat Modeling Tool's "Out Of Scope"): no rule runs on it, so
    it has no threats; a decision like an acceptance, explained by ``out_of_scope_reason``."""
    out_of_scope_reason: str = ""
    """Why the flow is out of scope, in the author's words."""


def _slot_setters(cls: type[Any], names: str) -> tuple[Any, ...]:
    """The setters of the slots of ``cls``'s fields, which ``names`` lists all of, in order."""
    declared = [f.name for f in fields(cls)]
    if names.split() != declared:
        raise TypeError(f"{cls.__name__}'s fields are {declared}, not {names.split()}")
    return tuple(cls.__dict__[name].__set__ for name in declared)


_new = object.__new__
(
    _e_id,
    _e_name,
    _e_type,
    _e_kind,
    _e_boundary,
    _e_properties,
    _e_type_chain,
    _e_hazards,
    _e_essential_performance,
    _e_data,
    _e_description,
    _e_location,
    _e_implemented_by,
    _e_renamed_from,
) = _slot_setters(
    Element,
    "id name type kind boundary properties type_chain hazards essential_performance data "
    "description location implemented_by renamed_from",
)


def new_element(
    id: str,
    name: str,
    type: ElementType,
    kind: str,
    boundary: str | None,
    properties: Mapping[str, Value],
    type_chain: tuple[str, ...],
    hazards: tuple[str, ...],
    essential_performance: bool,
    data: tuple[str, ...],
    description: str,
    location: Location | None,
    implemented_by: Mapping[str, tuple[str, ...]],
    renamed_from: str | None,
) -> Element:
    """``Element(...)`` with every field given in order, made without the frozen dataclass's
    ``__init__`` (which sets each field through ``object.__setattr__``, three times slower):
    for a reader building thousands of elements."""
    element: Element = _new(Element)
    _e_id(element, id)
    _e_name(element, name)
    _e_type(element, type)
    _e_kind(element, kind)
    _e_boundary(element, boundary)
    _e_properties(element, properties)
    _e_type_chain(element, type_chain)
    _e_hazards(element, hazards)
    _e_essential_performance(element, essential_performance)
    _e_data(element, data)
    _e_description(element, description)
    _e_location(element, location)
    _e_implemented_by(element, implemented_by)
    _e_renamed_from(element, renamed_from)
    return element


(
    _f_id,
    _f_name,
    _f_source,
    _f_target,
    _f_protocol,
    _f_bidirectional,
    _f_properties,
    _f_type_chain,
    _f_crosses,
    _f_hazards,
    _f_essential_performance,
    _f_data,
    _f_description,
    _f_location,
    _f_implemented_by,
    _f_renamed_from,
    _f_out_of_scope,
    _f_out_of_scope_reason,
) = _slot_setters(
    Flow,
    "id name source target protocol bidirectional properties type_chain crosses hazards "
    "essential_performance data description location implemented_by renamed_from out_of_scope "
    "out_of_scope_reason",
)


def new_flow(
    id: str,
    name: str,
    source: str,
    target: str,
    protocol: str,
    bidirectional: bool,
    properties: Mapping[str, Value],
    type_chain: tuple[str, ...],
    crosses: tuple[str, ...] | None,
    hazards: tuple[str, ...],
    essential_performance: bool,
    data: tuple[str, ...],
    description: str,
    location: Location | None,
    implemented_by: Mapping[str, tuple[str, ...]],
    renamed_from: str | None,
    out_of_scope: bool,
    out_of_scope_reason: str,
) -> Flow:
    """``Flow(...)`` with every field given in order, made as :func:`new_element` makes an
    element."""
    flow: Flow = _new(Flow)
    _f_id(flow, id)
    _f_name(flow, name)
    _f_source(flow, source)
    _f_target(flow, target)
    _f_protocol(flow, protocol)
    _f_bidirectional(flow, bidirectional)
    _f_properties(flow, properties)
    _f_type_chain(flow, type_chain)
    _f_crosses(flow, crosses)
    _f_hazards(flow, hazards)
    _f_essential_performance(flow, essential_performance)
    _f_data(flow, data)
    _f_description(flow, description)
    _f_location(flow, location)
    _f_implemented_by(flow, implemented_by)
    _f_renamed_from(flow, renamed_from)
    _f_out_of_scope(flow, out_of_scope)
    _f_out_of_scope_reason(flow, out_of_scope_reason)
    return flow


@dataclass(frozen=True)
class Control:
    """A countermeasure the team has (or plans), with the evidence that it works."""

    id: str
    """Stable identifier, referenced by mitigated dispositions."""
    name: str
    """What the control is."""
    status: ControlStatus = "planned"
    """planned, implemented or verified."""
    evidence: tuple[str, ...] = ()
    """Repository paths of tests or documents, or report ids such as ``PT-2026-03#F-4``."""
    description: str = ""
    """Free text."""
    location: Location | None = field(default=None, compare=False)
    """Where the control is declared."""


@dataclass(frozen=True)
class Disposition:
    """What the team decided about one threat, keyed by the threat's stable key."""

    key: str
    """The threat key this disposition is for."""
    status: DispositionStatus
    """open, mitigated, accepted, transferred or not-applicable."""
    controls: tuple[str, ...] = ()
    """Control ids, for mitigated threats."""
    justification: str = ""
    """Why the risk is accepted or transferred, or why the threat does not apply."""
    approved_by: str = ""
    """Who accepted the risk."""
    approved_on: dt.date | None = None
    """When it was accepted."""
    expires: dt.date | None = None
    """When an acceptance must be reviewed again."""
    transferred_to: str = ""
    """Who carries a transferred risk."""
    title: str = ""
    """The threat's title as the source tool stored it (TMT, Threat Dragon), if any."""
    needs_investigation: bool = False
    """Flagged for a closer look (TMT's NeedsInvestigation); the threat stays open."""
    exploitability: str = ""
    """The team's own exploitability (low, medium, high), overriding the rule's; '' if none."""
    severity: str = ""
    """The team's own severity (low, medium, high, critical), overriding the computed one."""
    rationale: str = ""
    """Why the exploitability or severity was overridden."""
    cvss: str = ""
    """A CVSS v3.1 or v4.0 vector for the threat, as written; '' if none."""
    location: Location | None = field(default=None, compare=False)
    """Where the disposition is written."""
    reference: str = field(default="", compare=False)
    """The source tool's own short name for the threat, shown next to the long key (TMT: its
    threat number and threat type, ``#12 TH54``); serialisation detail, never compared."""
    stale: str = ""
    """Evidence in the file that the stored threat is out of date (TMT marks its interaction
    Deleted, its flow now joins other elements, ...); '' when the file says nothing."""


@dataclass(frozen=True)
class Model:
    """A whole threat model as read from one file at one revision."""

    system: str
    """Name of the system the model describes."""
    elements: tuple[Element, ...] = ()
    """External entities, processes and data stores, sorted by id."""
    flows: tuple[Flow, ...] = ()
    """Data flows, sorted by id."""
    boundaries: tuple[Boundary, ...] = ()
    """Trust boundaries, sorted by id."""
    controls: tuple[Control, ...] = ()
    """Countermeasures, sorted by id."""
    assets: tuple[Asset, ...] = ()
    """Data assets, sorted by id."""
    dispositions: Mapping[str, Disposition] = field(default_factory=dict)
    """Dispositions by threat key."""
    stored_threats: tuple[Threat, ...] = ()
    """Threats written into the file itself rather than produced by a rule (Threat Dragon and OTM
    threats, hand-added TMT threats); the register lists them beside the enumerated ones."""
    format: str = "native"
    """Which reader produced the model: native, tm7, dragon, otm."""
    path: str = ""
    """The file the model was read from."""

    def element(self, element_id: str) -> Element | None:
        """The element with this id, or None."""
        return self._elements_by_id().get(element_id)

    def flow(self, flow_id: str) -> Flow | None:
        """The flow with this id, or None."""
        return self._flows_by_id().get(flow_id)

    def boundary(self, boundary_id: str) -> Boundary | None:
        """The boundary with this id, or None."""
        return self._boundaries_by_id().get(boundary_id)

    def asset(self, asset_id: str) -> Asset | None:
        """The asset with this id, or None."""
        cache = self.__dict__.get("_asset_index")
        if cache is None:
            cache = {a.id: a for a in self.assets}
            object.__setattr__(self, "_asset_index", cache)
        found: Asset | None = cache.get(asset_id)
        return found

    def control(self, control_id: str) -> Control | None:
        """The control with this id, or None."""
        cache = self.__dict__.get("_control_index")
        if cache is None:
            cache = {c.id: c for c in self.controls}
            object.__setattr__(self, "_control_index", cache)
        found: Control | None = cache.get(control_id)
        return found

    def _elements_by_id(self) -> dict[str, Element]:
        cache = self.__dict__.get("_element_index")
        if cache is None:
            cache = {e.id: e for e in self.elements}
            object.__setattr__(self, "_element_index", cache)
        return cache

    def _flows_by_id(self) -> dict[str, Flow]:
        cache = self.__dict__.get("_flow_index")
        if cache is None:
            cache = {f.id: f for f in self.flows}
            object.__setattr__(self, "_flow_index", cache)
        return cache

    def _boundaries_by_id(self) -> dict[str, Boundary]:
        cache = self.__dict__.get("_boundary_index")
        if cache is None:
            cache = {b.id: b for b in self.boundaries}
            object.__setattr__(self, "_boundary_index", cache)
        return cache
