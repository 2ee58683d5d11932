"""Adapters that let the rule language ask questions of model elements and flows.

Attribute names answer in both vocabularies: the native property names (``encrypted``) and
the Threat Modeling Tool's attribute names (``providesConfidentiality``), so a TMT template runs
on a native model and the built-in pack runs on a .tm7.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from threatdelta.model.graph import ModelFacts
from threatdelta.model.model import NEEDS, Asset, Boundary, Element, Flow, Model, Value
from threatdelta.model.types import (
    BORDER_BOUNDARY_TYPE,
    ELEMENT_KINDS,
    FLOW_TYPE,
    GENERIC_BY_ELEMENT_TYPE,
    LINE_BOUNDARY_TYPE,
    chain_from_parents,
)
from threatdelta.rules.pack import RulePack
from threatdelta.rules.protocols import ON_BOARD_BUSES, protocol

NATIVE_TO_TMT: dict[str, str] = {
    "encrypted": "providesConfidentiality",
    "integrity_protected": "providesIntegrity",
    "authenticated": "authenticatesSource",
    "stores_logs": "storesLogData",
    "sanitizes_input": "hasInputSanitizers",
    "stores_credentials": "storesCredentials",
    "server_authenticated": "authenticatesDestination",
}
"""Native property name -> TMT attribute name (booleans map to 'Yes' / 'No')."""

KNOWN_KINDS: frozenset[str] = frozenset(k for kinds in ELEMENT_KINDS.values() for k in kinds)
"""Every native element kind."""

HOSTED_KINDS: frozenset[str] = frozenset({"mobile-app", "web-service", "virtual-machine"})
"""Process kinds that run on general-purpose hosts: a phone or server in a device boundary is
not offered the countermeasures of embedded hardware."""

RELAY_KINDS: frozenset[str] = frozenset({"web-service", "mobile-app"})
"""Process kinds that pass firmware on rather than install and boot it (unless the model says
``installs_firmware: true``)."""

_IMPLIED_BY_NAME: dict[str, str] = {
    "encrypted": "encrypted",
    "providesConfidentiality": "encrypted",
    "integrity_protected": "integrity_protected",
    "providesIntegrity": "integrity_protected",
    "server_authenticated": "server_authenticated",
    "authenticatesDestination": "server_authenticated",
    "authenticated": "authenticated",
    "authenticatesSource": "authenticated",
}
"""Attribute names (both vocabularies) -> the property a protocol may imply."""

_ALIASES: dict[str, str] = {**NATIVE_TO_TMT, **{v: k for k, v in NATIVE_TO_TMT.items()}}


def data_attribute(model: Model, asset_ids: tuple[str, ...], name: str) -> Value:
    """``carries_<classification>`` and ``data_<need>`` for the assets ``asset_ids``.

    ``carries_phi`` is true when one of the assets is classified phi (``carries_therapy_command``
    for therapy-command, ...); ``data_confidentiality`` (``_integrity``, ``_availability``) is the
    highest need among them, or None when there are none.
    """
    assets = [a for a in (model.asset(i) for i in asset_ids) if a is not None]
    if name.startswith("carries_"):
        wanted = name[len("carries_") :].replace("_", "-")
        return True if any(a.classification == wanted for a in assets) else None
    need = name[len("data_") :]
    levels = [_need(a, need) for a in assets]
    return max(levels, key=NEEDS.index) if levels else None


def _need(asset: Asset, need: str) -> str:
    if need == "confidentiality":
        return asset.confidentiality
    if need == "integrity":
        return asset.integrity
    return asset.availability


DATA_ATTRIBUTES = frozenset({"data_confidentiality", "data_integrity", "data_availability"})


_NO_NAMES: Mapping[str, str] = {}


def _lookup(
    properties: Mapping[str, Value], name: str, names: Mapping[str, str] = _NO_NAMES
) -> Value:
    """A property by ``name``, else by its other vocabulary's name, else by the pack's other
    name for it (a TMT attribute GUID and the readable name a converted model uses)."""
    if name in properties:
        return properties[name]
    for alias in (_ALIASES.get(name), names.get(name)):
        if alias is not None and alias in properties:
            return properties[alias]
    return None


def _full_chain(chain: tuple[str, ...], type_parents: Mapping[str, str]) -> frozenset[str]:
    types = set(chain)
    if chain and type_parents:
        types.update(chain_from_parents(chain[0], dict(type_parents)))
    return frozenset(types)


@dataclass(frozen=True, slots=True)
class ElementSubject:
    """An element as ``element``, ``source`` or ``target`` of a rule."""

    element: Element
    """The element."""
    facts: ModelFacts
    """Structural facts of its model."""
    types: frozenset[str]
    """Every type id on its chain."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Other names of properties (both directions), from the rule pack."""
    answers: dict[str, Value] = field(default_factory=dict, compare=False, repr=False)
    """Attribute values already worked out (every rule on this subject asks the same)."""

    def is_type(self, type_id: str) -> bool:
        """Type test through the chain."""
        return type_id in self.types

    def attribute(self, name: str) -> Value:
        """Computed facts first, then properties (either vocabulary); each worked out once."""
        answers = self.answers
        if name in answers:
            return answers[name]
        value = answers[name] = self._attribute(name)
        return value

    def values(self, names: tuple[str, ...]) -> tuple[Value, ...]:
        """``attribute(name)`` for each of ``names`` (worked out afresh, not kept)."""
        return tuple(map(self._attribute, names))

    def _attribute(self, name: str) -> Value:
        computed = _ELEMENT_FACTS.get(name)
        if computed is not None:
            return computed(self)
        element = self.element
        value = _lookup(element.properties, name, self.names)
        if value is None and (name.startswith("carries_") or name in DATA_ATTRIBUTES):
            return data_attribute(self.facts.model, self.facts.data_of(element), name)
        if value is None and name == "installs_firmware":
            return element.type == "process" and element.kind not in RELAY_KINDS
        return value

    def key(self, reading: Reading) -> tuple[object, ...]:
        """Two elements with equal keys have the same types and answer every attribute
        ``reading`` names alike (see :class:`Reading`).

        What an attribute that is not a computed fact answers depends only on the element's
        properties under the names it may be set by, its data, type and kind."""
        element = self.element
        computed = tuple(map(self._attribute, reading.computed))
        keys = reading.keys
        return (
            self.types,
            element.type,
            element.kind,
            self.facts.data_of(element) if reading.data else (),
            computed,
            tuple(map(type, computed)),
            tuple((k, v.__class__, v) for k, v in element.properties.items() if k in keys),
        )

    def crosses(self, boundary_type: str) -> bool:
        """Elements cross nothing."""
        return False


