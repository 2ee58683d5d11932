"""Grouping alike places (elements evaluated once per signature, parts shared per rule and
stake, exclusion conditions found once) gives exactly the threats and the designed-out threats,
with their causes, that evaluating every rule on every place on its own with the interpreter
gives: on random models, random rule packs and the built-in pack, whole or scoped, in both key
styles."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.helpers import boundary, element, flow
from tests.test_engine_oracle import _every_candidate

from threatdelta.engine import (
    Candidate,
    EnumerationScope,
    EnumerationStats,
    count_threats,
    enumerate_threats,
    threat_total,
)
from threatdelta.errors import Location
from threatdelta.exclusions import Cause, _cause, excluded_threats
from threatdelta.model.graph import ModelFacts
from threatdelta.model.model import Asset, Element, Flow, Model, frozen_props
from threatdelta.rules.lang.ast import (
    And,
    AttrCompare,
    AttrIn,
    AttrTruthy,
    Const,
    Crosses,
    Expr,
    Not,
    Or,
    TypeTest,
    referenced_attributes,
    unparse,
)
from threatdelta.rules.lang.evaluator import evaluate, true_conditions
from threatdelta.rules.pack import Countermeasure, Rule, RulePack
from threatdelta.rules.packfile import builtin_pack
from threatdelta.subjects import FlowSubject, SubjectFactory
from threatdelta.threat import Threat

KINDS = {
    "process": ("generic", "control-unit", "web-service", "firmware", "mobile-app"),
    "data-store": ("generic", "log", "key-store", "configuration"),
    "external-entity": ("generic", "person", "device", "cloud-service"),
}
PROTOCOLS = ("generic", "https", "can", "ble", "jtag", "spi", "usb", "udp", "ui")
PROPERTY_NAMES = (
    "encrypted",
    "providesConfidentiality",
    "authenticated",
    "integrity_protected",
    "sanitizes_input",
    "stores_logs",
    "secure_boot",
    "runs_privileged",
    "on_board",
    "broadcast",
    "a",
)
PROPERTY_VALUES = (True, False, 1, 0, 1.0, 0.0, "yes", "No", "x", " X ", "5", 5)
ATTRIBUTES = (
    *PROPERTY_NAMES,
    "name",
    "kind",
    "protocol",
    "protocol_family",
    "crosses_boundary",
    "crossing_count",
    "inbound",
    "outbound",
    "reply",
    "on_board",
    "user_interaction",
    "zone_depth",
    "on_device",
    "essential_performance",
    "has_hazards",
    "carries_phi",
    "carries_keys",
    "data_confidentiality",
    "installs_firmware",
    "bidirectional",
)
TYPES = (
    "ROOT",
    "GE.P",
    "GE.DS",
    "GE.EI",
    "GE.DF",
    "process",
    "process/web-service",
    "process/control-unit",
    "data-store/log",
    "external-entity/person",
    "GE.TB.B",
    "boundary/device",
)
LITERALS = (True, False, 1, 0, "yes", "x", "https", "can", "debug", "radio", 5, "5")
TEXTS = (
    "{element.name} and {element.kind}",
    "{source.name} to {target.name} over {flow.name}",
    "{flow.protocol} {flow.encrypted} {element.name} {{braces}} }",
    "no placeholder",
    "{target.secure_boot} {source.nothing} {other.x}",
)
ASSETS = (
    Asset("phi", "Health data", "phi", "high", "medium", "low"),
    Asset("keys", "Keys", "keys", "high", "high", "medium"),
    Asset("cmd", "Dose", "therapy-command", "low", "high", "high"),
)


def _properties(draw: st.DrawFn) -> dict[str, object]:
    names = draw(st.lists(st.sampled_from(PROPERTY_NAMES), max_size=3, unique=True))
    return {name: draw(st.sampled_from(PROPERTY_VALUES)) for name in names}


@st.composite
def models(draw: st.DrawFn) -> Model:
    boundaries = []
    for i in range(draw(st.integers(0, 4))):
        parent = draw(st.sampled_from([None, *(b.id for b in boundaries)]))
        kind = draw(st.sampled_from(("generic", "device", "device", "network")))
        boundaries.append(boundary(f"b{i}", parent, kind))
    # "ghost" is a boundary no model declares: facts still count it as crossed.
    boundary_ids = [None, *(b.id for b in boundaries), "ghost"]
    # Elements are near copies of a few prototypes (one property or place changed), so that
    # places often share a signature, and differ in exactly what a rule may read.
    prototypes = []
    for _ in range(draw(st.integers(1, 3))):
        type_ = draw(st.sampled_from(sorted(KINDS)))
        prototypes.append(
            (
                type_,
                draw(st.sampled_from(KINDS[type_])),
                draw(st.sampled_from(boundary_ids)),
                frozen_props(_properties(draw)),
                tuple(draw(st.lists(st.sampled_from(("H1", "H2")), max_size=1))),
                draw(st.booleans()),
                tuple(draw(st.lists(st.sampled_from(("phi", "keys", "cmd")), max_size=1))),
            )
        )
    elements: list[Element] = []
    for i in range(draw(st.integers(1, 9))):
        type_, kind, inside, props, hazards, essential, data = draw(st.sampled_from(prototypes))
        change = draw(st.sampled_from(("none", "property", "boundary", "kind", "stake")))
        if change == "property":
            props = frozen_props(
                {
                    **props,
                    draw(st.sampled_from(PROPERTY_NAMES)): draw(st.sampled_from(PROPERTY_VALUES)),
                }
            )
        elif change == "boundary":
            inside = draw(st.sampled_from(boundary_ids))
        elif change == "kind":
            kind = draw(st.sampled_from(KINDS[type_]))
        elif change == "stake":
            hazards = tuple(draw(st.lists(st.sampled_from(("H1", "H2")), unique=True)))
            essential = draw(st.booleans())
            data = tuple(draw(st.lists(st.sampled_from(("phi", "keys", "cmd")), unique=True)))
        made = element(
            f"e{i}",
            type_,
            kind,
            inside,
            name=draw(st.sampled_from((f"E{i}", "Same", "{x}"))),
        )
        elements.append(
            dataclasses.replace(
                made,
                properties=props,  # shared with the prototype's other copies, as read from a file
                hazards=hazards,
                essential_performance=essential,
                data=data,
                location=Location("m.yaml", i + 1, 3),
            )
        )
    ids = [e.id for e in elements]
    # Flows too are near copies of a few prototypes, sharing their property mapping as a model
    # read from a file does (one mapping per distinct property set), so that flow directions
    # often share a signature; each differs from its prototype in its ends (so in what it
    # crosses, inbound or outbound, a shared device, a person at a process) and maybe in one
    # thing more.
    prototypes_of_flows = [
        (
            draw(st.sampled_from((*PROTOCOLS, "can", "spi"))),  # buses: on board or not
            draw(st.booleans()),
            frozen_props(_properties(draw)),
            tuple(draw(st.lists(st.sampled_from(("H1", "H3")), unique=True))),
            draw(st.booleans()),
            tuple(draw(st.lists(st.sampled_from(("phi", "keys", "cmd")), unique=True))),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    crossable = [b.id for b in boundaries] + ["elsewhere"]
    flows: list[Flow] = []
    for i in range(draw(st.integers(0, 12))):
        protocol, both_ways, props, hazards, essential, data = draw(
            st.sampled_from(prototypes_of_flows)
        )
        change = draw(st.sampled_from(("none", "property", "protocol", "stake", "crosses")))
        crosses: tuple[str, ...] | None = None
        if change == "property":
            changed = dict(props)
            changed[draw(st.sampled_from(PROPERTY_NAMES))] = draw(st.sampled_from(PROPERTY_VALUES))
            props = frozen_props(changed)
        elif change == "protocol":
            protocol = draw(st.sampled_from(PROTOCOLS))
        elif change == "stake":
            both_ways = draw(st.booleans())
            hazards = tuple(draw(st.lists(st.sampled_from(("H1", "H3")), unique=True)))
            essential = draw(st.booleans())
            data = tuple(draw(st.lists(st.sampled_from(("phi", "keys", "cmd")), unique=True)))
        elif change == "crosses":  # crossings as a drawing tool gives them, repeats and all
            crosses = tuple(draw(st.lists(st.sampled_from(crossable), max_size=3)))
        made = flow(
            f"f{i}",
            draw(st.sampled_from(ids)),
            draw(st.sampled_from(ids)),
            protocol,
            both_ways,
            name=draw(st.sampled_from((f"F{i}", "Link"))),
        )
        flows.append(
            dataclasses.replace(
                made,
                properties=props,
                crosses=crosses,
                out_of_scope=draw(st.booleans()) and draw(st.booleans()),
                hazards=hazards,
                essential_performance=essential,
                data=data,
                location=Location("m.yaml", 100 + i, 5),
            )
        )
    return Model(
        system="random",
        elements=tuple(elements),
        flows=tuple(flows),
        boundaries=tuple(boundaries),
        assets=ASSETS,
        path="m.yaml",
    )


def _expressions(names: tuple[str, ...]) -> st.SearchStrategy[Expr]:
    subject = st.sampled_from(names)
    attribute = st.sampled_from(ATTRIBUTES)
    literal = st.sampled_from(LITERALS)
    leaves = st.one_of(
        st.builds(Const, st.booleans()),
        st.builds(TypeTest, subject, st.sampled_from(TYPES), st.booleans()),
        st.builds(Crosses, subject, st.sampled_from(TYPES)),
        st.builds(AttrCompare, subject, attribute, literal, st.booleans()),
        st.builds(AttrIn, subject, attribute, st.lists(literal, min_size=1, max_size=3).map(tuple)),
        st.builds(AttrTruthy, subject, attribute),
        st.builds(AttrTruthy, subject, attribute),
    )

    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        operands = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(
            st.builds(Not, children), st.builds(And, operands), st.builds(Or, operands)
        )

    return st.recursive(leaves, extend, max_leaves=6)


@st.composite
def rules(draw: st.DrawFn, index: int) -> Rule:
    scope = draw(st.sampled_from(("element", "flow", "interaction")))
    names = ("element",) if scope == "element" else ("source", "flow", "target")
    include = draw(_expressions(names))
    exclude = draw(st.none() | _expressions(names))
    return Rule(
        id=f"r{index}",
        stride=draw(st.sampled_from("STRIDE")),
        scope=scope,
        title=draw(st.sampled_from(TEXTS)),
        include=include,
        include_text=unparse(include),
        exclude=exclude,
        exclude_text=unparse(exclude) if exclude is not None else "",
        description=draw(st.sampled_from(TEXTS)),
        severity=draw(st.sampled_from(("low", "medium", "high"))),
        exploitability=draw(st.sampled_from(("low", "medium", "high"))),
        data_raises_severity=draw(st.booleans()),
        countermeasures=tuple(draw(st.lists(st.sampled_from(("tls", "boot", "ui")), unique=True))),
    )


@st.composite
def packs(draw: st.DrawFn) -> RulePack:
    key_style = draw(st.sampled_from(("threatdelta", "tmt")))
    if draw(st.booleans()):
        return dataclasses.replace(builtin_pack(), key_style=key_style)
    found = [draw(rules(i)) for i in range(draw(st.integers(1, 6)))]
    return RulePack(
        name="random",
        rules=tuple(found),
        countermeasures={
            "tls": Countermeasure("tls", "TLS", "Encrypt.", fits=("https", "radio")),
            "boot": Countermeasure("boot", "Boot", "Verify.", fits=("on-device", "control-unit")),
            "ui": Countermeasure("ui", "UI", "Mask.", fits=("user", "person")),
        },
        key_style=key_style,
    )


def _in(candidate: Candidate, scope: EnumerationScope | None) -> bool:
    if scope is None:
        return True
    if candidate.element is not None:
        return candidate.element.id in scope.elements
    assert candidate.flow is not None
    return candidate.flow.id in scope.flows


def _places(model: Model, pack: RulePack, scope: EnumerationScope | None) -> Iterator[Candidate]:
    return (c for c in _every_candidate(model, pack, ModelFacts(model)) if _in(c, scope))


def _expected(
    model: Model, pack: RulePack, scope: EnumerationScope | None
) -> tuple[dict[str, Threat], dict[str, tuple[Threat, tuple[Cause, ...]]]]:
    """Threats, and designed-out threats with causes, by the interpreter place by place."""
    model_facts = ModelFacts(model)
    threats: dict[str, Threat] = {}
    excluded: dict[str, tuple[Threat, tuple[Cause, ...]]] = {}
    for candidate in _places(model, pack, scope):
        include: Expr = candidate.rule.include  # type: ignore[assignment]
        exclude: Expr | None = candidate.rule.exclude  # type: ignore[assignment]
        if not evaluate(include, candidate.subjects):
            continue
        threat = candidate.threat(pack, model, model_facts)
        if exclude is None or not evaluate(exclude, candidate.subjects):
            threats[candidate.key] = threat
            continue
        if candidate.element is not None:
            items: dict[str, Element | Flow] = {"element": candidate.element}
        else:
            assert candidate.flow is not None
            source = model.element(candidate.source)  # type: ignore[arg-type]
            target = model.element(candidate.target)  # type: ignore[arg-type]
            assert source is not None and target is not None
            items = {"source": source, "flow": candidate.flow, "target": target}
        causes = [
            _cause((unparse(c), sorted(referenced_attributes(c))), items, model, None)
            for c in true_conditions(exclude, candidate.subjects)
        ]
        if causes:
            excluded[candidate.key] = (threat, tuple(dict.fromkeys(causes)))
    return threats, excluded


def _same(found: tuple[Threat, ...], expected: dict[str, Threat]) -> None:
    assert [t.key for t in found] == sorted(expected)
    for threat in found:
        wanted = expected[threat.key]
        for name in (f.name for f in dataclasses.fields(Threat)):
            assert getattr(threat, name) == getattr(wanted, name), (threat.key, name)
        assert threat == wanted and hash(threat) == hash(wanted)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), packs())
def test_whole_enumeration_and_designed_out_match_place_by_place(
    model: Model, pack: RulePack
) -> None:
    expected, expected_out = _expected(model, pack, None)
    stats = EnumerationStats()
    _same(enumerate_threats(model, pack, stats=stats), expected)
    assert stats.evaluations == sum(1 for _ in _places(model, pack, None))
    out = excluded_threats(model, pack)
    _same(tuple(e.threat for e in out), {k: t for k, (t, _) in expected_out.items()})
    assert [e.causes for e in out] == [expected_out[e.key][1] for e in out]


def _drawn_scope(model: Model, data: st.DataObject) -> EnumerationScope:
    """Some of the model's elements and flows, drawn."""
    elements = data.draw(st.frozensets(st.sampled_from([e.id for e in model.elements])))
    flow_ids = [f.id for f in model.flows] or ["none"]
    flows = data.draw(st.frozensets(st.sampled_from(flow_ids)))
    return EnumerationScope(elements, flows)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), packs(), st.data())
