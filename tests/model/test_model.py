from __future__ import annotations

import math

from tests.helpers import element, model

from threatdelta.model.model import Control, SharedProps, frozen_props


def test_control_lookup_finds_each_control_and_none_for_unknown() -> None:
    controls = [Control(id=f"c{i}", name=f"Control {i}") for i in range(50)]
    m = model([element("a")], controls=controls)
    for c in controls:
        assert m.control(c.id) == c
    assert m.control("c7") is m.control("c7")
    assert m.control("missing") is None


def test_control_lookup_does_not_change_model_equality() -> None:
    first = model([element("a")], controls=[Control(id="k", name="Keys")])
    second = model([element("a")], controls=[Control(id="k", name="Keys")])
    assert first.control("k") is not None
    assert first == second


def test_shared_props_hands_out_one_mapping_per_distinct_property_set() -> None:
    shared = SharedProps()
    first = shared({"encrypted": True, "authenticated": False})
    again = shared({"encrypted": True, "authenticated": False})
    assert again is first
    assert first == frozen_props({"encrypted": True, "authenticated": False})
    assert list(first) == ["authenticated", "encrypted"]
    assert shared({"encrypted": False, "authenticated": False}) is not first
    assert shared({}) == {} and shared(None) == {}


def test_shared_props_keep_each_value_with_its_own_type() -> None:
    shared = SharedProps()
    values = [True, 1, 1.0, "1", -0.0, 0.0, 0, False, math.inf, None]
    for value in values:
        got = shared({"level": value})
        assert repr(got["level"]) == repr(value)
    nan = shared({"level": math.nan})["level"]
    assert isinstance(nan, float) and math.isnan(nan)
