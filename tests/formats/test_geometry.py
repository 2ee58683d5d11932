"""Tests for the drawing geometry both readers share: containment, nesting, curves and their
intersections, and the JSON shapes Threat Dragon writes them in."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threatdelta.formats.geometry import (
    Rect,
    box_parents,
    curve,
    enclosing_parent,
    finite_point,
    finite_rect,
    innermost,
    make_rect,
    nearest_rect,
    polylines_intersect,
    segments_intersect,
)


def test_rect_edges_centre_and_containment() -> None:
    rect = Rect(10, 20, 100, 50)
    assert (rect.right, rect.bottom, rect.centre, rect.area) == (110, 70, (60, 45), 5000)
    assert rect.contains((10, 20)) and rect.contains((110, 70))
    assert not rect.contains((9.9, 30))
    assert rect.encloses(Rect(20, 30, 10, 10))
    assert not rect.encloses(Rect(100, 30, 20, 10))


def test_negative_sizes_are_folded() -> None:
    assert make_rect(100, 100, -50, -20) == Rect(50, 80, 50, 20)


def test_innermost_picks_the_smallest_container() -> None:
    rects = [("outer", Rect(0, 0, 100, 100)), ("inner", Rect(10, 10, 30, 30))]
    assert innermost((20, 20), rects) == "inner"
    assert innermost((80, 80), rects) == "outer"
    assert innermost((200, 200), rects) is None


def test_enclosing_parent_forms_a_forest() -> None:
    rects = [
        ("a", Rect(0, 0, 100, 100)),
        ("b", Rect(10, 10, 50, 50)),
        ("c", Rect(20, 20, 10, 10)),
        ("twin", Rect(10, 10, 50, 50)),
        ("overlap", Rect(90, 90, 50, 50)),
    ]
    parents = {rid: enclosing_parent(rid, rect, rects) for rid, rect in rects}
    assert parents == {"a": None, "b": "a", "c": "b", "twin": "a", "overlap": None}


def test_a_curve_passes_through_its_handle() -> None:
    points = curve((0, 0), (50, 40), (100, 0), segments=4)
    assert points[0] == (0, 0) and points[-1] == (100, 0)
    assert points[2] == pytest.approx((50, 40))
    assert curve((0, 0), (50, 0), (100, 0)) == ((0, 0), (100, 0))
    assert curve((0, 0), None, (100, 0)) == ((0, 0), (100, 0))


@pytest.mark.parametrize(
    ("p1", "p2", "q1", "q2", "expected"),
    [
        ((0, 0), (10, 10), (0, 10), (10, 0), True),  # an X
        ((0, 0), (10, 0), (5, 0), (15, 0), True),  # collinear overlap
        ((0, 0), (10, 0), (10, 0), (10, 10), True),  # touching at an end
        ((0, 0), (10, 0), (11, 0), (20, 0), False),  # collinear, apart
        ((0, 0), (10, 0), (0, 1), (10, 1), False),  # parallel
        ((0, 0), (10, 10), (6, 5), (20, 5), False),  # would meet only if extended
    ],
)
def test_segments_intersect(
    p1: tuple[float, float],
    p2: tuple[float, float],
    q1: tuple[float, float],
    q2: tuple[float, float],
    expected: bool,
) -> None:
    assert segments_intersect(p1, p2, q1, q2) is expected
    assert segments_intersect(q1, q2, p1, p2) is expected


def test_a_bent_flow_meets_a_line_its_chord_misses() -> None:
    boundary = curve((500, 100), (500, 200), (500, 300))
    chord = curve((650, 350), None, (350, 350))
    bent = curve((650, 350), (500, 260), (350, 350))
    assert not polylines_intersect(chord, boundary)
    assert polylines_intersect(bent, boundary)
    assert not polylines_intersect((), boundary)


# --- Threat Dragon's shapes -------------------------------------------------------------------


def test_crossing_segments_intersect() -> None:
    assert segments_intersect((0, 0), (10, 10), (0, 10), (10, 0))


def test_parallel_segments_do_not_intersect() -> None:
    assert not segments_intersect((0, 0), (10, 0), (0, 1), (10, 1))


def test_segments_that_would_meet_if_longer_do_not_intersect() -> None:
    assert not segments_intersect((0, 0), (4, 4), (10, 0), (6, 4))


def test_touching_end_counts_as_intersection() -> None:
    assert segments_intersect((0, 0), (5, 5), (5, 5), (10, 0))


def test_collinear_overlap_intersects_but_collinear_gap_does_not() -> None:
    assert segments_intersect((0, 0), (5, 0), (3, 0), (8, 0))
    assert not segments_intersect((0, 0), (2, 0), (3, 0), (8, 0))


def test_polyline_through_a_vertex_crosses_a_curve() -> None:
    flow = [(0, 50), (100, 50)]
    curve = [(50, 0), (60, 40), (50, 100)]
    assert polylines_intersect(flow, curve)


def test_polyline_that_bends_around_a_curve_does_not_cross_it() -> None:
    flow = [(0, 50), (0, 200), (100, 200)]
    curve = [(50, 0), (50, 100)]
    assert not polylines_intersect(flow, curve)


def test_a_single_point_is_not_a_line() -> None:
    assert not polylines_intersect([(0, 0)], [(0, 0), (1, 1)])


@given(
    st.lists(st.tuples(st.integers(-50, 50), st.integers(-50, 50)), min_size=2, max_size=6),
    st.lists(st.tuples(st.integers(-50, 50), st.integers(-50, 50)), min_size=2, max_size=6),
)
def test_intersection_is_symmetric(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    fa = [(float(x), float(y)) for x, y in a]
    fb = [(float(x), float(y)) for x, y in b]
    assert polylines_intersect(fa, fb) == polylines_intersect(fb, fa)


def test_threat_dragon_containment_is_strict() -> None:
    rect = Rect(0, 0, 10, 10)
    assert rect.contains((5, 5), strict=True)
    assert not rect.contains((0, 5), strict=True)
    assert rect.contains((0, 5))  # a .tm7 rectangle holds a point on its edge
    assert not rect.contains((11, 5), strict=True)
    assert rect.centre == (5, 5)


def test_rect_distance() -> None:
    rect = Rect(0, 0, 10, 10)
    assert rect.distance((5, 5)) == 0
    assert rect.distance((13, 14)) == 5


def test_innermost_box_is_the_smallest_containing_one() -> None:
    boxes = {
        "outer": Rect(0, 0, 100, 100),
        "inner": Rect(10, 10, 30, 30),
        "far": Rect(200, 0, 5, 5),
    }
    assert innermost((20, 20), boxes.items(), strict=True) == "inner"
    assert innermost((80, 80), boxes.items(), strict=True) == "outer"
    assert innermost((150, 150), boxes.items(), strict=True) is None


def test_box_parents_nest_by_area_and_centre() -> None:
    boxes = {
        "site": Rect(0, 0, 1000, 1000),
        "room": Rect(100, 100, 400, 400),
        "rack": Rect(150, 150, 100, 100),
        "yard": Rect(2000, 0, 100, 100),
    }
    assert box_parents(boxes) == {"site": None, "room": "site", "rack": "room", "yard": None}


def test_equal_boxes_are_not_each_others_parent() -> None:
    boxes = {"a": Rect(0, 0, 10, 10), "b": Rect(0, 0, 10, 10)}
    assert box_parents(boxes) == {"a": None, "b": None}


def test_nearest_rect_within_a_distance() -> None:
    rects = {"near": Rect(0, 0, 10, 10), "far": Rect(100, 0, 10, 10)}
    assert nearest_rect((15, 5), rects, within=10) == ("near", 5)
    assert nearest_rect((50, 5), rects, within=10) is None


def test_finite_point_and_rect_reject_bad_numbers() -> None:
    assert finite_point({"x": 1, "y": 2}) == (1.0, 2.0)
    assert finite_point({"x": "1", "y": 2}) is None
    assert finite_point({"x": True, "y": 2}) is None
    assert finite_point({"x": math.nan, "y": 2}) is None
    assert finite_point([1, 2]) is None
    assert finite_rect({"x": 0, "y": 0}, {"width": 5, "height": 5}) == Rect(0, 0, 5, 5)
    assert finite_rect({"x": 0, "y": 0}, {"width": 0, "height": 5}) is None
    assert finite_rect({"x": 0, "y": 0}, None) is None
