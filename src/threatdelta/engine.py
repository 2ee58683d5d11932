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
from itertools import pairwise
from operator import attrgetter

from threatdelta.collector import relaxed_collection
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Element, Flow, Model
from threatdelta.risk.matrix import at_least, raise_severity
from threatdelta.rules.lang.ast import Expr, referenced_attributes, referenced_subjects
from threatdelta.rules.lang.compiled import (
    Explainer,
    Predicate,
    compile_explanation,
    compile_expression,
    required_types,
)
from threatdelta.rules.lang.interface import Subject, Value
from threatdelta.rules.pack import Exploitability, Rule, RulePack, Severity, Stride
from threatdelta.subjects import ElementSubject, FlowSubject, Reading, SubjectFactory, fit_words
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
_ELEMENT_EXTRA = ("on_device",)
"""What an element's threats read of it besides its rules: countermeasure fit."""
_FLOW_EXTRA = ("on_board", "protocol_family", "user_interaction")
"""What a flow's threats read of it besides its rules: exploitability, countermeasure fit."""

Conditions = tuple[Expr, ...]
"""The conditions of a rule's exclude expression that hold (see ``true_conditions``)."""

_Found = tuple[int, int, CompiledRule, ThreatPart, "Conditions | None"]
"""A rule that holds at a place: its position in the pack, the direction (0: forward, 1:
reply), the rule, its threat's shared part, and the conditions that exclude the threat
(None: it is not excluded)."""


@dataclass(frozen=True, slots=True)
class SetAside:
    """A threat the design excludes, as the enumeration found it: its key in two shared
    pieces, its shared part and place (the threat is made when asked for)."""

    prefix: str
    """The start of its key (the rule's id and the key style's separator)."""
    end: str
    """The rest of its key (what it is about)."""
    part: ThreatPart
    place: Place
    conditions: Conditions
    """The conditions of the rule's exclude expression that hold there."""
    items: tuple[Element | Flow, ...]
    """What the rule's subjects are: ``(element,)``, or ``(source, flow, target)``."""

    @property
    def threat(self) -> Threat:
        """The threat its rule would raise without the exclusion."""
        return Threat.of(self.prefix + self.end, self.part, self.place)

    def subjects(self) -> dict[str, Element | Flow]:
        """:attr:`items` by subject name."""
        names = _ELEMENT_SUBJECTS if len(self.items) == 1 else _FLOW_SUBJECTS
        return dict(zip(names, self.items, strict=True))


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


def _flow_only(c: CompiledRule) -> bool:
    """The rule reads nothing of a flow's ends (neither attributes nor types)."""
    for expr in (c.rule.include, c.rule.exclude):
        if expr is not None and referenced_subjects(expr) - {"flow"}:  # type: ignore[arg-type]
            return False
    return True


