from __future__ import annotations

from tests.helpers import element, model

from threatdelta.review.diff import diff_models


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
