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

from threatdelta.collector import relaxed_collection
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Element, Flow, Model
from threatdelta.risk.matrix import at_least, raise_severity
from threatdelta.rules.lang.ast import Expr
from threatdelta.rules.lang.compiled import Predicate, compile_expression, required_types
from threatdelta.rules.lang.interface import Subject
from threatdelta.rules.pack import Exploitability, Rule, RulePack, Severity, Stride
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


@dataclass(frozen=True, slots=True)
class _Template:
    """A title or description split once into its text and ``{subject.attr}`` placeholders."""

    text: str
    """The text as the rule writes it."""
    pattern: str
    """The text with each placeholder as ``{}`` and every other brace doubled."""
    slots: tuple[tuple[str, str, str], ...]
    """Subject, attribute and written form of each placeholder, in order."""

    @classmethod
    def of(cls, text: str) -> _Template:
        pieces: list[str] = []
        slots: list[tuple[str, str, str]] = []
        end = 0
        for match in _PLACEHOLDER.finditer(text):
            pieces.append(text[end : match.start()].replace("{", "{{").replace("}", "}}"))
            pieces.append("{}")
            slots.append((match.group(1), match.group(2), match.group(0)))
            end = match.end()
        pieces.append(text[end:].replace("{", "{{").replace("}", "}}"))
        return cls(text, "".join(pieces), tuple(slots))

    def fill(self, subjects: Mapping[str, Subject]) -> str:
        """:func:`fill_template` of the text (the text itself when it has no placeholders)."""
        if not self.slots:
            return self.text
        values = []
        for name, attr, written in self.slots:
            subject = subjects.get(name)
            value = None if subject is None else subject.attribute(attr)
            values.append(written if value is None else str(value))
        return self.pattern.format(*values)


