"""What every model writer shares: the notes on what a target format cannot hold, the written
result, crossings and type chains a target may lose, and preparing a model for a format meant to
be read by people (:func:`with_readable_properties`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from threatdelta.model.model import Boundary, Element, Flow, Model, Value, frozen_props
from threatdelta.model.types import element_chain

GENERIC_TYPE_IDS = frozenset({"GE.P", "GE.DS", "GE.EI", "GE.DF", "GE.TB.B", "GE.TB.L", "GE.TB"})
"""Tool type ids that say no more than the type itself: read as kind ``generic``."""


def label(noun: str, name: str, item_id: str) -> str:
    """``flow 'Dose command' (dose-cmd)``, or ``flow 'dose-cmd'`` when the name says no more."""
    return f"{noun} '{name}' ({item_id})" if name and name != item_id else f"{noun} '{item_id}'"


@dataclass(frozen=True)
class Note:
    """Something of the model the target format cannot hold."""

    what: str
    """What is lost, as a noun phrase: ``line boundary 'Internet' (b1)``."""
    detail: str = ""
    """What happens instead, if anything: ``kept as a disposition only``."""

    def sentence(self, target: str) -> str:
        """``<what> is not kept by <target>[; <detail>]``."""
        text = f"{self.what} is not kept by {target}"
        return f"{text}; {self.detail}" if self.detail else text


@dataclass(frozen=True)
class Written:
    """A model written in a target format."""

    text: str
    """The file's content."""
    notes: tuple[Note, ...] = ()
    """What the target format could not hold, in the order found."""


def derived_crossings(
    boundaries: Iterable[Boundary], elements: Iterable[Element], flow: Flow
) -> set[str]:
    """The border boundaries ``flow`` crosses by nesting: those holding exactly one of its ends."""
    parents = {b.id: b.parent for b in boundaries if not b.is_line}
    inside: dict[str, set[str]] = {}
    for element in elements:
        chain: set[str] = set()
        current = element.boundary
        while current is not None and current in parents and current not in chain:
            chain.add(current)
            current = parents[current]
        inside[element.id] = chain
    return inside.get(flow.source, set()) ^ inside.get(flow.target, set())


def crossing_notes(model: Model, kept: Iterable[Boundary], target: str) -> list[Note]:
    """Notes for flows whose stored crossings differ from what nesting in ``kept`` implies."""
    kept = list(kept)
    names = {b.id: b.name for b in model.boundaries}
    notes: list[Note] = []
    for flow in model.flows:
        if flow.crosses is None:
            continue
        derived = derived_crossings(kept, model.elements, flow)
        stored = set(flow.crosses)
        flow_label = label("flow", flow.name, flow.id)
        for boundary_id in sorted(stored - derived):
            notes.append(
                Note(
                    f"the crossing of {label('boundary', names.get(boundary_id, ''), boundary_id)}"
                    f" by {flow_label}",
                    f"{target} works crossings out from boundary nesting",
                )
            )
        for boundary_id in sorted(derived - stored):
            notes.append(
                Note(
                    f"that {flow_label} stays clear of "
                    f"{label('boundary', names.get(boundary_id, ''), boundary_id)}",
                    f"{target} works crossings out from boundary nesting and finds one",
                )
            )
    return notes


def plain_element_chain(element: Element) -> bool:
    """True when the element's type chain is what its type and kind give (nothing to lose)."""
    chain = element.type_chain
    return (
        not chain
        or chain == element_chain(element.type, element.kind)
        or chain[0] in (GENERIC_TYPE_IDS)
    )


def plain_flow_chain(flow: Flow) -> bool:
    """True when the flow's type chain is what its protocol gives (nothing to lose)."""
    chain = flow.type_chain
    return (
        not chain
        or chain == (f"flow/{flow.protocol}", "flow", "GE.DF", "ROOT")
        or chain[0] in (GENERIC_TYPE_IDS)
    )


def chain_note(chain: tuple[str, ...], label: str) -> Note:
    """The note for a type chain the target format cannot hold."""
    return Note(
        f"the type chain {' > '.join(chain)} of {label}",
        "rules that test those type ids will not match it",
    )


def sorted_model(model: Model) -> Model:
    """``model`` with every list in id (or key) order, so writers give the same text for it."""
    return replace(
        model,
        elements=tuple(sorted(model.elements, key=lambda e: e.id)),
        flows=tuple(sorted(model.flows, key=lambda f: f.id)),
        boundaries=tuple(sorted(model.boundaries, key=lambda b: b.id)),
        controls=tuple(sorted(model.controls, key=lambda c: c.id)),
        stored_threats=tuple(sorted(model.stored_threats, key=lambda t: t.key)),
    )


def _renamed(properties: Mapping[str, Value], names: Mapping[str, str]) -> Mapping[str, Value]:
    if not any(key in names for key in properties):
        return properties
    result: dict[str, Value] = {}
    for key in sorted(properties):
        name = names.get(key, key)
        if name in result or (name != key and name in properties):
            name = key  # never let a readable name overwrite another property
        result[name] = properties[key]
    return frozen_props(result)


def with_readable_properties(model: Model, names: Mapping[str, str]) -> Model:
    """``model`` with property names that are tool ids (a TMT template's attribute GUIDs)
    written as readable names (``out_of_scope``, ``show_boundary_threats``).

    The rule pack that knows the ids (``RulePack.property_names``) still finds each property
    under its readable name, so a template run on the converted model sees the same values.
    """
    if not names:
        return model
    return replace(
        model,
        elements=tuple(
            replace(e, properties=_renamed(e.properties, names)) for e in model.elements
        ),
        flows=tuple(replace(f, properties=_renamed(f.properties, names)) for f in model.flows),
        boundaries=tuple(
            replace(b, properties=_renamed(b.properties, names)) for b in model.boundaries
        ),
    )
