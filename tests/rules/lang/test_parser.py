"""Parser: the shapes it builds, canonical text, name checks, errors and bounds."""

from __future__ import annotations

from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest

from threatdelta.errors import Location
from threatdelta.rules.lang import (
    MAX_DEPTH,
    TMT_SUBJECTS,
    And,
    AttrCompare,
    AttrIn,
    AttrTruthy,
    Const,
    Crosses,
    Expr,
    Not,
    Or,
    RuleSyntaxError,
    TypeTest,
    compile_rule,
    parse,
    referenced_attributes,
    referenced_subjects,
    unparse,
    walk,
)

A = AttrTruthy("flow", "a")
B = AttrTruthy("flow", "b")
C = AttrTruthy("flow", "c")


def tb7_filters(path: Path) -> list[str]:
    """Every non-blank Include and Exclude text of a TMT template."""
    texts = []
    for element in SafeET.parse(path).iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("Include", "Exclude") and element.text and element.text.strip():
            texts.append(element.text)
    return texts


def test_every_generation_filter_in_the_sample_templates_parses_and_round_trips(
    samples_dir: Path,
) -> None:
    texts = tb7_filters(samples_dir / "tb7" / "default.tb7")
    texts += tb7_filters(samples_dir / "tb7" / "MedicalDeviceTemplate.tb7")
    assert len(texts) > 100
    for text in texts:
        expr = compile_rule(text, TMT_SUBJECTS)
        canonical = unparse(expr)
        assert parse(canonical) == expr, text
        assert unparse(parse(canonical)) == canonical
        assert referenced_subjects(expr) <= TMT_SUBJECTS


def test_guid_attribute_and_type_ids() -> None:
    text = (
        "(flow.54851a3b-65da-4902-b4e0-94ef015be735 is 'None' or "
        "flow.54851a3b-65da-4902-b4e0-94ef015be735 is 'Not Selected' )"
    )
    guid = "54851a3b-65da-4902-b4e0-94ef015be735"
    assert parse(text) == Or(
        (AttrCompare("flow", guid, "None"), AttrCompare("flow", guid, "Not Selected"))
    )


def test_tmt_interaction_rule_shape() -> None:
    text = (
        "source is 'GE.P' and (target is 'GE.P' or target is 'GE.DS') and "
        "(flow crosses 'GE.TB.L' or flow crosses 'GE.TB.B')"
    )
    assert parse(text) == And(
        (
            TypeTest("source", "GE.P"),
            Or((TypeTest("target", "GE.P"), TypeTest("target", "GE.DS"))),
            Or((Crosses("flow", "GE.TB.L"), Crosses("flow", "GE.TB.B"))),
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "  source   is  'ROOT'  ",
        "\n          source is 'ROOT'\n        ",
        "source IS 'ROOT'",
        "source is\t'ROOT'",
        "(source is 'ROOT')",
        "((( source is 'ROOT' )))",
    ],
)
def test_spacing_case_and_redundant_parentheses_do_not_matter(text: str) -> None:
    assert parse(text) == TypeTest("source", "ROOT")


def test_subjects_and_attributes_keep_their_case() -> None:
    assert parse("Flow.AuthenticatesSource") == AttrTruthy("Flow", "AuthenticatesSource")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("flow.a or flow.b and flow.c", Or((A, And((B, C))))),
        ("flow.a and flow.b or flow.c", Or((And((A, B)), C))),
        ("not flow.a and flow.b", And((Not(A), B))),
        ("not flow.a or flow.b", Or((Not(A), B))),
        ("not (flow.a and flow.b)", Not(And((A, B)))),
        ("(flow.a or flow.b) and flow.c", And((Or((A, B)), C))),
        ("flow.a or flow.b or flow.c", Or((A, B, C))),
        ("(flow.a or flow.b) or flow.c", Or((Or((A, B)), C))),
        ("flow.a and (flow.b and flow.c)", And((A, And((B, C))))),
        ("not not flow.a", Not(Not(A))),
        ("true and false", And((Const(True), Const(False)))),
        ("TRUE Or False", Or((Const(True), Const(False)))),
    ],
)
def test_precedence_and_grouping(text: str, expected: Expr) -> None:
    assert parse(text) == expected
    assert parse(unparse(expected)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("source is not 'GE.EI'", TypeTest("source", "GE.EI", negated=True)),
        ("flow crosses 'GE.TB.B'", Crosses("flow", "GE.TB.B")),
        ("flow.encrypted is true", AttrCompare("flow", "encrypted", True)),
        ("flow.encrypted is not FALSE", AttrCompare("flow", "encrypted", False, negated=True)),
        ("flow.port is 443", AttrCompare("flow", "port", 443)),
        ("flow.ratio is -2.5", AttrCompare("flow", "ratio", -2.5)),
        ('flow.name is "it\'s"', AttrCompare("flow", "name", "it's")),
        (
            "flow.channel in ['Wi-Fi', \"BLE\", 3, true]",
            AttrIn("flow", "channel", ("Wi-Fi", "BLE", 3, True)),
        ),
        ("flow.channel in['x']", AttrIn("flow", "channel", ("x",))),
        ("element.stores_logs", AttrTruthy("element", "stores_logs")),
    ],
)
def test_condition_forms(text: str, expected: Expr) -> None:
    assert parse(text) == expected