def test_scoped_enumeration_matches_place_by_place(
    model: Model, pack: RulePack, data: st.DataObject
) -> None:
    scope = _drawn_scope(model, data)
    expected, _ = _expected(model, pack, scope)
    _same(enumerate_threats(model, pack, scope), expected)


def test_true_and_one_are_different_answers() -> None:
    # True == 1 in Python, but the rule language tells them apart: alike elements must not be
    # grouped on values that are equal only to Python.
    from tests.helpers import model, pack, rule

    m = model([element("p1", a=True), element("p2", a=1), element("p3", a=1.0)])
    found = enumerate_threats(
        m, pack(rule("one", "element.a is 1"), rule("yes", "element.a is true"))
    )
    assert [t.key for t in found] == ["one@p2", "one@p3", "yes@p1"]


def test_flows_differing_only_in_a_value_type_or_crossing_count_are_told_apart() -> None:
    # Flows that share every other fact (and, as a model read from a file has them, one
    # property mapping per distinct property set) differ in what `is 1` and `is true` say, and
    # in how many boundaries they cross; rules that read the ends as well are grouped too.
    from tests.helpers import model, pack, rule

    true, one, real = frozen_props({"a": True}), frozen_props({"a": 1}), frozen_props({"a": 1.0})
    flows = [
        dataclasses.replace(flow(f"f{i}", "out", end), properties=props)
        for i, (end, props) in enumerate(
            [("deep", true), ("deep", one), ("deep", real), ("shallow", one), ("shallow", true)]
        )
    ]
    m = model(
        [element("out"), element("deep", boundary="inner"), element("shallow", boundary="outer")],
        flows,
        [boundary("outer"), boundary("inner", "outer")],
    )
    rules = pack(
        rule("one", "flow.a is 1 and target is 'GE.P'", scope="interaction"),
        rule("yes", "flow.a is true", scope="flow"),
        rule("two", "flow.crossing_count is 2 and source is 'GE.P'", scope="interaction"),
    )
    found = [t.key for t in enumerate_threats(m, rules)]
    assert found == [
        "one@out>f1>deep",
        "one@out>f2>deep",
        "one@out>f3>shallow",
        "two@out>f0>deep",
        "two@out>f1>deep",
        "two@out>f2>deep",
        "yes@f0",
        "yes@f4",
    ]


