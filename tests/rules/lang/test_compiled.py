"""Compiled rule expressions: the same truth values, reads and explanations as the interpreter."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rules.lang.test_evaluator import (
    SUBJECT_NAMES,
    TYPE_POOL,
    FakeSubject,
    expressions,
    subject_maps,
)

from threatdelta.rules.lang import TMT_SUBJECTS, Expr, compile_rule, evaluate, parse
from threatdelta.rules.lang.ast import walk
from threatdelta.rules.lang.compiled import (
    compile_explanation,
    compile_expression,
    required_types,
    specialise,
)
from threatdelta.rules.lang.evaluator import true_conditions


def _fresh(subjects: dict[str, FakeSubject]) -> dict[str, FakeSubject]:
    return {name: replace(subject, reads=[]) for name, subject in subjects.items()}


@settings(max_examples=400)
@given(expr=expressions, subjects=subject_maps)
def test_compiled_expressions_agree_with_the_interpreter(
    expr: Expr, subjects: dict[str, FakeSubject]
) -> None:
    interpreted = _fresh(subjects)
    compiled = _fresh(subjects)
    expected = evaluate(expr, interpreted)
    assert compile_expression(expr)(compiled) is expected
    # The same attributes are read in the same order: short-circuits stop at the same place.
    assert {n: s.reads for n, s in compiled.items()} == {n: s.reads for n, s in interpreted.items()}
    assert compile_explanation(expr)(_fresh(subjects)) == true_conditions(expr, _fresh(subjects))


@settings(max_examples=400)
@given(expr=expressions, subjects=subject_maps)
def test_required_types_are_needed_for_an_expression_to_hold(
    expr: Expr, subjects: dict[str, FakeSubject]
) -> None:
    if evaluate(expr, subjects):
        for name, types in required_types(expr).items():
            assert types <= set(subjects[name].chain)


@settings(max_examples=400)
@given(
    expr=expressions,
    subjects=subject_maps,
    others=subject_maps,
    known=st.frozensets(st.sampled_from(sorted(SUBJECT_NAMES))),
)
def test_a_specialised_expression_holds_where_the_expression_does(
    expr: Expr,
    subjects: dict[str, FakeSubject],
    others: dict[str, FakeSubject],
    known: frozenset[str],
) -> None:
    # The conditions on the known subjects are decided on `subjects`; what is left then gives
    # the expression's truth value on any subjects that agree with them there.
    def decide(leaf: Expr) -> bool | None:
        return evaluate(leaf, subjects) if getattr(leaf, "subject", None) in known else None

    rest = specialise(expr, decide)
    mixed = {name: subjects[name] if name in known else others[name] for name in subjects}
    expected = evaluate(expr, mixed)
    if isinstance(rest, bool):
        assert rest is expected
    else:
        assert evaluate(rest, mixed) is expected
        assert all(getattr(n, "subject", None) not in known for n in walk(rest))


@pytest.mark.parametrize(
    ("text", "needed"),
    [
        ("source is 'GE.P'", {"source": {"GE.P"}}),
        ("source is 'GE.P' and target is not 'GE.DS'", {"source": {"GE.P"}}),
        ("source is 'GE.P' and (flow.a or source is 'ROOT')", {"source": {"GE.P"}}),
        ("source is 'GE.P' or source is 'GE.DS'", {}),
        ("(source is 'GE.P' and flow.a) or (source is 'GE.P' and flow.b)", {"source": {"GE.P"}}),
        ("not source is 'GE.P'", {}),
        ("flow.a", {}),
    ],
)
def test_required_types_read_off_positive_type_tests(
    text: str, needed: dict[str, set[str]]
) -> None:
    assert required_types(compile_rule(text, TMT_SUBJECTS)) == needed


def test_a_missing_subject_is_a_lookup_error() -> None:
    check = compile_expression(parse("flow.a and target is 'GE.P'"))
    with pytest.raises(LookupError):
        check({"flow": FakeSubject(("GE.DF", "ROOT"), {"a": True})})


@given(chain=st.lists(st.sampled_from(TYPE_POOL), max_size=3))
def test_type_tests_answer_booleans(chain: list[str]) -> None:
    subject = FakeSubject((*chain, "ROOT"))
    result = compile_expression(parse("flow is 'GE.P'"))({"flow": subject})
    assert result is ("GE.P" in chain)
