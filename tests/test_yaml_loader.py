"""Tests for the bounded, position-keeping YAML loader."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from threatdelta.errors import InputError, Location
from threatdelta.yaml_loader import YamlDocument, block_load, load_yaml, quick_load, yaml11_reading

PARSERS = [pytest.param(False, id="default"), pytest.param(True, id="pure-python")]


def load(text: str | bytes, pure: bool = False, **limits: Any) -> YamlDocument:
    return load_yaml(text, "m.yaml", _pure=pure, **limits)


def error_of(text: str | bytes, pure: bool = False, **limits: Any) -> InputError:
    with pytest.raises(InputError) as info:
        load(text, pure, **limits)
    return info.value


def where(err: InputError) -> tuple[int | None, int | None]:
    assert err.location is not None
    assert err.location.path == "m.yaml"
    return err.location.line, err.location.column


# --- scalar resolution ---------------------------------------------------------------------


@pytest.mark.parametrize("pure", PARSERS)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("-.5", -0.5),
        ("2.", 2.0),
        ("1.0e+3", 1000.0),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("+.INF", math.inf),
    ],
)
def test_plain_scalars_resolve_per_yaml_12_core(text: str, expected: object, pure: bool) -> None:
    value = load(f"v: {text}\n", pure).data["v"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("pure", PARSERS)
def test_nan_is_a_float(pure: bool) -> None:
    value = load("v: .NaN\n", pure).data["v"]
    assert isinstance(value, float)
    assert math.isnan(value)


@pytest.mark.parametrize("pure", PARSERS)
@pytest.mark.parametrize(
    "text",
    [
        "yes", "Yes", "YES", "no", "No", "on", "On", "OFF", "off", "y", "Y", "n", "N",
        "0o17", "017", "-017", "1_000", "1:20", "1e3", "1.5e3", "-0x1F", "0b101",
        "2027-06-30", "2027-06-30T10:00:00Z", "tRuE", "nULL", ".", "=", "<<x",
    ],
)  # fmt: skip
def test_yaml_11_and_ambiguous_forms_stay_strings(text: str, pure: bool) -> None:
    assert load(f"v: {text}\n", pure).data["v"] == text


@pytest.mark.parametrize("pure", PARSERS)
def test_quoted_scalars_are_strings(pure: bool) -> None:
    data = load("a: 'true'\nb: \"1\"\nc: 'null'\nd: !!str 5\ne: ! 7\n", pure).data
    assert data == {"a": "true", "b": "1", "c": "null", "d": "5", "e": "7"}


@pytest.mark.parametrize("pure", PARSERS)
def test_standard_scalar_tags_are_checked(pure: bool) -> None:
    assert load("a: !!int 5\nb: !!float 2\nc: !!bool false\nd: !!null ''\n", pure).data == {
        "a": 5,
        "b": 2.0,
        "c": False,
        "d": None,
    }
    err = error_of("a: 1\nb: !!int yes\n", pure)
    assert where(err) == (2, 4)
    assert "'yes' is not a valid !!int" in err.message


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("yes", "a boolean"),
        ("Off", "a boolean"),
        ("0o17", "an octal number"),
        ("017", "an octal number"),
        ("019", "a number with a leading zero"),
        ("1_000", "a number with '_' separators"),
        ("1:20", "a base-60 number"),
        ("1e3", "a number with an unsigned exponent"),
        ("hello", None),
        ("2027-06-30", None),
        ("true", None),
    ],
)
def test_yaml11_reading_explains_ambiguous_strings(text: str, reading: str | None) -> None:
    assert yaml11_reading(text) == reading


# --- structure and positions -----------------------------------------------------------------

NESTED = """\
system: pump
elements:
  - id: a
    props: {x: 1, y: [10, 20]}
  - id: b
