"""Decisions whose ground moved: dispositions to re-confirm after a change.

A disposition is written for a threat as the model stood: "accepted, the link is on the same PCB"
holds for an element inside the device, not for the same element moved to the cloud. When what a
disposition was decided on changes and its own entry is not edited in the same change, the
decision is *stale*: it needs someone to confirm it still holds (editing the entry, even only its
``approved_on`` date, does that). What counts as the ground:

- for an element: its type, its kind, the boundaries it sits in (innermost first), and every
  property a rule of the pack reads;
- for a flow: its two ends, its protocol, its properties, and the boundaries it crosses.

A threat's subjects are its element, or its flow with the flow's source and target. Pure: two
registers, their facts and the model diff in, :class:`Stale` entries out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from threatdelta.errors import Location
from threatdelta.model.graph import ModelFacts
from threatdelta.model.model import Model
from threatdelta.model.renames import rekey
from threatdelta.register import Register, disposition_location


@dataclass(frozen=True)
class FactChange:
    """One fact a decision rested on, before and after."""

    subject: str
    """The element or flow id."""
    fact: str
    """``type``, ``kind``, ``boundary``, ``properties.NAME``, ``from``, ``to``, ``protocol``,
    ``crosses``."""
    before: str
    """The value at the base, in words."""
    after: str
    """The value at the head, in words."""

    @property
    def words(self) -> str:
        """``ctrl: boundary pcb → cloud``."""
        return f"{self.subject}: {self.fact} {self.before} → {self.after}"


@dataclass(frozen=True)
class Stale:
    """A disposition written for a threat whose ground changed, its entry left untouched."""

    key: str
    """The threat key."""
    status: str
    """The disposition's status."""
    changes: tuple[FactChange, ...]
    """What changed under it."""
    location: Location | None = None
    """Where the disposition is written (at head)."""

    @property
    def reason(self) -> str:
        """In plain words."""
        return (
            f"marked {self.status} before "
            + "; ".join(c.words for c in self.changes)
            + ": confirm the decision still holds by editing its entry"
        )


def _text(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element_facts(
    model: Model, model_facts: ModelFacts, subject: str, attributes: frozenset[str]
) -> dict[str, object] | None:
    element = model.element(subject)
    if element is None:
        return None
    found: dict[str, object] = {
        "type": element.type,
        "kind": element.kind,
        "boundary": tuple(model_facts.enclosing(element)),
    }
    for name, value in element.properties.items():
        if name in attributes:
            found[f"properties.{name}"] = value
    return found


def _flow_facts(model: Model, model_facts: ModelFacts, subject: str) -> dict[str, object] | None:
    flow = model.flow(subject)
    if flow is None:
        return None
    found: dict[str, object] = {
        "from": flow.source,
        "to": flow.target,
        "protocol": flow.protocol,
        "crosses": tuple(model_facts.crossings(flow)),
    }
    for name, value in flow.properties.items():
        found[f"properties.{name}"] = value
    return found


def _facts_of(
    model: Model, model_facts: ModelFacts, subject: str, attributes: frozenset[str]
) -> Mapping[str, object] | None:
    return _element_facts(model, model_facts, subject, attributes) or _flow_facts(
        model, model_facts, subject
    )


def _as_base(
    facts: Mapping[str, object] | None, renamed: Mapping[str, str]
) -> dict[str, object] | None:
    """Head facts with renamed ids written as they were at the base (a rename is not a move)."""
    if facts is None:
        return None
    result: dict[str, object] = {}
    for fact, value in facts.items():
        if fact in ("from", "to") and isinstance(value, str):
            value = renamed.get(value, value)
        elif fact in ("boundary", "crosses") and isinstance(value, tuple):
            value = tuple(renamed.get(str(v), str(v)) for v in value)
            if fact == "crosses":
                value = tuple(sorted(value))
        result[fact] = value
    return result


def _changes(
    subject: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
) -> list[FactChange]:
    if before is None or after is None:
        return []
    result = []
    for fact in sorted(set(before) | set(after)):
        old, new = before.get(fact), after.get(fact)
        if old != new:
            result.append(FactChange(subject, fact, _text(old), _text(new)))
    return result


def stale_dispositions(
    base: Register,
    head: Register,
    base_facts: ModelFacts,
    head_facts: ModelFacts,
    edited: frozenset[str],
    attributes: frozenset[str],
    aliases: Mapping[str, str] | None = None,
) -> tuple[Stale, ...]:
    """Dispositions of ``head`` decided at ``base`` (any status but open) whose subjects'
    facts changed, unless their entry is among ``edited`` (keys whose disposition the change added
    or changed). ``attributes``: the properties rules read; ``aliases``: head subject id -> base
    subject id, for subjects the change renamed."""
    renamed = aliases or {}
    renames = {old: new for new, old in renamed.items()}
    before = {rekey(key, renames): entry for key, entry in base.by_key().items()}
    cache: dict[str, list[FactChange]] = {}
    result = []
    for entry in head.entries:
        disposition = entry.disposition
        if disposition is None or disposition.status == "open" or entry.key in edited:
            continue
        old = before.get(entry.key)
        if old is None:
            continue
        old_disposition = old.disposition
        if old_disposition is None or old_disposition.status == "open":
            continue
        changes: list[FactChange] = []
        for subject in entry.threat.subject_ids:
            if subject not in cache:
                was = renamed.get(subject, subject)
                cache[subject] = _changes(
                    subject,
                    _facts_of(base.model, base_facts, was, attributes),
                    _as_base(_facts_of(head.model, head_facts, subject, attributes), renamed),
                )
            changes += cache[subject]
        if changes:
            result.append(
                Stale(entry.key, disposition.status, tuple(changes), disposition_location(entry))
            )
    return tuple(result)
