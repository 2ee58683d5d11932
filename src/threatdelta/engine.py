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

from threatdelta.collector import relaxed_collection
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Element, Flow, Model
from threatdelta.risk.matrix import at_least, raise_severity
from threatdelta.rules.lang.ast import Expr, referenced_attributes
from threatdelta.rules.lang.compiled import (
    Explainer,
    Predicate,
    compile_explanation,
    compile_expression,
    required_types,
)
from threatdelta.rules.lang.interface import Subject, Value
from threatdelta.rules.pack import Exploitability, Rule, RulePack, Severity, Stride
from threatdelta.subjects import ElementSubject, FlowSubject, SubjectFactory, fit_words
from threatdelta.threat import Place, Text, Threat, ThreatPart

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


_NEED_BY_STRIDE = {
    "S": ("integrity",),
    "T": ("integrity",),
    "R": (),
    "I": ("confidentiality",),
    "D": ("availability",),
    "E": ("confidentiality", "integrity"),
}
_SAFETY_STRIDE = frozenset("STDE")


@dataclass(frozen=True, slots=True)
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
    stake = _at_stake(rule.stride in _SAFETY_STRIDE, model_facts, element, flow, target)
    return _harm(rule.stride, rule.severity, rule.data_raises_severity, *stake, model)


_Stake = tuple[tuple[str, ...], bool, tuple[str, ...]]
"""Hazard ids, essential performance, asset ids: what a threat's subject puts at stake."""


def _at_stake(
    acts_on_target: bool,
    model_facts: ModelFacts,
    element: Element | None,
    flow: Flow | None,
    target: Element | None,
) -> _Stake:
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
    return hazards, essential, tuple(asset_ids)


def _harm(
    stride: Stride,
    rule_severity: Severity,
    data_raises_severity: bool,
    hazards: tuple[str, ...],
    essential: bool,
    asset_ids: tuple[str, ...],
    model: Model,
) -> Harm:
    """The severity of a rule's threat given what its subject puts at stake."""
    acts_on_target = stride in _SAFETY_STRIDE
    severity: Severity = rule_severity
    reasons: list[str] = []
    if hazards and acts_on_target:
        raised = raise_severity(severity)
        if raised != severity:
            reasons.append(f"linked to hazard {', '.join(hazards)}")
        severity = raised
    if essential and severity != at_least(severity, "high"):
        severity = "high"
        reasons.append("threatens essential performance")
    for need in _NEED_BY_STRIDE[stride] if data_raises_severity else ():
        for asset_id in asset_ids:
            asset = model.asset(asset_id)
            if asset is None:
                continue
            level = getattr(asset, need)
            floor: Severity = "high" if level == "high" else "medium"
            if level in ("medium", "high") and at_least(severity, floor) != severity:
                severity = floor
                reasons.append(f"{asset.name} ({asset.classification}) needs {level} {need}")
    return Harm(severity, tuple(reasons), hazards, essential, asset_ids)


