from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers import element, model

from threatdelta.review.diff import _field_changes, _lookup, diff_models


def test_fields_of_returns_only_that_items_changes() -> None:
    base = model([element("a", name="A"), element("b", name="B"), element("c", name="C")])
    head = model([element("a", name="A2"), element("b", name="B2"), element("c", name="C")])
    diff = diff_models(base, head)
    assert [(f.id, f.field, f.old, f.new) for f in diff.fields_of("elements", "a")] == [
        ("a", "name", "A", "A2")
    ]
    assert [f.new for f in diff.fields_of("elements", "b")] == ["B2"]
    assert diff.fields_of("elements", "c") == ()
    assert diff.fields_of("flows", "a") == ()
    every = [f for kind in ("elements",) for i in "abc" for f in diff.fields_of(kind, i)]
    assert every == [f for f in diff.fields if f.kind == "elements"]


def test_a_value_that_changes_type_but_not_python_equality_is_a_change() -> None:
    base = model([element("a", level=1, modes=[False], steps=[0, 1])])
    head = model([element("a", level=True, modes=[0], steps=[0, 1.0])])
    diff = diff_models(base, head)
    assert [(f.field, f.old, f.new) for f in diff.fields_of("elements", "a")] == [
        ("properties.level", 1, True),
        ("properties.modes", [False], [0]),
        ("properties.steps", [0, 1], [0, 1.0]),
    ]


@pytest.mark.parametrize(("before", "after"), [(1, True), (False, 0), (1, 1.0), ("x", "x")])
def test_a_scalar_property_alone_is_compared_with_its_type(before: object, after: object) -> None:
    base = model([element("a", level=before, name="n")])
    head = model([element("a", level=after, name="n")])
    changed = type(before) is not type(after)
    assert diff_models(base, head).items["elements"].changed == (("a",) if changed else ())


# Field changes, held against deepdiff (a test-only oracle): the names it reports, cut as the
# diff cuts them (properties by name, lists and anything deeper whole).
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([0.0, 1.0, 2.5]),
    st.text("ab", max_size=2),
)
# deepdiff does not see ``true`` become ``1``, nor ``0`` become ``0.0``, inside a list (the diff
# does, and the tests above pin it), so the oracle's lists hold no booleans and no float equal
# to an integer.
_list_scalars = st.one_of(
    st.none(), st.integers(-2, 2), st.sampled_from([2.5, -0.5]), st.text("ab", max_size=2)
)
_values = st.one_of(_scalars, st.lists(_list_scalars, max_size=3))
_items = st.fixed_dictionaries(
    {
        "name": st.text("ab", max_size=2),
        "kind": _scalars,
        "data": st.lists(st.text("ab", max_size=1), max_size=3),
        "properties": st.dictionaries(st.sampled_from("pqr"), _values, max_size=3),
    }
)


def _deepdiff_names(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    from deepdiff import DeepDiff

    names = set()
    for items in DeepDiff(old, new, view="tree", ignore_order=False).values():
        for item in items:
            cut = [p for p in item.path(output_format="list") if isinstance(p, str)]
            if cut:
                names.add(".".join(cut[:2]) if cut[0] == "properties" else cut[0])
    return sorted(names)


@settings(max_examples=300, deadline=None)
@given(old=_items, new=_items)
def test_field_changes_name_what_deepdiff_finds(old: dict[str, Any], new: dict[str, Any]) -> None:
    changes = _field_changes("elements", {"x": old}, {"x": new})
    expected = _deepdiff_names(old, new)
    assert sorted(c.field for c in changes) == expected
    for change in changes:
        assert (change.old, change.new) == (
            _lookup(old, change.field),
            _lookup(new, change.field),
        )
