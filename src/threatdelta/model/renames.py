"""Renamed ids: which items took over an old id, and what that does to threat keys.

A threat key is built from ids (``rule@element``, ``rule@source>flow>target``), so renaming an
element, flow or boundary id changes the keys of its threats. An item that declares
``renamed_from: OLD-ID`` says it is the same item: its threats are the same threats under new
keys, and decisions written under the old keys belong to them. Without the declaration, an item
that looks like a removed one (same name and type; for a flow, the same ends) is only suggested as
a rename: a person decides. Pure functions of models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from operator import attrgetter

from threatdelta.model.model import Boundary, Disposition, Element, Flow, Model

Item = Boundary | Element | Flow


def _items(model: Model) -> list[Item]:
    return [*model.boundaries, *model.elements, *model.flows]


_id: Callable[[Item], str] = attrgetter("id")


def declared_renames(model: Model) -> dict[str, str]:
    """Old id -> new id, for every item of ``model`` that declares ``renamed_from`` (worked out
    once per model: a review asks for it several times)."""
    found: dict[str, str] | None = model.__dict__.get("_declared_renames")
    if found is None:
        found = {item.renamed_from: item.id for item in _items(model) if item.renamed_from}
        object.__setattr__(model, "_declared_renames", found)
    return dict(found)


def rekey(key: str, renames: Mapping[str, str]) -> str:
    """``key`` with every renamed id in its subject part replaced by the new id.

    Only threatdelta's own ``rule@a`` and ``rule@a>b>c`` keys are rewritten; other tools' keys
    (GUIDs, which never change on a rename) come back as they are.
    """
    if not renames or "@" not in key:
        return key
    rule, _, subjects = key.partition("@")
    parts = subjects.split(">")
    renamed = [renames.get(part, part) for part in parts]
    if renamed == parts:
        return key
    return f"{rule}@{'>'.join(renamed)}"


@dataclass(frozen=True)
class LikelyRename:
    """An item removed by a change and one added by it that look like the same item."""

    old: str
    """The id at the base."""
    new: str
    """The id at the head."""
    what: str
    """``element``, ``flow`` or ``boundary``."""
    name: str
    """The name both share."""


def _what(item: Item) -> str:
    if isinstance(item, Boundary):
        return "boundary"
    return "flow" if isinstance(item, Flow) else "element"


def _shape(item: Item, renames: Mapping[str, str]) -> tuple[object, ...]:
    """What must match for two items to look like one: name and type; a flow's ends."""
    if isinstance(item, Element):
        return ("element", item.name, item.type, item.kind)
    if isinstance(item, Flow):
        ends = (renames.get(item.source, item.source), renames.get(item.target, item.target))
        return ("flow", item.name, ends, item.protocol)
    return ("boundary", item.name, item.kind)


def likely_renames(base: Model, head: Model) -> tuple[LikelyRename, ...]:
    """Items removed at ``head`` that match exactly one item added at ``head`` (and vice versa)
    by name, type and connections, and were not declared as renames."""
    declared = declared_renames(head)
    base_list, head_list = _items(base), _items(head)
    base_items = dict(zip(map(_id, base_list), base_list, strict=True))
    head_items = dict(zip(map(_id, head_list), head_list, strict=True))
    # The order of these two lists decides nothing: only an item alone of its shape matches.
    removed = [base_items[k] for k in base_items.keys() - head_items.keys() - declared.keys()]
    added = [head_items[k] for k in head_items.keys() - base_items.keys() - set(declared.values())]
    # Elements first, so flows between renamed elements match through the guessed ends.
    guessed: dict[str, str] = dict(declared)
    found: list[LikelyRename] = []
    for kind in (Element, Boundary, Flow):
        old_by_shape: dict[tuple[object, ...], list[Item]] = {}
        for item in removed:
            if isinstance(item, kind):
                old_by_shape.setdefault(_shape(item, {}), []).append(item)
        new_by_shape: dict[tuple[object, ...], list[Item]] = {}
        for item in added:
            if isinstance(item, kind):
                new_by_shape.setdefault(_shape(item, _inverse(guessed)), []).append(item)
        for shape, olds in sorted(old_by_shape.items(), key=lambda pair: str(pair[0])):
            news = new_by_shape.get(shape, [])
            if len(olds) == 1 and len(news) == 1:
                old, new = olds[0], news[0]
                guessed[old.id] = new.id
                found.append(LikelyRename(old.id, new.id, _what(new), new.name))
    return tuple(sorted(found, key=lambda r: (r.what, r.old)))


def _inverse(renames: Mapping[str, str]) -> dict[str, str]:
    return {new: old for old, new in renames.items()}


def with_new_ids(model: Model, renames: Mapping[str, str]) -> Model:
    """``model`` (an earlier revision) written with the ids a later revision gave its items, and
    the later revision's ``renamed_from`` on them, so comparing the two shows what changed
    besides the renames. Threat keys of its decisions are rewritten the same way."""
    if not renames:
        return model

    def new(ref: str | None) -> str | None:
        return renames.get(ref, ref) if ref is not None else None

    old_of = _inverse(renames)

    def was(item_id: str) -> str | None:
        return old_of.get(item_id)

    boundaries = tuple(
        replace(
            b, id=renames.get(b.id, b.id), parent=new(b.parent), renamed_from=was(new(b.id) or b.id)
        )
        for b in model.boundaries
    )
    elements = tuple(
        replace(
            e,
            id=renames.get(e.id, e.id),
            boundary=new(e.boundary),
            renamed_from=was(renames.get(e.id, e.id)),
        )
        for e in model.elements
    )
    flows = tuple(
        replace(
            f,
            id=renames.get(f.id, f.id),
            source=renames.get(f.source, f.source),
            target=renames.get(f.target, f.target),
            crosses=(
                tuple(renames.get(c, c) for c in f.crosses) if f.crosses is not None else None
            ),
            renamed_from=was(renames.get(f.id, f.id)),
        )
        for f in model.flows
    )
    dispositions: dict[str, Disposition] = {}
    for key, disposition in model.dispositions.items():
        rewritten = rekey(key, renames)
        dispositions.setdefault(
            rewritten, replace(disposition, key=rewritten) if rewritten != key else disposition
        )
    return replace(
        model, boundaries=boundaries, elements=elements, flows=flows, dispositions=dispositions
    )
