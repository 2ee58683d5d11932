"""The model diff: added, removed and changed items, keyed by id.

Both models are normalised into id-keyed plain data (so list order never matters) and compared
field by field (a property is a field of its own; values of other types differ even when Python
calls them equal, as ``1`` and ``True``). A change of display name is a rename of the same item, never a removal plus an
addition, because items are matched by id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Boundary, Control, Disposition, Element, Flow, Model

KINDS = ("elements", "flows", "boundaries", "controls", "dispositions")


@dataclass(frozen=True, order=True)
class FieldChange:
    """One changed field of one item."""

    kind: str
    """elements, flows, boundaries, controls or dispositions."""
    id: str
    """The item's id (a threat key for dispositions)."""
    field: str
    """Dotted field path: ``name``, ``properties.encrypted``, ``evidence``, ``status`` ..."""
    old: Any = dataclasses.field(compare=False)
    """Value at base (None when absent)."""
    new: Any = dataclasses.field(compare=False)
    """Value at head (None when absent)."""


@dataclass(frozen=True)
class ItemChanges:
    """Added, removed and changed ids for one kind of item."""

    added: tuple[str, ...] = ()
    """Ids only at head."""
    removed: tuple[str, ...] = ()
    """Ids only at base."""
    changed: tuple[str, ...] = ()
    """Ids at both with some field changed."""


@dataclass(frozen=True)
class CrossingChange:
    """A flow whose set of crossed boundaries changed."""

    flow: str
    """Flow id."""
    before: tuple[str, ...]
    """Boundaries crossed at base."""
    after: tuple[str, ...]
    """Boundaries crossed at head."""