def _exploitability(rule: Rule, subjects: Mapping[str, Subject]) -> Exploitability:
    flow_subject = subjects.get("flow")
    if flow_subject is not None and (
        flow_subject.attribute("on_board") or flow_subject.attribute("protocol_family") == "debug"
    ):
        return "low"  # only with the enclosure open or a probe on the port
    return rule.exploitability


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
    return Threat(
        key=key,
        rule_id=rule.id,
        stride=rule.stride,
        title=fill_template(rule.title, subjects),
        scope=rule.scope,
        severity=found.severity,
        exploitability=_exploitability(rule, subjects),
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


@dataclass(frozen=True, slots=True)
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


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """A rule with its expressions compiled and what it reads worked out, once per rule."""

    rule: Rule
    """The rule."""
    include: Predicate
    """Its include expression, compiled."""
    exclude: Predicate | None
    """Its exclude expression, compiled (None: it has none)."""
    explain: Explainer | None
    """What makes its exclude expression hold, compiled (None: it has none)."""
    needs: tuple[tuple[str, frozenset[str]], ...]
    """Subject name -> types it must have for the include expression to hold."""
    reads: frozenset[tuple[str, str]]
    """The ``(subject, attribute)`` pairs its include and exclude expressions read."""

    def applies(self, types: Mapping[str, frozenset[str]]) -> bool:
        """Whether subjects of these types can make the include expression hold at all."""
        for name, needed in self.needs:
            have = types.get(name)
            if have is not None and not needed <= have:
                return False
        return True


def compiled(rule: Rule) -> CompiledRule:
    """``rule`` compiled (once: the result is kept with the rule)."""
    found = rule.__dict__.get("_compiled")
    if found is None:
        include: Expr = rule.include  # type: ignore[assignment]
        exclude: Expr | None = rule.exclude  # type: ignore[assignment]
        reads = referenced_attributes(include)
        if exclude is not None:
            reads |= referenced_attributes(exclude)
        found = CompiledRule(
            rule,
            compile_expression(include),
            compile_expression(exclude) if exclude is not None else None,
            compile_explanation(exclude) if exclude is not None else None,
            tuple(sorted(required_types(include).items())),
            reads,
        )
        object.__setattr__(rule, "_compiled", found)
    assert isinstance(found, CompiledRule)
    return found


def holds(rule: Rule, subjects: Mapping[str, Subject]) -> bool:
    """The rule's include expression holds and its exclude expression does not."""
    compiled_rule = compiled(rule)
    if not compiled_rule.include(subjects):
        return False
    return compiled_rule.exclude is None or not compiled_rule.exclude(subjects)


def _fitting(rule: Rule, pack: RulePack, words: frozenset[str] | None) -> tuple[str, ...]:
    """The rule's countermeasures that fit a subject described by ``words``."""
    if words is None:
        return rule.countermeasures
    kept = []
    for cm_id in rule.countermeasures:
        cm = pack.countermeasures.get(cm_id)
        if cm is None or not cm.fits or words & set(cm.fits):
            kept.append(cm_id)
    return tuple(kept) or rule.countermeasures


def fitting_countermeasures(
    rule: Rule, pack: RulePack, subjects: Mapping[str, Subject]
) -> tuple[str, ...]:
    """The rule's countermeasures that fit the subject (all of them when none would)."""
    typed = {
        name: subject
        for name, subject in subjects.items()
        if isinstance(subject, (ElementSubject, FlowSubject))
    }
    return _fitting(rule, pack, fit_words(typed))


_ELEMENT_SUBJECTS = ("element",)
_FLOW_SUBJECTS = ("source", "flow", "target")
_ELEMENT_FACTS = ("on_device",)
"""What an element's threats read besides its rules: countermeasure fit."""

Conditions = tuple[Expr, ...]
"""The conditions of a rule's exclude expression that hold (see ``true_conditions``)."""

_Entry = tuple[str, int, ThreatPart, "Conditions | None", int]
"""One outcome at a group of alike places: the key's prefix, which of the place's key ends
follows it, the shared part, the conditions that exclude it (None: it is a threat), and which
of the place's directions it is about."""


@dataclass(frozen=True, slots=True)
class SetAside:
    """A threat the design excludes, found by the enumeration."""

    threat: Threat
    """The threat its rule would raise without the exclusion."""
    conditions: Conditions
    """The conditions of the rule's exclude expression that hold there."""
    items: Mapping[str, Element | Flow]
    """``element``, or ``source`` / ``flow`` / ``target``: what the rule's subjects are."""


@dataclass(frozen=True)
class DesignedOut:
    """What one enumeration set aside: the threats whose include and exclude expressions both
    hold, with the conditions that exclude them, in enumeration order."""

    pack: RulePack
    """The pack enumerated."""
    set_aside: tuple[SetAside, ...]
    """In enumeration order."""

    def __len__(self) -> int:
        return len(self.set_aside)


class _Alike:
    """One enumeration's groups of alike places.

    Every answer a rule, its threat's severity, exploitability and countermeasures can get
    from an element is read once per element into its *signature* (an integer naming the
    distinct answers); a flow likewise, once per direction. A place (an element; a flow
    direction with its two ends) is then named by the signatures of its subjects, and places
    with the same names give the same outcome of every rule: the rules are evaluated, and the
    parts their threats share built, once per group, on the first place of it. Only keys, ids
    and placeholder values are per place.
    """

    def __init__(self, model: Model, pack: RulePack, model_facts: ModelFacts) -> None:
        self.model = model
        self.pack = pack
        self.facts = model_facts
        self.factory = SubjectFactory.for_pack(model_facts, pack)
        self.tmt = pack.key_style == "tmt"
        rules = [compiled(r) for r in pack.rules]
        self.element_rules = [c for c in rules if c.rule.scope == "element"]
        self.flow_rules = [c for c in rules if c.rule.scope == "flow"]
        self.interaction_rules = [c for c in rules if c.rule.scope == "interaction"]
        element_texts: set[str] = set()
        flow_texts: set[str] = set()
        for c in rules:
            names = _ELEMENT_SUBJECTS if c.rule.scope == "element" else _FLOW_SUBJECTS
            for text in (c.rule.title, c.rule.description):
                for match in _PLACEHOLDER.finditer(text):
                    if match.group(1) in names:
                        (flow_texts if match.group(1) == "flow" else element_texts).add(
                            match.group(2)
                        )
        self.element_texts = tuple(sorted(element_texts))
        self.flow_texts = tuple(sorted(flow_texts))
        self._reads: dict[frozenset[str], tuple[str, ...]] = {}
        self._shown: dict[int, tuple[str | None, ...]] = {}
        self._flow_parts: dict[tuple[object, ...], ThreatPart] = {}
        self._texts: dict[tuple[str, str], str | Text] = {}
        self._elements: dict[int, tuple[int, tuple[str | None, ...]]] = {}
        self._signatures: dict[tuple[object, ...], int] = {}
        self._by_types: dict[tuple[object, ...], list[CompiledRule]] = {}
        self._element_groups: dict[int, list[_Entry]] = {}
        self._flow_groups: dict[tuple[int, ...], list[_Entry]] = {}
        self._parts: dict[ThreatPart, ThreatPart] = {}

    # Signatures

    def _named(self, signature: tuple[object, ...]) -> int:
        found = self._signatures.get(signature)
        if found is None:
            found = self._signatures[signature] = len(self._signatures)
        return found

    def _reading(self, types: frozenset[str]) -> tuple[str, ...]:
        """The attributes that the element rules which can hold for an element of these types
        read of it, with what its threats' countermeasures read."""
        found = self._reads.get(types)
        if found is None:
            reads = set(_ELEMENT_FACTS)
            for c in self.element_rules:
                if c.applies({"element": types}):
                    reads.update(attr for name, attr in c.reads if name == "element")
            found = self._reads[types] = tuple(sorted(reads))
        return found

    def element(self, element: Element) -> tuple[int, tuple[str | None, ...]]:
        """The element's signature (as the subject of element rules) and its placeholder
        values, worked out once per element."""
        found = self._elements.get(id(element))
        if found is None:
            subject = self.factory.new_element(element)
            types = subject.types
            answers = subject.values(self._reading(types))
            at_site = (
                "element",
                types,
                element.kind,
                element.hazards,
                element.essential_performance,
                self.facts.data_of(element),
                answers,
                tuple(map(type, answers)),
            )
            found = (self._named(at_site), _shown(subject.values(self.element_texts)))
            self._elements[id(element)] = found
        return found

    def shown(self, element: Element) -> tuple[str | None, ...]:
        """The element's placeholder values (worked out once per element)."""
        found = self._shown.get(id(element))
        if found is None:
            subject = self.factory.element(element)
            found = self._shown[id(element)] = _shown(subject.values(self.element_texts))
        return found

    # Outcomes, once per group

    def _applying(
        self, rules: list[CompiledRule], key: tuple[object, ...], types: dict[str, frozenset[str]]
    ) -> list[CompiledRule]:
        """The rules whose include can hold for subjects of these types."""
        found = self._by_types.get(key)
        if found is None:
            found = [c for c in rules if c.applies(types)]
            self._by_types[key] = found
        return found

    def element_group(self, element: Element, signature: int) -> list[_Entry]:
        """What the element rules give on every element with this signature."""
        found = self._element_groups.get(signature)
        if found is None:
            subject = self.factory.new_element(element)
            subjects: dict[str, Subject] = {"element": subject}
            rules = self._applying(
                self.element_rules, ("e", subject.types), {"element": subject.types}
            )
            found = []
            for c in rules:
                outcome = self._outcome(c, subjects, element=element)
                if outcome is not None:
                    found.append((f"{c.rule.id}@", 0, *outcome, 0))
            self._element_groups[signature] = found
        return found

    def _outcome(
        self,
        c: CompiledRule,
        subjects: Mapping[str, Subject],
        *,
        element: Element | None = None,
        flow: Flow | None = None,
        target: Element | None = None,
    ) -> tuple[ThreatPart, Conditions | None] | None:
        """The part the rule's threat has on these subjects and the conditions that exclude
        it; None when its include expression does not hold."""
        if not c.include(subjects):
            return None
        conditions: Conditions | None = None
        if c.exclude is not None and c.exclude(subjects):
            assert c.explain is not None
            conditions = tuple(c.explain(subjects))
        return self.part(c, subjects, element=element, flow=flow, target=target), conditions

    def part(
        self,
        c: CompiledRule,
        subjects: Mapping[str, Subject],
        *,
        element: Element | None = None,
        flow: Flow | None = None,
        target: Element | None = None,
    ) -> ThreatPart:
        """What the threats of the rule on these subjects share."""
        rule = c.rule
        found = harm(rule, self.model, self.facts, element=element, flow=flow, target=target)
        part = ThreatPart(
            rule.id,
            rule.stride,
            self._text(rule.title, rule.scope),
            rule.scope,
            found.severity,
            _exploitability(rule, subjects),
            rule.severity if found.severity != rule.severity else None,
            found.reasons,
            found.hazards,
            found.essential_performance,
            found.assets,
            self._text(rule.description, rule.scope),
            rule.category,
            rule.cwe,
            rule.capec,
            fitting_countermeasures(rule, self.pack, subjects),
            rule.id if self.tmt else "",
        )
        return self._parts.setdefault(part, part)

    def _text(self, text: str, scope: str) -> str | Text:
        """A rule's title or description as threats keep it: the text itself when it has no
        placeholder of the scope's subjects, else a :class:`Text` filled from a place."""
        found = self._texts.get((text, scope))
        if found is None:
            names = _ELEMENT_SUBJECTS if scope == "element" else _FLOW_SUBJECTS
            pieces: list[str] = []
            slots: list[tuple[int, int, str]] = []
            end = 0
            for match in _PLACEHOLDER.finditer(text):
                name, attr, written = match.group(1), match.group(2), match.group(0)
                if name not in names:
                    continue  # not a subject here: stays as it is written
                pieces.append(_escaped(text[end : match.start()]))
                pieces.append("{}")
                attrs = self.flow_texts if name == "flow" else self.element_texts
                slots.append((names.index(name), attrs.index(attr), written))
                end = match.end()
            pieces.append(_escaped(text[end:]))
            found = Text("".join(pieces), tuple(slots)) if slots else text
            self._texts[(text, scope)] = found
        return found


def _shown(values: tuple[Value, ...]) -> tuple[str | None, ...]:
    """Attribute values as placeholders show them (None: unset, the placeholder stays)."""
    return tuple(None if v is None else str(v) for v in values)


_DESIGNED_OUT = "engine.designed_out"


def _enumerate(
    model: Model,
    pack: RulePack,
    scope: EnumerationScope | None,
    model_facts: ModelFacts,
    stats: EnumerationStats | None,
) -> tuple[dict[str, Threat], DesignedOut]:
    alike = _Alike(model, pack, model_facts)
    threats: dict[str, Threat] = {}
    set_aside: list[SetAside] = []
    make = Threat.of
    element_rules = alike.element_rules
    flow_rules = alike.flow_rules
    interaction_rules = alike.interaction_rules
    tmt = alike.tmt

    elements = model.elements
    flows = model.flows
    if scope is not None:
        elements = tuple(e for e in elements if e.id in scope.elements)
        flows = tuple(f for f in flows if f.id in scope.flows)

    flow_texts = alike.flow_texts
    factory = alike.factory
    flow_parts = alike._flow_parts

    def flow_site(
        subjects: dict[str, Subject], rules: list[CompiledRule], flow: Flow, target: Element
    ) -> list[tuple[CompiledRule, ThreatPart, Conditions | None]]:
        """The rules that hold at one direction of a flow, each with its threat's shared
        part (built once per rule and what the threat's severity, exploitability and
        countermeasures read) and the conditions that exclude it (None: none)."""
        found: list[tuple[CompiledRule, ThreatPart, Conditions | None]] = []
        shared: tuple[object, ...] | None = None
        for c in rules:
            if not c.include(subjects):
                continue
            conditions: Conditions | None = None
            if c.exclude is not None and c.exclude(subjects):
                assert c.explain is not None
                conditions = tuple(c.explain(subjects))
            if shared is None:
                flow_subject = subjects["flow"]
                low = (
                    bool(flow_subject.attribute("on_board"))
                    or flow_subject.attribute("protocol_family") == "debug"
                )
                typed = {
                    name: subject
                    for name, subject in subjects.items()
                    if isinstance(subject, (ElementSubject, FlowSubject))
                }
                shared = (
                    low,
                    fit_words(typed),
                    flow.hazards,
                    flow.data,
                    flow.essential_performance,
                    target.hazards,
                    target.essential_performance,
                )
            part_key = (c, shared)
            part = flow_parts.get(part_key)
            if part is None:
                part = flow_parts[part_key] = alike.part(c, subjects, flow=flow, target=target)
            found.append((c, part, conditions))
        return found

    with relaxed_collection():
        for element in elements if element_rules else ():
            if stats is not None:
                stats.evaluations += len(element_rules)
                stats.subjects.add(element.id)
            signature, values = alike.element(element)
            entries = alike.element_group(element, signature)
            if not entries:
                continue
            element_id = element.id
            place = Place(element_id, None, None, None, element.location, (values,))
            for prefix, _, part, conditions, _ in entries:
                key = prefix + element_id
                if conditions is None:
                    threats[key] = make(key, part, place)
                else:
                    set_aside.append(
                        SetAside(make(key, part, place), conditions, {"element": element})
                    )

        for flow in flows if (flow_rules or interaction_rules) else ():
            if flow.out_of_scope:
                continue
            source = model.element(flow.source)
            target = model.element(flow.target)
            if source is None or target is None:
                continue
            if stats is not None:
                stats.evaluations += len(flow_rules) + len(interaction_rules) * (
                    2 if flow.bidirectional else 1
                )
                stats.subjects.add(flow.id)
            flow_subject = factory.new_flow(flow)
            source_subject = factory.element(source)
            target_subject = factory.element(target)
            forward_types = {
                "source": source_subject.types,
                "flow": flow_subject.types,
                "target": target_subject.types,
            }
            forward_key = (source_subject.types, flow_subject.types, target_subject.types)
            forward: dict[str, Subject] = {
                "source": source_subject,
                "flow": flow_subject,
                "target": target_subject,
            }
            source_values = alike.shown(source)
            target_values = alike.shown(target)
            flow_id, source_id, target_id = flow.id, source.id, target.id
            place = Place(
                None,
                flow_id,
                source_id,
                target_id,
                flow.location,
                (source_values, _shown(flow_subject.values(flow_texts)), target_values),
            )
            items: Mapping[str, Element | Flow] = {
                "source": source,
                "flow": flow,
                "target": target,
            }
            found = flow_site(
                forward,
                alike._applying(flow_rules, ("f", *forward_key), forward_types),
                flow,
                target,
            )
            for c, part, conditions in found:
                key = f"{c.rule.id}@{flow_id}"
                if conditions is None:
                    threats[key] = make(key, part, place)
                else:
                    set_aside.append(SetAside(make(key, part, place), conditions, items))
            if not interaction_rules:
                continue
            forward_found = flow_site(
                forward,
                alike._applying(interaction_rules, ("i", *forward_key), forward_types),
                flow,
                target,
            )
            if flow.bidirectional:
                reply_subject = factory.new_flow(flow, reverse=True)
                backward: dict[str, Subject] = {
                    "source": target_subject,
                    "flow": reply_subject,
                    "target": source_subject,
                }
                backward_types = {
                    "source": target_subject.types,
                    "flow": reply_subject.types,
                    "target": source_subject.types,
                }
                backward_key = (target_subject.types, reply_subject.types, source_subject.types)
                backward_found = flow_site(
                    backward,
                    alike._applying(interaction_rules, ("i", *backward_key), backward_types),
                    flow,
                    source,
                )
                reply_place = Place(
                    None,
                    flow_id,
                    target_id,
                    source_id,
                    flow.location,
                    (target_values, _shown(reply_subject.values(flow_texts)), source_values),
                )
                reply_items: Mapping[str, Element | Flow] = {
                    "source": target,
                    "flow": flow,
                    "target": source,
                }
                # Rule by rule, forward before reply.
                order = {c: i for i, c in enumerate(interaction_rules)}
                both = [(order[f[0]], 0, f) for f in forward_found]
                both += [(order[f[0]], 1, f) for f in backward_found]
                both.sort(key=lambda x: (x[0], x[1]))
                directions = [
                    (
                        f,
                        reply_place if d else place,
                        reply_items if d else items,
                        (target_id, source_id) if d else (source_id, target_id),
                    )
                    for _, d, f in both
                ]
            else:
                directions = [(f, place, items, (source_id, target_id)) for f in forward_found]
            for (c, part, conditions), at, what, (a, b) in directions:
                key = f"{c.rule.id}{a}{flow_id}{b}" if tmt else f"{c.rule.id}@{a}>{flow_id}>{b}"
                if conditions is None:
                    threats[key] = make(key, part, at)
                else:
                    set_aside.append(SetAside(make(key, part, at), conditions, what))
    return threats, DesignedOut(pack, tuple(set_aside))


def designed_out(model: Model, pack: RulePack, model_facts: ModelFacts) -> DesignedOut:
    """The threats of ``pack`` on ``model`` that the design excludes, from the enumeration
    that already found them when there was one (see :func:`enumerate_threats`)."""
    kept = model_facts.memo.get(_DESIGNED_OUT)
    if isinstance(kept, DesignedOut) and kept.pack is pack:
        return kept
    _, found = _enumerate(model, pack, None, model_facts, None)
    model_facts.memo[_DESIGNED_OUT] = found
    return found


def enumerate_threats(
    model: Model,
    pack: RulePack,
    scope: EnumerationScope | None = None,
    *,
    model_facts: ModelFacts | None = None,
    stats: EnumerationStats | None = None,
) -> tuple[Threat, ...]:
    """All threats ``pack`` finds in ``model`` (or only in ``scope``), sorted by key.

    Elements, and flows in each direction with their two ends, are grouped by what the rules
    and the threats' severities and countermeasures can read of them; each rule is evaluated
    and each threat's shared part built once per group (see :class:`_Alike`). The threats the
    design excludes are found in the same pass and kept with the model's facts for
    :func:`designed_out`.
    """
    model_facts = model_facts or facts(model)
    threats, found = _enumerate(model, pack, scope, model_facts, stats)
    if scope is None:
        model_facts.memo[_DESIGNED_OUT] = found
    return tuple(threats[k] for k in sorted(threats))