@dataclass(frozen=True, slots=True)
class FlowSubject:
    """A flow as ``flow`` of a rule."""

    flow: Flow
    """The flow."""
    facts: ModelFacts
    """Structural facts of its model."""
    types: frozenset[str]
    """Every type id on its chain."""
    crossed_types: frozenset[str]
    """Every type id on the chains of the boundaries it crosses."""
    reverse: bool = False
    """Seen in the target-to-source direction (the reply leg of a bidirectional flow)."""
    names: Mapping[str, str] = field(default_factory=dict)
    """Other names of properties (both directions), from the rule pack."""
    answers: dict[str, Value] = field(default_factory=dict, compare=False, repr=False)
    """Attribute values already worked out (every rule on this subject asks the same)."""

    def is_type(self, type_id: str) -> bool:
        """Type test through the chain."""
        return type_id in self.types

    def attribute(self, name: str) -> Value:
        """Computed facts first, then properties (either vocabulary); each worked out once."""
        answers = self.answers
        if name in answers:
            return answers[name]
        value = answers[name] = self._attribute(name)
        return value

    def values(self, names: tuple[str, ...]) -> tuple[Value, ...]:
        """``attribute(name)`` for each of ``names`` (worked out afresh, not kept)."""
        return tuple(map(self._attribute, names))

    def _attribute(self, name: str) -> Value:
        computed = _FLOW_FACTS.get(name)
        if computed is not None:
            return computed(self)
        flow = self.flow
        value = _lookup(flow.properties, name, self.names)
        if value is not None:
            return value
        if name.startswith("carries_") or name in DATA_ATTRIBUTES:
            return data_attribute(self.facts.model, flow.data, name)
        if name == "on_board":
            return self._on_board()
        if name == "user_interaction":
            return self._user_interaction()
        implied = _IMPLIED_BY_NAME.get(name)
        if implied is not None:
            return protocol(flow.protocol).implies.get(implied)
        return None

    def key(self, reading: Reading) -> tuple[object, ...]:
        """Two flow directions with equal keys have the same types and crossed types and answer
        every attribute ``reading`` names alike (see :class:`Reading`).

        What an attribute that is not a computed fact (nor ``on_board`` or
        ``user_interaction``, which ``reading`` counts as computed) answers depends only on the
        flow's properties under the names it may be set by, its data and its protocol."""
        flow = self.flow
        computed = tuple(map(self._attribute, reading.computed))
        keys = reading.keys
        return (
            self.types,
            self.crossed_types,
            flow.protocol,
            flow.data if reading.data else (),
            computed,
            tuple(map(type, computed)),
            tuple((k, v.__class__, v) for k, v in flow.properties.items() if k in keys),
        )

    def _on_board(self) -> bool:
        flow = self.flow
        if flow.protocol.strip().lower() not in ON_BOARD_BUSES:
            return False
        source = self.facts.model.element(flow.source)
        target = self.facts.model.element(flow.target)
        if source is None or target is None:
            return False
        device = self.facts.device_of(source)
        return device is not None and device == self.facts.device_of(target)

    def _user_interaction(self) -> bool:
        flow = self.flow
        if protocol(flow.protocol).family not in ("user", "generic"):
            return False
        source = self.facts.model.element(flow.source)
        target = self.facts.model.element(flow.target)
        if source is None or target is None:
            return False
        return person_and_process(source, target)

    def crosses(self, boundary_type: str) -> bool:
        """True when a crossed boundary has ``boundary_type`` on its chain."""
        return boundary_type in self.crossed_types