@dataclass(frozen=True)
class ModelDiff:
    """Everything that changed between two models."""

    items: Mapping[str, ItemChanges]
    """Per kind (elements, flows, boundaries, controls, dispositions)."""
    fields: tuple[FieldChange, ...]
    """Every changed field of every item present at both, sorted."""
    crossings: tuple[CrossingChange, ...]
    """Flows present at both whose crossed boundaries changed, sorted by flow id."""
    system_renamed: bool = False
    """The system's display name changed."""

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return (
            not self.fields
            and not self.crossings
            and not self.system_renamed
            and all(not (c.added or c.removed or c.changed) for c in self.items.values())
        )

    def renames(self) -> tuple[FieldChange, ...]:
        """Display-name changes."""
        return tuple(f for f in self.fields if f.field == "name")

    def fields_of(self, kind: str, item_id: str) -> tuple[FieldChange, ...]:
        """The changed fields of one item (indexed once per diff, not scanned per call)."""
        index: dict[tuple[str, str], tuple[FieldChange, ...]] | None = self.__dict__.get(
            "_fields_index"
        )
        if index is None:
            grouped: dict[tuple[str, str], list[FieldChange]] = {}
            for change in self.fields:
                grouped.setdefault((change.kind, change.id), []).append(change)
            index = {key: tuple(changes) for key, changes in grouped.items()}
            object.__setattr__(self, "_fields_index", index)
        return index.get((kind, item_id), ())

    def summary(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            kind: {
                "added": list(c.added),
                "removed": list(c.removed),
                "changed": list(c.changed),
            }
            for kind, c in self.items.items()
        } | {
            "fields": [
                {
                    "kind": f.kind,
                    "id": f.id,
                    "field": f.field,
                    "old": _plain(f.old),
                    "new": _plain(f.new),
                }
                for f in self.fields
            ],
            "crossings": [
                {"flow": c.flow, "before": list(c.before), "after": list(c.after)}
                for c in self.crossings
            ],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def _element(e: Element) -> dict[str, Any]:
    return {
        "name": e.name,
        "type": e.type,
        "kind": e.kind,
        "boundary": e.boundary,
        "properties": dict(e.properties),
        "type_chain": list(e.type_chain),
        "description": e.description,
        "hazards": list(e.hazards),
        "essential_performance": e.essential_performance,
        "data": list(e.data),
    }


def _flow(f: Flow) -> dict[str, Any]:
    return {
        "name": f.name,
        "source": f.source,
        "target": f.target,
        "protocol": f.protocol,
        "bidirectional": f.bidirectional,
        "properties": dict(f.properties),
        "type_chain": list(f.type_chain),
        "description": f.description,
        "out_of_scope": f.out_of_scope,
        "out_of_scope_reason": f.out_of_scope_reason,
        "hazards": list(f.hazards),
        "essential_performance": f.essential_performance,
        "data": list(f.data),
    }


def _boundary(b: Boundary) -> dict[str, Any]:
    return {
        "name": b.name,
        "kind": b.kind,
        "parent": b.parent,
        "properties": dict(b.properties),
        "type_chain": list(b.type_chain),
        "line": b.is_line,
    }


def _control(c: Control) -> dict[str, Any]:
    return {
        "name": c.name,
        "status": c.status,
        "evidence": list(c.evidence),
        "description": c.description,
    }


def _disposition(d: Disposition) -> dict[str, Any]:
    return {
        "status": d.status,
        "controls": list(d.controls),
        "justification": d.justification,
        "approved_by": d.approved_by,
        "approved_on": d.approved_on.isoformat() if d.approved_on else None,
        "expires": d.expires.isoformat() if d.expires else None,
        "transferred_to": d.transferred_to,
        "needs_investigation": d.needs_investigation,
    }


def _items(model: Model) -> dict[str, tuple[dict[str, Any], Callable[[Any], dict[str, Any]]]]:
    """Per kind: the items by id, and how one is written as plain data."""
    return {
        "elements": ({e.id: e for e in model.elements}, _element),
        "flows": ({f.id: f for f in model.flows}, _flow),
        "boundaries": ({b.id: b for b in model.boundaries}, _boundary),
        "controls": ({c.id: c for c in model.controls}, _control),
        "dispositions": ({d.key: d for d in model.dispositions.values()}, _disposition),
    }


def normalise(model: Model) -> dict[str, dict[str, dict[str, Any]]]:
    """Id-keyed plain data of everything a review compares (locations and order left out)."""
    return {
        kind: {item_id: plain(item) for item_id, item in items.items()}
        for kind, (items, plain) in _items(model).items()
    }


def _same(old: Any, new: Any) -> bool:
    """Equal, with equal types all the way down (``1``, ``1.0`` and ``True`` differ)."""
    if type(old) is not type(new):
        return False
    if isinstance(old, (dict, MappingProxyType)):
        return old.keys() == new.keys() and all(_same(v, new[k]) for k, v in old.items())
    if isinstance(old, (list, tuple)):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    return bool(old == new)


_SCALARS = frozenset((str, int, float, bool, type(None)))
"""Value types compared whole by ``==`` and ``type`` (no values inside them)."""


def _same_item(old: Any, new: Any) -> bool:
    """Two model items are the same: equal as objects, and their free-form properties (the
    only fields whose values' types the schema leaves open) equal with equal types."""
    if old != new:
        return False
    before = getattr(old, "properties", None)
    if before is None:
        return True
    # Equal maps: they differ only if two equal values differ in type (``1`` and ``true``).
    after = new.properties
    kinds = tuple(map(type, before.values()))
    if kinds != tuple(map(type, map(after.__getitem__, before))):
        return False
    return _SCALARS.issuperset(kinds) or _same(before, after)


def _mostly_different(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Two maps of more than one name in all that share under a third of their names: such a
    properties map is reported as one change (``properties``), not name by name."""
    union = len(old.keys() | new.keys())
    return union > 1 and len(old.keys() & new.keys()) / union < 0.33


def _changed_names(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The fields of one item's plain data that differ: a top-level field by its name, a
    property as ``properties.NAME``; lists (evidence, controls, type chains) are reported whole,
    and so is anything nested deeper."""
    names: list[str] = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old or name not in new:
            names.append(name)
            continue
        before, after = old[name], new[name]
        if _same(before, after):
            continue
        if (
            name == "properties"
            and isinstance(before, dict)
            and isinstance(after, dict)
            and not _mostly_different(before, after)
        ):
            names += [
                f"properties.{p}"
                for p in sorted(before.keys() | after.keys())
                if p not in before or p not in after or not _same(before[p], after[p])
            ]
        else:
            names.append(name)
    return names


def _field_changes(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for item_id in sorted(set(old) & set(new)):
        if old[item_id] == new[item_id] and _same(old[item_id], new[item_id]):
            continue  # ``==`` alone would take ``true`` for ``1``
        for name in _changed_names(old[item_id], new[item_id]):
            old_value = _lookup(old[item_id], name)
            new_value = _lookup(new[item_id], name)
            changes.append(FieldChange(kind, item_id, name, old_value, new_value))
    return changes


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def diff_models(
    base: Model,
    head: Model,
    *,
    base_facts: ModelFacts | None = None,
    head_facts: ModelFacts | None = None,
) -> ModelDiff:
    """What changed from ``base`` to ``head``."""
    old_items, new_items = _items(base), _items(head)
    items: dict[str, ItemChanges] = {}
    fields: list[FieldChange] = []
    for kind in KINDS:
        (old, plain), (new, _) = old_items[kind], new_items[kind]
        # Items equal as objects are equal as plain data (every field written above takes part
        # in equality): only the others are written out and compared field by field.
        differing = [i for i in old.keys() & new.keys() if not _same_item(old[i], new[i])]
        changed_fields = _field_changes(
            kind, {i: plain(old[i]) for i in differing}, {i: plain(new[i]) for i in differing}
        )
        fields.extend(changed_fields)
        items[kind] = ItemChanges(
            added=tuple(sorted(new.keys() - old.keys())),
            removed=tuple(sorted(old.keys() - new.keys())),
            changed=tuple(sorted({f.id for f in changed_fields})),
        )
    base_facts = base_facts or facts(base)
    head_facts = head_facts or facts(head)
    crossings = []
    base_elements = {e.id: e for e in base.elements}
    head_elements = {e.id: e for e in head.elements}
    base_flows = {f.id: f for f in base.flows}
    kept: dict[str | None, bool] = {}

    def zone_kept(end: str) -> bool:
        """The element ``end`` is in both models, in the same boundaries."""
        old, new = base_elements.get(end), head_elements.get(end)
        if old is None or new is None or old.boundary != new.boundary:
            return False
        found = kept.get(new.boundary)
        if found is None:
            found = kept[new.boundary] = base_facts.enclosing(old) == head_facts.enclosing(new)
        return found

    for flow in head.flows:
        before_flow = base_flows.get(flow.id)
        if before_flow is None:
            continue
        # Crossings worked out from the nesting follow from the two ends' boundaries: a flow
        # between the same two ends, each in the same boundaries as before, crosses the same.
        if (
            flow.crosses is None
            and before_flow.crosses is None
            and flow.source == before_flow.source
            and flow.target == before_flow.target
            and zone_kept(flow.source)
            and zone_kept(flow.target)
        ):
            continue
        before = base_facts.crossings(before_flow)
        after = head_facts.crossings(flow)
        if before != after:
            crossings.append(CrossingChange(flow.id, before, after))
    return ModelDiff(items, tuple(sorted(fields)), tuple(crossings), base.system != head.system)
