"""Structural facts about a model, computed once: zones, crossings, neighbours.

Each boundary's chain of enclosing boundaries is followed through ``parent`` once, in linear time
(:mod:`threatdelta.model.nesting`; a cycle cannot hang it); elements and flows form a networkx
``MultiDiGraph``. A flow crosses every border boundary that contains exactly one of its two ends;
formats that know crossings from geometry (TMT line boundaries, Threat Dragon curves) set
``Flow.crosses`` and that list is taken as it is.

A model's facts are built once (:func:`facts` keeps them with the model) and every answer is
kept once computed: the flows at each element are indexed in one pass over the flows, each
flow's crossings and each element's data are worked out once, so asking again costs a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from threatdelta.model.model import Element, Flow, Model
from threatdelta.model.nesting import chains

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class ModelFacts:
    """Answers to the structural questions rules and reviews ask about one model."""

    model: Model
    """The model the facts are about."""
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """Results worked out from these facts by later stages (kept with them, keyed by the stage)."""

    @cached_property
    def flow_graph(self) -> nx.MultiDiGraph:
        """Elements as nodes, flows as keyed edges (both directions for bidirectional flows)."""
        import networkx  # imported when a neighbour question is asked

        graph = networkx.MultiDiGraph()
        for element in self.model.elements:
            graph.add_node(element.id)
        for flow in self.model.flows:
            graph.add_edge(flow.source, flow.target, key=flow.id)
            if flow.bidirectional:
                graph.add_edge(flow.target, flow.source, key=flow.id)
        return graph

    @cached_property
    def _enclosing(self) -> dict[str | None, tuple[str, ...]]:
        """Boundary id -> itself and its ancestors, innermost first (linear time, cycle-safe)."""
        result: dict[str | None, tuple[str, ...]] = {None: ()}
        result.update(chains({b.id: b.parent for b in self.model.boundaries}))
        return result

    def enclosing(self, element: Element) -> tuple[str, ...]:
        """The boundaries that contain ``element``, innermost first."""
        return self._enclosing.get(
            element.boundary, (element.boundary,) if element.boundary else ()
        )

    def inside(self, element: Element) -> frozenset[str]:
        """``enclosing(element)`` as a set, built once per innermost boundary."""
        found = self._inside_sets.get(element.boundary)
        if found is None:
            found = frozenset(self.enclosing(element))
            self._inside_sets[element.boundary] = found
        return found

    @cached_property
    def _inside_sets(self) -> dict[str | None, frozenset[str]]:
        return {}

    @cached_property
    def _device_boundaries(self) -> frozenset[str]:
        return frozenset(
            b.id
            for b in self.model.boundaries
            if b.kind == "device" or "boundary/device" in b.type_chain
        )

    @cached_property
    def _flow_data(self) -> dict[str, tuple[str, ...]]:
        handled: dict[str, set[str]] = {}
        for flow in self.model.flows:
            for end in (flow.source, flow.target):
                handled.setdefault(end, set()).update(flow.data)
        return {k: tuple(sorted(v)) for k, v in handled.items()}

    @cached_property
    def _data_of(self) -> dict[tuple[str, tuple[str, ...]], tuple[str, ...]]:
        return {}

    def data_of(self, element: Element) -> tuple[str, ...]:
        """Asset ids ``element`` holds or handles: its own ``data`` and that of its flows."""
        key = (element.id, element.data)
        found = self._data_of.get(key)
        if found is None:
            found = tuple(sorted(set(element.data) | set(self._flow_data.get(element.id, ()))))
            self._data_of[key] = found
        return found

    def device_of(self, element: Element) -> str | None:
        """The innermost device boundary around ``element``, or None when it is in none."""
        known = self._devices
        if element.boundary in known:
            return known[element.boundary]
        found = None
        devices = self._device_boundaries
        for boundary_id in self.enclosing(element):
            if boundary_id in devices:
                found = boundary_id
                break
        known[element.boundary] = found
        return found

    @cached_property
    def _devices(self) -> dict[str | None, str | None]:
        """Innermost boundary id -> the innermost device boundary around it (asked once)."""
        return {}

    def zone_depth(self, element: Element) -> int:
        """How many border boundaries contain ``element`` (0: outside all of them)."""
        return len(self.enclosing(element))

    @cached_property
    def _crossings(self) -> dict[str, tuple[Flow, tuple[str, ...]]]:
        """Flow id -> the flow asked about and its crossings (asked again about another flow
        with that id, they are worked out for it)."""
        return {}

    def crossings(self, flow: Flow) -> tuple[str, ...]:
        """Ids of the boundaries ``flow`` crosses, sorted."""
        known = self._crossings.get(flow.id)
        if known is not None and known[0] is flow:
            return known[1]
        if flow.crosses is not None:
            found = tuple(sorted(flow.crosses))
        else:
            source = self.model.element(flow.source)
            target = self.model.element(flow.target)
            inside_source = self.inside(source) if source else frozenset()
            inside_target = self.inside(target) if target else frozenset()
            found = tuple(sorted(inside_source ^ inside_target))
        self._crossings[flow.id] = (flow, found)
        return found

    def inbound(self, flow: Flow) -> bool:
        """True when the flow's target sits inside a crossed boundary its source is outside of."""
        target = self.model.element(flow.target)
        if target is None:
            return False
        inside_target = self.inside(target)
        return any(b in inside_target for b in self.crossings(flow))

    def outbound(self, flow: Flow) -> bool:
        """True when the flow's source sits inside a crossed boundary its target is outside of."""
        source = self.model.element(flow.source)
        if source is None:
            return False
        inside_source = self.inside(source)
        return any(b in inside_source for b in self.crossings(flow))

    def neighbours(self, element_id: str) -> frozenset[str]:
        """Ids of elements that exchange data with ``element_id`` in either direction."""
        graph = self.flow_graph
        if element_id not in graph:
            return frozenset()
        return frozenset(graph.successors(element_id)) | frozenset(graph.predecessors(element_id))

    @cached_property
    def _touching(self) -> dict[str, tuple[str, ...]]:
        """Element id -> ids of the flows that start or end there, sorted (one pass)."""
        touching: dict[str, set[str]] = {}
        for flow in self.model.flows:
            touching.setdefault(flow.source, set()).add(flow.id)
            touching.setdefault(flow.target, set()).add(flow.id)
        return {k: tuple(sorted(v)) for k, v in touching.items()}

    def flows_touching(self, element_id: str) -> tuple[str, ...]:
        """Ids of flows that start or end at ``element_id``, sorted."""
        return self._touching.get(element_id, ())


def facts(model: Model) -> ModelFacts:
    """Structural facts for ``model``: built on the first call and kept with the model, so every
    stage that asks about the same model shares one set of answers."""
    found = model.__dict__.get("_facts")
    if found is None:
        found = ModelFacts(model)
        object.__setattr__(model, "_facts", found)
    assert isinstance(found, ModelFacts)
    return found