"""


@pytest.mark.parametrize("pure", PARSERS)
def test_locations_of_nodes_and_keys(pure: bool) -> None:
    doc = load(NESTED, pure)
    assert doc.data == {
        "system": "pump",
        "elements": [{"id": "a", "props": {"x": 1, "y": [10, 20]}}, {"id": "b"}],
    }
    assert doc.location([]) == Location("m.yaml", 1, 1)
    assert doc.location(["system"]) == Location("m.yaml", 1, 9)
    assert doc.location(["elements", 0]) == Location("m.yaml", 3, 5)
    assert doc.location(["elements", 0, "props", "y", 1]) == Location("m.yaml", 4, 27)
    assert doc.location(["elements", 1, "id"]) == Location("m.yaml", 5, 9)
    assert doc.key_location(["elements", 1, "id"]) == Location("m.yaml", 5, 5)
    assert doc.key_location(["elements", 0, "props", "y"]) == Location("m.yaml", 4, 19)


@pytest.mark.parametrize("pure", PARSERS)
def test_missing_nodes_fall_back_to_nearest_ancestor(pure: bool) -> None:
    doc = load(NESTED, pure)
    assert doc.location(["elements", 1, "name"]) == Location("m.yaml", 5, 5)
    assert doc.location(["elements", 7, "id"]) == Location("m.yaml", 3, 3)
    assert doc.location(["system", "deeper"]) == Location("m.yaml", 1, 9)
    assert doc.key_location(["elements", 1, "name"]) == Location("m.yaml", 5, 5)
    assert doc.key_location([]) == Location("m.yaml", 1, 1)


def test_alias_location_is_the_alias_and_its_children_follow_the_anchor() -> None:
    doc = load("base: &b {k: 1}\ncopy: *b\n")
    assert doc.data == {"base": {"k": 1}, "copy": {"k": 1}}
    assert doc.location(["copy"]) == Location("m.yaml", 2, 7)
    assert doc.location(["copy", "k"]) == Location("m.yaml", 1, 14)


def test_byte_order_mark_is_tolerated() -> None:
    doc = load(b"\xef\xbb\xbfa: 1\n")
    assert doc.data == {"a": 1}
    assert doc.location(["a"]) == Location("m.yaml", 1, 4)


def test_a_lone_scalar_document_is_allowed() -> None:
    assert load("--- just text\n").data == "just text"
    assert load("---\n").data is None


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pure", PARSERS)
@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file_is_an_error(text: str, pure: bool) -> None:
    err = error_of(text, pure)
    assert "empty" in err.message


@pytest.mark.parametrize("pure", PARSERS)
def test_second_document_is_an_error_at_its_start(pure: bool) -> None:
    err = error_of("a: 1\nb: 2\n---\nc: 3\n", pure)
    assert where(err) == (3, 1)
    assert "exactly one" in err.message


@pytest.mark.parametrize("pure", PARSERS)
def test_duplicate_key_is_reported_at_the_second_key(pure: bool) -> None:
    err = error_of("top:\n  a: 1\n  b: 2\n  a: 3\n", pure)
    assert where(err) == (4, 3)
    assert "duplicate key 'a'" in err.message


@pytest.mark.parametrize("pure", PARSERS)
def test_duplicate_key_in_flow_mapping(pure: bool) -> None:
    err = error_of("x: {k: 1, k: 2}\n", pure)
    assert where(err) == (1, 11)


@pytest.mark.parametrize("pure", PARSERS)
def test_merge_keys_are_refused(pure: bool) -> None:
    err = error_of("base: &b {a: 1}\nother:\n  <<: *b\n", pure)
    assert where(err) == (3, 3)
    assert "merge keys" in err.message


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert load("'<<': 1\n").data == {"<<": 1}


@pytest.mark.parametrize("pure", PARSERS)
@pytest.mark.parametrize(
    "text", ["? [a, b]\n: 1\n", "? {a: 1}\n: 1\n", "seq: &s [1]\nm:\n  *s : 2\n"]
)
def test_non_scalar_keys_are_refused(text: str, pure: bool) -> None:
    err = error_of(text, pure)
    assert "mapping key must be a plain value" in err.message


@pytest.mark.parametrize("pure", PARSERS)
def test_unsafe_tags_are_refused(pure: bool) -> None:
    err = error_of("ok: 1\nbad: !!python/object/apply:os.system ['true']\n", pure)
    assert where(err) == (2, 6)
    assert "'!!python/object/apply:os.system' is not supported" in err.message
    assert "not supported" in error_of("a: !custom x\n", pure).message
    assert "not supported" in error_of("a: !!set {x}\n", pure).message
    assert "not supported" in error_of("a: !!binary aGk=\n", pure).message


@pytest.mark.parametrize("pure", PARSERS)
def test_syntax_errors_carry_the_parser_position(pure: bool) -> None:
    err = error_of("a: 1\nb: [1, 2\nc: 3\n", pure)
    assert err.message.startswith("YAML syntax error: ")
    assert err.location is not None and err.location.line is not None
    err = error_of("a: 1\n  b: 2\n", pure)
    assert where(err) == (2, 4)
    assert "mapping values are not allowed" in err.message


def test_bad_utf8_is_reported_with_its_position() -> None:
    err = error_of(b"a: 1\nb: caf\xe9\n")
    assert where(err) == (2, 7)
    assert "not valid UTF-8" in err.message


def test_lone_surrogate_in_text_is_reported() -> None:
    err = error_of("a: 1\nb: x\ud800\n")
    assert where(err) == (2, 5)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_utf16_and_utf32_text_is_read(codec: str) -> None:
    assert load("a: 1\nb: café\n".encode(codec)).data == {"a": 1, "b": "café"}


def test_bad_utf16_is_reported_with_its_position() -> None:
    data = "a: 1\nb: x".encode("utf-16") + b"\x00\xd8" + "y\n".encode("utf-16-le")
    err = error_of(data)
    assert where(err) == (2, 5) and "not valid UTF-16-LE" in err.message


@pytest.mark.parametrize("pure", PARSERS)
def test_forbidden_control_character_is_reported(pure: bool) -> None:
    err = error_of("name: é\nb: x\x07\n", pure)
    assert where(err) == (2, 5)
    assert "#x0007" in err.message


@pytest.mark.parametrize("pure", PARSERS)
def test_undefined_and_recursive_aliases(pure: bool) -> None:
    err = error_of("a: 1\nb: *nowhere\n", pure)
    assert where(err) == (2, 4)
    assert "no anchor" in err.message
    err = error_of("a: &x\n  - 1\n  - *x\n", pure)
    assert where(err) == (3, 5)
    assert "recursive" in err.message


# --- limits ------------------------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [
        f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)


@pytest.mark.parametrize("pure", PARSERS)
def test_billion_laughs_fails_at_the_alias_that_crosses_the_limit(pure: bool) -> None:
    err = error_of(BILLION_LAUGHS, pure)
    assert "too many nodes / aliases" in err.message
    # 9**7 nodes are reached inside line 7 (key g); each *f expands to 1 + 9 + ... + 9**6 nodes.
    assert err.location is not None and err.location.line == 7


def test_node_limit_counts_alias_expansions() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    # root, key a, [1, 2, 3] (4), key b, its sequence, 2 x 4 through the aliases = 16
    assert load(text, max_nodes=16).data["b"] == [[1, 2, 3], [1, 2, 3]]
    err = error_of(text, max_nodes=15)
    assert where(err) == (2, 9)


def test_node_limit_without_aliases() -> None:
    err = error_of("[1, 2, 3, 4]\n", max_nodes=4)
    assert where(err) == (1, 11)


@pytest.mark.parametrize("pure", PARSERS)
def test_depth_limit(pure: bool) -> None:
    assert load("[" * 64 + "]" * 64, pure).data is not None
    err = error_of("[" * 65 + "]" * 65, pure)
    assert where(err) == (1, 65)
    assert "deeper than 64" in err.message
    err = error_of("a:\n  b:\n    c: 1\n", pure, max_depth=2)
    assert where(err) == (3, 5)


def test_depth_limit_counts_alias_expansion() -> None:
    text = "a: &x [[[1]]]\nb: [[*x]]\n"
    assert load(text, max_depth=6).data["b"] == [[[[[1]]]]]
    err = error_of(text, max_depth=5)
    assert where(err) == (2, 6)


@pytest.mark.parametrize("pure", PARSERS)
def test_very_deep_input_fails_cleanly(pure: bool) -> None:
    # Either our limit or the parser's own nesting limit answers first; both are clean errors.
    err = error_of("[" * 100_000, pure)
    assert "deeper than" in err.message or "nesting depth" in err.message
    assert where(err)[0] == 1


def test_size_limit() -> None:
    err = error_of(b"a: " + b"x" * 100, max_bytes=50)
    assert err.location == Location("m.yaml")
    assert "more than the limit of 50" in err.message
    assert "limit" in error_of("é" * 30, max_bytes=50).message


def test_parsers_agree_on_a_mixed_document() -> None:
    text = NESTED + "flags: [yes, true, 0x10, 017, 1.5, ~, 'q']\nanchor: &z {k: v}\nref: *z\n"
    fast, pure = load(text), load(text, pure=True)
    assert fast.data == pure.data
    pointers: list[list[str | int]] = [["flags", 3], ["ref", "k"], ["elements", 0, "props", "y", 0]]
    for pointer in pointers:
        assert fast.location(pointer) == pure.location(pointer)


# --- the quick builder and the strict one agree ----------------------------------------------

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*/threatmodel.yaml"))


def outcome(text: str, **kwargs: Any) -> tuple[str, Any]:
    """What a reader gets: the data (as its repr, so 1, 1.0, True and nan are told apart) or
    the error as the user sees it."""
    try:
        return "data", repr(load(text, **kwargs).data)
    except InputError as err:
        return "error", str(err)


def pointers_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[list[Any]]:
    found = [list(prefix)]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(pointers_of(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(pointers_of(item, (*prefix, index)))
    return found


def shallow(pos: Any, depth: int = 0) -> Any:
    """The strict builder's position tree cut to the quick builder's two levels."""
    if pos is None:
        return None
    line, column, children = pos
    if depth >= 2 or children is None:
        return (line, column, None)
    if isinstance(children, list):
        return (line, column, [shallow(p, depth + 1) for p in children])
    return (
        line,
        column,
        {k: (kl, kc, shallow(p, depth + 1)) for k, (kl, kc, p) in children.items()},
    )


_FRAGMENT_KEYS = st.sampled_from(
    ["a", "b", "id", "1", "0x1F", "~", "null", "true", "yes", "<<", "'a'", '"b"', "? c", "[x]",
     "&k a", "!!str d", "a b", "1e3", "-", ""]
)  # fmt: skip
_FRAGMENT_VALUES = st.sampled_from(
    ["x", "1", "-7", "+3", "0x1F", "017", "0o17", "1_000", "1e3", "1.0e+3", "1.5", ".5", ".inf",
     "-.Inf", ".nan", "~", "null", "Null", "", "true", "False", "yes", "on", "1:20", "'q'",
     '"d\\u00e9"', '"\\ud800"', "|\n  block\n", ">\n  folded\n", "[1, a, ~]", "{k: v, k2: 2}",
     "{k: v, k: w}", "&a [1]", "*a", "!!int 3", "!!str 4", "!custom x", "[", "'open", "- i",
     "\n  - 1\n  - two", "\n  n: 1\n  m: [2]", "\n  - {id: e}\n  - [z]", "x" * 120, "9" * 120,
     "1" * 5000, "#c", "@x", "%x", "\t", "a: b: c"]
)  # fmt: skip
_LINES = st.lists(
    st.tuples(st.sampled_from(["", "  ", "- ", "---\n", "  - "]), _FRAGMENT_KEYS, _FRAGMENT_VALUES),
    max_size=8,
)


def _text(lines: list[tuple[str, str, str]]) -> str:
    return "".join(f"{indent}{key}: {value}\n" for indent, key, value in lines)


_LIMITS = st.sampled_from(
    [{}, {"max_items": 2}, {"max_depth": 2}, {"max_nodes": 6}, {"max_items": 1, "max_depth": 3}]
)


@settings(max_examples=800, deadline=None)
@given(_LINES, _LIMITS)
def test_quick_and_strict_builders_give_the_same_data_or_error(
    lines: list[Any], limits: dict[str, int]
) -> None:
    text = _text(lines)
    strict = outcome(text, _quick=False, **limits)
    assert outcome(text, **limits) == strict
    quick = quick_load(text, **limits)
    if quick is None:
        return
    assert strict == ("data", repr(quick[0]))
    doc = load(text, _quick=False, **limits)
    assert quick[1] == shallow(doc._positions)


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(-2, 2)), inner, max_size=4),
    ),
    max_leaves=20,
), st.sampled_from([None, True, False]))  # fmt: skip
def test_quick_builder_reads_dumped_data_like_the_strict_one(data: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    strict = outcome(text, _quick=False)
    assert outcome(text) == strict
    if strict[0] == "data":
        quick, full = load(text), load(text, _quick=False)
        for pointer in pointers_of(full.data):
            assert quick.location(pointer) == full.location(pointer)
            assert quick.key_location(pointer) == full.key_location(pointer)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_models_take_the_quick_path_and_keep_every_location(path: Path) -> None:
    text = path.read_text("utf-8")
    assert quick_load(text) is not None
    quick, full = load(text), load(text, _quick=False)
    assert quick.data == full.data
    pointers = pointers_of(full.data)
    assert len(pointers) > 100
    for pointer in [*pointers, ["elements", 10**6], ["nowhere", 0, "x"], ["elements", "x"]]:
        assert quick.location(pointer) == full.location(pointer)
        assert quick.key_location(pointer) == full.key_location(pointer)
    for doc in (quick, full):
        for section, items in full.data.items():
            count = len(items) if isinstance(items, list) else 3
            expected = [full.location([section, index]) for index in range(count)]
            assert doc.item_locations([section], count) == expected


@pytest.mark.parametrize("quick", [True, False])
def test_item_locations_are_the_locations_of_each_index(quick: bool) -> None:
    doc = load("a:\n  - x\n  - {k: v}\nb: {c: [1, 2]}\n", _quick=quick)
    assert doc.item_locations(["a"], 2) == [Location("m.yaml", 2, 5), Location("m.yaml", 3, 5)]
    assert doc.item_locations(["a"], 3)[2] == doc.location(["a"])  # no such item: the list
    assert doc.item_locations(["b", "c"], 2) == [
        Location("m.yaml", 4, 9),
        Location("m.yaml", 4, 12),
    ]
    assert doc.item_locations(["z"], 1) == [Location("m.yaml", 1, 1)]


def test_a_located_error_deep_in_a_quickly_read_document() -> None:
    doc = load("a:\n  b:\n    - {c: [1, 2]}\n")
    assert doc.location(["a", "b"]) == Location("m.yaml", 3, 5)
    assert doc.location(["a", "b", 0, "c", 1]) == Location("m.yaml", 3, 15)
    assert doc.key_location(["a", "b", 0, "c"]) == Location("m.yaml", 3, 8)


# --- the block reader and the strict builder agree ---------------------------------------------

_SAFE_KEYS = ["a", "id", "name", "b:c", "'q k'", '"d e"', "x-1", "e1>f@g", "1", "0x1F", "~",
              "false", "yes", "-x", "+y", "a.b", "n", "T"]  # fmt: skip
_TRICKY_KEYS = ["x y", "..a", "...", "a#b", "<<", "? k", "[k]", "{k: v}", "&a k", "!t k", "*a",
                "'a''b'", '"a\\tb"', "a: b", "", "-", "%k", "@k", "k "]  # fmt: skip
_SAFE_SCALARS = ["x", "Element e1", "flow", "1", "-7", "+3", "0x1F", "017", "0o17", "1_000",
                 "1e3", "1.0e+3", "1.5", ".5", ".inf", "-.Inf", ".nan", "~", "null", "Null",
                 "true", "False", "yes", "on", "1:20", "'q'", "''", '"d"', '""', "'a: b # c'",
                 '"x, y"', "a#b", "a, b", "it's", "a [b] {c}", "x -y", "http://h/p?q=1",
                 "{k: v, k2: 2}", "{}", "[]", "[1, a, ~]", "[a#b, 'c d', \"e\"]",
                 "{a: true, b: null}", "é ü", "x" * 120]  # fmt: skip
_TRICKY_SCALARS = ["9" * 120, "a #b", "a:", "a: b", "- x", "-", "?x", ":x", "&a x", "*a", "!!str s",
                   "!x s", "|", ">-", "'open", '"d\\u00e9"', '"\\ud800"', "'a''b'", "{k: v, k: w}",
                   "[a, [b]]", "{a: {b: c}}", "{a: 1,}", "{a:1}", "[a,b]", "@x", "`x", "%x",
                   "a\u00a0b", "a\u2028b", "a\u0085b", "\ufeffa", "a\tb", "1" * 5000, "x " * 3,
                   "[a, b] c", "@", "#", "a ,b", "a::b", "a:b", "-1", "-.5", "- "]  # fmt: skip
_NOISE = ["# note", "", "   ", "---", "...", "%YAML 1.2", "  continued", "\t", "- - x",
          "key: &a x", "- *a", "? complex", "a: |", "  text"]  # fmt: skip


_FOLDED_TEXTS = ["An attacker presents", "x", "a: b", "- x", "# not a comment", "it's", "é ü",
                 'say "hi"', "back\\slash", "'q' \"d\"", "{a: b}", "[x, y]", "a #b", "1",
                 "true", "~", "&a x", "*a", "!t x", "%x", "@x", "`x", "? k", "k: >-", "x" * 90]  # fmt: skip
_FOLDED_HEADS = [">", "|-", "|", ">-2", ">- # c", ">-  ", ">+", ">-1"]
_FOLDED_TRICKS = ["blank", "spaces", "trail", "deeper", "shallower", "lead", "empty", "quotes"]
_FOLDED_SCALARS = ["x", "Element e1", "1", "-7", "true", "~", "'q'", '"d"', "a#b", "é ü", "{}"]
_FOLDED_NOISE = ["# note", "", "  ", "k: v", "- x", "  # c", "    # c", "---"]


def _folded_lines(draw: st.DrawFn, key_column: int, trick: str | None) -> list[str]:
    """The lines below ``key: >-`` for a key at ``key_column``, with ``trick``: one thing that
    YAML reads otherwise, or that the block reader leaves to the other builders."""
    inner = key_column + draw(st.integers(1, 3))
    texts = _FOLDED_TEXTS
    if trick != "quotes":  # text that one kind of quotes can hold
        texts = (
            [t for t in texts if "'" not in t]
            if draw(st.booleans())
            else [t for t in texts if '"' not in t and "\\" not in t]
        )
    chosen = draw(st.lists(st.sampled_from(texts), min_size=1, max_size=3))
    lines = [" " * inner + t for t in chosen]
    where = draw(st.integers(0, len(lines)))
    if trick == "blank":
        lines.insert(where, "")
    elif trick == "spaces":
        lines.insert(where, " " * draw(st.integers(1, inner + 2)))
    elif trick == "trail":
        lines[where % len(lines)] += " "
    elif trick == "deeper":
        lines[where % len(lines)] = " " + lines[where % len(lines)]
    elif trick == "shallower":
        lines.insert(max(where, 1), " " * draw(st.integers(key_column, inner - 1)) + "x")
    elif trick == "lead":
        lines.insert(0, "")
    elif trick == "empty":
        lines = []
    elif draw(st.booleans()):
        lines.append("")  # blank lines after the text are dropped
    return lines


@st.composite
def _folded_documents(draw: st.DrawFn) -> tuple[str, bool]:
    """YAML text with folded text (``key: >-``) in mappings at every level, in list items and
    in lists at the root; and whether one thing in it (``trick``) may make it read otherwise or
    be left to the other builders."""
    trick = draw(st.sampled_from([None, None, *_FOLDED_TRICKS, "head", "noise"]))
    used = [False]
    lines: list[str] = []

    def now() -> bool:
        if trick is None or used[0] or not draw(st.booleans()):
            return False
        used[0] = True
        return True

    def mapping(indent: int, first: str, depth: int) -> None:
        names = draw(st.lists(st.sampled_from(_ITEM_KEYS), min_size=1, max_size=4, unique=True))
        for index, name in enumerate(names):
            start = first if index == 0 else " " * indent
            kinds = ["scalar", "folded", "folded", "map", "list"] if depth < 3 else ["folded"]
            kind = draw(st.sampled_from(kinds))
            if kind == "scalar":
                lines.append(f"{start}{name}: {draw(st.sampled_from(_FOLDED_SCALARS))}")
            elif kind == "folded":
                head = draw(st.sampled_from(_FOLDED_HEADS)) if trick == "head" and now() else ">-"
                lines.append(f"{start}{name}: {head}")
                folding = trick if trick in _FOLDED_TRICKS and now() else None
                lines.extend(_folded_lines(draw, indent, folding))
            elif kind == "map":
                lines.append(f"{start}{name}:")
                mapping(indent + 2, " " * (indent + 2), depth + 1)
            else:
                lines.append(f"{start}{name}:")
                items(indent + draw(st.sampled_from([0, 2])), depth + 1)

    def items(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 3))):
            prefix = " " * indent + "- "
            if draw(st.sampled_from([True, True, False])):
                mapping(len(prefix), prefix, depth + 1)
            else:
                lines.append(prefix + draw(st.sampled_from(_FOLDED_SCALARS[:-1])))

    if draw(st.sampled_from([False, False, True])):
        items(0, 0)
    else:
        mapping(0, "", 0)
    if trick == "noise" and now():
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(_FOLDED_NOISE)))
    return "\n".join(lines) + "\n", used[0]


@st.composite
def _block_documents(draw: st.DrawFn, tricky: bool) -> str:
    """YAML text in the block style models are written in (``tricky``: with values, keys and
    lines the block reader must hand over to the other builders)."""
    keys = st.sampled_from(_SAFE_KEYS)
    scalars = st.sampled_from(_SAFE_SCALARS)
    if tricky:  # now and then, so that one tricky thing at a time decides
        keys = st.one_of(*[keys] * 12, st.sampled_from(_TRICKY_KEYS))
        scalars = st.one_of(*[scalars] * 8, st.sampled_from(_TRICKY_SCALARS))
    step = draw(st.integers(1, 4))
    after_dash = draw(st.sampled_from([" ", " ", "  ", "   "]))
    after_colon = draw(st.sampled_from([" ", " ", "  "]))
    compact = draw(st.booleans())
    trailing = st.sampled_from(["", "", "  "])
    lines: list[str] = []

    def key_list(least: int) -> list[str]:
        return draw(st.lists(keys, min_size=least, max_size=3, unique=not tricky))

    def value(indent: int, depth: int, first: str) -> None:
        """Write the value of ``first`` (a line's start, ending ``key:``) at ``indent``."""
        kinds = ["scalar", "scalar", "map", "seq"] if depth < 4 else ["scalar"]
        kind = draw(st.sampled_from(kinds))
        if kind == "scalar":
            text = draw(scalars)
            if depth == 0 and not tricky and text[0] in "[{":
                text = text[0] + text[-1]  # no positions inside a flow collection this high
            lines.append(first + after_colon + text + draw(trailing))
            return
        lines.append(first)
        if kind == "map":
            for key in key_list(0 if tricky else 1):
                value(indent + step, depth + 1, " " * (indent + step) + key + ":")
            return
        inner = indent if compact else indent + step
        for _ in range(draw(st.integers(0 if tricky else 1, 3))):
            item(inner, depth + 1)

    def item(indent: int, depth: int) -> None:
        prefix = " " * indent + "-" + after_dash
        if draw(st.booleans()):  # a mapping as the item, its first key on the dash line
            first, *others = key_list(1)
            value(len(prefix), depth + 1, prefix + first + ":")
            for key in others:
                value(len(prefix), depth + 1, " " * len(prefix) + key + ":")
        else:
            text = draw(scalars)
            if depth == 0 and not tricky and text[0] in "[{":
                text = text[0] + text[-1]  # (an item of a list at the root)
            lines.append(prefix + text + draw(trailing))

    if draw(st.sampled_from([False, False, False, True])):  # a list at the root
        for _ in range(draw(st.integers(1, 3))):
            item(0, 0)
    else:
        for key in key_list(1):
            value(0, 0, key + ":")
    noise = st.sampled_from(_NOISE if tricky else ["# note", "", "  "])
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        lines.insert(draw(st.integers(0, len(lines))), draw(noise))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n"]))


def _check_block_reader(text: str, limits: dict[str, int]) -> bool:
    """The default load and the strict builder agree; when the block reader takes the text,
    its data and positions are the strict builder's. True when it took the text."""
    strict = outcome(text, _quick=False, **limits)
    assert outcome(text, **limits) == strict
    every = block_load(text, **limits, _everywhere=True)  # (a re-read for positions)
    if every is not None:
        assert strict == ("data", repr(every[0]))
        assert every[1] == load(text, _quick=False, **limits)._positions
    block = block_load(text, **limits)
    if block is None:
        return False
    assert strict == ("data", repr(block[0]))
    assert block[1] == shallow(load(text, _quick=False, **limits)._positions)
    return True


@settings(max_examples=1500, deadline=None)
@given(_block_documents(tricky=True), _LIMITS)
def test_block_reader_gives_the_strict_builders_data_or_hands_over(
    text: str, limits: dict[str, int]
) -> None:
    _check_block_reader(text, limits)


@settings(max_examples=400, deadline=None)
@given(_block_documents(tricky=False))
def test_block_reader_takes_plain_block_documents(text: str) -> None:
    assert _check_block_reader(text, {})


_FOLDED_LIMITS = st.one_of(
    st.just({}),
    st.just({}),
    st.builds(dict, max_items=st.integers(1, 4)),
    st.builds(dict, max_depth=st.integers(0, 5)),
    st.builds(dict, max_nodes=st.integers(1, 60)),
)


@settings(max_examples=1500, deadline=None)
@given(_folded_documents(), _FOLDED_LIMITS)
def test_block_reader_reads_folded_text_as_the_strict_builder(
    document: tuple[str, bool], limits: dict[str, int]
) -> None:
    """Folded text (and lists at the root) read as the strict builder reads them; a document
    without a trick in it is taken whole, within the limits."""
    text, tricked = document
    taken = _check_block_reader(text, limits)
    if not tricked and not limits:
        assert taken


_AT_THE_LIMITS = [
    "s:\n- a: 1\n- a: 1\n  b: 2\n  c: 3\n  d: 4\n- a: 1\n",
    "a:\n  - id: x\n    p: {k: v}\n  - id: y\n    p: [q]\n    n: 2\n  - id: z\nb: 1\n",
    "a: 1\nb:\n  - x\n  - {k: v, l: 2}\n  - id: e\n    p: [q, r, s]\nc: []\n",
    "s:\n- a: 1\n  b: 2\n- c:\n    d: e\nt: {}\n",
    "m:\n  k1:\n    s: open\n    c: [x]\n  k2: {s: 'y'}\n",
    "r:\n  x:\n    - 1\n    - 2\n    - 3\n  y: 1\n",
    "s:\n- a: 1\n- b: 2\n",
    "a:\n  - [1, 2, 3]\n  - {k: 1, l: 2, m: 3}\n",
]


_PACK_FILES = sorted(
    (Path(__file__).parents[1] / "src" / "threatdelta" / "rules" / "builtin").glob("*.yaml")
)


@pytest.mark.parametrize("path", [*EXAMPLES, *_PACK_FILES], ids=lambda p: p.name)
def test_the_examples_and_the_built_in_pack_are_read_again_for_positions_by_the_block_reader(
    path: Path,
) -> None:
    text = path.read_text("utf-8")
    every = block_load(text, _everywhere=True)
    assert every is not None
    assert every[1] == load(text, _quick=False)._positions


@pytest.mark.parametrize("text", _AT_THE_LIMITS)
def test_block_reader_keeps_to_the_limits_exactly(text: str) -> None:
    assert block_load(text) is not None
    for limit in ("max_nodes", "max_items", "max_depth"):
        for value in range(1, 30):
            _check_block_reader(text, {limit: value})


_ITEM_KEYS = ["id", "name", "type", "n", "true", "null", "x_1", "A", "p"]
_ITEM_VALUES = [
    *_SAFE_SCALARS,
    "Flow f1",
    "e12",
    "network",
    "{a: 1, b: c}",
    "[x, 'y z']",
    "{}",
    "[]",
]
_ITEM_TRICKY = ["a #b", "'open", "{k: v, k: w}", "[a, [b]]", "a: b", "{a: 1,}", "-", "-_x", "@x",
                "9" * 120, "*a", "!t x", "|", "a\u00a0b", "{a: {b: c}}"]  # fmt: skip


_ITEM_TRICKS = ["dash", "repeat", "block", "list", "gap", "trail", "noise", "value"]


@st.composite
def _item_documents(draw: st.DrawFn) -> str:
    """YAML text made mostly of lists of flat items (``- key: value`` and ``key: value`` lines
    two columns in), which the block reader reads a list at a time. Most documents have, now
    and then, one kind of thing the reader must see in the middle of a list: a wider dash, a
    repeated key, a nested block or list, a wider gap after the colon, trailing spaces, a
    comment, blank line or scalar item, a tricky value."""
    trick = draw(st.sampled_from([None, *_ITEM_TRICKS]))
    values = st.sampled_from(_ITEM_VALUES)
    if trick == "value":
        values = st.one_of(*[values] * 10, st.sampled_from(_ITEM_TRICKY))
    keys = st.sampled_from(_ITEM_KEYS)

    def now(kind: str) -> bool:
        return trick == kind and draw(st.sampled_from([False, False, False, True]))

    lines: list[str] = []

    def items(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 6))):
            dash = "-  " if now("dash") else "- "
            pad = " " * (indent + len(dash))
            names = draw(st.lists(keys, min_size=1, max_size=4, unique=True))
            if now("repeat"):
                names.insert(draw(st.integers(0, len(names))), draw(st.sampled_from(names)))
            for index, name in enumerate(names):
                start = " " * indent + dash if index == 0 else pad
                if depth < 3 and now("block"):
                    lines.append(f"{start}{name}:")
                    for inner in draw(st.lists(keys, min_size=1, max_size=2, unique=True)):
                        lines.append(f"{pad}  {inner}: {draw(values)}")
                elif depth < 3 and now("list"):
                    lines.append(f"{start}{name}:")
                    items(len(pad) + draw(st.sampled_from([0, 2])), depth + 1)
                else:
                    gap = "  " if now("gap") else " "
                    trail = "  " if now("trail") else ""
                    lines.append(f"{start}{name}:{gap}{draw(values)}{trail}")
            if now("noise"):
                noise = draw(st.sampled_from(["# note", "", "- x", "  # deeper"]))
                lines.append(noise if noise in ("", "# note") else " " * indent + noise)

    sections = draw(st.lists(st.sampled_from(["s", "t", "u"]), min_size=1, max_size=3, unique=True))
    for section in sections:
        if draw(st.sampled_from([False] * 5 + [True])):
            lines.append(f"{section}: {draw(values)}")
            continue
        lines.append(f"{section}:")
        items(draw(st.sampled_from([0, 2, 4])), 1)
    return "\n".join(lines) + "\n"


