"""Enumerate threats: run a rule pack over a model (or over part of it).

``enumerate_threats`` is pure: the same model and pack give the same threats, sorted by key.
A rule's threat exists when its include expression holds and its exclude expression does not.
Element rules run on each element in scope; flow rules on each flow in scope; interaction rules on
each direction of each flow in scope (both directions of a bidirectional flow). A flow marked out
of scope (:attr:`Flow.out_of_scope`) has no threats: no rule runs on it, whatever it touches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from operator import attrgetter, itemgetter

from threatdelta.collector import relaxed_collection
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Element, Flow, Model
from threatdelta.risk.matrix import at_least, raise_severity
from threatdelta.rules.lang.ast import (
    LEAF_TYPES,
    Expr,
    referenced_attributes,
    referenced_subjects,
    walk,
)
from threatdelta.rules.lang.compiled import (
    Explainer,
    Predicate,
    compile_explanation,
    compile_expression,
    required_types,
    specialise,
)
from threatdelta.rules.lang.interface import Subject, Value
from threatdelta.rules.pack import Exploitability, Rule, RulePack, Severity, Stride
from threatdelta.subjects import (
    ElementSubject,
    FlowSubject,
    Reading,
    SubjectFactory,
    fit_words,
    flow_words,
)
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
    flow_tests: tuple[tuple[Expr, Predicate], ...]
    """The conditions on the ``flow`` subject in its include and exclude expressions, each
    with its compiled test."""
    excludes_on_flow: bool
    """Its exclude expression (if any) reads nothing of a flow's ends."""
    reads_source: bool
    """Its include or exclude expression reads the ``source`` subject."""
    reads_target: bool
    """Its include or exclude expression reads the ``target`` subject."""
    residuals: dict[tuple[bool, ...], Residual] = field(default_factory=dict)
    """What :meth:`given_flow` worked out, by the truth values of :attr:`flow_tests`."""

    def given_flow(self, truths: tuple[bool, ...]) -> Residual:
        """Its include and exclude expressions with the truth values of its conditions on the
        flow (:attr:`flow_tests`, in order) put in (see :func:`specialise`): each True, False,
        or compiled from what is left, which reads only the flow's ends (None: it has no
        exclude expression). Worked out once per truth values."""
        found = self.residuals.get(truths)
        if found is None:
            known = {leaf: truth for (leaf, _), truth in zip(self.flow_tests, truths, strict=True)}
            include: Expr = self.rule.include  # type: ignore[assignment]
            exclude: Expr | None = self.rule.exclude  # type: ignore[assignment]
            found = self.residuals[truths] = (
                _compiled_rest(specialise(include, known.get)),
                None if exclude is None else _compiled_rest(specialise(exclude, known.get)),
            )
        return found

    def applies(self, types: Mapping[str, frozenset[str]]) -> bool:
        """Whether subjects of these types can make the include expression hold at all."""
        for name, needed in self.needs:
            have = types.get(name)
            if have is not None and not needed <= have:
                return False
        return True


_ON_FLOW = frozenset({"flow"})

Residual = tuple["bool | Predicate", "bool | Predicate | None"]
"""A rule's include and exclude expressions given a flow (see :meth:`CompiledRule.given_flow`)."""


def _compiled_rest(rest: Expr | bool) -> bool | Predicate:
    return rest if isinstance(rest, bool) else compile_expression(rest)


def _flow_tests(include: Expr, exclude: Expr | None) -> tuple[tuple[Expr, Predicate], ...]:
    leaves: dict[Expr, None] = {}
    for expr in (include, exclude):
        for node in walk(expr) if expr is not None else ():
            if isinstance(node, LEAF_TYPES) and getattr(node, "subject", None) == "flow":
                leaves[node] = None
    return tuple((leaf, compile_expression(leaf)) for leaf in leaves)


