from tests.helpers import boundary, element, flow, model

from threatdelta.model.graph import facts
from threatdelta.model.model import Flow, Model


def _pump() -> Model:
    return model(
        [
            element("clinician", "external-entity", "person"),
            element("ui", boundary="device"),
            element("ctrl", boundary="core"),
            element("log", "data-store", boundary="device"),
        ],
        [
            flow("keys", "clinician", "ui"),
            flow("cmd", "ui", "ctrl"),
            flow("rec", "ctrl", "log"),
            flow("local", "ui", "log"),
        ],
        [
            boundary("hospital"),
            boundary("device", parent="hospital"),
            boundary("core", parent="device"),
        ],
    )


def test_crossings_follow_the_nesting_tree() -> None:
    m = _pump()
    f = facts(m)
    assert f.crossings(m.flow("keys")) == ("device", "hospital")
    assert f.crossings(m.flow("cmd")) == ("core",)
    assert f.crossings(m.flow("rec")) == ("core",)
    assert f.crossings(m.flow("local")) == ()


def test_direction_of_a_crossing() -> None:
    m = _pump()
    f = facts(m)
    assert f.inbound(m.flow("keys")) and not f.outbound(m.flow("keys"))
    assert f.outbound(m.flow("rec")) and not f.inbound(m.flow("rec"))


def test_zone_depth_and_neighbours() -> None:
    m = _pump()
    f = facts(m)
    assert f.zone_depth(m.element("clinician")) == 0
    assert f.zone_depth(m.element("ctrl")) == 3
    assert f.neighbours("ui") == {"clinician", "ctrl", "log"}
    assert f.flows_touching("log") == ("local", "rec")


def test_geometry_crossings_win_over_nesting() -> None:
    m = model(
        [element("a"), element("b")],
        [Flow("f", "f", "a", "b", crosses=("line-1",))],
    )
    assert facts(m).crossings(m.flows[0]) == ("line-1",)


def test_cyclic_parents_do_not_hang() -> None:
    m = model(
        [element("a", boundary="x")], [], [boundary("x", parent="y"), boundary("y", parent="x")]
    )
    assert set(facts(m).enclosing(m.elements[0])) == {"x", "y"}