FLOW_FACTS = (
    "crosses_boundary",
    "crossing_count",
    "inbound",
    "outbound",
    "reply",
    "on_board",
    "user_interaction",
    "protocol_family",
    "bidirectional",
    "essential_performance",
    "has_hazards",
)


def _answers(subject: FlowSubject, counted: bool) -> tuple[object, ...]:
    """Everything a rule can learn of a flow direction but its id and name, value types kept."""
    values = []
    for name in dict.fromkeys((*ATTRIBUTES, *FLOW_FACTS)):
        if name in ("name", "id", "Name"):
            continue
        value = subject.attribute(name)
        if name == "crossing_count" and not counted:
            value = bool(value)
        values.append((name, type(value), value))
    return (subject.types, subject.crossed_types, tuple(values))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.booleans())
def test_flow_directions_with_equal_inputs_answer_every_attribute_alike(
    model: Model, tmt: bool
) -> None:
    # The engine evaluates a flow direction's rules on the first direction it saw with the
    # same inputs (SubjectFactory.direction): each fact left out of them shows up here as two
    # directions with equal inputs that answer some attribute differently.
    pack = dataclasses.replace(builtin_pack(), key_style="tmt" if tmt else "threatdelta")
    factory = SubjectFactory.for_pack(ModelFacts(model), pack)
    for counted in (False, True):
        seen: dict[tuple[object, ...], tuple[object, ...]] = {}
        for item in model.flows:
            source, target = model.element(item.source), model.element(item.target)
            assert source is not None and target is not None
            for reverse in (False, True):
                inputs = factory.direction(item, source, target, reverse, counted)
                answers = _answers(factory.new_flow(item, reverse), counted)
                assert seen.setdefault(inputs, answers) == answers, (item.id, reverse)


