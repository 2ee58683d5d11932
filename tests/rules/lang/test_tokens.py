"""Tokenizer, limits and the placement of syntax errors."""

from __future__ import annotations

import pytest

from threatdelta.errors import InputError, Location
from threatdelta.rules.lang.tokens import (
    MAX_TEXT_LENGTH,
    MAX_TOKENS,
    RuleSyntaxError,
    Token,
    tokenize,
)


def kinds_and_texts(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)]


def test_typical_tmt_expression() -> None:
    text = "source is 'GE.P' and (flow crosses 'GE.TB.B')"
    assert tokenize(text) == [
        Token("word", "source", 0),
        Token("word", "is", 7),
        Token("string", "GE.P", 10),
        Token("word", "and", 17),
        Token("(", "(", 21),
        Token("word", "flow", 22),
        Token("word", "crosses", 27),
        Token("string", "GE.TB.B", 35),
        Token(")", ")", 44),
        Token("end", "", 45),
    ]


def test_guid_attribute_after_dot_is_one_token() -> None:
    text = "flow.54851a3b-65da-4902-b4e0-94ef015be735 is 'None'"
    assert kinds_and_texts(text)[:3] == [
        ("word", "flow"),
        (".", "."),
        ("attr", "54851a3b-65da-4902-b4e0-94ef015be735"),
    ]


def test_attribute_named_like_a_keyword() -> None:
    assert kinds_and_texts("flow.is")[2] == ("attr", "is")


def test_whitespace_of_any_kind_is_skipped() -> None:
    tokens = tokenize("\n   source  is\t'ROOT'  \n ")
    assert [t.text for t in tokens] == ["source", "is", "ROOT", ""]
    assert tokens[0].offset == 4
    assert tokens[-1].offset == len("\n   source  is\t'ROOT'  \n ")


def test_no_space_needed_between_parenthesis_and_keyword() -> None:
    assert kinds_and_texts("(a is 'x')and b is 'y'")[4:6] == [(")", ")"), ("word", "and")]


@pytest.mark.parametrize(
    ("text", "value"),
    [("'it\"s'", 'it"s'), ('"it\'s"', "it's"), ("''", ""), ("'two  spaces '", "two  spaces ")],
)
def test_strings_in_either_quote(text: str, value: str) -> None:
    assert tokenize(text)[0] == Token("string", value, 0)


@pytest.mark.parametrize("number", ["0", "-3", "2.5", "1e+20", "-1.5E-3"])
def test_numbers(number: str) -> None:
    assert tokenize(f"flow.x is {number}")[4] == Token("number", number, 10)


def test_keywords_are_case_insensitive() -> None:
    assert [t.keyword for t in tokenize("AND Or nOt IS In CROSSES True FALSE flow")] == [
        "and",
        "or",
        "not",
        "is",
        "in",
        "crosses",
        "true",
        "false",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("source is 'GE.P", 11, "unterminated string"),
        ('flow.x is "abc', 11, "unterminated string"),
        ("source == 'GE.P'", 8, "unexpected character '='"),
        ("flow.x is 5abc", 11, "malformed number"),
        ("flow.x is 1.2.3", 11, "malformed number"),
        ("flow.x is -", 11, "unexpected character '-'"),
        ("source is 'GE.P' && target is 'GE.P'", 18, "unexpected character '&'"),
        ("54851a3b-65da is 'x'", 1, "malformed number"),
    ],
)
def test_errors_name_the_exact_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        tokenize(text)
    message = str(info.value)
    assert fragment in message
    assert f"at column {column}:" in message
    excerpt, caret = message.splitlines()[1:3]
    assert caret.index("^") == excerpt.index(text) + column - 1


def test_error_is_an_input_error_with_reason_and_offset() -> None:
    with pytest.raises(InputError) as info:
        tokenize("flow.x is ?")
    error = info.value
    assert isinstance(error, RuleSyntaxError)
    assert error.offset == 10
    assert error.reason.startswith("unexpected character '?'")
    assert error.location is None


def test_error_without_location_has_no_location_prefix() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        tokenize("?")
    assert str(info.value) == (
        "rule expression: unexpected character '?' at column 1:\n"
        "  ?\n"
        "  ^\n"
        "Values go in quotes; the operators are and, or, not, is, in, crosses."
    )


def test_error_placed_in_file_on_one_line() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        tokenize("flow.x is ?")
    moved = info.value.relocated(Location("rules.yaml", 7, 14))
    assert moved.location == Location("rules.yaml", 7, 24)
    assert str(moved).startswith("rules.yaml:7:24: rule expression:")


def test_error_placed_in_file_on_a_later_line_of_the_expression() -> None:
    text = "source is 'GE.P'\n  and target ? 'GE.DS'"
    with pytest.raises(RuleSyntaxError) as info:
        tokenize(text)
    assert "at line 2, column 14:" in str(info.value)
    assert info.value.relocated(Location("rules.yaml", 7, 14)).location == Location(
        "rules.yaml", 8, 14
    )


def test_error_placed_in_file_without_line_keeps_the_path() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        tokenize("?")
    assert info.value.relocated(Location("pack.tb7")).location == Location("pack.tb7")


def test_long_line_excerpt_is_windowed_and_caret_still_points_at_the_problem() -> None:
    text = "source is 'GE.P' or " * 30 + "flow ? 'x'" + " or source is 'GE.P'" * 30
    with pytest.raises(RuleSyntaxError) as info:
        tokenize(text)
    excerpt, caret = str(info.value).splitlines()[1:3]
    assert len(excerpt) < 100
    assert excerpt.startswith("  ...") and excerpt.endswith("...")
    assert excerpt[caret.index("^")] == "?"


def test_control_characters_do_not_reach_the_message() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        tokenize("flow\x1b[31m ?")
    assert "\x1b" not in str(info.value)


def test_text_longer_than_the_limit_is_refused_without_tokenizing() -> None:
    text = "source is 'GE.P' or " * (MAX_TEXT_LENGTH // 20) + "true"
    assert len(text) > MAX_TEXT_LENGTH
    with pytest.raises(RuleSyntaxError) as info:
        tokenize(text)
    assert f"the limit is {MAX_TEXT_LENGTH:,}" in str(info.value)
    assert len(str(info.value)) < 200


def test_text_at_the_limit_is_accepted() -> None:
    text = "true" + " " * (MAX_TEXT_LENGTH - 4)
    assert len(tokenize(text)) == 2


def test_too_many_tokens() -> None:
    text = "(" * (MAX_TOKENS + 1)
    with pytest.raises(RuleSyntaxError) as info:
        tokenize(text)
    assert f"more than {MAX_TOKENS:,} tokens" in str(info.value)
    assert info.value.offset == MAX_TOKENS


def test_exactly_the_token_limit_is_accepted() -> None:
    assert len(tokenize("(" * MAX_TOKENS)) == MAX_TOKENS + 1


def test_overlong_number_is_refused() -> None:
    with pytest.raises(RuleSyntaxError, match="number longer than"):
        tokenize("flow.x is " + "9" * 5000)
