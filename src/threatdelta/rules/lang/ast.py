"""The syntax tree of a rule expression, its canonical text, and what it refers to.

Nodes are frozen dataclasses. Each carries ``offset``, where it starts in the text it was parsed
from; the offset takes no part in equality, so an expression and the re-parse of its canonical
text (:func:`unparse`) are equal. Literal values compare with their kind: ``true`` and ``1`` are
different literals even though Python thinks ``True == 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

LiteralValue: TypeAlias = str | bool | int | float
"""A value written in an expression: a quoted string, ``true`` / ``false``, or a number."""


def literal_kind(value: LiteralValue) -> str:
    """``bool``, ``number`` or ``string``: the kind a literal compares with."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


@dataclass(frozen=True, slots=True)
class Const:
    """``true`` or ``false``."""

    value: bool
    """The constant."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""


@dataclass(frozen=True, slots=True)
class TypeTest:
    """``SUBJECT is 'TYPE'`` (or ``is not``): the type is on the subject's type chain."""

    subject: str
    """Subject name (``source``, ``flow``, ``target``, ``element``)."""
    type_id: str
    """The type id tested for (``GE.P``, ``ROOT``, a GUID)."""
    negated: bool = False
    """True for ``is not``."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""


@dataclass(frozen=True, slots=True)
class Crosses:
    """``SUBJECT crosses 'BOUNDARYTYPE'``: the flow crosses a boundary of that type."""

    subject: str
    """Subject name (normally ``flow``)."""
    boundary_type: str
    """The boundary type id (``GE.TB.B``)."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""


@dataclass(frozen=True, slots=True)
class AttrCompare:
    """``SUBJECT.ATTR is VALUE`` (or ``is not``)."""

    subject: str
    """Subject name."""
    attr: str
    """Attribute name as written (may be a GUID)."""
    value: LiteralValue
    """The literal compared with."""
    negated: bool = False
    """True for ``is not``."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""
    kind: str = field(init=False, repr=False)
    """Kind of ``value`` (see :func:`literal_kind`); part of equality."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", literal_kind(self.value))


@dataclass(frozen=True, slots=True)
class AttrIn:
    """``SUBJECT.ATTR in [V1, V2, ...]``: the value equals one of the literals."""

    subject: str
    """Subject name."""
    attr: str
    """Attribute name as written."""
    values: tuple[LiteralValue, ...]
    """The literals, at least one, in written order."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""
    kinds: tuple[str, ...] = field(init=False, repr=False)
    """Kinds of ``values`` (see :func:`literal_kind`); part of equality."""

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("AttrIn needs at least one value")
        object.__setattr__(self, "kinds", tuple(literal_kind(v) for v in self.values))


@dataclass(frozen=True, slots=True)
class AttrTruthy:
    """Bare ``SUBJECT.ATTR``: true when the value is true (``Yes``, ``true``, non-zero)."""

    subject: str
    """Subject name."""
    attr: str
    """Attribute name as written."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""


@dataclass(frozen=True, slots=True)
class Not:
    """``not OPERAND``."""

    operand: Expr
    """The negated expression."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""


@dataclass(frozen=True, slots=True)
class And:
    """``A and B and ...``: all operands hold (evaluated left to right, short-circuit)."""

    operands: tuple[Expr, ...]
    """Two or more operands, in written order."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""

    def __post_init__(self) -> None:
        if len(self.operands) < 2:
            raise ValueError("And needs at least two operands")


@dataclass(frozen=True, slots=True)
class Or:
    """``A or B or ...``: some operand holds (evaluated left to right, short-circuit)."""

    operands: tuple[Expr, ...]
    """Two or more operands, in written order."""
    offset: int = field(default=0, compare=False)
    """Where the node starts in the source text (0-based)."""

    def __post_init__(self) -> None:
        if len(self.operands) < 2:
            raise ValueError("Or needs at least two operands")


Leaf: TypeAlias = Const | TypeTest | Crosses | AttrCompare | AttrIn | AttrTruthy
"""A node without sub-expressions."""
Expr: TypeAlias = Or | And | Not | Leaf
"""Any node."""
LEAF_TYPES = (Const, TypeTest, Crosses, AttrCompare, AttrIn, AttrTruthy)


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``."""
    if isinstance(expr, (And, Or)):
        return expr.operands
    if isinstance(expr, Not):
        return (expr.operand,)
    return ()


def walk(expr: Expr) -> list[Expr]:
    """Every node of ``expr``, parents before children, left to right (no recursion)."""
    out: list[Expr] = []
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(children(node)))
    return out


def referenced_subjects(expr: Expr) -> frozenset[str]:
    """The subject names ``expr`` uses."""
    return frozenset(
        node.subject
        for node in walk(expr)
        if isinstance(node, (TypeTest, Crosses, AttrCompare, AttrIn, AttrTruthy))
    )


def referenced_attributes(expr: Expr) -> frozenset[tuple[str, str]]:
    """The ``(subject, attribute)`` pairs ``expr`` reads."""
    return frozenset(
        (node.subject, node.attr)
        for node in walk(expr)
        if isinstance(node, (AttrCompare, AttrIn, AttrTruthy))
    )


def quote(text: str) -> str:
    """``text`` as a string literal: single quotes, or double when it holds a single quote."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise ValueError(f"a string literal cannot hold both kinds of quote: {text!r}")


def unparse_literal(value: LiteralValue) -> str:
    """The canonical text of one literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if text in ("inf", "-inf", "nan"):
            raise ValueError(f"{text} cannot be written as a rule literal")
        return text
    return quote(value)


def unparse(expr: Expr) -> str:
    """Canonical text of ``expr``: lower-case keywords, single spaces, minimal parentheses.

    Parsing the result gives an expression equal to ``expr``. Parentheses are written where
    precedence needs them, and also around an ``and`` inside an ``and`` or an ``or`` inside an
    ``or`` (the parser keeps a parenthesised group as its own node).
    """
    if isinstance(expr, Const):
        return "true" if expr.value else "false"
    if isinstance(expr, TypeTest):
        op = "is not" if expr.negated else "is"
        return f"{expr.subject} {op} {quote(expr.type_id)}"
    if isinstance(expr, Crosses):
        return f"{expr.subject} crosses {quote(expr.boundary_type)}"
    if isinstance(expr, AttrCompare):
        op = "is not" if expr.negated else "is"
        return f"{expr.subject}.{expr.attr} {op} {unparse_literal(expr.value)}"
    if isinstance(expr, AttrIn):
        values = ", ".join(unparse_literal(v) for v in expr.values)
        return f"{expr.subject}.{expr.attr} in [{values}]"
    if isinstance(expr, AttrTruthy):
        return f"{expr.subject}.{expr.attr}"
    if isinstance(expr, Not):
        inner = unparse(expr.operand)
        if isinstance(expr.operand, (And, Or)):
            inner = f"({inner})"
        return f"not {inner}"
    joiner = " and " if isinstance(expr, And) else " or "
    parts = []
    for operand in expr.operands:
        text = unparse(operand)
        if isinstance(operand, (And, Or)) and not (
            isinstance(expr, Or) and isinstance(operand, And)
        ):
            text = f"({text})"
        parts.append(text)
    return joiner.join(parts)