_ITEM_LIMITS = st.one_of(
    st.just({}),
    st.builds(dict, max_items=st.integers(1, 4)),
    st.builds(dict, max_depth=st.sampled_from([1, 2, 3, 3, 3, 4, 4, 5])),
    st.builds(dict, max_nodes=st.integers(1, 80)),
)


@settings(max_examples=1500, deadline=None)
@given(_item_documents(), _ITEM_LIMITS)
def test_block_reader_reads_lists_of_flat_items_as_line_by_line(
    text: str, limits: dict[str, int]
) -> None:
    whole = block_load(text, **limits)
    by_line = block_load(text, **limits, _whole_items=False)
    if by_line is None:
        assert whole is None
    else:
        assert whole is not None
        assert (repr(whole[0]), whole[1]) == (repr(by_line[0]), by_line[1])
    _check_block_reader(text, limits)


def test_flat_items_share_one_object_per_value_and_flow_collection() -> None:
    doc = load("a:\n  - id: x\n    p: {k: 1}\n  - id: y\n    p: {k: 1}\n  - id: z\n    q: x\n")
    items = doc.data["a"]
    assert items[0]["p"] is items[1]["p"] == {"k": 1}
    assert items[2]["q"] is items[0]["id"]


def test_identical_one_line_flow_collections_are_read_as_one_object() -> None:
    doc = load(
        "a:\n  - p: {x: 1, y: true}\n  - p: {x: 1, y: true}\n  - p: {x: 1}\n  - [q]\n  - [q]\n"
    )
    items = doc.data["a"]
    assert items[0]["p"] is items[1]["p"]
    assert items[2]["p"] == {"x": 1} and items[3] is items[4]


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16"])
def test_deep_locations_of_a_quickly_read_file_are_found_from_its_bytes(codec: str) -> None:
    text = "a:\n  - id: x\n    deep:\n      k: [1, 2]\n"
    doc = load(text.encode(codec))
    assert doc.data == {"a": [{"id": "x", "deep": {"k": [1, 2]}}]}
    assert doc.location(["a", 0, "deep", "k", 1]) == Location("m.yaml", 4, 14)
    assert doc.key_location(["a", 0, "deep", "k"]) == Location("m.yaml", 4, 7)


def test_loading_leaves_the_collector_as_it_was() -> None:
    import gc

    before = gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()
    assert load("a:\n  - b: 1\n").data == {"a": [{"b": 1}]}
    assert load("a: &x 1\nb: *x\n").data == {"a": 1, "b": 1}
    assert (gc.get_threshold(), gc.get_freeze_count(), gc.isenabled()) == before
