"""Incremental enumeration: re-run rules only where a change can have changed the answer.

A threat's existence depends only on what its rule reads: the element (for element rules), or the
flow with its source and target (for flow and interaction rules), including computed facts such as
zone depth, crossings and the crossed boundaries' types. So after a change, rules are re-run on:

- elements that were added or changed, elements whose enclosing boundaries (their ids, types,
  kinds, or whether they are lines) changed, and elements whose handled data changed (the data
  a process handles comes from its flows, so a flow that moved an end or changed its ``data``
  changes it);
- flows that were added or changed, flows that start or end at such an element, and flows whose
  crossed boundaries (or those boundaries' types) changed.

Everything else keeps the threats enumerated at the base revision. When the rule pack or the
data assets changed, everything is re-run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from threatdelta.engine import EnumerationScope, EnumerationStats, enumerate_threats
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Element, Model
from threatdelta.review.diff import ModelDiff, diff_models
from threatdelta.rules.lang.ast import referenced_attributes
from threatdelta.rules.pack import RulePack
from threatdelta.subjects import NATIVE_TO_TMT
from threatdelta.threat import Place, Threat, shares


@dataclass(frozen=True)
class Impact:
    """The part of the head model whose threats must be recomputed."""

    scope: EnumerationScope
    """Element and flow ids to re-run rules on."""
    full: bool
    """True when everything had to be re-run (the rule pack changed)."""


def _crossed_types(model_facts: ModelFacts, flow_id: str) -> tuple[_BoundaryFacts, ...]:
    flow = model_facts.model.flow(flow_id)
    if flow is None:
        return ()
    return tuple(_boundary_facts(model_facts, b) for b in model_facts.crossings(flow))


_BoundaryFacts = tuple[str, tuple[str, ...], str, bool]
"""What a rule can see of a boundary: its id, type chain, kind (a device?) and whether it is a
line."""


def _boundary_facts(model_facts: ModelFacts, boundary_id: str) -> _BoundaryFacts:
    boundary = model_facts.model.boundary(boundary_id)
    if boundary is None:
        return (boundary_id, (), "", False)
    return (boundary_id, boundary.type_chain, boundary.kind, boundary.is_line)


def _zones(model_facts: ModelFacts, element: Element) -> tuple[_BoundaryFacts, ...]:
    return tuple(_boundary_facts(model_facts, b) for b in model_facts.enclosing(element))


def impact(
    base: Model,
    head: Model,
    diff: ModelDiff,
    *,
    same_pack: bool,
    base_facts: ModelFacts | None = None,
    head_facts: ModelFacts | None = None,
) -> Impact:
    """Which elements and flows of ``head`` need their rules re-run."""
    if not same_pack or base.assets != head.assets:
        return Impact(
            EnumerationScope(
                frozenset(e.id for e in head.elements), frozenset(f.id for f in head.flows)
            ),
            full=True,
        )
    base_facts = base_facts or facts(base)
    head_facts = head_facts or facts(head)
    # An element's zones depend only on its innermost boundary: compared once per boundary.
    zones_moved: dict[str | None, bool] = {}

    def moved(old: Element, new: Element) -> bool:
        if old.boundary != new.boundary:
            return _zones(base_facts, old) != _zones(head_facts, new)
        found = zones_moved.get(new.boundary)
        if found is None:
            found = _zones(base_facts, old) != _zones(head_facts, new)
            zones_moved[new.boundary] = found
        return found

    base_elements = {e.id: e for e in base.elements}
    head_ids = {e.id for e in head.elements}
    base_flows = {f.id: f for f in base.flows}
    elements = set(diff.items["elements"].added) | set(diff.items["elements"].changed)
    # Zones can move only when a boundary changed (else an element moved only by its own
    # ``boundary`` field, and is changed). The data an element handles comes from its flows
    # too: only an end (at either revision) of a flow that was added, dropped or changed (ends,
    # data) can handle other data without being changed itself.
    boundaries = diff.items["boundaries"]
    zones_may_move = bool(boundaries.added or boundaries.removed or boundaries.changed)
    head_flows = {f.id: f for f in head.flows}
    data_may_change: set[str] = set()
    for flow_id in diff.items["flows"].added + diff.items["flows"].changed:
        flow = head_flows.get(flow_id)
        if flow is not None:
            data_may_change.update((flow.source, flow.target))
    for flow_id in diff.items["flows"].removed + diff.items["flows"].changed:
        flow = base_flows.get(flow_id)
        if flow is not None:
            data_may_change.update((flow.source, flow.target))
    # Without a boundary change, only an end of such a flow can be in scope unchanged.
    candidates = (
        head.elements
        if zones_may_move
        else [e for e in map(head.element, data_may_change - elements) if e is not None]
    )
    for element in candidates:
        if element.id in elements:
            continue
        old = base_elements.get(element.id)
        if old is None:
            continue
        if (zones_may_move and moved(old, element)) or (
            element.id in data_may_change and base_facts.data_of(old) != head_facts.data_of(element)
        ):
            elements.add(element.id)
    flows = set(diff.items["flows"].added) | set(diff.items["flows"].changed)
    for flow in head.flows:
        if flow.source in elements or flow.target in elements:
            flows.add(flow.id)
            continue
        before = base_flows.get(flow.id)
        if before is None:
            continue
        # Crossings worked out from the nesting follow from the two ends' zones: when both ends
        # are in both models and kept their zones (else they are in ``elements``), the flow
        # crosses the same boundaries with the same facts. Crossings a format states (or a
        # missing end) are compared as they are.
        if (
            flow.crosses is None
            and before.crosses is None
            and flow.source in base_elements
            and flow.source in head_ids
            and flow.target in base_elements
            and flow.target in head_ids
        ):
            continue
        if _crossed_types(base_facts, flow.id) != _crossed_types(head_facts, flow.id):
            flows.add(flow.id)
    return Impact(EnumerationScope(frozenset(elements), frozenset(flows)), full=False)


COSMETIC_FIELDS = frozenset({"name", "description"})
"""Fields whose change alone changes no threat's existence (only its title)."""


