from __future__ import annotations

from tests.helpers import element, model

from threatdelta.model.model import Control


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
