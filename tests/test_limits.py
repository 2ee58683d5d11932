"""The limits every reader holds input to, and the messages that name them."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from threatdelta import limits
from threatdelta.errors import InputError, Location


def _locate(pointer: Any) -> Location:
    return Location("m.json", len(pointer) + 1, 1)


def error_of(data: Any) -> InputError:
    with pytest.raises(InputError) as info:
        limits.check_data(data, _locate)
    return info.value


def test_plain_data_within_the_limits_passes() -> None:
    limits.check_data({"a": [1, "two", {"b": None}], "c": 3.5}, _locate)


def test_nesting_beyond_the_limit_is_refused_where_it_goes_too_deep() -> None:
    data: Any = "leaf"
    for _ in range(limits.MAX_NESTING + 1):
        data = [data]
    err = error_of(data)
    assert "nesting is deeper than" in err.message
    assert err.location == Location("m.json", limits.MAX_NESTING + 1, 1)


def test_a_lone_surrogate_in_a_value_or_a_key_is_refused() -> None:
    assert "unpaired UTF-16 surrogate" in error_of({"a": ["ok", "x\ud800"]}).message
    assert "this key" in error_of({"\udfff": 1}).message


def test_an_overlong_string_is_refused_with_its_length() -> None:
    err = error_of({"name": "x" * (limits.MAX_STRING_CHARS + 1)})
    assert f"{limits.MAX_STRING_CHARS + 1} characters" in err.message
    limits.check_data({"name": "x" * limits.MAX_STRING_CHARS}, _locate)


def test_a_list_with_too_many_items_is_refused() -> None:
    err = error_of({"elements": [1] * (limits.MAX_ITEMS + 1)})
    assert f"holds {limits.MAX_ITEMS + 1} items" in err.message


def test_size_and_count_messages_name_the_limit() -> None:
    limits.check_size(limits.MAX_FILE_BYTES, "m.yaml")
    with pytest.raises(InputError, match="16 MiB"):
        limits.check_size(limits.MAX_FILE_BYTES + 1, "m.yaml")
    with pytest.raises(InputError, match=f"{limits.MAX_ELEMENTS + 1} elements; at most"):
        limits.check_model_counts(limits.MAX_ELEMENTS + 1, 0, 0, Location("m.yaml"))


_SMALL = {"MAX_NESTING": 3, "MAX_ITEMS": 3, "MAX_NODES": 12, "MAX_STRING_CHARS": 4}
_DATA = st.recursive(
    st.one_of(
        st.none(),
        st.integers(),
        st.sampled_from(["", "abcd", "abcde", "é", "x\ud800", "\udfff", "日本語"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.sampled_from(["k", "long-key", "\ud800", "é"]), inner, max_size=4),
    ),
    max_leaves=20,
)


def _outcome(data: Any, walk_only: bool) -> str | None:
    patches: dict[str, Any] = dict(_SMALL)
    if walk_only:
        patches["_within_limits"] = lambda value: False
    with mock.patch.multiple(limits, **patches):
        try:
            limits.check_data(data, _locate)
        except InputError as err:
            return str(err)
    return None


@settings(max_examples=400, deadline=None)
@given(_DATA)
@example({"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2]})  # 12 values: at the limit
@example({"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2, 3]})  # 13 values: one too many
@example([[["abcd"]]])  # as deep as allowed
@example([[[["abcd"]]]])  # one level too deep
def test_the_quick_check_and_the_located_walk_agree(data: Any) -> None:
    # The quick check (no pointers) decides for data within the limits; whenever it has a doubt
    # the walk reports, so the message is the walk's.
    assert _outcome(data, walk_only=False) == _outcome(data, walk_only=True)
    with mock.patch.multiple(limits, **_SMALL):
        assert limits._within_limits(data) == (_outcome(data, walk_only=True) is None)
