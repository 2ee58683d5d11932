"""Parser of the rule language: text -> :mod:`~threatdelta.rules.lang.ast`.

Grammar (keywords are case-insensitive; subjects and attribute names are case-sensitive)::

    expr    := or
    or      := and ('or' and)*
    and     := unary ('and' unary)*
    unary   := 'not' unary | primary
    primary := '(' expr ')' | 'true' | 'false'
             | SUBJECT 'is' ['not'] STRING                  type test through the type chain
             | SUBJECT 'crosses' STRING                     flow crosses a boundary of that type
             | SUBJECT '.' ATTR 'is' ['not'] LITERAL        attribute comparison
             | SUBJECT '.' ATTR 'in' '[' LITERAL (',' LITERAL)* ']'
             | SUBJECT '.' ATTR                             attribute is true
    LITERAL := STRING | 'true' | 'false' | NUMBER
    STRING  := '...' | "..."        no escapes; cannot hold its own quote
    ATTR    := [A-Za-z0-9_-]+       GUIDs allowed
    SUBJECT := [A-Za-z_][A-Za-z0-9_]*, not a keyword

``a or b and c`` is ``a or (b and c)``; ``not a and b`` is ``(not a) and b``. A parenthesised
group stays its own node: ``(a or b) or c`` is an ``Or`` whose first operand is an ``Or``.

Text, tokens and nesting are bounded (:data:`~threatdelta.rules.lang.tokens.MAX_TEXT_LENGTH`,
``MAX_TOKENS``, ``MAX_DEPTH``); beyond them, as for any malformed text, the parser raises
:class:`~threatdelta.rules.lang.tokens.RuleSyntaxError` and never recurses without bound.
"""

from __future__ import annotations

import functools
import math

from threatdelta.errors import Location
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
    walk,
)
from threatdelta.rules.lang.tokens import (
    MAX_DEPTH,
    RuleSyntaxError,
    Token,
    position,
    quoted,
    tokenize,
)

CACHE_SIZE = 1024
"""How many compiled expressions are remembered (keyed by text and allowed subjects)."""


def parse(text: str, location: Location | None = None) -> Expr:
    """Parse ``text`` into an expression, without checking subject names.

    ``location`` is where ``text`` starts in its file; syntax errors are placed relative to it.
    """
    try:
        return _parse_cached(text)
    except RuleSyntaxError as error:
        raise error.relocated(location) from None


def compile_rule(
    text: str, allowed_subjects: frozenset[str], location: Location | None = None
) -> Expr:
    """Parse ``text`` and check that it names only ``allowed_subjects``.

    Raises :class:`RuleSyntaxError` (an ``InputError``) for malformed text or an unknown subject,
    placed relative to ``location`` (where ``text`` starts in its file) when given.
    """
    try:
        return _compile_cached(text, frozenset(allowed_subjects))
    except RuleSyntaxError as error:
        raise error.relocated(location) from None


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse_cached(text: str) -> Expr:
    return _Parser(text).parse()


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile_cached(text: str, allowed: frozenset[str]) -> Expr:
    expr = _parse_cached(text)
    for node in walk(expr):
        if isinstance(node, (TypeTest, Crosses, AttrCompare, AttrIn, AttrTruthy)) and (
            node.subject not in allowed
        ):
            can_use = ", ".join(sorted(allowed)) if allowed else "none"
            raise RuleSyntaxError(
                f"unknown subject {quoted(node.subject)}",
                text,
                node.offset,
                hint=f"This rule can use: {can_use}.",
            )
    return expr


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    if token.kind == "string":
        return f"the string {quoted(token.text)}"
    if token.kind == "number":
        return f"the number {token.text}"
    return quoted(token.text)