ELEMENT_FACTS = ("zone_depth", "on_device", "installs_firmware", "type", "kind")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), st.booleans(), st.booleans())
def test_elements_with_equal_inputs_answer_every_attribute_alike(
    model: Model, depth: bool, tmt: bool
) -> None:
    # Likewise for the subject the engine keeps for the first element with the same inputs.
    pack = dataclasses.replace(builtin_pack(), key_style="tmt" if tmt else "threatdelta")
    factory = SubjectFactory.for_pack(ModelFacts(model), pack)
    seen: dict[tuple[object, ...], tuple[object, ...]] = {}
    for item in model.elements:
        subject = factory.new_element(item)
        answers = [subject.types]
        for name in dict.fromkeys((*ATTRIBUTES, *ELEMENT_FACTS)):
            if name in ("name", "id", "Name", "boundary") or (name == "zone_depth" and not depth):
                continue
            value = subject.attribute(name)
            answers.append((name, type(value), value))
        inputs = factory.element_inputs(item, depth, identity=False)
        assert seen.setdefault(inputs, tuple(answers)) == tuple(answers), item.id


def test_a_boundary_no_model_declares_crosses_no_boundary_type() -> None:
    # Every declared boundary has the same types, so a flow's crossed types come down to
    # whether it crosses one; an element in an undeclared boundary still crosses that one,
    # which has no type.
    from tests.helpers import model, pack, rule

    m = model(
        [element("in", boundary="zone"), element("lost", boundary="ghost"), element("out")],
        [flow("f0", "out", "in"), flow("f1", "out", "lost")],
        [boundary("zone")],
    )
    rules = pack(
        rule("typed", "flow crosses 'GE.TB.B' and target is 'GE.P'", scope="interaction"),
        rule("any", "flow.crosses_boundary", scope="flow"),
    )
    found = [t.key for t in enumerate_threats(m, rules)]
    assert found == ["any@f0", "any@f1", "typed@out>f0>in"]