def read_attributes(*packs: RulePack) -> frozenset[str]:
    """Every attribute name a rule of ``packs`` reads, in both vocabularies (native and TMT)."""
    names: set[str] = set()
    for pack in packs:
        for rule in pack.rules:
            for expr in (rule.include, rule.exclude):
                if expr is not None:
                    names.update(attr for _, attr in referenced_attributes(expr))  # type: ignore[arg-type]
    for pack in packs:
        other = {**{v: k for k, v in pack.property_names.items()}, **pack.property_names}
        names.update(other[n] for n in list(names) if n in other)
    names.update(NATIVE_TO_TMT[n] for n in list(names) if n in NATIVE_TO_TMT)
    names.update(n for n, tmt in NATIVE_TO_TMT.items() if tmt in names)
    return frozenset(names)


def semantic_scope(
    base: Model,
    head: Model,
    diff: ModelDiff,
    attributes: frozenset[str],
    known: Impact | None = None,
) -> frozenset[str]:
    """Ids of the elements and flows whose threats a change can have made appear or disappear.

    Like :func:`impact`, but only changes a rule can see count: a new display name or
    description, or a property that no rule reads (``attributes`` are the ones rules read; see
    :func:`read_attributes`), does not bring an item's old threats into the review. So renaming
    an element, or the diagram tab a .tm7 element sits on, leaves the gate alone.

    ``known``: :func:`impact` of ``base`` to ``head`` with ``diff``, when the caller has it.
    """

    def matters(field: str) -> bool:
        if field in COSMETIC_FIELDS:
            return False
        if field.startswith("properties."):
            return field.removeprefix("properties.") in attributes
        return True

    def meaningful(kind: str) -> tuple[str, ...]:
        return tuple(
            item_id
            for item_id in diff.items[kind].changed
            if any(matters(f.field) for f in diff.fields_of(kind, item_id))
        )

    items = dict(diff.items)
    for kind in ("elements", "flows"):
        items[kind] = replace(diff.items[kind], changed=meaningful(kind))
    if known is not None and not known.full and items == diff.items:
        # Nothing was narrowed away: the impact of ``diff`` itself.
        return known.scope.elements | known.scope.flows
    narrowed = replace(diff, items=items)
    scope = impact(base, head, narrowed, same_pack=True).scope
    return scope.elements | scope.flows


def _with_aliases(names: set[str]) -> frozenset[str]:
    names = set(names)
    names.update(NATIVE_TO_TMT[n] for n in list(names) if n in NATIVE_TO_TMT)
    names.update(n for n, tmt in NATIVE_TO_TMT.items() if tmt in names)
    return frozenset(names)


@dataclass(frozen=True)
class ConditionScope:
    """Which threats a change can have affected, judged threat by threat.

    A threat is affected when a subject of it changed in its structure (added, other ends,
    another protocol or type, other enclosing or crossed boundaries, out of scope), or when a
    property of a subject changed that its own rule reads. A property no rule of this threat
    reads (a Threat Dragon flow's encryption, for a denial-of-service threat) leaves it alone;
    so does any property change for a threat stored in the file, which has no conditions.
    """

    structural: frozenset[str]
    """Element and flow ids whose structure changed (or whose surroundings did)."""
    properties: dict[str, frozenset[str]]
    """Element or flow id -> names of its properties that changed."""
    reads: dict[str, frozenset[str]]
    """Rule id -> attribute names its include and exclude read (both vocabularies)."""

    def touches(self, threat: Threat) -> bool:
        """True when the change can have made ``threat`` appear, disappear or change."""
        ids = threat.subject_ids
        if any(i in self.structural for i in ids):
            return True
        read = self.reads.get(threat.rule_id, frozenset())
        return any(self.properties.get(i, frozenset()) & read for i in ids)