class _Parser:
    """Recursive descent over a token list; depth is counted and bounded."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    def error(self, reason: str, token: Token, hint: str = "") -> RuleSyntaxError:
        return RuleSyntaxError(reason, self.text, token.offset, hint=hint)

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def at_keyword(self, keyword: str) -> bool:
        return self.tokens[self.pos].keyword == keyword

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the expression nests deeper than {MAX_DEPTH} levels of parentheses and 'not'",
                token,
                "Simplify the rule.",
            )

    def parse(self) -> Expr:
        if self.peek().kind == "end":
            raise self.error("the expression is empty", self.peek(), "Write a condition, or true.")
        expr = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise self.error("unmatched ')'", token)
        if token.kind != "end":
            raise self.error(
                f"expected 'and', 'or' or the end of the expression, found {_describe(token)}",
                token,
            )
        return expr

    def parse_or(self) -> Expr:
        start = self.peek().offset
        operands = [self.parse_and()]
        while self.at_keyword("or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands), start)

    def parse_and(self) -> Expr:
        start = self.peek().offset
        operands = [self.parse_unary()]
        while self.at_keyword("and"):
            self.advance()
            operands.append(self.parse_unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands), start)

    def parse_unary(self) -> Expr:
        if not self.at_keyword("not"):
            return self.parse_primary()
        token = self.advance()
        self.enter(token)
        operand = self.parse_unary()
        self.depth -= 1
        return Not(operand, token.offset)

    def parse_primary(self) -> Expr:
        token = self.peek()
        if token.kind == "(":
            self.advance()
            self.enter(token)
            expr = self.parse_or()
            close = self.peek()
            if close.kind != ")":
                raise self.error(
                    "expected 'and', 'or' or ')' to close the '(' at "
                    f"{position(self.text, token.offset)}, "
                    f"found {_describe(close)}",
                    close,
                )
            self.advance()
            self.depth -= 1
            return expr
        keyword = token.keyword
        if keyword in ("true", "false"):
            self.advance()
            return Const(keyword == "true", token.offset)
        if token.kind != "word" or keyword is not None:
            raise self.error(
                f"expected a condition, found {_describe(token)}",
                token,
                "A condition is SUBJECT is 'TYPE', SUBJECT crosses 'TYPE', SUBJECT.ATTR is VALUE, "
                "SUBJECT.ATTR in [VALUE, ...], SUBJECT.ATTR, true, false, not ..., or (...).",
            )
        self.advance()
        return self.parse_condition(token)

    def parse_condition(self, subject: Token) -> Expr:
        name = subject.text
        token = self.peek()
        if token.keyword == "is":
            self.advance()
            negated = self.at_keyword("not")
            if negated:
                self.advance()
            return TypeTest(
                name, self.expect_string("a quoted type id", token), negated, subject.offset
            )
        if token.keyword == "crosses":
            self.advance()
            return Crosses(
                name, self.expect_string("a quoted boundary type id", token), subject.offset
            )
        if token.kind != ".":
            raise self.error(
                f"expected 'is', 'crosses' or '.' after {quoted(name)}, found {_describe(token)}",
                token,
            )
        self.advance()
        attr = self.peek()
        if attr.kind != "attr":
            raise self.error(
                f"expected an attribute name (letters, digits, '_' or '-') after "
                f"'{name}.', found {_describe(attr)}",
                attr,
            )
        self.advance()
        operator = self.peek()
        if operator.keyword == "is":
            self.advance()
            negated = self.at_keyword("not")
            if negated:
                self.advance()
            return AttrCompare(name, attr.text, self.expect_literal(), negated, subject.offset)
        if operator.keyword == "in":
            self.advance()
            return AttrIn(name, attr.text, self.expect_list(), subject.offset)
        return AttrTruthy(name, attr.text, subject.offset)

    def expect_string(self, what: str, after: Token) -> str:
        token = self.peek()
        if token.kind != "string":
            hint = ""
            if token.kind == "number" or token.keyword in ("true", "false"):
                hint = "To compare an attribute with a value, write SUBJECT.ATTR is VALUE."
            raise self.error(
                f"expected {what} after {quoted(after.text)}, found {_describe(token)}",
                token,
                hint,
            )
        self.advance()
        return token.text

    def expect_literal(self) -> LiteralValue:
        token = self.peek()
        if token.kind == "string":
            self.advance()
            return token.text
        if token.keyword in ("true", "false"):
            self.advance()
            return token.keyword == "true"
        if token.kind == "number":
            self.advance()
            return self.number(token)
        raise self.error(
            "expected a value (a quoted string, true, false or a number), "
            f"found {_describe(token)}",
            token,
        )

    def expect_list(self) -> tuple[LiteralValue, ...]:
        token = self.peek()
        if token.kind != "[":
            raise self.error(f"expected '[' after 'in', found {_describe(token)}", token)
        self.advance()
        values = [self.expect_literal()]
        while self.peek().kind == ",":
            self.advance()
            values.append(self.expect_literal())
        close = self.peek()
        if close.kind != "]":
            raise self.error(f"expected ',' or ']' in the list, found {_describe(close)}", close)
        self.advance()
        return tuple(values)

    def number(self, token: Token) -> int | float:
        text = token.text
        if any(c in text for c in ".eE"):
            value = float(text)
            if not math.isfinite(value):
                raise self.error(f"the number {text} is out of range", token)
            return value
        return int(text)
