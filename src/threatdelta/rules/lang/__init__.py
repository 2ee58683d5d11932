"""A small, safe expression language for threat rules (a superset of TMT GenerationFilters).

Text is parsed into a tree of frozen dataclasses and evaluated by our own evaluator against
:class:`Subject` objects; nothing in a rule can run code or reach into Python objects.

    expr = compile_rule("flow crosses 'GE.TB.B' and not flow.encrypted", TMT_SUBJECTS)
    evaluate(expr, {"source": s, "flow": f, "target": t})
"""

from threatdelta.rules.lang.ast import (
    And,
    AttrCompare,
    AttrIn,
    AttrTruthy,
    Const,
    Crosses,
    Expr,
    Leaf,
    LiteralValue,
    Not,
    Or,
    TypeTest,
    referenced_attributes,
    referenced_subjects,
    unparse,
    walk,
)
from threatdelta.rules.lang.evaluator import (
    Normal,
    evaluate,
    explain,
    is_truthy,
    normalise,
    values_equal,
)
from threatdelta.rules.lang.interface import Subject, Value
from threatdelta.rules.lang.parser import compile_rule, parse
from threatdelta.rules.lang.tokens import (
    MAX_DEPTH,
    MAX_TEXT_LENGTH,
    MAX_TOKENS,
    RuleSyntaxError,
)

TMT_SUBJECTS: frozenset[str] = frozenset({"source", "flow", "target"})
"""The subjects a TMT GenerationFilters expression (and an interaction rule) may use."""

__all__ = [
    "MAX_DEPTH",
    "MAX_TEXT_LENGTH",
    "MAX_TOKENS",
    "TMT_SUBJECTS",
    "And",
    "AttrCompare",
    "AttrIn",
    "AttrTruthy",
    "Const",
    "Crosses",
    "Expr",
    "Leaf",
    "LiteralValue",
    "Normal",
    "Not",
    "Or",
    "RuleSyntaxError",
    "Subject",
    "TypeTest",
    "Value",
    "compile_rule",
    "evaluate",
    "explain",
    "is_truthy",
    "normalise",
    "parse",
    "referenced_attributes",
    "referenced_subjects",
    "unparse",
    "values_equal",
    "walk",
]
