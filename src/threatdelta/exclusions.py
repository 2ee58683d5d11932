"""Threats designed out: the ones a rule would raise but for a property of the design.

A rule's threat exists when its include expression holds and its exclude expression does not.
When both hold, the design keeps the threat from existing (``encrypted: true`` on a flow that
crosses a boundary takes away the threat that it can be read in transit). Such a threat is not
silent: ``check`` and ``report`` list it with what excludes it ("excluded by encrypted: true"),
and when the model says which control makes the property true (``implemented_by`` on the element
or flow), with that control, its status and its evidence, so an auditor sees why the threat is
not in the register and what backs the claim.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

from threatdelta.collector import relaxed_collection
from threatdelta.engine import SetAside, designed_out
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Control, Element, Flow, Model, Value
from threatdelta.register import EvidenceCheck, Problem, control_gaps, control_problems, gaps_text
from threatdelta.rules.lang.ast import Expr, referenced_attributes, unparse
from threatdelta.rules.pack import RulePack
from threatdelta.subjects import NATIVE_TO_TMT, ElementSubject, FlowSubject
from threatdelta.threat import Threat

_ALIASES: dict[str, str] = {**NATIVE_TO_TMT, **{v: k for k, v in NATIVE_TO_TMT.items()}}


@dataclass(frozen=True, slots=True)
class Implementation:
    """A control the model names as making an excluding property true."""

    control_id: str
    """The id written under ``implemented_by``."""
    control: Control | None
    """The control, when it is defined."""
    problems: tuple[Problem, ...]
    """What an auditor would flag: unknown control, only planned, evidence missing."""


@dataclass(frozen=True, slots=True)
class Cause:
    """One condition of the exclude expression that holds."""

    condition: str
    """The condition as the rule writes it (``flow.encrypted``)."""
    item: str | None = None
    """Id of the element or flow whose property it is, when it is a property set in the model."""
    name: str | None = None
    """The property's name as the model writes it."""
    value: Value = None
    """The property's value."""
    implemented_by: tuple[Implementation, ...] = ()
    """The controls the model names for this property."""

    @property
    def text(self) -> str:
        """``encrypted: true`` for a property; the rule's condition otherwise."""
        if self.name is None:
            return self.condition
        value = self.value
        shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return f"{self.name}: {shown}"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A threat the design keeps from existing."""

    threat: Threat
    """The threat the rule would raise without the exclusion."""
    causes: tuple[Cause, ...]
    """Why it is excluded."""

    @property
    def key(self) -> str:
        """The key the threat would have."""
        return self.threat.key

    @property
    def text(self) -> str:
        """``excluded by encrypted: true``."""
        return "excluded by " + " and ".join(c.text for c in self.causes)


def _item(subject: object) -> Element | Flow | None:
    if isinstance(subject, ElementSubject):
        return subject.element
    if isinstance(subject, FlowSubject):
        return subject.flow
    return None


def _property(item: Element | Flow, attribute: str) -> str | None:
    """The name under which ``item`` sets ``attribute`` (either vocabulary), if it does."""
    if attribute in item.properties:
        return attribute
    alias = _ALIASES.get(attribute)
    if alias is not None and alias in item.properties:
        return alias
    return None


def _implementations(
    item: Element | Flow,
    name: str,
    model: Model,
    evidence_exists: EvidenceCheck | None,
) -> tuple[Implementation, ...]:
    ids = item.implemented_by.get(name) or item.implemented_by.get(_ALIASES.get(name, ""), ())
    result = []
    for control_id in ids:
        control = model.control(control_id)
        if control is None:
            problems: tuple[Problem, ...] = (
                Problem(
                    "unknown-control",
                    f"names control '{control_id}', which is not defined",
                    control_id,
                ),
            )
        else:
            problems = tuple(sorted(control_problems(control, evidence_exists)))
        result.append(Implementation(control_id, control, problems))
    return tuple(result)


def backing(
    subject: object, attribute: str, model: Model, evidence_exists: EvidenceCheck | None
) -> tuple[tuple[str, ...], str]:
    """For the property a rule reads as ``subject.attribute``: the controls the model names as
    making it true (``implemented_by``), and what they all lack (``planned, no evidence``);
    empty when none is named or one of them is backed by its evidence."""
    item = _item(subject)
    name = _property(item, attribute) if item is not None else None
    if item is None or name is None:
        return (), ""
    named = _implementations(item, name, model, evidence_exists)
    lacking: list[str] = []
    for implementation in named:
        gaps = control_gaps(implementation.problems, implementation.control_id)
        if not gaps:
            return tuple(i.control_id for i in named), ""
        lacking += gaps
    return tuple(i.control_id for i in named), gaps_text(lacking)


def excluded_threats(
    model: Model,
    pack: RulePack,
    *,
    model_facts: ModelFacts | None = None,
    evidence_exists: EvidenceCheck | None = None,
) -> tuple[Exclusion, ...]:
    """Every threat of ``pack`` whose include expression holds on ``model`` but whose exclude
    expression also holds, with what excludes it, sorted by key.

    The threats, and the conditions that exclude them, are the ones the enumeration of
    ``model`` set aside (no second pass over the model when it was enumerated with ``pack``;
    the conditions were worked out once per group of alike places); only the causes, which
    name the element or flow, are worked out here, once per condition and place.
    """
    model_facts = model_facts or facts(model)
    kept = designed_out(model, pack, model_facts)
    found: dict[str, tuple[SetAside, tuple[Cause, ...]]] = {}
    plans: dict[tuple[int, int], _Plan] = {}
    causes_of: dict[tuple[int, int], Cause] = {}

    def cause_of(condition: Expr, aside: SetAside) -> Cause:
        # The same condition at the same place (one flow, several rules) is one cause.
        items = aside.items
        cause = causes_of.get((id(condition), id(items)))
        if cause is None:
            plan = plans.get((id(condition), len(items)))
            if plan is None:
                plan = plans[id(condition), len(items)] = _plan(condition, tuple(aside.subjects()))
            cause = _planned_cause(plan, items, model, evidence_exists)
            causes_of[id(condition), id(items)] = cause
        return cause

    with relaxed_collection():
        for aside in kept.set_aside:
            conditions = aside.conditions
            if len(conditions) == 1:  # the usual case: one cause
                causes: tuple[Cause, ...] = (cause_of(conditions[0], aside),)
            elif conditions:
                causes = tuple(dict.fromkeys(cause_of(c, aside) for c in conditions))
            else:
                continue
            found[aside.prefix + aside.end] = (aside, causes)
        chosen = [found[k] for k in sorted(found)]
        return _exclusions([(aside.threat, causes) for aside, causes in chosen])


_new_exclusion = object.__new__
_set_threat: Callable[[Exclusion, Threat], None] = Exclusion.__dict__["threat"].__set__
_set_causes: Callable[[Exclusion, tuple[Cause, ...]], None] = Exclusion.__dict__["causes"].__set__


def _exclusions(found: list[tuple[Threat, tuple[Cause, ...]]]) -> tuple[Exclusion, ...]:
    """``Exclusion(threat, causes)`` for each of ``found``, made without the frozen dataclass's
    checks: made, then each field set on all of them in turn (each pass a loop inside the
    interpreter)."""
    count = len(found)
    made: list[Exclusion] = list(map(_new_exclusion, repeat(Exclusion, count)))
    deque(map(_set_threat, made, map(itemgetter(0), found)), maxlen=0)
    deque(map(_set_causes, made, map(itemgetter(1), found)), maxlen=0)
    return tuple(made)


_Plan = tuple[str, tuple[tuple[int, str, "str | None"], ...]]
"""How to find a condition's cause at places of one kind (see :func:`_plan`)."""