def person_and_process(source: Element, target: Element) -> bool:
    """One end of a flow is a person and one is a process (what makes a flow of the ``user``
    or ``generic`` protocol family a user interaction)."""
    person = ("external-entity", "person")
    ends = ((source.type, source.kind), (target.type, target.kind))
    return person in ends and (source.type == "process" or target.type == "process")


_ELEMENT_FACTS: dict[str, Callable[[ElementSubject], Value]] = {
    "id": lambda s: s.element.id,
    "name": lambda s: s.element.name,
    "Name": lambda s: s.element.name,
    "type": lambda s: s.element.type,
    "kind": lambda s: s.element.kind,
    "boundary": lambda s: s.element.boundary,
    "zone_depth": lambda s: s.facts.zone_depth(s.element),
    "on_device": lambda s: s.facts.device_of(s.element) is not None,
    "essential_performance": lambda s: s.element.essential_performance,
    "has_hazards": lambda s: bool(s.element.hazards),
}
"""The element attributes computed from the model rather than read from its properties."""

_FLOW_FACTS: dict[str, Callable[[FlowSubject], Value]] = {
    "id": lambda s: s.flow.id,
    "name": lambda s: s.flow.name,
    "Name": lambda s: s.flow.name,
    "protocol": lambda s: s.flow.protocol,
    "bidirectional": lambda s: s.flow.bidirectional,
    "crosses_boundary": lambda s: bool(s.facts.crossings(s.flow)),
    "crossing_count": lambda s: len(s.facts.crossings(s.flow)),
    "inbound": lambda s: s.facts.outbound(s.flow) if s.reverse else s.facts.inbound(s.flow),
    "outbound": lambda s: s.facts.inbound(s.flow) if s.reverse else s.facts.outbound(s.flow),
    "protocol_family": lambda s: protocol(s.flow.protocol).family,
    "reply": lambda s: s.reverse,
    "essential_performance": lambda s: s.flow.essential_performance,
    "has_hazards": lambda s: bool(s.flow.hazards),
}
"""The flow attributes computed from the model rather than read from its properties."""