def condition_scope(
    base: Model, head: Model, diff: ModelDiff, *packs: RulePack, known: Impact | None = None
) -> ConditionScope:
    """The :class:`ConditionScope` of the change from ``base`` to ``head`` for ``packs``' rules
    (``known``: :func:`impact` of the same change, when the caller has it)."""
    reads: dict[str, set[str]] = {}
    for pack in packs:
        other = {**{v: k for k, v in pack.property_names.items()}, **pack.property_names}
        for rule in pack.rules:
            names = reads.setdefault(rule.id, set())
            for expr in (rule.include, rule.exclude):
                if expr is not None:
                    read = {attr for _, attr in referenced_attributes(expr)}  # type: ignore[arg-type]
                    names.update(read)
                    names.update(other[a] for a in read if a in other)
    properties: dict[str, set[str]] = {}
    for change in diff.fields:
        if change.kind in ("elements", "flows") and change.field.startswith("properties."):
            properties.setdefault(change.id, set()).add(change.field.removeprefix("properties."))
    structural = semantic_scope(base, head, diff, frozenset(), known)
    return ConditionScope(
        structural=structural,
        properties={k: _with_aliases(v) for k, v in properties.items()},
        reads={k: _with_aliases(v) for k, v in reads.items()},
    )


def incremental_threats(
    base: Model,
    base_threats: tuple[Threat, ...],
    head: Model,
    pack: RulePack,
    change: Impact,
    *,
    head_facts: ModelFacts | None = None,
    stats: EnumerationStats | None = None,
) -> tuple[Threat, ...]:
    """The head's threats: the base's outside the impact, re-enumerated inside it."""
    if change.full:
        return enumerate_threats(head, pack, model_facts=head_facts, stats=stats)
    head_elements = {e.id for e in head.elements}
    head_flows = {f.id for f in head.flows}
    touched = change.scope.elements | change.scope.flows
    # What becomes of the threats found at one place (they share it): dropped (None), or kept
    # at that place as the head declares it. Worked out once per place; ``base_threats`` holds
    # every place alive, so no id is reused meanwhile.
    moved: dict[int, Place | None] = {}
    kept: dict[str, Threat] = {}
    for threat in base_threats:
        part, place = shares(threat)
        try:
            there = moved[id(place)]
        except KeyError:
            there = moved[id(place)] = _kept_place(place, touched, head_elements, head_flows, head)
        if there is None:
            continue
        # Locations follow the head model (line numbers move when others change).
        kept[threat.key] = threat if there is place else Threat.of(threat.key, part, there)
    fresh = enumerate_threats(head, pack, change.scope, model_facts=head_facts, stats=stats)
    kept.update({t.key: t for t in fresh})
    return tuple(kept[k] for k in sorted(kept))


def _kept_place(
    place: Place,
    touched: frozenset[str],
    head_elements: set[str],
    head_flows: set[str],
    head: Model,
) -> Place | None:
    """``place`` as ``head`` declares it, or None when its threats are not kept (a subject is
    in the impact, or gone at head)."""
    ids = (place.element, place.source, place.flow, place.target)
    if any(i is not None and i in touched for i in ids):
        return None
    if place.element is not None and place.element not in head_elements:
        return None
    if place.flow is not None and place.flow not in head_flows:
        return None
    item = head.element(place.element) if place.element else head.flow(place.flow or "")
    location = item.location if item is not None else place.location
    if location == place.location:
        return place
    return replace(place, location=location)


@dataclass(frozen=True)
class Enumerated:
    """A model with its threats under a pack: what the next revision's threats are worked out
    from."""

    model: Model
    """The model."""
    pack: RulePack
    """The pack its threats were enumerated with."""
    threats: tuple[Threat, ...]
    """Its threats, sorted by key (equal to ``enumerate_threats(model, pack)``)."""
    facts: ModelFacts
    """Its structural facts."""


def enumerate_after(
    before: Enumerated | None,
    model: Model,
    pack: RulePack,
    *,
    model_facts: ModelFacts | None = None,
    stats: EnumerationStats | None = None,
) -> Enumerated:
    """``model``'s threats under ``pack``, re-running rules only where it differs from
    ``before`` (another revision of the same model, enumerated with the same pack); everything
    when there is no such revision or the pack differs."""
    model_facts = model_facts or facts(model)
    if before is None or before.pack != pack:
        threats = enumerate_threats(model, pack, model_facts=model_facts, stats=stats)
        return Enumerated(model, pack, threats, model_facts)
    diff = diff_models(before.model, model, base_facts=before.facts, head_facts=model_facts)
    change = impact(
        before.model,
        model,
        diff,
        same_pack=True,
        base_facts=before.facts,
        head_facts=model_facts,
    )
    threats = incremental_threats(
        before.model, before.threats, model, pack, change, head_facts=model_facts, stats=stats
    )
    return Enumerated(model, pack, threats, model_facts)