@dataclass(frozen=True, slots=True, eq=False)
class CompiledRule:
    """A rule with its expressions compiled and its texts split, built once per rule."""

    rule: Rule
    """The rule."""
    include: Predicate
    """Its include expression, compiled."""
    exclude: Predicate | None
    """Its exclude expression, compiled (None: it has none)."""
    needs: tuple[tuple[str, frozenset[str]], ...]
    """Subject name -> types it must have for the include expression to hold."""
    title: _Template
    description: _Template

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
        found = CompiledRule(
            rule,
            compile_expression(include),
            compile_expression(exclude) if exclude is not None else None,
            tuple(sorted(required_types(include).items())),
            _Template.of(rule.title),
            _Template.of(rule.description),
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


class _Builder:
    """Builds the threats of one enumeration, working out what threats share only once:
    severities per rule category and subject, fitting countermeasures per rule and kind of
    subject, texts without placeholders shared rather than copied."""

    def __init__(self, pack: RulePack, model: Model, model_facts: ModelFacts) -> None:
        self.pack = pack
        self.model = model
        self.facts = model_facts
        self.tmt = pack.key_style == "tmt"
        self._stakes: dict[tuple[object, ...], _Stake] = {}
        self._harm: dict[tuple[object, ...], Harm] = {}
        self._words: dict[int, tuple[Mapping[str, Subject], frozenset[str] | None]] = {}
        self._fitting: dict[tuple[int, frozenset[str] | None], tuple[str, ...]] = {}

    def harm(self, rule: Rule, candidate: Candidate) -> Harm:
        """``harm()`` of the candidate: what its subject puts at stake is worked out once per
        subject, and the resulting severity once per distinct rule severity and stake."""
        element, flow, target = candidate.element, candidate.flow, candidate.target
        acts_on_target = rule.stride in _SAFETY_STRIDE
        where = (
            acts_on_target,
            element.id if element is not None else None,
            flow.id if flow is not None else None,
            target if acts_on_target and flow is not None else None,
        )
        stake = self._stakes.get(where)
        if stake is None:
            stake = _at_stake(
                acts_on_target,
                self.facts,
                element,
                flow,
                self.model.element(target) if target is not None else None,
            )
            self._stakes[where] = stake
        key = (rule.stride, rule.severity, rule.data_raises_severity, stake)
        found = self._harm.get(key)
        if found is None:
            found = _harm(rule.stride, rule.severity, rule.data_raises_severity, *stake, self.model)
            self._harm[key] = found
        return found

    def countermeasures(self, rule: Rule, subjects: Mapping[str, Subject]) -> tuple[str, ...]:
        if not rule.countermeasures:
            return rule.countermeasures
        seen = self._words.get(id(subjects))
        if seen is None:
            typed = {
                name: subject
                for name, subject in subjects.items()
                if isinstance(subject, (ElementSubject, FlowSubject))
            }
            seen = (subjects, fit_words(typed))  # the mapping is kept so its id stays its own
            self._words[id(subjects)] = seen
        words = seen[1]
        key = (id(rule), words)
        found = self._fitting.get(key)
        if found is None:
            found = _fitting(rule, self.pack, words)
            self._fitting[key] = found
        return found

    def threat(self, compiled_rule: CompiledRule, candidate: Candidate) -> Threat:
        rule = compiled_rule.rule
        subjects = candidate.subjects
        element, flow = candidate.element, candidate.flow
        found = self.harm(rule, candidate)
        located = element if element is not None else flow
        return Threat(
            candidate.key,
            rule.id,
            rule.stride,
            compiled_rule.title.fill(subjects),
            rule.scope,
            found.severity,
            _exploitability(rule, subjects),
            rule.severity if found.severity != rule.severity else None,
            found.reasons,
            found.hazards,
            found.essential_performance,
            found.assets,
            compiled_rule.description.fill(subjects),
            rule.category,
            rule.cwe,
            rule.capec,
            self.countermeasures(rule, subjects),
            element.id if element is not None else None,
            flow.id if flow is not None else None,
            candidate.source,
            candidate.target,
            located.location if located is not None else None,
            rule.id if self.tmt else "",
        )


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


@dataclass(frozen=True, slots=True)
class _Site:
    """One element, or one direction of one flow, that rules are run on."""

    subjects: Mapping[str, Subject]
    element: Element | None = None
    flow: Flow | None = None
    source: str | None = None
    target: str | None = None
    reverse: bool = False

    def candidate(self, pack: RulePack, rule: Rule) -> Candidate:
        """The candidate of ``rule`` here, with its threat key."""
        if self.element is not None:
            key = f"{rule.id}@{self.element.id}"
        elif rule.scope == "flow":
            key = f"{rule.id}@{self.flow.id}"  # type: ignore[union-attr]
        else:
            key = interaction_key(pack, rule, self.source, self.flow.id, self.target)  # type: ignore[arg-type, union-attr]
        return Candidate(
            rule,
            key,
            self.subjects,
            element=self.element,
            flow=self.flow,
            source=self.source,
            target=self.target,
        )


class _Walk:
    """The subjects and rules of one enumeration, in the order threats are keyed and found."""

    def __init__(self, model: Model, pack: RulePack, model_facts: ModelFacts) -> None:
        self.model = model
        self.pack = pack
        self.factory = SubjectFactory.for_pack(model_facts, pack)
        rules = [compiled(r) for r in pack.rules]
        self.element_rules = [c for c in rules if c.rule.scope == "element"]
        self.flow_rules = [c for c in rules if c.rule.scope == "flow"]
        self.interaction_rules = [c for c in rules if c.rule.scope == "interaction"]
        self._by_types: dict[tuple[object, ...], list[CompiledRule]] = {}
        self._paired: dict[tuple[object, ...], list[tuple[CompiledRule, bool]]] = {}

    def _applying(
        self, rules: list[CompiledRule], key: tuple[object, ...], types: dict[str, frozenset[str]]
    ) -> list[CompiledRule]:
        """The rules whose include can hold for subjects of these types (worked out once per
        combination of types)."""
        found = self._by_types.get(key)
        if found is None:
            found = [c for c in rules if c.applies(types)]
            self._by_types[key] = found
        return found

    def sites(
        self, scope: EnumerationScope | None, stats: EnumerationStats | None
    ) -> Iterator[tuple[list[CompiledRule], _Site]]:
        """Each site with the rules to run there, in order: each element's element rules, then
        each flow's flow rules and its interaction rules (rule by rule, forward before reply).

        Only rules whose include can hold for the types of the site's subjects are given;
        ``stats`` counts every rule on every site, as if each were evaluated.
        """
        model, factory = self.model, self.factory
        element_rules = self.element_rules
        flow_rules = self.flow_rules
        interaction_rules = self.interaction_rules

        elements = model.elements
        flows = model.flows
        if scope is not None:
            elements = tuple(e for e in elements if e.id in scope.elements)
            flows = tuple(f for f in flows if f.id in scope.flows)

        for element in elements if element_rules else ():
            subject = factory.element(element)
            if stats is not None:
                stats.evaluations += len(element_rules)
                stats.subjects.add(element.id)
            types = subject.types
            rules = self._applying(element_rules, ("e", types), {"element": types})
            if rules:
                yield rules, _Site({"element": subject}, element=element)

        for flow in flows if (flow_rules or interaction_rules) else ():
            if flow.out_of_scope:
                continue
            source = model.element(flow.source)
            target = model.element(flow.target)
            if source is None or target is None:
                continue
            flow_subject = factory.flow(flow)
            source_subject = factory.element(source)
            target_subject = factory.element(target)
            if stats is not None:
                stats.evaluations += len(flow_rules) + len(interaction_rules) * (
                    2 if flow.bidirectional else 1
                )
                stats.subjects.add(flow.id)
            forward_types = {
                "source": source_subject.types,
                "flow": flow_subject.types,
                "target": target_subject.types,
            }
            forward_key = (source_subject.types, flow_subject.types, target_subject.types)
            forward = _Site(
                {"source": source_subject, "flow": flow_subject, "target": target_subject},
                flow=flow,
                source=source.id,
                target=target.id,
            )
            rules = self._applying(flow_rules, ("f", *forward_key), forward_types)
            if rules:
                yield rules, forward
            if not interaction_rules:
                continue
            forward_rules = self._applying(interaction_rules, ("i", *forward_key), forward_types)
            if not flow.bidirectional:
                if forward_rules:
                    yield forward_rules, forward
                continue
            reply_subject = factory.flow(flow, reverse=True)
            backward = _Site(
                {"source": target_subject, "flow": reply_subject, "target": source_subject},
                flow=flow,
                source=target.id,
                target=source.id,
                reverse=True,
            )
            backward_key = (target_subject.types, reply_subject.types, source_subject.types)
            backward_types = {
                "source": target_subject.types,
                "flow": reply_subject.types,
                "target": source_subject.types,
            }
            backward_rules = self._applying(interaction_rules, ("i", *backward_key), backward_types)
            pairs_key = (*forward_key, *backward_key)
            pairs = self._paired.get(pairs_key)
            if pairs is None:
                pairs = []
                for c in interaction_rules:
                    if c in forward_rules:
                        pairs.append((c, True))
                    if c in backward_rules:
                        pairs.append((c, False))
                self._paired[pairs_key] = pairs
            for c, is_forward in pairs:
                yield [c], forward if is_forward else backward


def candidates(
    model: Model,
    pack: RulePack,
    scope: EnumerationScope | None = None,
    *,
    model_facts: ModelFacts,
    stats: EnumerationStats | None = None,
) -> Iterator[Candidate]:
    """Every (rule, subjects) pair ``pack`` evaluates on ``model`` (or on ``scope``) whose
    include expression can hold for the types of its subjects."""
    for rules, site in _Walk(model, pack, model_facts).sites(scope, stats):
        for c in rules:
            yield site.candidate(pack, c.rule)


@dataclass(frozen=True, slots=True)
class _SetAside:
    """A candidate whose include and exclude both held, kept without its subjects."""

    rule: Rule
    key: str
    element: Element | None
    flow: Flow | None
    source: str | None
    target: str | None
    reverse: bool


@dataclass(frozen=True)
class DesignedOut:
    """What one enumeration set aside: the candidates whose include and exclude expressions
    both hold. Only the rule, key and place are kept; subjects are made again when asked for,
    so the enumeration's subjects are freed with it."""

    pack: RulePack
    """The pack enumerated."""
    model_facts: ModelFacts
    """Facts of the model enumerated."""
    set_aside: tuple[_SetAside, ...]
    """In enumeration order."""

    def __len__(self) -> int:
        return len(self.set_aside)

    def candidates(self) -> Iterator[tuple[Candidate, Threat]]:
        """Each candidate, in enumeration order, with the threat it would give but for its
        exclusion. Candidates at one place share one subjects mapping."""
        model = self.model_facts.model
        factory = SubjectFactory.for_pack(self.model_facts, self.pack)
        builder = _Builder(self.pack, model, self.model_facts)
        places: dict[tuple[str, str, bool], dict[str, Subject]] = {}
        for kept in self.set_aside:
            if kept.element is not None:
                place = ("element", kept.element.id, False)
            else:
                place = ("flow", kept.flow.id, kept.reverse)  # type: ignore[union-attr]
            subjects = places.get(place)
            if subjects is None:
                if kept.element is not None:
                    subjects = {"element": factory.element(kept.element)}
                else:
                    source = model.element(kept.source)  # type: ignore[arg-type]
                    target = model.element(kept.target)  # type: ignore[arg-type]
                    assert kept.flow is not None and source is not None and target is not None
                    subjects = {
                        "source": factory.element(source),
                        "flow": factory.flow(kept.flow, reverse=kept.reverse),
                        "target": factory.element(target),
                    }
                places[place] = subjects
            candidate = Candidate(
                kept.rule,
                kept.key,
                subjects,
                element=kept.element,
                flow=kept.flow,
                source=kept.source,
                target=kept.target,
            )
            yield candidate, builder.threat(compiled(kept.rule), candidate)


_DESIGNED_OUT = "engine.designed_out"


def _enumerate(
    model: Model,
    pack: RulePack,
    scope: EnumerationScope | None,
    model_facts: ModelFacts,
    stats: EnumerationStats | None,
) -> tuple[dict[str, Threat], DesignedOut]:
    builder = _Builder(pack, model, model_facts)
    threats: dict[str, Threat] = {}
    set_aside: list[_SetAside] = []
    with relaxed_collection():
        for rules, site in _Walk(model, pack, model_facts).sites(scope, stats):
            subjects = site.subjects
            for c in rules:
                if not c.include(subjects):
                    continue
                candidate = site.candidate(pack, c.rule)
                if c.exclude is not None and c.exclude(subjects):
                    set_aside.append(
                        _SetAside(
                            c.rule,
                            candidate.key,
                            site.element,
                            site.flow,
                            site.source,
                            site.target,
                            site.reverse,
                        )
                    )
                else:
                    threats[candidate.key] = builder.threat(c, candidate)
    return threats, DesignedOut(pack, model_facts, tuple(set_aside))


def designed_out(model: Model, pack: RulePack, model_facts: ModelFacts) -> DesignedOut:
    """The candidates of ``pack`` on ``model`` that the design excludes, from the enumeration
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

    Each rule is compiled once and run only on subjects whose types it can match; the threats
    the design excludes are found in the same pass and kept with the model's facts for
    :func:`designed_out`.
    """
    model_facts = model_facts or facts(model)
    threats, found = _enumerate(model, pack, scope, model_facts, stats)
    if scope is None:
        model_facts.memo[_DESIGNED_OUT] = found
    return tuple(threats[k] for k in sorted(threats))
