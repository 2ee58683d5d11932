"""Plane geometry for drawings that do not store which boundary holds what or what a flow
crosses (the Threat Modeling Tool's .tm7 and Threat Dragon's JSON): one home for both readers.

Shapes are axis-aligned rectangles (y grows downwards); flows and line boundaries are polylines.
The Threat Modeling Tool draws a connector as a smooth bend through its handle, modelled as the
quadratic Bezier curve through the handle at its midpoint (:func:`curve`); Threat Dragon's curves
are the polyline through their end points and vertices. Everything is pure and bounded by its
inputs; nothing here knows about files.

The two tools differ in one respect, kept as they are: a .tm7 rectangle holds a point on its edge
(``Rect.contains``), a Threat Dragon box only a point strictly inside (``strict=True``), and a
.tm7 boundary's parent is the smallest boundary that wholly encloses it
(:func:`enclosing_parent`), a Threat Dragon box's the smallest larger box around its centre
(:func:`box_parents`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float]
"""An (x, y) point in drawing coordinates."""

CURVE_SEGMENTS = 24
"""How many straight pieces approximate one .tm7 curve."""

_EPSILON = 1e-9


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in drawing coordinates."""

    left: float
    """x of the left edge."""
    top: float
    """y of the top edge."""
    width: float
    """Width (never negative)."""
    height: float
    """Height (never negative)."""

    @property
    def right(self) -> float:
        """x of the right edge."""
        return self.left + self.width

    @property
    def bottom(self) -> float:
        """y of the bottom edge."""
        return self.top + self.height

    @property
    def centre(self) -> Point:
        """The centre point."""
        return (self.left + self.width / 2, self.top + self.height / 2)

    @property
    def area(self) -> float:
        """Width times height."""
        return self.width * self.height

    def contains(self, point: Point, *, strict: bool = False) -> bool:
        """True when ``point`` lies inside, or on an edge unless ``strict``."""
        x, y = point
        if strict:
            return self.left < x < self.right and self.top < y < self.bottom
        return self.left <= x <= self.right and self.top <= y <= self.bottom

    def encloses(self, other: Rect) -> bool:
        """True when ``other`` lies wholly inside this rectangle (edges may touch)."""
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )

    def distance(self, point: Point) -> float:
        """Distance from ``point`` to the rectangle (0 inside or on an edge)."""
        px, py = point
        dx = max(self.left - px, 0.0, px - self.right)
        dy = max(self.top - py, 0.0, py - self.bottom)
        return math.hypot(dx, dy)


def make_rect(left: float, top: float, width: float, height: float) -> Rect:
    """A rectangle with negative sizes folded into positive ones."""
    if width < 0:
        left, width = left + width, -width
    if height < 0:
        top, height = top + height, -height
    return Rect(left, top, width, height)


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


def curve(
    source: Point, handle: Point | None, target: Point, segments: int = CURVE_SEGMENTS
) -> tuple[Point, ...]:
    """A polyline approximating the tool's curve from ``source`` through ``handle`` to ``target``.

    Without a handle (or with the handle on the straight line) the result is the straight line.
    """
    if handle is None or _orientation(source, handle, target) == 0:
        return (source, target)
    # The quadratic Bezier B(t) = (1-t)^2 S + 2t(1-t) C + t^2 T with B(1/2) = handle.
    cx = 2 * handle[0] - (source[0] + target[0]) / 2
    cy = 2 * handle[1] - (source[1] + target[1]) / 2
    points: list[Point] = []
    for step in range(segments + 1):
        t = step / segments
        u = 1 - t
        points.append(
            (
                u * u * source[0] + 2 * t * u * cx + t * t * target[0],
                u * u * source[1] + 2 * t * u * cy + t * t * target[1],
            )
        )
    return tuple(points)


def _orientation(a: Point, b: Point, c: Point) -> int:
    """Sign of the turn a -> b -> c: 1 counter-clockwise, -1 clockwise, 0 collinear."""
    value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if abs(value) < _EPSILON:
        return 0
    return 1 if value > 0 else -1


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    """True when collinear point ``p`` lies within the bounding box of segment a-b."""
    return (
        min(a[0], b[0]) - _EPSILON <= p[0] <= max(a[0], b[0]) + _EPSILON
        and min(a[1], b[1]) - _EPSILON <= p[1] <= max(a[1], b[1]) + _EPSILON
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


_Box = tuple[float, float, float, float]


def _box_of(points: Sequence[Point]) -> _Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _boxes_overlap(a: _Box, b: _Box) -> bool:
    return not (
        a[2] < b[0] - _EPSILON
        or b[2] < a[0] - _EPSILON
        or a[3] < b[1] - _EPSILON
        or b[3] < a[1] - _EPSILON
    )


def polylines_intersect(a: Sequence[Point], b: Sequence[Point]) -> bool:
    """True when the polyline through ``a`` meets the polyline through ``b`` (touching counts)."""
    if len(a) < 2 or len(b) < 2 or not _boxes_overlap(_box_of(a), _box_of(b)):
        return False
    boxes_b = [_box_of((b[j], b[j + 1])) for j in range(len(b) - 1)]
    for i in range(len(a) - 1):
        box_a = _box_of((a[i], a[i + 1]))
        for j in range(len(b) - 1):
            if _boxes_overlap(box_a, boxes_b[j]) and segments_intersect(
                a[i], a[i + 1], b[j], b[j + 1]
            ):
                return True
    return False


def innermost(
    point: Point, rects: Iterable[tuple[str, Rect]], *, strict: bool = False
) -> str | None:
    """The id of the smallest rectangle containing ``point`` (ties: the smaller id), or None."""
    best: tuple[float, str] | None = None
    for rect_id, rect in rects:
        if rect.contains(point, strict=strict):
            candidate = (rect.area, rect_id)
            if best is None or candidate < best:
                best = candidate
    return None if best is None else best[1]


def enclosing_parent(rect_id: str, rect: Rect, rects: Sequence[tuple[str, Rect]]) -> str | None:
    """The smallest other rectangle that wholly encloses ``rect`` and is strictly larger.

    Equal rectangles do not nest (neither is the other's parent), so the result is a forest.
    """
    best: tuple[float, str] | None = None
    for other_id, other in rects:
        if other_id == rect_id or other.area <= rect.area or not other.encloses(rect):
            continue
        candidate = (other.area, other_id)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[1]


def box_parents(boxes: Mapping[str, Rect]) -> dict[str, str | None]:
    """For each box, the smallest larger box that holds its centre strictly inside, or None.

    Strictly growing areas make the relation a forest: no box can end up its own ancestor.
    """
    parents: dict[str, str | None] = {}
    for box_id, rect in boxes.items():
        candidates = [
            (other.area, other_id)
            for other_id, other in boxes.items()
            if other_id != box_id
            and other.area > rect.area
            and other.contains(rect.centre, strict=True)
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
