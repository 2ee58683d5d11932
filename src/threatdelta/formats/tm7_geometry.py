"""Plane geometry for Threat Modeling Tool drawings: which boundary holds what, which flow crosses.

The tool does not store which boundaries a flow crosses; it follows from the drawing. Border
boundaries and stencils are axis-aligned rectangles (Left, Top, Width, Height; y grows
downwards). Flows and line boundaries are curves from a source point through a handle point to a
target point; the tool draws them as a smooth bend through the handle, which we model as the
quadratic Bezier curve that passes through the handle at its midpoint, sampled into a polyline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]
"""An (x, y) point in drawing coordinates."""

CURVE_SEGMENTS = 24
"""How many straight pieces approximate one curve."""


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

    def contains(self, point: Point) -> bool:
        """True when ``point`` lies inside or on the edge."""
        x, y = point
        return self.left <= x <= self.right and self.top <= y <= self.bottom

    def encloses(self, other: Rect) -> bool:
        """True when ``other`` lies wholly inside this rectangle (edges may touch)."""
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.right <= self.right
            and other.bottom <= self.bottom
        )


def make_rect(left: float, top: float, width: float, height: float) -> Rect:
    """A rectangle with negative sizes folded into positive ones."""
    if width < 0:
        left, width = left + width, -width
    if height < 0:
        top, height = top + height, -height
    return Rect(left, top, width, height)


def curve(
    source: Point, handle: Point | None, target: Point, segments: int = CURVE_SEGMENTS
) -> tuple[Point, ...]:
    """A polyline approximating the tool's curve from ``source`` through ``handle`` to ``target``.

    Without a handle (or with the handle on the straight line) the result is the straight line.
    """
    if handle is None or _collinear(source, handle, target):
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


def _collinear(a: Point, b: Point, c: Point) -> bool:
    return abs(_cross(a, b, c)) < 1e-9


def _cross(o: Point, a: Point, b: Point) -> float:
    """z of (a - o) x (b - o): >0 counter-clockwise, <0 clockwise, 0 collinear."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _on_segment(p: Point, q: Point, r: Point) -> bool:
    """For collinear p, q, r: True when q lies on segment pr."""
    return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """True when segment p1-p2 and segment q1-q2 share at least one point."""
    d1 = _cross(q1, q2, p1)
    d2 = _cross(q1, q2, p2)
    d3 = _cross(p1, p2, q1)
    d4 = _cross(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _on_segment(q1, p1, q2))
        or (d2 == 0 and _on_segment(q1, p2, q2))
        or (d3 == 0 and _on_segment(p1, q1, p2))
        or (d4 == 0 and _on_segment(p1, q2, p2))
    )


def _bounds(points: Sequence[Point]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def polylines_intersect(a: Sequence[Point], b: Sequence[Point]) -> bool:
    """True when the polylines ``a`` and ``b`` touch or cross anywhere."""
    if len(a) < 2 or len(b) < 2:
        return False
    ax0, ay0, ax1, ay1 = _bounds(a)
    bx0, by0, bx1, by1 = _bounds(b)
    if ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0:
        return False
    for i in range(len(a) - 1):
        for j in range(len(b) - 1):
            if segments_intersect(a[i], a[i + 1], b[j], b[j + 1]):
                return True
    return False


def innermost(point: Point, rects: Sequence[tuple[str, Rect]]) -> str | None:
    """The id of the smallest rectangle containing ``point`` (ties: the smaller id), or None."""
    best: tuple[float, str] | None = None
    for rect_id, rect in rects:
        if rect.contains(point):
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