def compiled(rule: Rule) -> CompiledRule:
    """``rule`` compiled (once: the result is kept with the rule)."""
    found = rule.__dict__.get("_compiled")
    if found is None:
        include: Expr = rule.include  # type: ignore[assignment]
        exclude: Expr | None = rule.exclude  # type: ignore[assignment]
        reads = referenced_attributes(include)
        subjects = referenced_subjects(include)
        if exclude is not None:
            reads |= referenced_attributes(exclude)
            subjects |= referenced_subjects(exclude)
        found = CompiledRule(
            rule,
            compile_expression(include),
            compile_expression(exclude) if exclude is not None else None,
            compile_explanation(exclude) if exclude is not None else None,
            tuple(sorted(required_types(include).items())),
            reads,
            _flow_tests(include, exclude),
            exclude is None or referenced_subjects(exclude) <= _ON_FLOW,
            "source" in subjects,
            "target" in subjects,
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


_IDENTITY = frozenset({"id", "name", "Name"})
"""The attributes of a flow that are its own, not shared with alike flows."""
_OWN = frozenset({"id", "name", "Name"})
"""Placeholders filled from an element's or flow's own id or name."""


def _own(item: Element | Flow, name: str) -> str:
    """The id or name of ``item`` as its placeholder ``name`` shows it."""
    return item.id if name == "id" else item.name


_End = tuple[ElementSubject, int, int, tuple["str | None", ...]]
"""An element as :meth:`_Alike.end` gives it: a subject answering as it does, its signature,
the signature of what a flow's threats read of it as their target, its placeholder values."""

_Open = tuple[int, CompiledRule, Predicate, "Conditions | Predicate | None"]
"""A rule whose threat at a flow direction its ends decide: its position in the pack, the rule,
what is left of its include expression given the flow, and the conditions that exclude its
threat when the flow decides them (None: it is not excluded), else what is left of its exclude
expression."""


_UNKNOWN: tuple[Conditions | None] = ((),)
"""Not looked up yet (an outcome is None, or the conditions that exclude the threat)."""


def _always(subjects: Mapping[str, Subject]) -> bool:
    return True


_Given = tuple[
    list[tuple[int, CompiledRule, "Conditions | None"]],
    int,
    tuple[_Open, ...],
]
"""What a flow direction's conditions decide (see :meth:`_Alike.on_flow`)."""

_OnFlow = tuple[
    list[tuple[int, CompiledRule, "Conditions | None"]],
    int,
    tuple[_Open, ...],
    int,
]
"""What a flow direction's signature decides (see :meth:`_Alike.on_flow`)."""


class _Alike:
    """One enumeration's groups of alike places.

    What the rules, a threat's severity, exploitability and countermeasures can read of an
    element is named by its *signature* (an integer naming a distinct
    :meth:`ElementSubject.key`), worked out once per element; a flow direction's likewise,
    once per distinct :meth:`SubjectFactory.direction` (what a direction answers from: the
    flow's own fields and what its ends add, crossings, inbound, a shared device); and what a
    threat of a flow reads of its target (its kind, hazards and essential performance) by a
    third. Alike places give the same outcomes:

    - element rules are evaluated once per element signature;
    - flow and interaction rules once per flow signature, on the flow alone
      (:meth:`CompiledRule.given_flow`): those the flow decides are settled there, with the
      conditions that exclude their threats when the flow decides those too;
    - of the others, only what the flow leaves of them (which reads only the ends) at each
      flow direction whose ends' types allow them;
    - the part a threat shares (:class:`ThreatPart`) is built once per rule and stake (what
      its severity, exploitability and countermeasures read of the flow and of its target;
      once per rule and element signature for element rules).

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
        self.flow_side = [c for c in rules if c.rule.scope != "element"]
        self.flow_counted = any(
            read == ("flow", "crossing_count") for c in self.flow_side for read in c.reads
        )
        self.flow_identity = any(
            name == "flow" and attr in _IDENTITY for c in self.flow_side for name, attr in c.reads
        )
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
        self.flow_texts_own = flow_texts <= _OWN
        """Every flow placeholder names the flow's id or name (read from the flow itself)."""
        self.element_texts_own = element_texts <= _OWN
        """Every element placeholder names an element's id or name."""
        reads = {read for c in rules for read in c.reads}
        self.element_depth = any(attr == "zone_depth" for _, attr in reads)
        self.element_identity = any(
            name != "flow" and attr in _IDENTITY | {"boundary"} for name, attr in reads
        )
        self._texts: dict[tuple[str, str], str | Text] = {}
        self._readings: dict[tuple[str, frozenset[str]], Reading] = {}
        self._signatures: dict[tuple[object, ...], int] = {}
        self._ends: dict[int, _End] = {}
        self._alike_ends: dict[tuple[object, ...], tuple[ElementSubject, int, int]] = {}
        self._shown: dict[int, tuple[str | None, ...]] = {}
        self._by_types: dict[tuple[object, ...], list[CompiledRule]] = {}
        self._element_groups: dict[int, list[tuple[str, ThreatPart, Conditions | None]]] = {}
        self._directions: dict[tuple[object, ...], tuple[int, FlowSubject]] = {}
        self._on_flow: dict[tuple[int, int], _OnFlow] = {}
        self._on_truths: dict[tuple[int, tuple[bool, ...]], _Given] = {}
        # Every condition on the flow the rules hold, each tested once per flow signature.
        leaves: dict[Expr, int] = {}
        tests: list[Predicate] = []
        for c in self.flow_side:
            for leaf, test in c.flow_tests:
                if leaf not in leaves:
                    leaves[leaf] = len(tests)
                    tests.append(test)
        self.flow_tests = tuple(tests)
        self._positions = {c: tuple(leaves[leaf] for leaf, _ in c.flow_tests) for c in rules}
        self._opened: dict[tuple[_Open, ...], int] = {}
        self._ends_apply: dict[tuple[object, ...], list[_Open]] = {}
        self._parts: dict[ThreatPart, ThreatPart] = {}
        self._parts_at: dict[tuple[int, int], dict[CompiledRule, ThreatPart]] = {}
        self._settled: dict[tuple[int, int, int], list[_Found]] = {}
        self._outcomes: dict[tuple[object, ...], tuple[Conditions | None] | None] = {}
        self._end_readings: dict[tuple[CompiledRule, str], Reading] = {}
        self._read_as: dict[tuple[int, int], int] = {}

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

    def end(self, element: Element) -> _End:
        """A subject answering as ``element`` does, the element's signature (as the subject of
        element rules) and the signature of what a flow's threats read of it as their target
        besides the rules, and its placeholder values: worked out once per element, and but for
        the values once per distinct
        :meth:`SubjectFactory.element_inputs` but for the subject, made for the first element
        with them (so it may answer another's id or name when no rule reads those)."""
        found = self._ends.get(id(element))
        if found is None:
            inputs = self.factory.element_inputs(element, self.element_depth, self.element_identity)
            alike = self._alike_ends.get(inputs)
            if alike is None:
                subject = self.factory.new_element(element)
                signature = (
                    subject.key(self._reading("element", subject.types)),
                    element.hazards,
                    element.essential_performance,
                    self.facts.data_of(element),
                )
                stake = (
                    "target",
                    fit_words({"element": subject}),
                    element.hazards,
                    element.essential_performance,
                )
                alike = (subject, self._named(signature), self._named(stake))
                self._alike_ends[inputs] = alike
            found = self._ends[id(element)] = (*alike, self.shown(element))
        return found

    def shown(self, element: Element) -> tuple[str | None, ...]:
        """The element's placeholder values (worked out once per element)."""
        found = self._shown.get(id(element))
        if found is None:
            if self.element_texts_own:
                found = tuple(_own(element, name) for name in self.element_texts)
            else:
                subject = self.factory.new_element(element)
                found = _shown(subject.values(self.element_texts))
            self._shown[id(element)] = found
        return found

    def flow_shown(self, flow: Flow, reverse: bool) -> tuple[str | None, ...]:
        """The placeholder values of ``flow`` seen in one direction."""
        if self.flow_texts_own:
            return tuple(_own(flow, name) for name in self.flow_texts)
        return _shown(self.factory.new_flow(flow, reverse).values(self.flow_texts))

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

    def direction(
        self, flow: Flow, source: Element, target: Element, reverse: bool
    ) -> tuple[int, FlowSubject]:
        """The signature of ``flow`` seen in one direction (``source`` and ``target`` are its own
        ends), and a subject that answers what the rules read of it as this direction does:
        made for the first direction seen with the same :meth:`SubjectFactory.direction` (and
        the same id and name when a rule reads those), so its placeholders may be another's."""
        raw = self.factory.direction(flow, source, target, reverse, self.flow_counted)
        if self.flow_identity:
            raw = (raw, flow.id, flow.name)
        found = self._directions.get(raw)
        if found is None:
            subject = self.factory.new_flow(flow, reverse)
            found = self._directions[raw] = (self.flow(subject), subject)
        return found

    def on_flow(self, direction: int, signature: int, subject: FlowSubject) -> _OnFlow:
        """What a flow direction's signature decides (worked out once per signature): the
        flow and interaction rules (interaction rules only for a reply) whose include holds
        whatever the ends are and whose exclude reads nothing of them, each with the
        conditions that exclude its threat; numbered, those the ends decide; and what its
        threats' parts read of the flow (:meth:`_flow_stake`)."""
        key = (direction, signature)
        found = self._on_flow.get(key)
        if found is None:
            subjects: dict[str, Subject] = {"flow": subject}
            truths = tuple(test(subjects) for test in self.flow_tests)
            given = self._on_truths.get((direction, truths))
            if given is None:
                given = self._on_truths[(direction, truths)] = self._given(
                    direction, truths, subjects
                )
            found = self._on_flow[key] = (*given, self._flow_stake(subject))
        return found

    def _given(
        self, direction: int, truths: tuple[bool, ...], subjects: Mapping[str, Subject]
    ) -> _Given:
        """:meth:`on_flow` for a flow direction whose conditions (:attr:`flow_tests`) have
        these truth values (all it depends on)."""
        fixed: list[tuple[int, CompiledRule, Conditions | None]] = []
        open_: list[_Open] = []
        for c in self.flow_side if direction == 0 else self.interaction_rules:
            include, exclude = c.given_flow(tuple(truths[i] for i in self._positions[c]))
            if include is False:
                continue
            excluded: Conditions | Predicate | None
            if exclude is None or exclude is False:
                excluded = None
            elif c.excludes_on_flow:
                excluded = _excluded(c, subjects)
            else:
                excluded = _always if exclude is True else exclude
            if include is True and not callable(excluded):
                fixed.append((self.order[c], c, excluded))
            else:
                test = _always if include is True else include
                open_.append((self.order[c], c, test, excluded))
        opened = tuple(open_)
        return fixed, self._opened.setdefault(opened, len(self._opened)), opened

    def at_flow(
        self,
        direction: int,
        signature: int,
        subject: FlowSubject,
        source_end: _End,
        target_end: _End,
        flow: Flow,
        target: Element,
    ) -> list[_Found]:
        """The flow and interaction rules (interaction rules only for a reply) that hold at
        one direction of a flow, in pack order: what its signature decides once per signature
        and stake, the rest here, on its ends (see :meth:`on_flow`)."""
        fixed, number, opened, flow_stake = self.on_flow(direction, signature, subject)
        source_subject = source_end[0]
        target_subject = target_end[0]
        stake = (flow_stake, target_end[2])
        parts = self._parts_at.get(stake)
        if parts is None:
            parts = self._parts_at[stake] = {}
        subjects: dict[str, Subject] | None = None
        settled = (direction, signature, target_end[2])
        found = self._settled.get(settled)
        if found is None:
            found = []
            for rank, c, excluded in fixed:
                part = parts.get(c)
                if part is None:
                    if subjects is None:
                        subjects = {
                            "source": source_subject,
                            "flow": subject,
                            "target": target_subject,
                        }
                    part = parts[c] = self.part(c, subjects, flow=flow, target=target)
                found.append((rank, direction, c, part, excluded))
            self._settled[settled] = found
        if not opened:
            return found
        ends = (number, source_subject.types, target_subject.types)
        rules = self._ends_apply.get(ends)
        if rules is None:
            types = {"source": source_subject.types, "target": target_subject.types}
            rules = self._ends_apply[ends] = [e for e in opened if e[1].applies(types)]
        if not rules:
            return found
        if subjects is None:
            subjects = {"source": source_subject, "flow": subject, "target": target_subject}
        rest: list[_Found] = []
        outcomes = self._outcomes
        for rank, c, include, exclude in rules:
            # What is left of the rule reads only the ends, and alike ends share a subject;
            # the conditions that exclude its threat read the flow too: the outcome is kept
            # per rule, truth values of the flow's conditions (which name `opened`) and ends.
            key = (
                id(opened),
                rank,
                self.read_by(c, "source", source_subject) if c.reads_source else -1,
                self.read_by(c, "target", target_subject) if c.reads_target else -1,
            )
            outcome = outcomes.get(key, _UNKNOWN)
            if outcome is _UNKNOWN:
                outcome = None
                if include(subjects):
                    outcome = (
                        _excluded_if(c, exclude, subjects) if callable(exclude) else exclude,
                    )
                outcomes[key] = outcome
            if outcome is not None:
                part = parts.get(c)
                if part is None:
                    part = parts[c] = self.part(c, subjects, flow=flow, target=target)
                rest.append((rank, direction, c, part, outcome[0]))
        if not rest:
            return found
        if not found:
            return rest
        return sorted(found + rest, key=_rank)

    def read_by(self, c: CompiledRule, name: str, subject: ElementSubject) -> int:
        """What rule ``c`` reads of ``subject`` as its ``name`` end (``source``, ``target``),
        named: ends with one name answer the rule alike (worked out once per rule, end and
        subject; alike ends share a subject)."""
        reading = self._end_readings.get((c, name))
        if reading is None:
            reads = tuple(sorted({attr for role, attr in c.reads if role == name}))
            reading = self._end_readings[(c, name)] = self.factory.reading(reads)
        key = (id(subject), id(reading))
        found = self._read_as.get(key)
        if found is None:
            found = self._read_as[key] = self._named(("end", subject.key(reading)))
        return found

    def _flow_stake(self, subject: FlowSubject) -> int:
        """What a threat's severity, exploitability and countermeasures read of a flow
        direction, named (with what they read of its target, :meth:`end`, it names the
        threat's part)."""
        flow = subject.flow
        low = bool(subject.attribute("on_board"))
        low = low or subject.attribute("protocol_family") == "debug"
        return self._named(
            (
                "flow stake",
                low,
                flow_words(subject),
                flow.hazards,
                flow.data,
                flow.essential_performance,
            )
        )

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


_rank = itemgetter(0, 1)
"""A rule's position in the pack and the direction, of what a flow direction found."""


def _excluded_if(
    c: CompiledRule, rest: Predicate, subjects: Mapping[str, Subject]
) -> Conditions | None:
    """:func:`_excluded`, knowing what is left of the exclude expression given the flow."""
    return _excluded(c, subjects) if rest(subjects) else None


def _excluded(c: CompiledRule, subjects: Mapping[str, Subject]) -> Conditions | None:
    """The conditions of the rule's exclude expression that hold (None: it does not hold)."""
    if c.explain is None:
        return None
    found = c.explain(subjects)  # empty when it does not hold, else never
    return tuple(found) if found else None


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
    alike: _Alike | None = None,
) -> tuple[list[Threat], DesignedOut]:
    alike = alike or _Alike(model, pack, model_facts)
    threats: list[Threat] = []
    keep = threats.append
    set_aside: list[SetAside] = []
    make = Threat.of
    element_rules = alike.element_rules
    flow_rules = alike.flow_rules
    interaction_rules = alike.interaction_rules
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
            _, signature, _, values = alike.end(element)
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

        end_of = alike.end
        flow_scoped = set(flow_rules)
        ruled = _ruled_flows(model, flows) if (flow_rules or interaction_rules) else ()
        for flow, source, target in ruled:
            if stats is not None:
                stats.evaluations += len(flow_rules) + len(interaction_rules) * (
                    2 if flow.bidirectional else 1
                )
                stats.subjects.add(flow.id)
            source_end = end_of(source)
            target_end = end_of(target)
            signature, flow_subject = alike.direction(flow, source, target, False)
            found = alike.at_flow(0, signature, flow_subject, source_end, target_end, flow, target)
            reply = flow.bidirectional and interaction_rules
            if reply:
                signature, reply_subject = alike.direction(flow, source, target, True)
                replies = alike.at_flow(
                    1, signature, reply_subject, target_end, source_end, flow, source
                )
                if replies:
                    # Rule by rule, forward before reply.
                    found = sorted(found + replies, key=_rank) if found else replies
            if not found:
                continue
            flow_id, source_id, target_id = flow.id, source.id, target.id
            source_values = source_end[3]
            target_values = target_end[3]
            flow_values = alike.flow_shown(flow, False)
            places = [
                Place(
                    None,
                    flow_id,
                    source_id,
                    target_id,
                    flow.location,
                    (source_values, flow_values, target_values),
                )
            ]
            if reply:
                places.append(
                    Place(
                        None,
                        flow_id,
                        target_id,
                        source_id,
                        flow.location,
                        (target_values, alike.flow_shown(flow, True), source_values),
                    )
                )
            if tmt:
                ends = [source_id + flow_id + target_id, target_id + flow_id + source_id]
            else:
                ends = [f"{source_id}>{flow_id}>{target_id}", f"{target_id}>{flow_id}>{source_id}"]
            items: tuple[tuple[Element | Flow, ...], ...] | None = None
            for _, direction, c, part, conditions in found:
                prefix = prefixes[c]
                end = flow_id if c in flow_scoped else ends[direction]
                if conditions is None:
                    keep(make(prefix + end, part, places[direction]))
                else:
                    if items is None:
                        items = ((source, flow, target), (target, flow, source))
                    set_aside.append(
                        SetAside(prefix, end, part, places[direction], conditions, items[direction])
                    )
    return threats, DesignedOut(pack, tuple(set_aside))


