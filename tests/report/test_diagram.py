"""The data-flow diagram layout: boxes hold their elements, nothing overlaps, arrows meet
their elements, badges sit clear."""

from __future__ import annotations

import itertools

from tests.helpers import boundary, element, flow, model

from threatdelta.model.model import Boundary, Model
from threatdelta.model.types import boundary_chain
from threatdelta.report.diagram import Box, Diagram, Node, layout, ranks, wrap_label


def _pump() -> Model:
    return model(
        [
            element("clinician", "external-entity"),
            element("tech", "external-entity"),
            element("ui", boundary="device"),
            element("ctrl", boundary="core"),
            element("limits", "data-store", boundary="core"),
            element("comms", boundary="device"),
            element("gateway", boundary="hospital"),
            element("cloud", boundary="vendor"),
        ],
        [
            flow("keypad", "clinician", "ui"),
            flow("cmd", "ui", "ctrl"),
            flow("lookup", "limits", "ctrl"),
            flow("status", "ctrl", "comms"),
            flow("install", "comms", "limits"),
            flow("telemetry", "comms", "gateway"),
            flow("upload", "gateway", "cloud"),
            flow("service", "tech", "ctrl"),
            flow("ack", "gateway", "comms"),
        ],
        [
            boundary("hospital"),
            boundary("device", parent="hospital"),
            boundary("core", parent="device"),
            boundary("vendor"),
            Boundary("fence", "Fence line", "line", type_chain=boundary_chain("line", line=True)),
        ],
    )


def _inside(node: Node | Box, box: Box) -> bool:
    return (
        box.x < node.x
        and node.x + node.w < box.x + box.w
        and box.y < node.y
        and node.y + node.h < box.y + box.h
    )


def _overlap(a: Node | Box, b: Node | Box) -> bool:
    return not (a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y)


def test_ranks_follow_the_flows_and_survive_cycles() -> None:
    rank = ranks(_pump())
    assert rank["clinician"] == 0 and rank["tech"] == 0
    assert rank["ui"] == 1
    assert rank["ctrl"] > rank["ui"]
    assert rank["cloud"] > rank["gateway"] > rank["comms"]


def test_boxes_hold_their_elements_and_nothing_overlaps() -> None:
    diagram = layout(_pump())
    boxes = {b.id: b for b in diagram.boxes}
    nodes = {n.id: n for n in diagram.nodes}
    assert set(boxes) == {"hospital", "device", "core", "vendor"}
    assert _inside(nodes["ctrl"], boxes["core"]) and _inside(nodes["limits"], boxes["core"])
    assert _inside(boxes["core"], boxes["device"]) and _inside(boxes["device"], boxes["hospital"])
    assert _inside(nodes["gateway"], boxes["hospital"])
    assert not _inside(nodes["gateway"], boxes["device"])
    assert not any(_inside(nodes["clinician"], b) for b in boxes.values())
    for a, b in itertools.combinations(diagram.nodes, 2):
        assert not _overlap(a, b), (a.id, b.id)
    assert not _overlap(boxes["hospital"], boxes["vendor"])
    for n in diagram.nodes:
        assert 0 <= n.x and n.x + n.w <= diagram.width and n.y + n.h <= diagram.height
    assert [b.depth for b in diagram.boxes] == sorted(b.depth for b in diagram.boxes)
    assert diagram.line_boundaries == ("Fence line",)


def test_data_flows_mostly_left_to_right() -> None:
    nodes = {n.id: n for n in layout(_pump()).nodes}
    assert nodes["clinician"].cx < nodes["ui"].cx < nodes["ctrl"].cx
    assert nodes["gateway"].cx < nodes["cloud"].cx


def _near_border(node: Node, x: float, y: float) -> bool:
    inside_outer = node.x - 4 <= x <= node.x + node.w + 4 and node.y - 4 <= y <= node.y + node.h + 4
    inside_inner = node.x + 1 < x < node.x + node.w - 1 and node.y + 1 < y < node.y + node.h - 1
    return inside_outer and not inside_inner


def test_arrows_meet_their_elements_and_badges_sit_clear() -> None:
    m = _pump()
    diagram = layout(m)
    nodes = {n.id: n for n in diagram.nodes}
    assert [e.number for e in diagram.edges] == list(range(1, 10))
    assert [e.flow for e in diagram.edges] == sorted(f.id for f in m.flows)
    for edge in diagram.edges:
        f = m.flow(edge.flow)
        assert f is not None
        assert _near_border(nodes[f.source], edge.x1, edge.y1), edge.flow
        assert _near_border(nodes[f.target], edge.x2, edge.y2), edge.flow
        for n in diagram.nodes:
            assert not (n.x < edge.mx < n.x + n.w and n.y < edge.my < n.y + n.h), edge.flow
    # The two flows between comms and gateway run side by side, not on top of each other.
    telemetry = next(e for e in diagram.edges if e.flow == "telemetry")
    ack = next(e for e in diagram.edges if e.flow == "ack")
    assert (round(telemetry.mx), round(telemetry.my)) != (round(ack.mx), round(ack.my))
    assert telemetry.path.startswith("M") and " Q" in telemetry.path


def test_layout_is_deterministic() -> None:
    first: Diagram = layout(_pump())
    assert layout(_pump()) == first


def test_long_names_wrap_into_three_lines_at_most() -> None:
    assert wrap_label("Pump control unit") == ("Pump control unit",)
    lines = wrap_label("A very long element name that goes on and on and on and on forever")
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(len(line) <= 21 for line in lines)


def test_empty_model() -> None:
    diagram = layout(model([]))
    assert diagram.nodes == () and diagram.edges == () and diagram.width > 0