def test_literal_kinds_are_part_of_equality() -> None:
    assert parse("flow.x is true") != parse("flow.x is 1")
    assert parse("flow.x is 1") != parse("flow.x is '1'")
    assert parse("flow.x is 1") == parse("flow.x is 1.0")
    assert parse("flow.x in [true]") != parse("flow.x in [1]")


def test_offsets_point_at_each_node_but_do_not_affect_equality() -> None:
    text = "source is 'GE.P' and  not flow.encrypted"
    expr = parse(text)
    assert isinstance(expr, And)
    negation = expr.operands[1]
    assert isinstance(negation, Not)
    assert text[negation.offset :].startswith("not flow")
    assert text[negation.operand.offset :].startswith("flow.encrypted")
    assert expr == parse(unparse(expr))
    assert hash(expr) == hash(parse(unparse(expr)))


@pytest.mark.parametrize(
    ("expr", "canonical"),
    [
        (Or((A, And((B, C)))), "flow.a or flow.b and flow.c"),
        (And((Or((A, B)), C)), "(flow.a or flow.b) and flow.c"),
        (Or((Or((A, B)), C)), "(flow.a or flow.b) or flow.c"),
        (Not(Or((A, B))), "not (flow.a or flow.b)"),
        (Not(Not(A)), "not not flow.a"),
        (AttrCompare("flow", "n", "it's"), 'flow.n is "it\'s"'),
        (AttrIn("flow", "n", ("a", 1, False, 0.5)), "flow.n in ['a', 1, false, 0.5]"),
        (TypeTest("source", "GE.P", negated=True), "source is not 'GE.P'"),
    ],
)
def test_unparse_is_canonical(expr: Expr, canonical: str) -> None:
    assert unparse(expr) == canonical
    assert parse(canonical) == expr


def test_unparse_refuses_what_cannot_be_written() -> None:
    with pytest.raises(ValueError):
        unparse(TypeTest("source", "both ' and \" quotes"))
    with pytest.raises(ValueError):
        unparse(AttrCompare("flow", "x", float("inf")))


def test_referenced_names() -> None:
    expr = parse(
        "source is 'GE.P' and (flow.encrypted is 'No' or not flow.port in [1]) and "
        "target.stores_logs and flow.encrypted"
    )
    assert referenced_subjects(expr) == {"source", "flow", "target"}
    assert referenced_attributes(expr) == {
        ("flow", "encrypted"),
        ("flow", "port"),
        ("target", "stores_logs"),
    }
    assert referenced_subjects(Const(True)) == frozenset()


def test_walk_visits_every_node_in_order() -> None:
    expr = parse("flow.a and not (flow.b or flow.c)")
    assert [type(node).__name__ for node in walk(expr)] == [
        "And",
        "AttrTruthy",
        "Not",
        "Or",
        "AttrTruthy",
        "AttrTruthy",
    ]


def test_compile_checks_subject_names_and_reports_where() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        compile_rule("source is 'GE.P' and element.x", TMT_SUBJECTS, Location("r.yaml", 3, 12))
    error = info.value
    assert error.reason == "unknown subject 'element'"
    assert "This rule can use: flow, source, target." in str(error)
    assert error.location == Location("r.yaml", 3, 12 + 21)
    assert str(error).startswith("r.yaml:3:33: rule expression: unknown subject 'element'")


def test_compile_accepts_the_allowed_subjects() -> None:
    assert compile_rule("element.x", frozenset({"element"})) == AttrTruthy("element", "x")


def test_compile_result_is_reused_for_the_same_text() -> None:
    text = "source is 'GE.P' and flow crosses 'GE.TB.B'"
    assert compile_rule(text, TMT_SUBJECTS) is compile_rule(text, TMT_SUBJECTS)