class _Alike:
    """One enumeration's groups of alike places.

    What the rules, a threat's severity, exploitability and countermeasures can read of an
    element is named by its *signature* (an integer naming a distinct
    :meth:`ElementSubject.key`), worked out once per element; a flow's likewise, once per
    direction; and what a threat of a flow reads of its target (its kind, hazards and
    essential performance) by a third. Alike places give the same outcomes:

    - element rules are evaluated once per element signature;
    - rules that read nothing of a flow's ends once per flow signature;
    - the other flow and interaction rules at each flow direction;
    - the part a threat shares (:class:`ThreatPart`) is built once per rule, flow signature
      and target signature (once per rule and element signature for element rules).

    Only keys, ids and placeholder values are per place.
    """

    def __init__(self, model: Model, pack: RulePack, model_facts: ModelFacts) -> None:
        self.model = model
        self.pack = pack
        self.facts = model_facts
        self.factory = SubjectFactory.for_pack(model_facts, pack)
        self.tmt = pack.key_style == "tmt"
        rules = [compiled(r) for r in pack.rules]
        self.order = {c: i for i, c in enumerate(rules)}
        self.element_rules = [c for c in rules if c.rule.scope == "element"]
        self.flow_rules = [c for c in rules if c.rule.scope == "flow"]
        self.interaction_rules = [c for c in rules if c.rule.scope == "interaction"]
        self.flow_only = {c for c in rules if c.rule.scope != "element" and _flow_only(c)}
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
        self._texts: dict[tuple[str, str], str | Text] = {}
        self._readings: dict[tuple[str, frozenset[str]], Reading] = {}
        self._signatures: dict[tuple[object, ...], int] = {}
        self._elements: dict[int, tuple[int, tuple[str | None, ...]]] = {}
        self._shown: dict[int, tuple[str | None, ...]] = {}
        self._targets: dict[int, int] = {}
        self._by_types: dict[tuple[object, ...], list[CompiledRule]] = {}
        self._element_groups: dict[int, list[tuple[str, ThreatPart, Conditions | None]]] = {}
        self._flow_groups: dict[tuple[str, int], list[tuple[CompiledRule, Conditions | None]]]
        self._flow_groups = {}
        self._found: dict[tuple[object, ...], list[_Found]] = {}
        self._parts: dict[ThreatPart, ThreatPart] = {}
        self._flow_parts: dict[tuple[object, ...], ThreatPart] = {}
        self._shares: dict[tuple[int, int], int] = {}
        self._others: dict[int, list[CompiledRule]] = {}

    # Signatures

    def _named(self, signature: tuple[object, ...]) -> int:
        found = self._signatures.get(signature)
        if found is None:
            found = self._signatures[signature] = len(self._signatures)
        return found

    def _reading(self, role: str, types: frozenset[str]) -> Reading:
        """What the rules which can hold for a subject of these types (as ``element``; as
        ``flow``) read of it, with what its threats read besides."""
        found = self._readings.get((role, types))
        if found is None:
            extra: tuple[str, ...]
            if role == "element":
                rules, extra = self.element_rules, _ELEMENT_EXTRA
            else:
                rules, extra = self.flow_rules + self.interaction_rules, _FLOW_EXTRA
            kind = {role: types}
            reads = set(extra)
            for c in rules:
                if c.applies(kind):
                    reads.update(attr for name, attr in c.reads if name == role)
            found = self.factory.reading(tuple(sorted(reads)), flow=role == "flow")
            self._readings[(role, types)] = found
        return found

    def element(self, element: Element) -> tuple[int, tuple[str | None, ...]]:
        """The element's signature (as the subject of element rules) and its placeholder
        values, worked out once per element."""
        found = self._elements.get(id(element))
        if found is None:
            subject = self.factory.new_element(element)
            signature = (
                subject.key(self._reading("element", subject.types)),
                element.hazards,
                element.essential_performance,
                self.facts.data_of(element),
            )
            found = (self._named(signature), _shown(subject.values(self.element_texts)))
            self._elements[id(element)] = found
        return found

    def shown(self, element: Element) -> tuple[str | None, ...]:
        """The element's placeholder values (worked out once per element)."""
        known = self._elements.get(id(element))
        if known is not None:
            return known[1]
        found = self._shown.get(id(element))
        if found is None:
            subject = self.factory.new_element(element)
            found = self._shown[id(element)] = _shown(subject.values(self.element_texts))
        return found

    def target(self, subject: ElementSubject) -> int:
        """The signature of what a flow's threats read of its target besides the rules."""
        element = subject.element
        found = self._targets.get(id(element))
        if found is None:
            signature = (
                "target",
                fit_words({"element": subject}),
                element.hazards,
                element.essential_performance,
            )
            found = self._targets[id(element)] = self._named(signature)
        return found

    def flow(self, subject: FlowSubject) -> int:
        """The signature of a flow seen in one direction."""
        flow = subject.flow
        signature = (
            subject.key(self._reading("flow", subject.types)),
            flow.hazards,
            flow.essential_performance,
            flow.data,
        )
        return self._named(signature)

    # Outcomes

    def _applying(
        self, rules: list[CompiledRule], key: tuple[object, ...], types: dict[str, frozenset[str]]
    ) -> list[CompiledRule]:
        """The rules whose include can hold for subjects of these types."""
        found = self._by_types.get(key)
        if found is None:
            found = [c for c in rules if c.applies(types)]
            self._by_types[key] = found
        return found

    def element_group(
        self, element: Element, signature: int
    ) -> list[tuple[str, ThreatPart, Conditions | None]]:
        """What the element rules give on every element with this signature: per rule that
        holds, its key's prefix, its threat's part and the conditions that exclude it."""
        found = self._element_groups.get(signature)
        if found is None:
            subject = self.factory.new_element(element)
            subjects: dict[str, Subject] = {"element": subject}
            rules = self._applying(
                self.element_rules, ("e", subject.types), {"element": subject.types}
            )
            found = []
            for c in rules:
                if not c.include(subjects):
                    continue
                part = self.part(c, subjects, element=element)
                found.append((f"{c.rule.id}@", part, _excluded(c, subjects)))
            self._element_groups[signature] = found
        return found

    def at_flow(
        self,
        kind: str,
        rules: list[CompiledRule],
        direction: int,
        subjects: Mapping[str, Subject],
        signatures: tuple[int, int],
        flow: Flow,
        target: Element,
    ) -> list[_Found]:
        """The rules among ``rules`` (the ``kind`` of rules that can hold for these subjects'
        types) that hold at one direction of a flow: those that read nothing of its ends once
        per flow signature, the others here."""
        order = self.order
        shared = self._shared(subjects, signatures, flow, target)
        group_key = (kind, direction, signatures[0], shared)
        found = self._found.get(group_key)
        if found is None:
            outcomes = self._flow_groups.get((kind, signatures[0]))
            if outcomes is None:
                # Which of them can hold depends on the flow's types alone.
                candidates = self.flow_rules if kind == "f" else self.interaction_rules
                types = {"flow": subjects["flow"].types}  # type: ignore[attr-defined]
                outcomes = [
                    (c, _excluded(c, subjects))
                    for c in candidates
                    if c in self.flow_only and c.applies(types) and c.include(subjects)
                ]
                self._flow_groups[(kind, signatures[0])] = outcomes
            found = [
                (order[c], direction, c, self.flow_part(c, subjects, shared, flow, target), x)
                for c, x in outcomes
            ]
            self._found[group_key] = found
        others = self._others.get(id(rules))
        if others is None:
            others = self._others[id(rules)] = [c for c in rules if c not in self.flow_only]
        rest: list[_Found] = []
        for c in others:
            if c.include(subjects):
                part = self.flow_part(c, subjects, shared, flow, target)
                rest.append((order[c], direction, c, part, _excluded(c, subjects)))
        if not rest:
            return found
        if not found:
            return rest
        return sorted(found + rest, key=_rank)

    def flow_part(
        self,
        c: CompiledRule,
        subjects: Mapping[str, Subject],
        shared: int,
        flow: Flow,
        target: Element,
    ) -> ThreatPart:
        """The part of the rule's threat at a flow direction whose severity, exploitability
        and countermeasures read what ``shared`` names (built once per rule and that)."""
        key = (c, shared)
        found = self._flow_parts.get(key)
        if found is None:
            found = self._flow_parts[key] = self.part(c, subjects, flow=flow, target=target)
        return found

    def _shared(
        self,
        subjects: Mapping[str, Subject],
        signatures: tuple[int, int],
        flow: Flow,
        target: Element,
    ) -> int:
        """The signature of what a threat's severity, exploitability and countermeasures read
        at a flow direction and target with these signatures."""
        shares = self._shares.get(signatures)
        if shares is None:
            flow_subject = subjects["flow"]
            low = bool(flow_subject.attribute("on_board"))
            low = low or flow_subject.attribute("protocol_family") == "debug"
            typed = {
                name: subject
                for name, subject in subjects.items()
                if isinstance(subject, (ElementSubject, FlowSubject))
            }
            shares = self._shares[signatures] = self._named(
                (
                    "shares",
                    low,
                    fit_words(typed),
                    flow.hazards,
                    flow.data,
                    flow.essential_performance,
                    target.hazards,
                    target.essential_performance,
                )
            )
        return shares

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


