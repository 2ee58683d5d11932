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


def test_facts_are_built_once_per_model() -> None:
    m = _pump()
    assert facts(m) is facts(m)
    assert facts(_pump()) is not facts(m)


def test_flows_touching_every_element_including_self_loops_and_unknown_ids() -> None:
    m = model(
        [element("a"), element("b"), element("c")],
        [flow("z", "a", "b"), flow("y", "b", "a"), flow("loop", "c", "c"), flow("x", "a", "c")],
    )
    f = facts(m)
    assert f.flows_touching("a") == ("x", "y", "z")
    assert f.flows_touching("c") == ("loop", "x")
    assert f.flows_touching("nowhere") == ()
    for e in m.elements:  # the index answers what a scan of every flow answers
        expected = sorted(fl.id for fl in m.flows if e.id in (fl.source, fl.target))
        assert list(f.flows_touching(e.id)) == expected


def test_crossings_of_a_flow_not_in_the_model_are_its_own() -> None:
    # A flow from another revision with the same id but other ends is not answered from the
    # first flow's remembered crossings.
    m = _pump()
    f = facts(m)
    assert f.crossings(m.flow("local")) == ()
    moved = Flow("local", "local", "clinician", "log")
    assert f.crossings(moved) == ("device", "hospital")
    assert f.crossings(m.flow("local")) == ()