def _ruled_flows(model: Model, flows: Iterable[Flow]) -> Iterator[tuple[Flow, Element, Element]]:
    """The flows of ``flows`` that rules run on, with their source and target: those in scope
    whose two ends are elements of ``model``."""
    element_of = {e.id: e for e in model.elements}.get
    for flow in flows:
        if flow.out_of_scope:
            continue
        source = element_of(flow.source)
        target = element_of(flow.target)
        if source is not None and target is not None:
            yield flow, source, target


def _count(alike: _Alike, elements: tuple[Element, ...], flows: tuple[Flow, ...]) -> int:
    """How many threats the enumeration finds on ``elements`` and ``flows`` (which have no key
    in common with any other threat of the model, see :func:`count_threats`), without making
    them: per element signature and per flow direction what :meth:`_Alike.at_flow` finds."""
    total = 0
    end_of = alike.end
    if alike.element_rules:
        by_signature: dict[int, int] = {}
        for element in elements:
            signature = end_of(element)[1]
            made = by_signature.get(signature)
            if made is None:
                entries = alike.element_group(element, signature)
                made = by_signature[signature] = sum(1 for e in entries if e[2] is None)
            total += made
    interaction_rules = alike.interaction_rules
    if not (alike.flow_rules or interaction_rules):
        return total
    at_flow = alike.at_flow
    direction = alike.direction
    for flow, source, target in _ruled_flows(alike.model, flows):
        source_end = end_of(source)
        target_end = end_of(target)
        signature, subject = direction(flow, source, target, False)
        found = at_flow(0, signature, subject, source_end, target_end, flow, target)
        if flow.bidirectional and interaction_rules:
            signature, subject = direction(flow, source, target, True)
            replies = at_flow(1, signature, subject, target_end, source_end, flow, source)
            if source.id == target.id:
                # Both directions give an interaction rule's threat one key: it counts once.
                total += len({id(f[2]) for f in (*found, *replies) if f[4] is None})
                continue
            for f in replies:
                if f[4] is None:
                    total += 1
        for f in found:
            if f[4] is None:
                total += 1
    return total