def test_flows_alike_but_for_one_end_are_told_apart() -> None:
    # Three flows with one property mapping, from alike sources to alike targets, but for one
    # property of one end: what rules that read the ends say is worked out for each end.
    from tests.helpers import model, pack, rule

    props = frozen_props({"encrypted": True})
    flows = [
        dataclasses.replace(flow(f"f{i}", source, target), properties=props)
        for i, (source, target) in enumerate(
            [("a", "plain"), ("a", "careful"), ("b", "plain"), ("c", "plain")]
        )
    ]
    m = model(
        [
            element("a"),
            element("b", a=1),
            element("c", a=True),
            element("plain"),
            element("careful", sanitizes_input=True),
        ],
        flows,
    )
    rules = pack(
        rule(
            "in",
            "flow.encrypted and target is 'GE.P'",
            "interaction",
            exclude="target.sanitizes_input",
        ),
        rule("src", "flow.encrypted and source.a is 1", "interaction"),
    )
    assert [t.key for t in enumerate_threats(m, rules)] == [
        "in@a>f0>plain",
        "in@b>f2>plain",
        "in@c>f3>plain",
        "src@b>f2>plain",
    ]
    assert [e.key for e in excluded_threats(m, rules)] == ["in@a>f1>careful"]


def test_what_excludes_a_threat_is_told_per_flow_when_the_flow_settles_both_expressions() -> None:
    # Both flows settle the include and the exclude expression (true, whatever the ends), but
    # not by the same condition: each threat names its own.
    from tests.helpers import model, pack, rule

    m = model(
        [element("a"), element("b")],
        [flow("f0", "a", "b", p=True), flow("f1", "a", "b", q=True)],
    )
    rules = pack(
        rule("ex", "flow.p or flow.q", "interaction", exclude="flow.p or flow.q or target.z"),
    )
    assert enumerate_threats(m, rules) == ()
    assert [(e.key, e.text) for e in excluded_threats(m, rules)] == [
        ("ex@a>f0>b", "excluded by p: true"),
        ("ex@a>f1>b", "excluded by q: true"),
    ]


