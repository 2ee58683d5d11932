"""Structural facts about a model, computed once: zones, crossings, neighbours.

Each boundary's chain of enclosing boundaries is followed through ``parent`` once, in linear time
(:mod:`threatdelta.model.nesting`; a cycle cannot hang it); elements and flows form a networkx ``MultiDiGraph``. A flow crosses every border boundary that contains
exactly one of its two ends; formats that know crossings from geometry (TMT line boundaries,
Threat Dragon curves) set ``Flow.crosses`` and that list is taken as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from threatdelta.model.model import Element, Flow, Model
from threatdelta.model.nesting import chains

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class ModelFacts:
    """Answers to the structural questions rules and reviews ask about one model."""

    model: Model
    """The model the facts are about."""

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

    def data_of(self, element: Element) -> tuple[str, ...]:
        """Asset ids ``element`` holds or handles: its own ``data`` and that of its flows."""
        return tuple(sorted(set(element.data) | set(self._flow_data.get(element.id, ()))))

    def device_of(self, element: Element) -> str | None:
        """The innermost device boundary around ``element``, or None when it is in none."""
        devices = self._device_boundaries
        for boundary_id in self.enclosing(element):
            if boundary_id in devices:
                return boundary_id
        return None

    def zone_depth(self, element: Element) -> int:
        """How many border boundaries contain ``element`` (0: outside all of them)."""
        return len(self.enclosing(element))

    def crossings(self, flow: Flow) -> tuple[str, ...]:
        """Ids of the boundaries ``flow`` crosses, sorted."""
        if flow.crosses is not None:
            return tuple(sorted(flow.crosses))
        source = self.model.element(flow.source)
        target = self.model.element(flow.target)
        inside_source = set(self.enclosing(source)) if source else set()
        inside_target = set(self.enclosing(target)) if target else set()
        return tuple(sorted(inside_source ^ inside_target))

    def inbound(self, flow: Flow) -> bool:
        """True when the flow's target sits inside a crossed boundary its source is outside of."""
        target = self.model.element(flow.target)
        if target is None:
            return False
        inside_target = set(self.enclosing(target))
        return any(b in inside_target for b in self.crossings(flow))

    def outbound(self, flow: Flow) -> bool:
        """True when the flow's source sits inside a crossed boundary its target is outside of."""
        source = self.model.element(flow.source)
        if source is None:
            return False
        inside_source = set(self.enclosing(source))
        return any(b in inside_source for b in self.crossings(flow))

    def neighbours(self, element_id: str) -> frozenset[str]:
        """Ids of elements that exchange data with ``element_id`` in either direction."""
        graph = self.flow_graph
        if element_id not in graph:
            return frozenset()
        return frozenset(graph.successors(element_id)) | frozenset(graph.predecessors(element_id))

    def flows_touching(self, element_id: str) -> tuple[str, ...]:
        """Ids of flows that start or end at ``element_id``, sorted."""
        return tuple(sorted(f.id for f in self.model.flows if element_id in (f.source, f.target)))


def facts(model: Model) -> ModelFacts:
    """Structural facts for ``model`` (computed lazily, once per call)."""
    return ModelFacts(model)
