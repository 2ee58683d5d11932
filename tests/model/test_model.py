from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from tests.helpers import element, model

from threatdelta.errors import Location
from threatdelta.model.model import (
    _REMEMBERED,
    Control,
    Element,
    Flow,
    SharedProps,
    frozen_props,
    new_element,
    new_flow,
)


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


def _field_values(cls: type[Any], draw: st.DrawFn) -> dict[str, Any]:
    """A value for every field of ``cls``, each unlike every other field's (a value set to the
    wrong field shows)."""
    values: dict[str, Any] = {}
    for number, spec in enumerate(fields(cls)):
        if spec.name == "location":
            values[spec.name] = Location(f"m{number}.yaml", draw(st.integers(1, 9)), 1)
        elif spec.type in ("bool",):
            values[spec.name] = draw(st.booleans())
        elif "tuple" in str(spec.type):
            values[spec.name] = (f"{spec.name}-{draw(st.integers(0, 3))}",)
        elif "Mapping" in str(spec.type):
            values[spec.name] = frozen_props({spec.name: draw(st.integers(0, 3))})
        else:
            values[spec.name] = f"{spec.name}-{draw(st.integers(0, 3))}"
    return values


@st.composite
def _element_fields(draw: st.DrawFn) -> dict[str, Any]:
    return _field_values(Element, draw)


@st.composite
def _flow_fields(draw: st.DrawFn) -> dict[str, Any]:
    return _field_values(Flow, draw)


@given(_element_fields())
def test_new_element_makes_what_the_constructor_makes(values: dict[str, Any]) -> None:
    made = new_element(*values.values())
    assert made == Element(**values)
    assert {name: getattr(made, name) for name in values} == values  # location too


@given(_flow_fields())
def test_new_flow_makes_what_the_constructor_makes(values: dict[str, Any]) -> None:
    made = new_flow(*values.values())
    assert made == Flow(**values)
    assert {name: getattr(made, name) for name in values} == values  # location too


_PROPERTY_VALUES = st.sampled_from([True, False, 1, 0, 1.0, -0.0, 0.0, math.nan, "1", "x", None])
_PROPERTY_SETS = st.dictionaries(st.sampled_from(["a", "b", "c"]), _PROPERTY_VALUES, max_size=3)


def _typed(props: Mapping[str, object]) -> list[tuple[str, type, str]]:
    return [(k, type(v), repr(v)) for k, v in props.items()]


@given(st.lists(_PROPERTY_SETS, max_size=12), st.lists(st.integers(0, 11), max_size=30))
def test_shared_props_answer_each_mapping_handed_over_with_its_own_frozen_copy(
    sets: list[dict[str, Any]], picks: list[int]
) -> None:
    """Mappings handed over again (the same object) and fresh ones made and dropped one after
    the other (whose ids may be reused) each get what frozen_props makes of them."""
    shared = SharedProps()
    answered: dict[int, Mapping[str, Any]] = {}
    for pick in picks:
        if sets and pick < len(sets):
            props = sets[pick]
            found = shared(props)
            assert answered.setdefault(pick, found) is found
        else:
            props = dict(sets[pick % len(sets)]) if sets else {"a": pick}
            found = shared(props)
        assert _typed(found) == _typed(frozen_props(props))


def test_shared_props_beyond_the_mappings_it_remembers_still_share_by_value() -> None:
    shared = SharedProps()
    handed = [{"n": i % 7, "k": "x"} for i in range(_REMEMBERED + 50)]
    answers = [shared(props) for props in handed]
    assert [_typed(a) for a in answers] == [_typed(frozen_props(p)) for p in handed]
    assert answers[-1] is shared(handed[-1]) is answers[-8]  # equal ones: one mapping
