"""Tokens of the rule language, the tokenizer, the size limits and the syntax error.

The tokenizer turns expression text into a flat list of :class:`Token`. It knows one piece of
context: right after a ``.`` it reads an attribute name, which may start with a digit and contain
dashes (TMT names some attributes by GUID: ``flow.54851a3b-65da-4902-b4e0-94ef015be735``).
Everywhere else a word is an identifier (``[A-Za-z_][A-Za-z0-9_]*``); keywords are words and are
recognised case-insensitively by the parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from threatdelta.errors import InputError, Location

MAX_TEXT_LENGTH = 20_000
"""Longest expression text accepted, in characters."""
MAX_TOKENS = 5_000
"""Most tokens one expression may have."""
MAX_DEPTH = 100
"""Deepest nesting of parentheses and ``not`` accepted."""
MAX_NUMBER_LENGTH = 100
"""Longest number literal accepted, in characters."""

KEYWORDS = frozenset({"and", "or", "not", "is", "in", "crosses", "true", "false"})
"""Reserved words (matched case-insensitively); none of them can name a subject."""

TokenKind = Literal["word", "attr", "string", "number", "(", ")", "[", "]", ",", ".", "end"]


@dataclass(frozen=True, slots=True)
class Token:
    """One token of an expression."""

    kind: TokenKind
    """What it is; punctuation tokens are their own kind, ``end`` closes every token list."""
    text: str
    """The text as written; for ``string`` without its quotes; for ``end`` empty."""
    offset: int
    """0-based offset of the token's first character in the expression text."""

    @property
    def keyword(self) -> str | None:
        """The lower-cased keyword this word spells, or None when it is not a keyword."""
        if self.kind != "word":
            return None
        lowered = self.text.lower()
        return lowered if lowered in KEYWORDS else None


class RuleSyntaxError(InputError):
    """An expression that cannot be parsed, or that names a subject the rule cannot use.

    The message names the problem and the column, then shows the offending line with a caret
    under the place. When the caller knows where the expression starts in its file, the error's
    :class:`Location` points at the exact line and column of the problem in that file.
    """

    def __init__(
        self,
        reason: str,
        text: str,
        offset: int,
        location: Location | None = None,
        hint: str = "",
    ) -> None:
        self.reason = reason
        """What is wrong, without position or excerpt."""
        self.text = text
        """The whole expression text."""
        self.offset = offset
        """0-based offset of the problem in ``text``."""
        self.hint = hint
        """How to fix it, when there is something useful to say; shown on the last line."""
        message = _describe(reason, text, offset)
        if hint:
            message += f"\n{hint}"
        super().__init__(message, _locate(location, text, offset))

    def relocated(self, location: Location | None) -> RuleSyntaxError:
        """The same error, placed relative to ``location`` (where the expression starts)."""
        return RuleSyntaxError(self.reason, self.text, self.offset, location, self.hint)


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """0-based line index and 0-based column of ``offset`` within ``text``."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start


def position(text: str, offset: int) -> str:
    """``column C`` for one-line text, ``line L, column C`` otherwise (both 1-based)."""
    line, column = line_and_column(text, offset)
    if "\n" not in text:
        return f"column {column + 1}"
    return f"line {line + 1}, column {column + 1}"


def _locate(location: Location | None, text: str, offset: int) -> Location | None:
    if location is None:
        return None
    if location.line is None:
        return Location(location.path)
    line, column = line_and_column(text, offset)
    if line == 0:
        start_column = location.column
        return Location(
            location.path, location.line, None if start_column is None else start_column + column
        )
    return Location(location.path, location.line + line, column + 1)


_EXCERPT_RADIUS = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters shown as spaces (keeps one character per character)."""
    return _CONTROL.sub(" ", text)


def _describe(reason: str, text: str, offset: int) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        return f"rule expression: {reason}"
    offset = max(0, min(offset, len(text)))
    _, column = line_and_column(text, offset)
    where = position(text, offset)
    start = offset - column
    end = text.find("\n", offset)
    if end < 0:
        end = len(text)
    lo = max(start, offset - _EXCERPT_RADIUS)
    hi = min(end, offset + _EXCERPT_RADIUS)
    excerpt = printable(text[lo:hi])
    caret = offset - lo
    if lo > start:
        excerpt = "..." + excerpt
        caret += 3
    if hi < end:
        excerpt += "..."
    return f"rule expression: {reason} at {where}:\n  {excerpt}\n  {' ' * caret}^"


def quoted(text: str, limit: int = 30) -> str:
    """``text`` in single quotes for a message, shortened and without control characters."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "'" + printable(text) + "'"


_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ATTR = re.compile(r"[A-Za-z0-9_-]+")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]")
_PUNCTUATION: dict[str, TokenKind] = {
    "(": "(",
    ")": ")",
    "[": "[",
    "]": "]",
    ",": ",",
    ".": ".",
}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one ``end`` token.

    Raises :class:`RuleSyntaxError` for text longer than :data:`MAX_TEXT_LENGTH`, more than
    :data:`MAX_TOKENS` tokens, an unterminated string, a malformed number or a character that
    starts no token.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise RuleSyntaxError(
            f"the expression is {len(text):,} characters long; the limit is {MAX_TEXT_LENGTH:,}",
            text,
            0,
            hint="Split the rule into smaller ones.",
        )
    tokens: list[Token] = []
    pos = 0
    length = len(text)
    after_dot = False
    while True:
        space = _SPACE.match(text, pos)
        if space is not None:
            pos = space.end()
        if pos >= length:
            tokens.append(Token("end", "", length))
            return tokens
        if len(tokens) >= MAX_TOKENS:
            raise RuleSyntaxError(
                f"the expression has more than {MAX_TOKENS:,} tokens",
                text,
                pos,
                hint="Split the rule into smaller ones.",
            )
        char = text[pos]
        if after_dot:
            after_dot = False
            attr = _ATTR.match(text, pos)
            if attr is not None:
                tokens.append(Token("attr", attr.group(), pos))
                pos = attr.end()
                continue
        if char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char, pos))
            after_dot = char == "."
            pos += 1
        elif char in "'\"":
            close = text.find(char, pos + 1)
            if close < 0:
                raise RuleSyntaxError(
                    f"unterminated string: no closing {char} for the quote", text, pos
                )
            tokens.append(Token("string", text[pos + 1 : close], pos))
            pos = close + 1
        elif (word := _WORD.match(text, pos)) is not None:
            tokens.append(Token("word", word.group(), pos))
            pos = word.end()
        elif (number := _NUMBER.match(text, pos)) is not None:
            end = number.end()
            if end < length and _NUMBER_TAIL.match(text, end):
                raise RuleSyntaxError(
                    "malformed number", text, pos, hint="Write text values in quotes: 'value'."
                )
            if end - pos > MAX_NUMBER_LENGTH:
                raise RuleSyntaxError(
                    f"number longer than {MAX_NUMBER_LENGTH} characters", text, pos
                )
            tokens.append(Token("number", number.group(), pos))
            pos = end
        else:
            raise RuleSyntaxError(
                f"unexpected character {quoted(char)}",
                text,
                pos,
                hint="Values go in quotes; the operators are and, or, not, is, in, crosses.",
            )
