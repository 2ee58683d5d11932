"""Enumerate threats: run a rule pack over a model (or over part of it).

``enumerate_threats`` is pure: the same model and pack give the same threats, sorted by key.
A rule's threat exists when its include expression holds and its exclude expression does not.
Element rules run on each element in scope; flow rules on each flow in scope; interaction rules on
each direction of each flow in scope (both directions of a bidirectional flow). A flow marked out
of scope (:attr:`Flow.out_of_scope`) has no threats: no rule runs on it, whatever it touches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Element, Flow, Model
from threatdelta.risk.matrix import at_least, raise_severity
from threatdelta.rules.lang.evaluator import evaluate
from threatdelta.rules.lang.interface import Subject
from threatdelta.rules.pack import Rule, RulePack, Severity
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


def holds(rule: Rule, subjects: Mapping[str, Subject]) -> bool:
    """The rule's include expression holds and its exclude expression does not."""
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


_NEED_BY_STRIDE = {
    "S": ("integrity",),
    "T": ("integrity",),
    "R": (),
    "I": ("confidentiality",),
    "D": ("availability",),
    "E": ("confidentiality", "integrity"),
}
_SAFETY_STRIDE = frozenset("STDE")


@dataclass(frozen=True)
class Harm:
    """What a threat's subject carries that makes it more severe than the rule says."""

    severity: Severity
    """The resulting severity."""
    reasons: tuple[str, ...]
    """Why it was raised."""
    hazards: tuple[str, ...]
    """Linked hazard ids."""
    essential_performance: bool
    """Essential performance is at stake."""
    assets: tuple[str, ...]
    """Data assets at stake."""


def harm(
    rule: Rule,
    model: Model,
    model_facts: ModelFacts,
    *,
    element: Element | None = None,
    flow: Flow | None = None,
    target: Element | None = None,
) -> Harm:
    """The severity of ``rule``'s threat on this subject, and why.

    Hazards on the element (or on the flow and, for threats that act on the receiver, its
    target) are carried by the threat and raise spoofing, tampering, denial-of-service and
    elevation threats one level. Essential performance makes those threats at least high. The
    data assets at stake raise the threat to at least their need for the property the STRIDE
    category attacks (confidentiality for I, integrity for S and T, availability for D, both
    confidentiality and integrity for E) when that need is medium or high.
    """
    acts_on_target = rule.stride in _SAFETY_STRIDE
    parts: list[Element | Flow] = []
    if element is not None:
        parts.append(element)
    if flow is not None:
        parts.append(flow)
        if target is not None and acts_on_target:
            parts.append(target)
    hazards = tuple(sorted({h for p in parts for h in p.hazards}))
    essential = acts_on_target and any(p.essential_performance for p in parts)
    if element is not None:
        asset_ids = model_facts.data_of(element)
    else:
        asset_ids = tuple(sorted(set(flow.data) if flow is not None else set()))
    severity: Severity = rule.severity
    reasons: list[str] = []
    if hazards and acts_on_target:
        raised = raise_severity(severity)
        if raised != severity:
            reasons.append(f"linked to hazard {', '.join(hazards)}")
        severity = raised
    if essential and severity != at_least(severity, "high"):
        severity = "high"
        reasons.append("threatens essential performance")
    for need in _NEED_BY_STRIDE[rule.stride] if rule.data_raises_severity else ():
        for asset_id in asset_ids:
            asset = model.asset(asset_id)
            if asset is None:
                continue
            level = getattr(asset, need)
            floor: Severity = "high" if level == "high" else "medium"
            if level in ("medium", "high") and at_least(severity, floor) != severity:
                severity = floor
                reasons.append(f"{asset.name} ({asset.classification}) needs {level} {need}")
    return Harm(severity, tuple(reasons), hazards, essential, tuple(asset_ids))


def _threat(
    pack: RulePack,
    rule: Rule,
    key: str,
    subjects: Mapping[str, Subject],
    model: Model,
    model_facts: ModelFacts,
    *,
    element: Element | None = None,
    flow: Flow | None = None,
    source: str | None = None,
    target: str | None = None,
) -> Threat:
    located = element if element is not None else flow
    found = harm(
        rule,
        model,
        model_facts,
        element=element,
        flow=flow,
        target=model.element(target) if target is not None else None,
    )
    exploitability = rule.exploitability
    flow_subject = subjects.get("flow")
    if flow_subject is not None and (
        flow_subject.attribute("on_board") or flow_subject.attribute("protocol_family") == "debug"
    ):
        exploitability = "low"  # only with the enclosure open or a probe on the port
    return Threat(
        key=key,
        rule_id=rule.id,
        stride=rule.stride,
        title=fill_template(rule.title, subjects),
        scope=rule.scope,
        severity=found.severity,
        exploitability=exploitability,
        rule_severity=rule.severity if found.severity != rule.severity else None,
        severity_reasons=found.reasons,
        hazards=found.hazards,
        essential_performance=found.essential_performance,
        assets=found.assets,
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
        reference=rule.id if pack.key_style == "tmt" else "",
    )


def interaction_key(pack: RulePack, rule: Rule, source: str, flow: str, target: str) -> str:
    """The key of an interaction threat in the pack's key style."""
    if pack.key_style == "tmt":
        return f"{rule.id}{source}{flow}{target}"
    return f"{rule.id}@{source}>{flow}>{target}"


@dataclass(frozen=True)
class Candidate:
    """One place a rule is evaluated: the rule, the threat key it would give, its subjects."""

    rule: Rule
    """The rule."""
    key: str
    """The key of the threat it gives when it holds."""
    subjects: Mapping[str, Subject]
    """``element``, or ``source`` / ``flow`` / ``target``."""
    element: Element | None = None
    """The element, for element rules."""
    flow: Flow | None = None
    """The flow, for flow and interaction rules."""
    source: str | None = None
    """Source element id, for flow and interaction rules."""
    target: str | None = None
    """Target element id, for flow and interaction rules."""

    def threat(self, pack: RulePack, model: Model, model_facts: ModelFacts) -> Threat:
        """The threat this candidate gives when its rule holds."""
        return _threat(
            pack,
            self.rule,
            self.key,
            self.subjects,
            model,
            model_facts,
            element=self.element,
            flow=self.flow,
            source=self.source,
            target=self.target,
        )


def candidates(
    model: Model,
    pack: RulePack,
    scope: EnumerationScope | None = None,
    *,
    model_facts: ModelFacts,
    stats: EnumerationStats | None = None,
) -> Iterator[Candidate]:
    """Every (rule, subjects) pair ``pack`` evaluates on ``model`` (or on ``scope``)."""
    factory = SubjectFactory.for_pack(model_facts, pack)
    element_rules = [r for r in pack.rules if r.scope == "element"]
    flow_rules = [r for r in pack.rules if r.scope == "flow"]
    interaction_rules = [r for r in pack.rules if r.scope == "interaction"]

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
            yield Candidate(rule, f"{rule.id}@{element.id}", subjects, element=element)

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
            yield Candidate(
                rule, f"{rule.id}@{flow.id}", forward, flow=flow, source=source.id, target=target.id
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
                yield Candidate(
                    rule,
                    interaction_key(pack, rule, src.id, flow.id, dst.id),
                    subjects,
                    flow=flow,
                    source=src.id,
                    target=dst.id,
                )


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
    threats: dict[str, Threat] = {}
    for candidate in candidates(model, pack, scope, model_facts=model_facts, stats=stats):
        if holds(candidate.rule, candidate.subjects):
            threats[candidate.key] = candidate.threat(pack, model, model_facts)
    return tuple(threats[k] for k in sorted(threats))