_FLOW_FALLBACKS = frozenset({"on_board", "user_interaction"})
"""Flow attributes computed from the model when the properties do not set them."""


@dataclass(frozen=True)
class Reading:
    """What to look at in a subject so that subjects with equal :meth:`ElementSubject.key`
    (or :meth:`FlowSubject.key`) answer each attribute in ``names`` alike: the attributes among
    them that are computed, and the property names they may be set under."""

    names: tuple[str, ...]
    """The attributes."""
    computed: tuple[str, ...]
    """Those read through the subject (computed facts)."""
    keys: frozenset[str]
    """The property names the others may be set under (either vocabulary, the pack's names)."""
    data: bool
    """Some of them fall back to the data assets (``carries_*``, ``data_*``)."""

    @classmethod
    def of(cls, names: tuple[str, ...], flow: bool, other_names: Mapping[str, str]) -> Reading:
        facts: Mapping[str, object] = _FLOW_FACTS if flow else _ELEMENT_FACTS
        computed = tuple(n for n in names if n in facts or (flow and n in _FLOW_FALLBACKS))
        keys: set[str] = set()
        for name in names:
            if name not in computed:
                keys.update(
                    k for k in (name, _ALIASES.get(name), other_names.get(name)) if k is not None
                )
        data = any(n.startswith("carries_") or n in DATA_ATTRIBUTES for n in names)
        return cls(names, computed, frozenset(keys), data)


def _element_words(subject: ElementSubject) -> set[str]:
    kind = subject.element.kind
    if kind == "generic" or kind not in KNOWN_KINDS:
        return set()
    words = {kind}
    if kind not in HOSTED_KINDS and subject.attribute("on_device"):
        words.add("on-device")
    return words


def fit_words(subjects: Mapping[str, ElementSubject | FlowSubject]) -> frozenset[str] | None:
    """What a threat's subject is, in the words countermeasures say they fit
    (:data:`threatdelta.rules.pack.FIT_WORDS`); None when it is too generic to tell.

    An element is its kind (and ``on-device`` inside a device boundary); a flow is its protocol
    family (``user`` for a person at a user interface, ``on-board`` for a bus inside one
    device) together with what its target is.
    """
    element = subjects.get("element")
    if isinstance(element, ElementSubject):
        words = _element_words(element)
        return frozenset(words) if words else None
    flow = subjects.get("flow")
    if not isinstance(flow, FlowSubject):
        return None
    target = subjects.get("target")
    words = _element_words(target) if isinstance(target, ElementSubject) else set()
    words |= flow_words(flow)
    return frozenset(words) if words else None


def flow_words(flow: FlowSubject) -> frozenset[str]:
    """What :func:`fit_words` says of a flow apart from its target."""
    if flow.attribute("user_interaction"):
        return frozenset({"user"})
    words: set[str] = set()
    family = protocol(flow.flow.protocol).family
    if family != "generic":
        words.add(family)
    if flow.attribute("on_board"):
        words.add("on-board")
    return frozenset(words)


