"""Plane geometry for diagrams that do not store which boundary a flow crosses.

Threat Dragon saves shapes, not facts: an element is a rectangle, a trust boundary is either a
rectangle (a box that contains elements) or a curve drawn through a few vertices, and a flow is a
curve from one element to another through its own vertices. Curves are approximated by the
polyline through their end points and vertices. Everything here is pure and bounded by its
inputs; nothing knows about files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float]
"""An (x, y) position in diagram units."""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle: a node's or a boundary box's extent."""

    x: float
    """Left edge."""
    y: float
    """Top edge."""
    width: float
    """Width (positive)."""
    height: float
    """Height (positive)."""

    @property
    def centre(self) -> Point:
        """The middle of the rectangle."""
        return (self.x + self.width / 2, self.y + self.height / 2)

    @property
    def area(self) -> float:
        """Width times height."""
        return self.width * self.height

    def contains(self, point: Point) -> bool:
        """True when ``point`` lies strictly inside (edges excluded)."""
        px, py = point
        return self.x < px < self.x + self.width and self.y < py < self.y + self.height

    def distance(self, point: Point) -> float:
        """Distance from ``point`` to the rectangle (0 inside or on an edge)."""
        px, py = point
        dx = max(self.x - px, 0.0, px - (self.x + self.width))
        dy = max(self.y - py, 0.0, py - (self.y + self.height))
        return math.hypot(dx, dy)


def finite_point(value: object) -> Point | None:
    """``{"x": .., "y": ..}`` as a point, or None when it is not one with finite numbers."""
    if not isinstance(value, Mapping):
        return None
    x, y = value.get("x"), value.get("y")
    if not _is_number(x) or not _is_number(y):
        return None
    return (float(x), float(y))  # type: ignore[arg-type]


def finite_rect(position: object, size: object) -> Rect | None:
    """A rectangle from ``position`` ``{x, y}`` and ``size`` ``{width, height}``, or None."""
    corner = finite_point(position)
    if corner is None or not isinstance(size, Mapping):
        return None
    width, height = size.get("width"), size.get("height")
    if not _is_number(width) or not _is_number(height):
        return None
    w, h = float(width), float(height)  # type: ignore[arg-type]
    if w <= 0 or h <= 0:
        return None
    return Rect(corner[0], corner[1], w, h)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _orientation(a: Point, b: Point, c: Point) -> int:
    """Sign of the turn a -> b -> c: 1 counter-clockwise, -1 clockwise, 0 collinear."""
    value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if abs(value) < 1e-9:
        return 0
    return 1 if value > 0 else -1


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    """True when collinear point ``p`` lies within the bounding box of segment a-b."""
    return (
        min(a[0], b[0]) - 1e-9 <= p[0] <= max(a[0], b[0]) + 1e-9
        and min(a[1], b[1]) - 1e-9 <= p[1] <= max(a[1], b[1]) + 1e-9
    )


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """True when segment p1-p2 and segment q1-q2 share a point (touching counts)."""
    o1 = _orientation(p1, p2, q1)
    o2 = _orientation(p1, p2, q2)
    o3 = _orientation(q1, q2, p1)
    o4 = _orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return (
        (o1 == 0 and _on_segment(p1, p2, q1))
        or (o2 == 0 and _on_segment(p1, p2, q2))
        or (o3 == 0 and _on_segment(q1, q2, p1))
        or (o4 == 0 and _on_segment(q1, q2, p2))
    )


def polylines_intersect(a: Sequence[Point], b: Sequence[Point]) -> bool:
    """True when the polyline through ``a`` meets the polyline through ``b``."""
    if len(a) < 2 or len(b) < 2:
        return False
    boxes_b = [_segment_box(b[j], b[j + 1]) for j in range(len(b) - 1)]
    for i in range(len(a) - 1):
        box_a = _segment_box(a[i], a[i + 1])
        for j in range(len(b) - 1):
            if not _boxes_overlap(box_a, boxes_b[j]):
                continue
            if segments_intersect(a[i], a[i + 1], b[j], b[j + 1]):
                return True
    return False


_Box = tuple[float, float, float, float]


def _segment_box(p: Point, q: Point) -> _Box:
    return (min(p[0], q[0]), min(p[1], q[1]), max(p[0], q[0]), max(p[1], q[1]))


def _boxes_overlap(a: _Box, b: _Box) -> bool:
    eps = 1e-9
    return not (a[2] < b[0] - eps or b[2] < a[0] - eps or a[3] < b[1] - eps or b[3] < a[1] - eps)


def innermost_box(point: Point, boxes: Mapping[str, Rect]) -> str | None:
    """Id of the smallest box that contains ``point`` (ties broken by id), or None."""
    inside = [(rect.area, box_id) for box_id, rect in boxes.items() if rect.contains(point)]
    return min(inside)[1] if inside else None


def box_parents(boxes: Mapping[str, Rect]) -> dict[str, str | None]:
    """For each box, the smallest larger box that contains its centre (its parent), or None.

    Strictly growing areas make the relation a forest: no box can end up its own ancestor.
    """
    parents: dict[str, str | None] = {}
    for box_id, rect in boxes.items():
        candidates = [
            (other.area, other_id)
            for other_id, other in boxes.items()
            if other_id != box_id and other.area > rect.area and other.contains(rect.centre)
        ]
        parents[box_id] = min(candidates)[1] if candidates else None
    return parents


def nearest_rect(
    point: Point, rects: Mapping[str, Rect], within: float
) -> tuple[str, float] | None:
    """The id of the rectangle closest to ``point`` and its distance, if no farther than ``within``.

    Among rectangles at the same distance (say, the point is inside two), the one whose centre is
    nearest wins, then the lowest id.
    """
    best: tuple[float, float, str] | None = None
    for rect_id, rect in rects.items():
        gap = rect.distance(point)
        if gap > within:
            continue
        cx, cy = rect.centre
        key = (gap, math.hypot(cx - point[0], cy - point[1]), rect_id)
        if best is None or key < best:
            best = key
    return None if best is None else (best[2], best[0])
