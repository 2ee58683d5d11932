"""Tests for the drawing geometry: containment, nesting, curves and their intersections."""

from __future__ import annotations

import pytest

from threatdelta.formats.tm7_geometry import (
    Rect,
    curve,
    enclosing_parent,
    innermost,
    make_rect,
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
