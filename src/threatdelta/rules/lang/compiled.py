"""Rule expressions turned once into Python closures, for evaluating them many times.

:func:`compile_expression` builds, from the syntax tree, a function of the subjects that gives
the same truth value as :func:`~threatdelta.rules.lang.evaluator.evaluate` (whose documentation
states the semantics). Nothing is generated as text: each node becomes a closure over its
children's closures, with its literals normalised once at compile time, so evaluating a rule
no longer dispatches on node types or normalises literals per subject. The interpreter stays
the reference and is what explanations use.

:func:`required_types` reads off an expression the types its subjects must have for it to hold,
so a caller can skip the subjects that cannot match without evaluating anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
)
from threatdelta.rules.lang.evaluator import (
    Normal,
    _as_number,
    is_truthy,
    normalise,
    values_equal,
)
from threatdelta.rules.lang.interface import Subject

Predicate = Callable[[Mapping[str, Subject]], bool]
"""A compiled expression: subjects in, truth value out."""


def _is_plain_text(value: object) -> bool:
    """A normalised string literal that no number can equal."""
    return isinstance(value, str) and _as_number(value) is None


def _value(name: str, attr: str) -> Callable[[Mapping[str, Subject]], Normal]:
    """The normalised value of ``name.attr`` (booleans and unset values need no work)."""

    def value(subjects: Mapping[str, Subject]) -> Normal:
        raw = subjects[name].attribute(attr)
        if raw is None or raw is True or raw is False:
            return raw
        return normalise(raw)

    return value


def _leaf(expr: Expr) -> Predicate:
    if isinstance(expr, Const):
        constant = expr.value
        return lambda subjects: constant
    if isinstance(expr, TypeTest):
        name, type_id, negated = expr.subject, expr.type_id, expr.negated
        if negated:
            return lambda subjects: not subjects[name].is_type(type_id)
        return lambda subjects: bool(subjects[name].is_type(type_id))
    if isinstance(expr, Crosses):
        name, boundary_type = expr.subject, expr.boundary_type
        return lambda subjects: bool(subjects[name].crosses(boundary_type))
    if isinstance(expr, AttrTruthy):
        name, attr = expr.subject, expr.attr

        def truthy(subjects: Mapping[str, Subject]) -> bool:
            raw = subjects[name].attribute(attr)
            if raw is True:
                return True
            if raw is None or raw is False:
                return False
            return is_truthy(normalise(raw))

        return truthy
    if isinstance(expr, AttrCompare):
        value = _value(expr.subject, expr.attr)
        negated = expr.negated
        literal = normalise(expr.value)
        if literal is None or isinstance(literal, bool):
            # Only the identical unset or boolean value equals it.
            return lambda subjects: (value(subjects) is literal) != negated
        if _is_plain_text(literal):
            text = literal
            return lambda subjects: (value(subjects) == text) != negated
        return lambda subjects: values_equal(value(subjects), literal) != negated
    if isinstance(expr, AttrIn):
        value = _value(expr.subject, expr.attr)
        literals = tuple(normalise(v) for v in expr.values)
        if all(_is_plain_text(v) for v in literals):
            texts = frozenset(v for v in literals if isinstance(v, str))

            def one_of_texts(subjects: Mapping[str, Subject]) -> bool:
                found = value(subjects)
                return type(found) is str and found in texts

            return one_of_texts

        def one_of(subjects: Mapping[str, Subject]) -> bool:
            found = value(subjects)
            return any(values_equal(found, literal) for literal in literals)

        return one_of
    raise TypeError(f"not a rule expression node: {expr!r}")


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda subjects: first(subjects) and second(subjects)


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda subjects: first(subjects) or second(subjects)


def _build(expr: Expr) -> Predicate:
    if isinstance(expr, Not):
        operand = _build(expr.operand)
        return lambda subjects: not operand(subjects)
    if isinstance(expr, (And, Or)):
        join = _both if isinstance(expr, And) else _either
        parts = [_build(operand) for operand in expr.operands]
        # Folded from the right, so operands still run left to right and stop early.
        result = parts[-1]
        for part in reversed(parts[:-1]):
            result = join(part, result)
        return result
    return _leaf(expr)


def compile_expression(expr: Expr) -> Predicate:
    """A function giving ``evaluate(expr, subjects)`` for any subjects, built once.

    A subject the expression uses but the mapping lacks raises ``KeyError`` (a
    ``LookupError``, as with the interpreter).
    """
    return _build(expr)


Explainer = Callable[[Mapping[str, Subject]], list[Expr]]
"""A compiled explanation: subjects in, the conditions that make the expression hold out."""


def _reasons(expr: Expr) -> Callable[[Mapping[str, Subject], list[Expr]], None]:
    """Appends the reasons of ``expr``, known to hold (as the interpreter's ``_explain_true``)."""
    if isinstance(expr, And):
        parts = [_reasons(operand) for operand in expr.operands]

        def all_of(subjects: Mapping[str, Subject], out: list[Expr]) -> None:
            for part in parts:
                part(subjects, out)

        return all_of
    if isinstance(expr, Or):
        branches = [(_build(operand), _reasons(operand)) for operand in expr.operands]

        def first_of(subjects: Mapping[str, Subject], out: list[Expr]) -> None:
            for holds, reasons in branches:
                if holds(subjects):
                    reasons(subjects, out)
                    return

        return first_of
    return lambda subjects, out: out.append(expr)


def compile_explanation(expr: Expr) -> Explainer:
    """A function giving ``true_conditions(expr, subjects)`` for any subjects, built once."""
    holds = _build(expr)
    reasons = _reasons(expr)

    def explain(subjects: Mapping[str, Subject]) -> list[Expr]:
        found: list[Expr] = []
        if holds(subjects):
            reasons(subjects, found)
        return found

    return explain


def specialise(expr: Expr, decide: Callable[[Expr], bool | None]) -> Expr | bool:
    """``expr`` with each leaf that ``decide`` knows (its truth value; None: not known)
    put in, and what that settles folded away: True or False when the known leaves decide
    ``expr``, else an expression of the other leaves that holds exactly when ``expr`` does
    (for subjects on which the known leaves have those truth values)."""
    if isinstance(expr, Not):
        operand = specialise(expr.operand, decide)
        if isinstance(operand, bool):
            return not operand
        return expr if operand is expr.operand else Not(operand, expr.offset)
    if isinstance(expr, (And, Or)):
        decides = isinstance(expr, Or)  # an or is settled by a true operand, an and by a false
        kept: list[Expr] = []
        for operand in expr.operands:
            found = specialise(operand, decide)
            if found is decides:
                return decides
            if not isinstance(found, bool):
                kept.append(found)
        if not kept:
            return not decides
        if len(kept) == 1:
            return kept[0]
        return type(expr)(tuple(kept), expr.offset)
    if isinstance(expr, Const):
        return expr.value
    known = decide(expr)
    return expr if known is None else known


def required_types(expr: Expr) -> dict[str, frozenset[str]]:
    """Subject name -> type ids that subject must have (on its chain) for ``expr`` to hold.

    Read off the positive type tests that ``expr`` needs whatever else holds: the operands of an
    ``and`` each add theirs, an ``or`` needs what all its operands need; anything else needs
    nothing. A subject whose types lack one of them cannot make ``expr`` hold.
    """
    if isinstance(expr, TypeTest) and not expr.negated:
        return {expr.subject: frozenset({expr.type_id})}
    if isinstance(expr, And):
        needed: dict[str, frozenset[str]] = {}
        for operand in expr.operands:
            for name, types in required_types(operand).items():
                needed[name] = needed.get(name, frozenset()) | types
        return needed
    if isinstance(expr, Or):
        branches = [required_types(operand) for operand in expr.operands]
        common: dict[str, frozenset[str]] = {}
        for name in set(branches[0]).intersection(*branches[1:]):
            types = frozenset.intersection(*(branch[name] for branch in branches))
            if types:
                common[name] = types
        return common
    return {}
