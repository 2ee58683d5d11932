"""Enumerate threats: run a rule pack over a model (or over part of it).

``enumerate_threats`` is pure: the same model and pack give the same threats, sorted by key.
A rule's threat exists when its include expression holds and its exclude expression does not.
Element rules run on each element in scope; flow rules on each flow in scope; interaction rules on
each direction of each flow in scope (both directions of a bidirectional flow). A flow marked out
of scope (:attr:`Flow.out_of_scope`) has no threats: no rule runs on it, whatever it touches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Element, Flow, Model
from threatdelta.rules.lang.evaluator import evaluate
from threatdelta.rules.lang.interface import Subject
from threatdelta.rules.pack import Rule, RulePack
from threatdelta.subjects import ElementSubject, FlowSubject, SubjectFactory, fit_words
from threatdelta.threat import Threat

_PLACEHOLDER = re.compile(r"\{(source|flow|target|element)\.([A-Za-z0-9_-]+)\}")


@dataclass(frozen=True)
class EnumerationScope:
    """The part of a model to evaluate: element ids and flow ids."""

    elements: frozenset[str] = frozenset()
    """Element rules run on these elements."""
    flows: frozenset[str] = frozenset()
    """Flow and interaction rules run on these flows."""


@dataclass
class EnumerationStats:
    """Counts of work done, for tests and benchmarks of incremental review."""

    evaluations: int = 0
    """Rule evaluations (one per rule per subject or interaction)."""
    subjects: set[str] = field(default_factory=set)
    """Ids of the elements and flows that rules were evaluated on."""


def fill_template(text: str, subjects: Mapping[str, Subject]) -> str:
    """Replace ``{subject.attr}`` placeholders with attribute values; unknown ones stay as they are."""

    def replace(match: re.Match[str]) -> str:
        subject = subjects.get(match.group(1))
        if subject is None:
            return match.group(0)
        value = subject.attribute(match.group(2))
        return match.group(0) if value is None else str(value)

    return _PLACEHOLDER.sub(replace, text)


def _holds(rule: Rule, subjects: Mapping[str, Subject]) -> bool:
    if not evaluate(rule.include, subjects):  # type: ignore[arg-type]
        return False
    return rule.exclude is None or not evaluate(rule.exclude, subjects)  # type: ignore[arg-type]


def fitting_countermeasures(
    rule: Rule, pack: RulePack, subjects: Mapping[str, Subject]
) -> tuple[str, ...]:
    """The rule's countermeasures that fit the subject (all of them when none would)."""
    typed = {
        name: subject
        for name, subject in subjects.items()
        if isinstance(subject, (ElementSubject, FlowSubject))
    }
    words = fit_words(typed)
    if words is None:
        return rule.countermeasures
    kept = []
    for cm_id in rule.countermeasures:
        cm = pack.countermeasures.get(cm_id)
        if cm is None or not cm.fits or words & set(cm.fits):
            kept.append(cm_id)
    return tuple(kept) or rule.countermeasures


def _threat(
    pack: RulePack,
    rule: Rule,
    key: str,
    subjects: Mapping[str, Subject],
    *,
    element: Element | None = None,
    flow: Flow | None = None,
    source: str | None = None,
    target: str | None = None,
) -> Threat:
    located = element if element is not None else flow
    return Threat(
        key=key,
        rule_id=rule.id,
        stride=rule.stride,
        title=fill_template(rule.title, subjects),
        scope=rule.scope,
        severity=rule.severity,
        exploitability=rule.exploitability,
        description=fill_template(rule.description, subjects),
        category=rule.category,
        cwe=rule.cwe,
        capec=rule.capec,
        countermeasures=fitting_countermeasures(rule, pack, subjects),
        element=element.id if element is not None else None,
        flow=flow.id if flow is not None else None,
        source=source,
        target=target,
        location=located.location if located is not None else None,
    )


def interaction_key(pack: RulePack, rule: Rule, source: str, flow: str, target: str) -> str:
    """The key of an interaction threat in the pack's key style."""
    if pack.key_style == "tmt":
        return f"{rule.id}{source}{flow}{target}"
    return f"{rule.id}@{source}>{flow}>{target}"


def enumerate_threats(
    model: Model,
    pack: RulePack,
    scope: EnumerationScope | None = None,
    *,
    model_facts: ModelFacts | None = None,
    stats: EnumerationStats | None = None,
) -> tuple[Threat, ...]:
    """All threats ``pack`` finds in ``model`` (or only in ``scope``), sorted by key."""
    model_facts = model_facts or facts(model)
    factory = SubjectFactory.for_pack(model_facts, pack)
    element_rules = [r for r in pack.rules if r.scope == "element"]
    flow_rules = [r for r in pack.rules if r.scope == "flow"]
    interaction_rules = [r for r in pack.rules if r.scope == "interaction"]
    threats: dict[str, Threat] = {}

    elements = model.elements
    flows = model.flows
    if scope is not None:
        elements = tuple(e for e in elements if e.id in scope.elements)
        flows = tuple(f for f in flows if f.id in scope.flows)

    for element in elements if element_rules else ():
        subjects: dict[str, Subject] = {"element": factory.element(element)}
        for rule in element_rules:
            if stats is not None:
                stats.evaluations += 1
                stats.subjects.add(element.id)
            if _holds(rule, subjects):
                key = f"{rule.id}@{element.id}"
                threats[key] = _threat(pack, rule, key, subjects, element=element)

    for flow in flows if (flow_rules or interaction_rules) else ():
        if flow.out_of_scope:
            continue
        source = model.element(flow.source)
        target = model.element(flow.target)
        if source is None or target is None:
            continue
        flow_subject = factory.flow(flow)
        forward: dict[str, Subject] = {
            "source": factory.element(source),
            "flow": flow_subject,
            "target": factory.element(target),
        }
        for rule in flow_rules:
            if stats is not None:
                stats.evaluations += 1
                stats.subjects.add(flow.id)
            if _holds(rule, forward):
                key = f"{rule.id}@{flow.id}"
                threats[key] = _threat(
                    pack, rule, key, forward, flow=flow, source=source.id, target=target.id
                )
        directions = [(source, target, forward)]
        if flow.bidirectional:
            backward: dict[str, Subject] = {
                "source": forward["target"],
                "flow": factory.flow(flow, reverse=True),
                "target": forward["source"],
            }
            directions.append((target, source, backward))
        for rule in interaction_rules:
            for src, dst, subjects in directions:
                if stats is not None:
                    stats.evaluations += 1
                    stats.subjects.add(flow.id)
                if _holds(rule, subjects):
                    key = interaction_key(pack, rule, src.id, flow.id, dst.id)
                    threats[key] = _threat(
                        pack, rule, key, subjects, flow=flow, source=src.id, target=dst.id
                    )
    return tuple(threats[k] for k in sorted(threats))