def _plan(condition: Expr, names: tuple[str, ...]) -> _Plan:
    """The condition's text, and the attributes it reads (in :func:`_cause`'s order) of the
    subjects ``names`` (what :attr:`~threatdelta.engine.SetAside.items` are, in order): each as
    the position of its item, its name and its name in the other vocabulary."""
    steps = tuple(
        (names.index(subject), attribute, _ALIASES.get(attribute))
        for subject, attribute in sorted(referenced_attributes(condition))
        if subject in names
    )
    return unparse(condition), steps


def _planned_cause(
    plan: _Plan,
    items: tuple[Element | Flow, ...],
    model: Model,
    evidence_exists: EvidenceCheck | None,
) -> Cause:
    """:func:`_cause` from the condition's plan (what it is tested against)."""
    text, steps = plan
    for index, attribute, alias in steps:
        item = items[index]
        properties = item.properties
        if attribute in properties:
            name = attribute
        elif alias is not None and alias in properties:
            name = alias
        else:
            continue
        return Cause(
            text,
            item.id,
            name,
            properties[name],
            _implementations(item, name, model, evidence_exists) if item.implemented_by else (),
        )
    return Cause(text)


def _cause(
    written: tuple[str, list[tuple[str, str]]],
    items: Mapping[str, Element | Flow],
    model: Model,
    evidence_exists: EvidenceCheck | None,
) -> Cause:
    """The cause for a condition (its text, the attributes it reads) that holds at a place
    (``items``: what each subject is): the first property set in the model that it reads,
    else the condition's text."""
    text, attributes = written
    for subject_name, attribute in attributes:
        item = items.get(subject_name)
        name = _property(item, attribute) if item is not None else None
        if item is not None and name is not None:
            return Cause(
                text,
                item.id,
                name,
                item.properties[name],
                _implementations(item, name, model, evidence_exists),
            )
    return Cause(text)