def keys_apart(model: Model, pack: RulePack) -> bool:
    """Whether the places of ``model`` give ``pack``'s threats distinct keys (but the two
    directions of a bidirectional flow from an element to itself): a key ``rule@rest`` names
    its rule when no rule id holds ``@`` and rule ids are unique, and ``rest`` names one
    element, one flow, or one direction of a flow when ids are unique and hold no ``>``. Keys
    in the TMT style are run together without separators and are not told apart here."""
    if pack.key_style == "tmt":
        return False
    rule_ids = [r.id for r in pack.rules]
    if len(set(rule_ids)) != len(rule_ids) or any("@" in r for r in rule_ids):
        return False
    for items in (model.elements, model.flows):
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids) or any(">" in i for i in ids):
            return False
    return True


@dataclass(frozen=True)
class Counted:
    """An enumeration that made the threats of a scope and only counted the others."""

    threats: tuple[Threat, ...]
    """The threats in the scope, as :func:`enumerate_threats` gives them for it."""
    others: int
    """How many threats the rest of the model has."""


def count_threats(
    model: Model,
    pack: RulePack,
    scope: EnumerationScope,
    *,
    model_facts: ModelFacts | None = None,
    total: Callable[[], int] | None = None,
) -> Counted | None:
    """The threats ``pack`` finds in ``scope`` of ``model``, and how many it finds in the rest
    of the model, which are not made (no threat, place or key): what the rules give is
    counted per element signature and flow direction, as :class:`_Alike` groups them.
    ``total``: gives :func:`threat_total` of the model and pack (counted elsewhere, see
    :mod:`threatdelta.background`); the rest then has that many less the scope's.

    None when keys could coincide (see :func:`keys_apart`): then only making the keys tells
    how many distinct threats there are."""
    if not keys_apart(model, pack):
        return None
    model_facts = model_facts or facts(model)
    alike = _Alike(model, pack, model_facts)
    with relaxed_collection():
        threats, _ = _enumerate(model, pack, scope, model_facts, None, alike)
        inside = _by_key(threats)
        if total is not None:
            return Counted(inside, total() - len(inside))
        others = _count(
            alike,
            tuple(e for e in model.elements if e.id not in scope.elements),
            tuple(f for f in model.flows if f.id not in scope.flows),
        )
    return Counted(inside, others)


def threat_total(model: Model, pack: RulePack, *, model_facts: ModelFacts | None = None) -> int:
    """How many threats :func:`enumerate_threats` finds in ``model``, counted without making
    them (see :func:`count_threats`); for a model and pack whose keys are apart
    (:func:`keys_apart`), else it may count two threats with one key twice."""
    model_facts = model_facts or facts(model)
    with relaxed_collection():
        return _count(_Alike(model, pack, model_facts), model.elements, model.flows)


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
    return _by_key(threats)


def _by_key(threats: list[Threat]) -> tuple[Threat, ...]:
    """``threats`` sorted by key, one per key (sorted in place)."""
    threats.sort(key=_key)  # stable: of threats with one key, the last found is kept
    if all(t.key != after.key for t, after in pairwise(threats)):
        return tuple(threats)
    kept = [t for t, after in pairwise(threats) if t.key != after.key]
    kept.append(threats[-1])
    return tuple(kept)
