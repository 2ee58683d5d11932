"""Evaluator: truth tables, type chains, value normalisation, short-circuit, explanations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threatdelta.rules.lang import (
    TMT_SUBJECTS,
    And,
    AttrCompare,
    AttrIn,
    AttrTruthy,
    Const,
    Crosses,
    Expr,
    LiteralValue,
    Not,
    Or,
    Subject,
    TypeTest,
    Value,
    compile_rule,
    evaluate,
    explain,
    normalise,
    parse,
    unparse,
)


@dataclass
class FakeSubject:
    """A subject with a fixed type chain, attributes and crossed boundary types."""

    chain: tuple[str, ...] = ("ROOT",)
    attrs: dict[str, Value] = field(default_factory=dict)
    crossings: frozenset[str] = frozenset()
    reads: list[str] = field(default_factory=list)

    def is_type(self, type_id: str) -> bool:
        return type_id in self.chain

    def attribute(self, name: str) -> Value:
        self.reads.append(name)
        if name == "explodes":
            raise AssertionError("this attribute must not be read")
        return self.attrs.get(name)

    def crosses(self, boundary_type: str) -> bool:
        return boundary_type in self.crossings


def flow_with(**attrs: Value) -> dict[str, Subject]:
    return {"flow": FakeSubject(("GE.DF", "ROOT"), dict(attrs))}


def holds(text: str, subjects: Mapping[str, Subject]) -> bool:
    return evaluate(compile_rule(text, frozenset(subjects)), subjects)


# --- operators ------------------------------------------------------------------------------

BOOLS = [False, True]


@pytest.mark.parametrize("a", BOOLS)
@pytest.mark.parametrize("b", BOOLS)
def test_and_or_not_truth_tables(a: bool, b: bool) -> None:
    subjects = flow_with(a=a, b=b)
    assert holds("flow.a and flow.b", subjects) is (a and b)
    assert holds("flow.a or flow.b", subjects) is (a or b)
    assert holds("not flow.a", subjects) is (not a)
    assert holds("not flow.a and flow.b", subjects) is ((not a) and b)
    assert holds("not (flow.a and flow.b)", subjects) is (not (a and b))


@pytest.mark.parametrize("a", BOOLS)
@pytest.mark.parametrize("b", BOOLS)
@pytest.mark.parametrize("c", BOOLS)
def test_precedence_and_parentheses(a: bool, b: bool, c: bool) -> None:
    subjects = flow_with(a=a, b=b, c=c)
    assert holds("flow.a or flow.b and flow.c", subjects) is (a or (b and c))
    assert holds("(flow.a or flow.b) and flow.c", subjects) is ((a or b) and c)
    assert holds("flow.a and flow.b or flow.c", subjects) is ((a and b) or c)
    assert holds("flow.a and (flow.b or flow.c)", subjects) is (a and (b or c))
    assert holds("not flow.a or flow.b and not flow.c", subjects) is ((not a) or (b and (not c)))


def test_constants() -> None:
    assert evaluate(parse("true"), {}) is True
    assert evaluate(parse("false"), {}) is False
    assert evaluate(parse("not false and true"), {}) is True


def test_and_stops_at_the_first_false_operand() -> None:
    subjects = flow_with(a=False)
    assert holds("flow.a and flow.explodes", subjects) is False
    assert holds("false and flow.explodes", subjects) is False


def test_or_stops_at_the_first_true_operand() -> None:
    subjects = flow_with(a=True)
    assert holds("flow.a or flow.explodes", subjects) is True
    assert holds("true or flow.explodes in ['x']", subjects) is True


def test_operands_are_evaluated_left_to_right() -> None:
    flow = FakeSubject(attrs={"a": True, "b": True, "c": False})
    evaluate(parse("flow.c or flow.b and flow.a"), {"flow": flow})
    assert flow.reads == ["c", "b", "a"]


def test_a_subject_missing_at_evaluation_time_is_a_caller_bug() -> None:
    with pytest.raises(LookupError, match="'target'"):
        evaluate(parse("target is 'GE.P'"), flow_with())


# --- type chains and boundaries --------------------------------------------------------------

WEB_SERVER = FakeSubject(("SE.P.TMCore.WebServer", "GE.P", "ROOT"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("source is 'SE.P.TMCore.WebServer'", True),
        ("source is 'GE.P'", True),
        ("source is 'ROOT'", True),
        ("source is 'GE.DS'", False),
        ("source is 'SE.P.TMCore'", False),
        ("source is 'ge.p'", False),
        ("source is not 'GE.DS'", True),
        ("source is not 'GE.P'", False),
    ],
)
def test_type_tests_follow_the_type_chain(text: str, expected: bool) -> None:
    assert holds(text, {"source": WEB_SERVER}) is expected


def test_crosses_asks_the_flow() -> None:
    flow = FakeSubject(("GE.DF", "ROOT"), crossings=frozenset({"GE.TB.B"}))
    assert holds("flow crosses 'GE.TB.B'", {"flow": flow}) is True
    assert holds("flow crosses 'GE.TB.L'", {"flow": flow}) is False
    assert holds("not flow crosses 'GE.TB.L'", {"flow": flow}) is True


def test_a_tmt_interaction_rule() -> None:
    include = compile_rule(
        "(source is 'GE.P' or  source is  'GE.EI') and (target is 'GE.P' ) and "
        "(flow.authenticatesSource is 'Not Selected' or  flow.authenticatesSource is 'Yes') "
        "and (flow crosses 'GE.TB.L' or flow crosses 'GE.TB.B')",
        TMT_SUBJECTS,
    )
    exclude = compile_rule(
        "source is 'SE.P.TMCore.WebServer' or target.isHosted is 'Yes'", TMT_SUBJECTS
    )
    clinician = FakeSubject(("GE.EI", "ROOT"))
    controller = FakeSubject(("GE.P", "ROOT"), {"isHosted": "No"})
    flow = FakeSubject(("GE.DF", "ROOT"), {}, frozenset({"GE.TB.B"}))
    subjects: dict[str, Subject] = {"source": clinician, "flow": flow, "target": controller}
    assert evaluate(include, subjects) and not evaluate(exclude, subjects)
    subjects["source"] = WEB_SERVER
    assert evaluate(include, subjects) and evaluate(exclude, subjects)
    flow.attrs["authenticatesSource"] = "No"
    assert not evaluate(include, subjects)


# --- value normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("Yes", True),
        (" yes ", True),
        ("TRUE", True),
        (False, False),
        ("No", False),
        ("false", False),
        (None, None),
        ("", None),
        ("  ", None),
        ("Not Selected", None),
        ("Select", None),
        ("None", "none"),
        (" Wi-Fi ", "wi-fi"),
        ("Straße", "strasse"),
        (3, 3),
        (2.5, 2.5),
        (float("nan"), None),
    ],
)
def test_normalise(value: Value, expected: object) -> None:
    result = normalise(value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("Yes", "flow.x is true", True),
        ("Yes", "flow.x is 'YES'", True),
        (True, "flow.x is 'yes'", True),
        (True, "flow.x is 'Yes'", True),
        ("True", "flow.x is 'yes'", True),
        (False, "flow.x is 'No'", True),
        ("No", "flow.x is false", True),
        ("No", "flow.x is true", False),
        (None, "flow.x is 'Not Selected'", True),
        (None, "flow.x is not true", True),
        (None, "flow.x is not false", True),
        (None, "flow.x is false", False),
        (None, "flow.x is 'None'", False),
        ("None", "flow.x is 'None'", True),
        ("", "flow.x is 'select'", True),
        ("Not Selected", "flow.x is not 'Yes'", True),
        ("Wi-Fi", "flow.x is 'wi-fi'", True),
        (" Wi-Fi", "flow.x is 'Wi-Fi '", True),
        ("Wi-Fi", "flow.x is 'WiFi'", False),
        (5, "flow.x is 5", True),
        (5, "flow.x is 5.0", True),
        (5, "flow.x is '5'", True),
        ("5", "flow.x is 5", True),
        ("5.0", "flow.x is 5", True),
        (" 5 ", "flow.x is 5", True),
        ("5", "flow.x is '5.0'", False),
        ("five", "flow.x is 5", False),
        (5, "flow.x is 6", False),
        (1, "flow.x is true", False),
        (True, "flow.x is 1", False),
        (0, "flow.x is false", False),
        (1, "flow.x is '1'", True),
        ("1", "flow.x is true", False),
    ],
)
def test_attribute_comparison_after_normalisation(value: Value, text: str, expected: bool) -> None:
    assert holds(text, flow_with(x=value)) is expected
    negated = text.replace(" is ", " is not ", 1) if " is not " not in text else None
    if negated is not None:
        assert holds(negated, flow_with(x=value)) is (not expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("Yes", True),
        ("true", True),
        (1, True),
        (-0.5, True),
        (False, False),
        ("No", False),
        (0, False),
        (0.0, False),
        (None, False),
        ("Not Selected", False),
        ("enabled", False),
        ("1", False),
    ],
)
def test_bare_attribute_is_true_only_for_true_or_nonzero_numbers(
    value: Value, expected: bool
) -> None:
    assert holds("flow.x", flow_with(x=value)) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Bluetooth", True), ("2g-4g", True), (" WI-FI ", True), (None, False), ("USB", False)],
)
def test_in_matches_any_listed_value(value: Value, expected: bool) -> None:
    text = "flow.channel in ['Wi-Fi', 'Bluetooth', '2G-4G']"
    assert holds(text, {"flow": FakeSubject(attrs={"channel": value})}) is expected


def test_in_with_unset_and_numbers() -> None:
    assert holds("flow.x in ['Not Selected', 'No']", flow_with(x=None)) is True
    assert holds("flow.x in [80, 443]", flow_with(x="443")) is True
    assert holds("flow.x in [80, 443]", flow_with(x=8080)) is False


# --- explanations -----------------------------------------------------------------------------


def test_explain_and_gives_all_reasons() -> None:
    subjects: dict[str, Subject] = {
        "flow": FakeSubject(("GE.DF", "ROOT"), {"encrypted": "Yes"}, frozenset({"GE.TB.B"})),
    }
    expr = parse("flow crosses  'GE.TB.B' AND flow.encrypted IS 'Yes'")
    assert explain(expr, subjects) == ["flow crosses 'GE.TB.B'", "flow.encrypted is 'Yes'"]


def test_explain_or_gives_the_first_true_branch() -> None:
    subjects = flow_with(a=False, b=True, c=True)
    assert explain(parse("flow.a or flow.b or flow.c"), subjects) == ["flow.b"]
    assert explain(parse("flow.a or (flow.b and flow.c)"), subjects) == ["flow.b", "flow.c"]


def test_explain_not_gives_the_negated_text() -> None:
    subjects = flow_with(a=False, b=False)
    assert explain(parse("not flow.a"), subjects) == ["not flow.a"]
    assert explain(parse("not (flow.a or flow.b)"), subjects) == ["not (flow.a or flow.b)"]


def test_explain_drops_repeats_and_is_empty_when_false() -> None:
    subjects = flow_with(a=True, b=False)
    assert explain(parse("flow.a and (flow.a or flow.b)"), subjects) == ["flow.a"]
    assert explain(parse("flow.a and flow.b"), subjects) == []
    assert explain(parse("true"), {}) == ["true"]


# --- property: canonical text round-trips, evaluation matches a reference -----------------------

SUBJECT_NAMES = ("source", "flow", "target")
TYPE_POOL = ("GE.P", "GE.DS", "ROOT", "SE.P.TMCore.WebServer", "it's", 'say "hi"')
ATTR_POOL = ("a", "b", "54851a3b-65da-4902-b4e0-94ef015be735", "x_1", "is")
WORDS = ("Yes", "no", "TRUE", "False", "Not Selected", "select", "", "None", " Abc ", "abc")
NUMERIC_TEXTS = ("5", "5.0", "-2", "0", "2.5", "1e2")

quotable_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "N"]),
    max_size=10,
).filter(lambda s: not ("'" in s and '"' in s))
type_ids = st.sampled_from(TYPE_POOL) | quotable_text
# Literals and attribute values mostly come from one pool, so that comparisons often meet
# a value they may equal: the words the normalisation knows, numeric text, numbers, booleans.
POOL: tuple[LiteralValue, ...] = (
    *WORDS,
    *NUMERIC_TEXTS,
    True,
    False,
    0,
    1,
    5,
    -2,
    100,
    0.0,
    2.5,
    5.0,
    -2.0,
)
literals: st.SearchStrategy[LiteralValue] = st.one_of(
    st.sampled_from(POOL),
    st.sampled_from(POOL),
    quotable_text,
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
)
attr_values: st.SearchStrategy[Value] = st.one_of(st.none(), st.sampled_from(POOL), literals)
subject_names = st.sampled_from(SUBJECT_NAMES)
attr_names = st.sampled_from(ATTR_POOL)

leaves: st.SearchStrategy[Expr] = st.one_of(
    st.builds(Const, st.booleans()),
    st.builds(TypeTest, subject_names, type_ids, st.booleans()),
    st.builds(Crosses, subject_names, type_ids),
    st.builds(AttrCompare, subject_names, attr_names, literals, st.booleans()),
    st.builds(
        AttrIn,
        subject_names,
        attr_names,
        st.lists(literals, min_size=1, max_size=4).map(tuple),
    ),
    st.builds(AttrTruthy, subject_names, attr_names),
)


def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    operands = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(st.builds(Not, children), st.builds(And, operands), st.builds(Or, operands))


expressions = st.recursive(leaves, extend, max_leaves=16)

fake_subjects = st.builds(
    FakeSubject,
    chain=st.lists(st.sampled_from(TYPE_POOL), max_size=4).map(lambda c: (*c, "ROOT")),
    attrs=st.fixed_dictionaries({name: attr_values for name in ATTR_POOL}),
    crossings=st.frozensets(st.sampled_from(TYPE_POOL), max_size=3),
)
subject_maps = st.fixed_dictionaries({name: fake_subjects for name in SUBJECT_NAMES})


REFERENCE_WORDS: dict[str, bool | None] = {
    "yes": True,
    "true": True,
    "no": False,
    "false": False,
    "": None,
    "not selected": None,
    "select": None,
}


def reference_normal(value: object) -> object:
    if not isinstance(value, str):
        return value
    text = value.strip().casefold()
    return REFERENCE_WORDS[text] if text in REFERENCE_WORDS else text


def reference_equal(attribute: object, literal: object) -> bool:
    a, b = reference_normal(attribute), reference_normal(literal)
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    try:
        return float(a) == float(b)  # type: ignore[arg-type]
    except ValueError:
        return False


def reference_truth(expr: Expr, subjects: Mapping[str, FakeSubject]) -> bool:
    match expr:
        case Const(value=value):
            return value
        case TypeTest(subject=s, type_id=t, negated=negated):
            return (t in subjects[s].chain) != negated
        case Crosses(subject=s, boundary_type=t):
            return t in subjects[s].crossings
        case AttrCompare(subject=s, attr=a, value=v, negated=negated):
            return reference_equal(subjects[s].attrs.get(a), v) != negated
        case AttrIn(subject=s, attr=a, values=vs):
            return any(reference_equal(subjects[s].attrs.get(a), v) for v in vs)
        case AttrTruthy(subject=s, attr=a):
            n = reference_normal(subjects[s].attrs.get(a))
            return n is True or (type(n) in (int, float) and n != 0)
        case Not(operand=operand):
            return not reference_truth(operand, subjects)
        case And(operands=operands):
            return all(reference_truth(o, subjects) for o in operands)
        case Or(operands=operands):
            return any(reference_truth(o, subjects) for o in operands)
    raise AssertionError(expr)


@settings(max_examples=300)
@given(expr=expressions, subjects=subject_maps)
def test_random_expressions_round_trip_and_match_the_reference(
    expr: Expr, subjects: dict[str, FakeSubject]
) -> None:
    text = unparse(expr)
    reparsed = compile_rule(text, TMT_SUBJECTS)
    assert reparsed == expr
    assert unparse(reparsed) == text
    result = evaluate(reparsed, subjects)
    assert result is reference_truth(expr, subjects)
    reasons = explain(reparsed, subjects)
    assert bool(reasons) is result
    for reason in reasons:
        assert evaluate(parse(reason), subjects) is True
