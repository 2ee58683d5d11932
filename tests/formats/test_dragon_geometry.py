"""Tests for the plane geometry behind Threat Dragon crossings and containment."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from threatdelta.formats.dragon_geometry import (
    Rect,
    box_parents,
    finite_point,
    finite_rect,
    innermost_box,
    nearest_rect,
    polylines_intersect,
    segments_intersect,
)


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


def test_rect_contains_is_strict() -> None:
    rect = Rect(0, 0, 10, 10)
    assert rect.contains((5, 5))
    assert not rect.contains((0, 5))
    assert not rect.contains((11, 5))
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
    assert innermost_box((20, 20), boxes) == "inner"
    assert innermost_box((80, 80), boxes) == "outer"
    assert innermost_box((150, 150), boxes) is None


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