_key = attrgetter("key")


def _rank(found: _Found) -> tuple[int, int]:
    return found[0], found[1]


def _excluded(c: CompiledRule, subjects: Mapping[str, Subject]) -> Conditions | None:
    """The conditions of the rule's exclude expression that hold (None: it does not hold)."""
    if c.exclude is None or not c.exclude(subjects):
        return None
    assert c.explain is not None
    return tuple(c.explain(subjects))


def _direction(
    source: ElementSubject, flow: FlowSubject, target: ElementSubject
) -> tuple[dict[str, Subject], dict[str, frozenset[str]], tuple[frozenset[str], ...]]:
    """One direction of a flow: its subjects by name, their types by name, and the types as a
    key (source, flow, target)."""
    subjects: dict[str, Subject] = {"source": source, "flow": flow, "target": target}
    types = {"source": source.types, "flow": flow.types, "target": target.types}
    return subjects, types, (source.types, flow.types, target.types)


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
) -> tuple[list[Threat], DesignedOut]:
    alike = _Alike(model, pack, model_facts)
    factory = alike.factory
    threats: list[Threat] = []
    keep = threats.append
    set_aside: list[SetAside] = []
    make = Threat.of
    element_rules = alike.element_rules
    flow_rules = alike.flow_rules
    interaction_rules = alike.interaction_rules
    flow_texts = alike.flow_texts
    tmt = alike.tmt
    prefixes = {
        c: c.rule.id if tmt and c.rule.scope == "interaction" else c.rule.id + "@"
        for c in alike.order
    }

    elements = model.elements
    flows = model.flows
    if scope is not None:
        elements = tuple(e for e in elements if e.id in scope.elements)
        flows = tuple(f for f in flows if f.id in scope.flows)

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
            for prefix, part, conditions in entries:
                if conditions is None:
                    keep(make(prefix + element_id, part, place))
                else:
                    set_aside.append(
                        SetAside(prefix, element_id, part, place, conditions, (element,))
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
            source_subject = factory.new_element(source)
            target_subject = factory.new_element(target)
            forward, forward_types, forward_key = _direction(
                source_subject, flow_subject, target_subject
            )
            signatures = (alike.flow(flow_subject), alike.target(target_subject))
            reply: FlowSubject | None = None
            found = alike.at_flow(
                "f",
                alike._applying(flow_rules, ("f", *forward_key), forward_types),
                0,
                forward,
                signatures,
                flow,
                target,
            )
            if interaction_rules:
                interactions = alike.at_flow(
                    "i",
                    alike._applying(interaction_rules, ("i", *forward_key), forward_types),
                    0,
                    forward,
                    signatures,
                    flow,
                    target,
                )
                if flow.bidirectional:
                    reply_subject = factory.new_flow(flow, reverse=True)
                    reply = reply_subject
                    backward, reply_types, reply_key = _direction(
                        target_subject, reply_subject, source_subject
                    )
                    replies = alike.at_flow(
                        "i",
                        alike._applying(interaction_rules, ("i", *reply_key), reply_types),
                        1,
                        backward,
                        (alike.flow(reply_subject), alike.target(source_subject)),
                        flow,
                        source,
                    )
                    if replies:
                        # Rule by rule, forward before reply.
                        interactions = sorted(interactions + replies, key=_rank)
                if interactions:
                    found = found + interactions if found else interactions
            if not found:
                continue
            flow_id, source_id, target_id = flow.id, source.id, target.id
            source_values = alike.shown(source)
            target_values = alike.shown(target)
            places = [
                Place(
                    None,
                    flow_id,
                    source_id,
                    target_id,
                    flow.location,
                    (source_values, _shown(flow_subject.values(flow_texts)), target_values),
                )
            ]
            if reply is not None:
                places.append(
                    Place(
                        None,
                        flow_id,
                        target_id,
                        source_id,
                        flow.location,
                        (target_values, _shown(reply.values(flow_texts)), source_values),
                    )
                )
            if tmt:
                ends = [source_id + flow_id + target_id, target_id + flow_id + source_id]
            else:
                ends = [f"{source_id}>{flow_id}>{target_id}", f"{target_id}>{flow_id}>{source_id}"]
            items: tuple[tuple[Element | Flow, ...], ...] | None = None
            for _, direction, c, part, conditions in found:
                if c.rule.scope == "flow":
                    prefix, end = prefixes[c], flow_id
                else:
                    prefix, end = prefixes[c], ends[direction]
                if conditions is None:
                    keep(make(prefix + end, part, places[direction]))
                else:
                    if items is None:
                        items = ((source, flow, target), (target, flow, source))
                    set_aside.append(
                        SetAside(prefix, end, part, places[direction], conditions, items[direction])
                    )
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
    threats.sort(key=_key)  # stable: of threats with one key, the last found is kept
    if all(t.key != after.key for t, after in pairwise(threats)):
        return tuple(threats)
    kept = [t for t, after in pairwise(threats) if t.key != after.key]
    kept.append(threats[-1])
    return tuple(kept)
