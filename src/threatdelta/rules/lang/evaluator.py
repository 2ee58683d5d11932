"""Evaluation of rule expressions against subjects, and why an expression holds.

Semantics
=========

An expression is evaluated against a mapping from subject name (``source``, ``flow``,
``target``, ``element``) to a :class:`~threatdelta.rules.lang.interface.Subject`. Names are
checked when the rule is compiled (:func:`~threatdelta.rules.lang.parser.compile_rule`); a name
missing from the mapping at evaluation time is a bug in the caller and raises ``LookupError``.

Conditions
  ``X is 'T'``
      ``subjects[X].is_type('T')``: ``T`` is on X's type chain (``ROOT`` always is).
      ``X is not 'T'`` is its negation.
  ``X crosses 'T'``
      ``subjects[X].crosses('T')``: the flow crosses a boundary of type ``T``.
  ``X.a is V`` / ``X.a is not V``
      The attribute value ``subjects[X].attribute('a')`` equals / does not equal the literal
      ``V``, both normalised (below).
  ``X.a in [V1, V2, ...]``
      The value equals one of the literals.
  ``X.a`` (bare)
      True iff the normalised value is ``True`` or a non-zero number.
  ``true`` / ``false``
      Constants.

Value normalisation (attribute values and literals alike, see :func:`normalise`)
  - ``True``, and strings ``yes`` / ``true`` -> ``True``;
  - ``False``, and strings ``no`` / ``false`` -> ``False``;
  - ``None``, and strings ``''``, ``not selected``, ``select`` -> ``None`` (unset);
  - any other string -> the string stripped of surrounding space and case-folded;
  - ``int`` and ``float`` stay numbers (a NaN counts as unset).

  Strings are stripped and case-folded before the word tests, so ``' Yes '`` is ``True``.

Equality of two normalised values
  - booleans equal only booleans (``True`` is not ``1``), unset equals only unset;
  - numbers equal numbers by value (``1 == 1.0``);
  - a number and a string are equal when the string is written as a number (``-?digits``,
    optional fraction and exponent) with that value: ``'5'`` equals ``5``;
  - two strings are equal when their normalised texts are.

  So an unset attribute ``is 'Not Selected'``, ``is not true`` and ``is not false``;
  ``flow.encrypted is 'Yes'`` and ``flow.encrypted is true`` mean the same.

Operators
  ``and`` and ``or`` evaluate left to right and stop at the first operand that decides the
  result; ``not`` negates. A rule's threat exists when its include holds and its exclude does not.

Explanations (:func:`explain`)
  For an expression that holds, the conditions that made it hold, as canonical text: a leaf gives
  itself; ``or`` gives the explanation of its first operand that holds; ``and`` gives the
  explanations of all its operands; ``not ...`` gives its own text (``not flow.encrypted``).
  Duplicates are dropped, order is kept. For an expression that does not hold, the list is empty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TypeAlias

from threatdelta.rules.lang.ast import (
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
    TypeTest,
    unparse,
)
from threatdelta.rules.lang.interface import Subject, Value

Normal: TypeAlias = bool | int | float | str | None
"""A normalised value: see the module documentation."""

_TRUE_WORDS = frozenset({"yes", "true"})
_FALSE_WORDS = frozenset({"no", "false"})
_UNSET_WORDS = frozenset({"", "not selected", "select"})
_NUMERIC = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_MAX_NUMERIC_TEXT = 100


def normalise(value: Value | LiteralValue) -> Normal:
    """The normalised form of an attribute value or literal (see the module documentation)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        return value
    if not isinstance(value, str):
        raise TypeError(f"attribute values must be str, bool, int, float or None, not {value!r}")
    text = value.strip().casefold()
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    if text in _UNSET_WORDS:
        return None
    return text


def _as_number(text: str) -> int | float | None:
    if len(text) > _MAX_NUMERIC_TEXT or _NUMERIC.fullmatch(text) is None:
        return None
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)


def values_equal(left: Normal, right: Normal) -> bool:
    """Whether two normalised values are equal (see the module documentation)."""
    if left is None or right is None:
        return left is right
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, str):
        number = _as_number(left)
        return number is not None and number == right
    if isinstance(right, str):
        number = _as_number(right)
        return number is not None and number == left
    return left == right


def is_truthy(value: Normal) -> bool:
    """Whether a normalised value makes a bare ``X.attr`` hold."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return False


def _subject(subjects: Mapping[str, Subject], name: str) -> Subject:
    try:
        return subjects[name]
    except KeyError:
        raise LookupError(
            f"the rule uses subject {name!r} but it was evaluated without one "
            "(compile rules with compile_rule and the subjects their scope provides)"
        ) from None


def evaluate(expr: Expr, subjects: Mapping[str, Subject]) -> bool:
    """Whether ``expr`` holds for ``subjects`` (semantics in the module documentation)."""
    if isinstance(expr, And):
        return all(evaluate(operand, subjects) for operand in expr.operands)
    if isinstance(expr, Or):
        return any(evaluate(operand, subjects) for operand in expr.operands)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, subjects)
    if isinstance(expr, TypeTest):
        return _subject(subjects, expr.subject).is_type(expr.type_id) != expr.negated
    if isinstance(expr, AttrCompare):
        value = normalise(_subject(subjects, expr.subject).attribute(expr.attr))
        return values_equal(value, normalise(expr.value)) != expr.negated
    if isinstance(expr, Crosses):
        return bool(_subject(subjects, expr.subject).crosses(expr.boundary_type))
    if isinstance(expr, AttrIn):
        value = normalise(_subject(subjects, expr.subject).attribute(expr.attr))
        return any(values_equal(value, normalise(literal)) for literal in expr.values)
    if isinstance(expr, AttrTruthy):
        return is_truthy(normalise(_subject(subjects, expr.subject).attribute(expr.attr)))
    if isinstance(expr, Const):
        return expr.value
    raise TypeError(f"not a rule expression node: {expr!r}")


def explain(expr: Expr, subjects: Mapping[str, Subject]) -> list[str]:
    """The conditions that make ``expr`` hold, as canonical text; empty when it does not hold.

    See "Explanations" in the module documentation.
    """
    return list(dict.fromkeys(unparse(c) for c in true_conditions(expr, subjects)))


def true_conditions(expr: Expr, subjects: Mapping[str, Subject]) -> list[Expr]:
    """The conditions (leaves, or negations) that make ``expr`` hold, as nodes; empty when it
    does not hold."""
    if not evaluate(expr, subjects):
        return []
    found: list[Expr] = []
    _explain_true(expr, subjects, found)
    return found


def _explain_true(expr: Expr, subjects: Mapping[str, Subject], out: list[Expr]) -> None:
    """Append the reasons of ``expr``, which is known to hold."""
    if isinstance(expr, And):
        for operand in expr.operands:
            _explain_true(operand, subjects, out)
    elif isinstance(expr, Or):
        for operand in expr.operands:
            if evaluate(operand, subjects):
                _explain_true(operand, subjects, out)
                return
    else:
        out.append(expr)