def _placed_in(threat: Threat, scope: EnumerationScope) -> bool:
    if threat.element is not None:
        return threat.element in scope.elements
    return threat.flow in scope.flows


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(), packs(), st.data())
def test_counting_outside_a_scope_says_what_the_whole_enumeration_has_there(
    model: Model, pack: RulePack, data: st.DataObject
) -> None:
    scope = _drawn_scope(model, data)
    counted = count_threats(model, pack, scope)
    if pack.key_style == "tmt":
        assert counted is None  # run-together keys: only making them tells them apart
        return
    assert counted is not None
    whole = enumerate_threats(model, pack)
    inside = tuple(t for t in whole if _placed_in(t, scope))
    assert counted.threats == inside
    assert [t.location for t in counted.threats] == [t.location for t in inside]
    assert counted.others == len(whole) - len(inside)
    # The same from a count of the whole model made elsewhere (as a review makes it aside).
    assert threat_total(model, pack) == len(whole)
    assert count_threats(model, pack, scope, total=lambda: threat_total(model, pack)) == counted


def test_a_flow_from_an_element_to_itself_both_ways_counts_each_interaction_threat_once() -> None:
    pack = builtin_pack()
    loop = flow("f0", "e0", "e0", "https", True)
    model = Model(
        system="loop",
        elements=(element("e0", "process"),),
        flows=(dataclasses.replace(loop, crosses=("elsewhere",)),),
        boundaries=(),
        path="m.yaml",
    )
    whole = enumerate_threats(model, pack)
    assert any(">f0>" in t.key for t in whole)  # both directions give these keys
    counted = count_threats(model, pack, EnumerationScope())
    assert counted is not None
    assert counted.threats == ()
    assert counted.others == len(whole)


def test_counting_gives_up_when_keys_could_coincide() -> None:
    pack = builtin_pack()
    elements = (element("e0", "process"), element("e1", "data-store"))
    plain = Model(
        system="s",
        elements=elements,
        flows=(flow("f0", "e0", "e1", "https", True),),
        boundaries=(),
        path="m.yaml",
    )
    assert count_threats(plain, pack, EnumerationScope()) is not None
    # An id holding the separator of a flow direction's key, an id used twice, a rule id
    # holding the separator of a key's rule: then a key may name two places.
    arrow = dataclasses.replace(plain, flows=(flow("f>0", "e0", "e1", "https", True),))
    twice = dataclasses.replace(plain, elements=(*elements, elements[0]))
    at = dataclasses.replace(
        pack, rules=(dataclasses.replace(pack.rules[0], id="a@b"), *pack.rules[1:])
    )
    same = dataclasses.replace(pack, rules=(*pack.rules, pack.rules[0]))
    for model, rules in ((arrow, pack), (twice, pack), (plain, at), (plain, same)):
        assert count_threats(model, rules, EnumerationScope()) is None
