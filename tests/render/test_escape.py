"""Untrusted text comes out inert in every context, checked with GitHub's own markdown parser."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.render.gfm import render

from threatdelta.render.escape import (
    ZERO_WIDTH_JOINER,
    code,
    fence,
    html_code,
    inert,
    log_text,
    md,
    mermaid_id,
    mermaid_label,
    plain,
    yaml_scalar,
)

PAYLOADS = [
    "_@.https://evil.example/x",
    "[click to approve](https://evil.example)**APPROVED**",
    "![PASS](https://evil.example/pass.svg)",
    "<img src=x onerror=alert(1)>",
    "<!-- threatdelta:sticky name=default -->",
    "https://evil.example/x",
    "www.evil.example",
    "mail me: someone@evil.example",
    "@org/team",
    "ping @alice",
    "fixes #12",
    "acme/pump#7",
    "GH-42",
    "acme/pump@a5c3785ed8d6a35868bc169f07e40e889087fd2e",
    ":+1: :white_check_mark:",
    "%%{init: {'theme': 'dark'}}%%",
    "$\\color{green}{\\text{PASSED}}$",
    "~~struck~~ _em_ *em* __strong__",
    "| cell | breaker |",
    "```\n# heading",
    "[^note]",
    "<https://evil.example>",
    "&lt;b&gt; &#64;alice",
    "a\u202eRLO\u202c b\u200bZWSP c\u200eLRM d\u200fRLM e\u061cALM f\u2066iso\u2069",
    "nul\x00 bel\x07 esc\x1b[31m red",
    "\ud800 lone surrogate",
]

HOSTILE_ALPHABET = st.sampled_from(
    [
        *"[]()!*_~`#@:|<>&$%{}\\/.-+=\"' \n\t",
        *("https://", "www.", "GH-", "@a", "#1", ":+1:", "%%{init:", "\u202e", "\u200b", "\u2066"),
        *("a", "b", "1", "7", "deadbeef0", "x.example"),
    ]
)
HOSTILE = st.lists(st.one_of(HOSTILE_ALPHABET, st.sampled_from(PAYLOADS)), max_size=12).map("".join)


def _assert_inert_markdown(markdown: str) -> None:
    out = render(markdown)
    assert out.links == [], out.links
    assert set(out.tags) <= {"p", "code"}, out.tags
    assert out.live_references() == []
    assert out.hidden_characters() == []


def test_every_payload_is_inert_as_running_text_and_as_code() -> None:
    for payload in PAYLOADS:
        _assert_inert_markdown(f"Before {md(payload)} after {code(payload)}.")


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_hostile_text_is_inert_as_running_text_and_as_code(text: str) -> None:
    _assert_inert_markdown(f"x {md(text)} y {code(text)} z")


@settings(max_examples=200, deadline=None)
@given(HOSTILE, HOSTILE)
def test_hostile_text_never_changes_a_tables_shape(a: str, b: str) -> None:
    table = f"| A | B | C |\n|---|---|---|\n| {md(a)}<br>{code(b)} | {code(a)} | {md(b)} |\n"
    out = render(table)
    assert out.tags.count("tr") == 2 and out.tags.count("td") == 3
    assert out.links == [] and out.live_references() == []
    assert set(out.tags) <= {"table", "thead", "tbody", "tr", "th", "td", "br", "code"}


def test_an_id_shown_as_code_is_literal_and_copyable() -> None:
    key = "[click to approve](https://evil.example)**APPROVED**"
    out = render(f"Key: {code(key)}")
    assert out.tags == ["p", "code"] and out.links == []
    assert "".join(out.text).strip() == "Key: " + key
    assert code("flow-dos@telemetry") == "`flow-dos@telemetry`"
    assert code("") == "` `"
    assert code("a`b|c") == "`a'b¦c`"


def test_html_code_is_for_html_blocks() -> None:
    out = render(f"<details><summary>In {html_code('<b>x</b> @alice')}</summary>\n\nbody\n")
    assert "b" not in out.tags and out.live_references() == []
    assert "<b>x</b> @alice" in "".join(out.text)


def test_threat_keys_stay_copyable_but_mentions_references_and_autolinks_do_not_link() -> None:
    assert md("flow-dos@telemetry") == "flow-dos@telemetry"
    assert md("rule@a>b>c").startswith("rule@a")
    assert "@" + ZERO_WIDTH_JOINER in md("ping @team")
    assert "#" + ZERO_WIDTH_JOINER in md("fixes #12")
    assert "@" + ZERO_WIDTH_JOINER in md("mail a@b.example")
    assert ":" + ZERO_WIDTH_JOINER + "//" in md("https://x.example")
    assert "www" + ZERO_WIDTH_JOINER + "." in md("WWW.x.example".lower())
    assert "GH" + ZERO_WIDTH_JOINER + "-42" in md("GH-42")


def test_hidden_characters_are_removed_and_lines_joined() -> None:
    assert md("a\nb\r\n\x00c\u202e") == "a b c"
    assert plain("x\u200by\u200ez\u200f\u061cw\u2028v\ufeff") == "xyzw v"
    assert plain("\ud800") == ""


def test_log_text_shows_hidden_characters_as_escapes_and_keeps_lines() -> None:
    assert log_text("a\x00b\x07c\x1b[31m\u202ed\ne") == "a\\x00b\\x07c\\x1b[31m\\u202ed\ne"


def test_mermaid_label_escapes_quotes_html_and_directives() -> None:
    out = mermaid_label('"<b>" %%{init: {"theme":"dark"}}%%')
    assert '"' not in out and "<" not in out and ">" not in out and "%" not in out
    assert out.startswith("#quot;")


def test_mermaid_ids_are_safe_and_distinct() -> None:
    a, b = mermaid_id("a b"), mermaid_id("a_b")
    assert a != b and all(c.isalnum() or c == "_" for c in a)


def test_yaml_scalar_round_trips_through_a_yaml_parser() -> None:
    for text in [
        'say "hi"',
        "back\\slash",
        "tab\there",
        "`tick`",
        "\u202e",
        "<!-- x",
        "\U000e0041",
    ]:
        assert yaml.safe_load(f"k: {yaml_scalar(text)}")["k"] == text
        assert "`" not in yaml_scalar(text)
        assert "<!--" not in yaml_scalar(text)


def test_fence_keeps_text_inside_a_code_block() -> None:
    assert "`" not in fence("```\n# hi")
    assert "<!--" not in fence("<!-- x")


def test_inert_refuses_an_unknown_context() -> None:
    try:
        inert("x", "sql")  # type: ignore[arg-type]
    except ValueError as error:
        assert "sql" in str(error)
    else:
        raise AssertionError("an unknown context must be refused")


def test_gitlab_references_and_cross_project_references_do_not_link() -> None:
    for text, prefix in [
        ("see !12", "!"),
        ("label ~bug", "~"),
        ("milestone %v1.0", "%"),
        ('milestone %"Release 2"', "%"),
        ("snippet $3", "$"),
        ("epic &4", "&"),
        ("group/project#7", "#"),
    ]:
        out = md(text)
        assert prefix + ZERO_WIDTH_JOINER in out.replace("&amp;", "&").replace("\\", ""), text
    assert md("50 % less & more ~ fine") == "50 % less &amp; more \\~ fine"


def test_an_email_whose_domain_needs_a_markdown_escape_is_not_linked() -> None:
    assert md("_@_x.example") == "\\_@" + ZERO_WIDTH_JOINER + "\\_x.example"


@given(st.text(alphabet=st.characters(blacklist_categories=())))
@settings(max_examples=300)
def test_visible_text_drops_exactly_the_characters_a_reader_does_not_see(text: str) -> None:
    from threatdelta.encoding import hidden

    flat = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    shown = "".join(ch for ch in flat if ch == "\n" or not hidden(ch))
    assert inert(text, "visible") == shown


LINE_ALPHABET = st.one_of(
    HOSTILE_ALPHABET,
    st.sampled_from(
        [
            *(" ", "  ", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x7f", "\x85", "\xa0", "\u1680"),
            *("\u2000", "\u2028", "\u2029", "\u3000", "\u200e", "\ufeff", "\ue000", "\U000e0041"),
            *("\u115f", "\u1160", "\u3164", "\uffa0", "\u034f", "\u17b4", "\u17b5"),
            *("é", "→", "Ｗ", "٣", "gh-1", "Gh-٣", "WWW.", "wWw.x", "ugh-1", "awww.b"),
            *("Element e1001", "Flow f2 (A → B)", "x" * 70),
        ]
    ),
    st.characters(),
)
NEARLY_PLAIN = st.sampled_from(
    ["a", "Z", "9", " ", "  ", "é", "→", "\u3164", "\xa0", "(", "x" * 70]
)
"""Text that is mostly one visible line already, to reach the shortcuts' edges."""
_AROUND = st.lists(NEARLY_PLAIN, max_size=3).map("".join)
ONE_ACTIVE = st.tuples(
    _AROUND,
    st.sampled_from([*"!$&%~<>:@\\`*_{}[]()#+|", "www.", "WwW.", "gh-1", "gH-\u0663", "x:"]),
    _AROUND,
)
"""Plain text but for one thing markdown escaping acts on."""
LINES = st.one_of(
    st.lists(LINE_ALPHABET, max_size=16), st.lists(NEARLY_PLAIN, max_size=8), ONE_ACTIVE
).map("".join)


@given(LINES, st.integers(min_value=1, max_value=400))
@settings(max_examples=600)
def test_text_already_one_visible_line_is_taken_as_it_is_exactly_when_the_steps_keep_it(
    text: str, limit: int
) -> None:
    from threatdelta.render import escape

    assert escape._line(text, limit) == escape._made_line(text, limit)


@given(LINES, st.integers(min_value=1, max_value=400))
@settings(max_examples=600)
def test_markdown_that_no_step_acts_on_is_taken_as_it_is_and_labels_are_escaped_once(
    text: str, limit: int
) -> None:
    from threatdelta.render import escape

    line = escape._made_line(text, limit)
    for each in (text, line):
        assert escape._markdown(each) == escape._made_markdown(each)
    expected = escape._made_markdown(line)
    assert md(text, limit) == expected
    assert md(text, limit) == expected  # the second time from what was kept