def test_parse_error_is_placed_relative_to_the_given_location() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse("source is 'GE.P' and", Location("pack.yaml", 10, 14))
    assert info.value.location == Location("pack.yaml", 10, 14 + 20)


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("", 1, "the expression is empty"),
        ("   ", 4, "the expression is empty"),
        ("flow  crosses2 'GE.TB.B'", 7, "expected 'is', 'crosses' or '.' after 'flow'"),
        ("source is GE.P", 11, "expected a quoted type id after 'is'"),
        ("source is true", 11, "expected a quoted type id after 'is', found 'true'"),
        ("flow crosses", 13, "expected a quoted boundary type id after 'crosses'"),
        ("source is 'GE.P' and", 21, "expected a condition, found the end of the expression"),
        ("source is 'GE.P' or or target is 'x'", 21, "expected a condition, found 'or'"),
        ("source is 'GE.P' target is 'x'", 18, "expected 'and', 'or' or the end"),
        ("(source is 'GE.P'", 18, "expected 'and', 'or' or ')' to close the '(' at column 1"),
        ("source is 'GE.P')", 17, "unmatched ')'"),
        ("flow.", 6, "expected an attribute name"),
        ("flow. 'x'", 7, "expected an attribute name"),
        ("flow.x is", 10, "expected a value"),
        ("flow.x is not", 14, "expected a value"),
        ("flow.x is GE", 11, "expected a value"),
        ("flow.x in 'a'", 11, "expected '[' after 'in'"),
        ("flow.x in []", 12, "expected a value"),
        ("flow.x in ['a' 'b']", 16, "expected ',' or ']' in the list"),
        ("flow.x in ['a',]", 16, "expected a value"),
        ("flow.x is 1e999", 11, "the number 1e999 is out of range"),
        ("'GE.P'", 1, "expected a condition, found the string 'GE.P'"),
        ("not", 4, "expected a condition"),
        ("and flow.x", 1, "expected a condition, found 'and'"),
    ],
)
def test_syntax_errors_name_the_exact_column(text: str, column: int, reason: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse(text)
    error = info.value
    assert error.reason.startswith(reason)
    assert error.offset == column - 1
    assert f"at column {column}:" in str(error)


def test_error_on_a_later_line_gives_line_and_column() -> None:
    text = "(source is 'GE.P'\n   and target is)"
    with pytest.raises(RuleSyntaxError) as info:
        parse(text, Location("t.yaml", 5, 9))
    assert "at line 2, column 17:" in str(info.value)
    assert info.value.location == Location("t.yaml", 6, 17)


def test_nesting_up_to_the_limit_is_accepted() -> None:
    expr = parse("(" * MAX_DEPTH + "true" + ")" * MAX_DEPTH)
    assert expr == Const(True)
    chain = parse("not " * MAX_DEPTH + "true")
    depth = sum(1 for node in walk(chain) if isinstance(node, Not))
    assert depth == MAX_DEPTH


def test_nesting_mixed_parentheses_and_not_counts_both() -> None:
    half = MAX_DEPTH // 2
    with pytest.raises(RuleSyntaxError, match="nests deeper than"):
        parse("(not " * (half + 1) + "true" + ")" * (half + 1))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000 + "true" + ")" * 10_000,
        "(" * 10_000,
        "not " * 4_000 + "true",
        "not(" * 2_400 + "true" + ")" * 2_400,
    ],
)
def test_hostile_nesting_is_refused_with_a_syntax_error(text: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse(text)
    message = str(info.value)
    assert any(
        bound in message
        for bound in ("nests deeper than", "more than 5,000 tokens", "the limit is")
    )
    assert len(message) < 400


def test_deep_nesting_error_names_the_first_level_too_deep() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse("(" * 1_000 + "true" + ")" * 1_000)
    assert info.value.offset == MAX_DEPTH
    assert "nests deeper than 100 levels" in str(info.value)


def test_long_flat_expressions_within_the_limits_parse() -> None:
    text = " or ".join(f"source is 'T{i}'" for i in range(1_000))
    expr = parse(text)
    assert isinstance(expr, Or)
    assert len(expr.operands) == 1_000


def test_expressions_beyond_the_token_limit_are_refused() -> None:
    text = " or ".join("flow.a" for _ in range(1_300))
    with pytest.raises(RuleSyntaxError, match="more than 5,000 tokens"):
        parse(text)