@dataclass
class SubjectFactory:
    """Builds (and caches) subjects for one model and one pack's type tree.

    With ``core_generics``, every element, flow and boundary also answers to the Threat Modeling
    Tool's core generic id of what it is (``GE.P``, ``GE.DF``, ``GE.TB.B``, ...) even when its
    chain does not hold it: a TMT template that defines its own generic types keeps chains of its
    own, and threatdelta's own packs (written against the core ids) still see what each item is.
    A template run as a pack sees the chains as the template defines them.
    """

    facts: ModelFacts
    type_parents: Mapping[str, str]
    core_generics: bool = False
    property_names: Mapping[str, str] = field(default_factory=dict)
    """The pack's attribute ids -> readable property names (see ``RulePack.property_names``)."""

    @classmethod
    def for_pack(cls, facts: ModelFacts, pack: RulePack) -> SubjectFactory:
        """The factory for running ``pack``: core generic ids unless it is a TMT template."""
        return cls(
            facts,
            pack.type_parents,
            core_generics=pack.key_style != "tmt",
            property_names=pack.property_names,
        )

    def __post_init__(self) -> None:
        self._names = {
            **{v: k for k, v in self.property_names.items()},
            **self.property_names,
        }
        self._elements: dict[str, ElementSubject] = {}
        self._flows: dict[tuple[str, bool], FlowSubject] = {}
        self._types: dict[tuple[object, ...], frozenset[str]] = {}
        self._crossed: dict[frozenset[str], frozenset[str]] = {}
        self._boundary_types: dict[str, frozenset[str]] = {}
        self._readings: dict[tuple[tuple[str, ...], bool], Reading] = {}
        self._ends: dict[
            tuple[str | None, str | None], tuple[frozenset[str], int, bool, bool, bool]
        ]
        self._ends = {}

    def element(self, element: Element) -> ElementSubject:
        """The subject for ``element`` (made once, then kept)."""
        subject = self._elements.get(element.id)
        if subject is None:
            subject = self.new_element(element)
            self._elements[element.id] = subject
        return subject

    def flow(self, flow: Flow, reverse: bool = False) -> FlowSubject:
        """The subject for ``flow`` (seen from target to source when ``reverse``; made once,
        then kept)."""
        subject = self._flows.get((flow.id, reverse))
        if subject is None:
            subject = self.new_flow(flow, reverse)
            self._flows[(flow.id, reverse)] = subject
        return subject

    def reading(self, names: tuple[str, ...], flow: bool = False) -> Reading:
        """:class:`Reading` of ``names`` for elements (or flows) under this pack's names."""
        found = self._readings.get((names, flow))
        if found is None:
            found = self._readings[(names, flow)] = Reading.of(names, flow, self._names)
        return found

    def element_inputs(
        self, element: Element, depth: bool = True, identity: bool = True
    ) -> tuple[object, ...]:
        """Everything the subject of ``element`` answers from: two elements of this factory's
        model with equal tuples have the same types and answer every attribute alike, but
        ``zone_depth`` unless ``depth`` and ``id``, ``name``, ``Name`` and ``boundary`` unless
        ``identity``. Its properties count by identity, as in :meth:`direction`."""
        facts = self.facts
        found: tuple[object, ...] = (
            element.type,
            element.kind,
            element.type_chain,
            id(element.properties),
            facts.data_of(element),
            element.hazards,
            element.essential_performance,
            facts.device_of(element) is not None,
        )
        if depth:
            found += (facts.zone_depth(element),)
        if identity:
            found += (element.id, element.name, element.boundary)
        return found

    def direction(
        self,
        flow: Flow,
        source: Element,
        target: Element,
        reverse: bool = False,
        counted: bool = True,
    ) -> tuple[object, ...]:
        """Everything the subject of ``flow`` seen in one direction (``reverse``: from target to
        source) answers from, but the flow's id and name; ``source`` and ``target`` are the
        flow's own ends, whatever the direction. Two flow directions of this factory's model
        with equal tuples have the same types and crossed types and answer every attribute
        other than ``id``, ``name`` and ``Name`` alike; and ``crossing_count`` too unless
        ``counted`` is false (the tuple then holds only whether the flow crosses a boundary).

        The flow's properties count by identity (a model read from a file keeps one mapping
        per distinct property set; equal mappings that are distinct objects only make more
        tuples). What the flow's ends contribute (crossed boundaries' types and their count,
        inbound and outbound, a shared device, a person at a process) is worked out once per
        pair of the ends' boundaries."""
        if flow.crosses is None:
            pair = (source.boundary, target.boundary)
            ends = self._ends.get(pair)
            if ends is None:
                ends = self._ends[pair] = self._between(flow, source, target)
        else:
            ends = self._between(flow, source, target)
        crossed, count, inbound, outbound, device = ends
        if reverse:
            inbound, outbound = outbound, inbound
        return (
            flow.type_chain,
            id(flow.properties),
            flow.protocol,
            flow.data,
            flow.hazards,
            flow.essential_performance,
            flow.bidirectional,
            reverse,
            crossed,
            count if counted else count > 0,
            inbound,
            outbound,
            device,
            person_and_process(source, target),
        )

    def _between(
        self, flow: Flow, source: Element, target: Element
    ) -> tuple[frozenset[str], int, bool, bool, bool]:
        """Of a flow from ``source`` to ``target``: the types of the boundaries it crosses, how
        many it crosses, whether one of them holds the target (inbound) and one the source
        (outbound), and whether both ends sit in one device boundary."""
        facts = self.facts
        inside_source = facts.inside(source)
        inside_target = facts.inside(target)
        crossings: Collection[str]
        if flow.crosses is None:
            crossings = inside_source ^ inside_target
            inbound = not inside_target <= inside_source
            outbound = not inside_source <= inside_target
        else:
            crossings = facts.crossings(flow)
            inbound = any(b in inside_target for b in crossings)
            outbound = any(b in inside_source for b in crossings)
        found: frozenset[str] = frozenset()
        known = self._boundary_types
        if flow.crosses is None and self._uniform is not None:
            # Every boundary has these types: all that matters is whether it crosses one.
            crossings_types: Collection[str] = ()
            found = self._uniform if crossings else found
        else:
            crossings_types = crossings
        for boundary_id in crossings_types:
            types = known.get(boundary_id)
            if types is None:
                types = self._crossed_types(boundary_id)
            if not types <= found:
                found = found | types
        device = facts.device_of(source)
        return (
            self._crossed.setdefault(found, found),
            len(crossings),
            inbound,
            outbound,
            device is not None and device == facts.device_of(target),
        )

    @cached_property
    def _uniform(self) -> frozenset[str] | None:
        """The types every boundary of the model has, when they all have the same (and every
        element is in one of them or none)."""
        model = self.facts.model
        found = {self._crossed_types(b.id) for b in model.boundaries}
        if len(found) != 1:
            return None
        known = {b.id for b in model.boundaries}
        if any(e.boundary is not None and e.boundary not in known for e in model.elements):
            return None
        return found.pop()

    def _crossed_types(self, boundary_id: str) -> frozenset[str]:
        """The types a flow crossing this boundary crosses (worked out once per boundary)."""
        found = self._boundary_types.get(boundary_id)
        if found is None:
            types: set[str] = set()
            boundary: Boundary | None = self.facts.model.boundary(boundary_id)
            if boundary is not None:
                types |= _full_chain(boundary.type_chain, self.type_parents)
                if self.core_generics:
                    types.add(LINE_BOUNDARY_TYPE if boundary.is_line else BORDER_BOUNDARY_TYPE)
            found = self._boundary_types[boundary_id] = frozenset(types)
        return found

    def new_element(self, element: Element) -> ElementSubject:
        """A subject for ``element`` that the factory does not keep."""
        key = (element.type, element.type_chain)
        types = self._types.get(key)
        if types is None:
            types = _full_chain(element.type_chain, self.type_parents)
            if self.core_generics:
                types |= {GENERIC_BY_ELEMENT_TYPE[element.type]}
            self._types[key] = types
        return ElementSubject(element, self.facts, types, self._names)

    def new_flow(self, flow: Flow, reverse: bool = False) -> FlowSubject:
        """A subject for ``flow`` that the factory does not keep."""
        key = ("flow", flow.type_chain)
        types = self._types.get(key)
        if types is None:
            types = _full_chain(flow.type_chain, self.type_parents)
            if self.core_generics:
                types |= {FLOW_TYPE}
            self._types[key] = types
        found: frozenset[str] = frozenset()
        for boundary_id in self.facts.crossings(flow):
            found = found | self._crossed_types(boundary_id)
        crossed = self._crossed.setdefault(found, found)  # one set per distinct answer
        return FlowSubject(flow, self.facts, types, crossed, reverse, self._names)
