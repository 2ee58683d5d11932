"""A plain layered layout of the data-flow diagram, for an inline SVG (pure geometry, no I/O).

Trust boundaries are nested boxes; elements sit inside their innermost boundary; flows are
straight arrows between elements, each with a number that the legend table explains (numbers
keep the picture readable where labels would collide).

Layout: each element gets a *rank*, its longest distance from a source along the flows (cycles
are broken at the edge that closes them, in id order). Inside each box, the items (elements and
child boxes) stand in columns by rank, so data mostly flows left to right; a column holds at most
:data:`MAX_PER_COLUMN` items and spills into the next. Everything is sorted, so the same model
always gives the same picture.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from threatdelta.model.model import Model
from threatdelta.render.escape import plain

NODE_WIDTH = 156
LINE_HEIGHT = 14
PAD = 14
HEADER = 24
COLUMN_GAP = 56
ROW_GAP = 22
MAX_PER_COLUMN = 6
MAX_LABEL_LINES = 3
LABEL_WIDTH = 21
MAX_DEPTH = 32


@dataclass(frozen=True)
class Node:
    """An element drawn as a box."""

    id: str
    """Element id."""
    lines: tuple[str, ...]
    """Its name, wrapped."""
    type: str
    """external-entity, process or data-store."""
    x: float
    """Left edge."""
    y: float
    """Top edge."""
    w: float
    """Width."""
    h: float
    """Height."""

    @property
    def cx(self) -> float:
        """Centre x."""
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        """Centre y."""
        return self.y + self.h / 2


@dataclass(frozen=True)
class Box:
    """A trust boundary drawn as a dashed box."""

    id: str
    """Boundary id."""
    label: str
    """Its name."""
    x: float
    """Left edge."""
    y: float
    """Top edge."""
    w: float
    """Width."""
    h: float
    """Height."""
    depth: int
    """Nesting depth (0 outermost)."""


@dataclass(frozen=True)
class Edge:
    """A flow drawn as an arrow (a straight line or a gentle curve) with a numbered badge."""

    number: int
    """Its number in the legend."""
    flow: str
    """Flow id."""
    x1: float
    """Start x (at the source's border)."""
    y1: float
    """Start y."""
    x2: float
    """End x (at the target's border)."""
    y2: float
    """End y."""
    qx: float
    """Control point x of the quadratic curve (on the chord for a straight line)."""
    qy: float
    """Control point y."""
    bidirectional: bool
    """Arrowheads at both ends."""
    at: float = 0.5
    """Where along the curve its badge sits (0 start, 1 end), chosen clear of element boxes."""

    def point(self, t: float) -> tuple[float, float]:
        """The point at ``t`` along the curve."""
        u = 1 - t
        return (
            u * u * self.x1 + 2 * u * t * self.qx + t * t * self.x2,
            u * u * self.y1 + 2 * u * t * self.qy + t * t * self.y2,
        )

    @property
    def path(self) -> str:
        """The SVG path."""
        return (
            f"M{self.x1:.1f},{self.y1:.1f} Q{self.qx:.1f},{self.qy:.1f} {self.x2:.1f},{self.y2:.1f}"
        )

    @property
    def mx(self) -> float:
        """Badge x."""
        return self.point(self.at)[0]

    @property
    def my(self) -> float:
        """Badge y."""
        return self.point(self.at)[1]


@dataclass(frozen=True)
class Diagram:
    """The laid-out diagram."""

    width: float
    """Canvas width."""
    height: float
    """Canvas height."""
    boxes: tuple[Box, ...]
    """Boundaries, outer ones first."""
    nodes: tuple[Node, ...]
    """Elements."""
    edges: tuple[Edge, ...]
    """Flows, numbered in id order."""
    line_boundaries: tuple[str, ...]
    """Names of line boundaries (crossed by flows, never containing elements); not drawn."""


def wrap_label(text: str) -> tuple[str, ...]:
    """A name wrapped into at most three short lines (the last one cut with an ellipsis)."""
    lines = textwrap.wrap(plain(text, 120), LABEL_WIDTH, break_long_words=True) or [""]
    if len(lines) > MAX_LABEL_LINES:
        last = lines[MAX_LABEL_LINES - 1]
        lines = [*lines[: MAX_LABEL_LINES - 1], last[: LABEL_WIDTH - 1].rstrip() + "…"]
    return tuple(lines)


def ranks(model: Model) -> dict[str, int]:
    """Each element's longest distance from a source, with cycles broken in id order."""
    ids = sorted(e.id for e in model.elements)
    known = set(ids)
    successors: dict[str, list[str]] = {i: [] for i in ids}
    for flow in sorted(model.flows, key=lambda f: f.id):
        if flow.source in known and flow.target in known and flow.source != flow.target:
            if flow.target not in successors[flow.source]:
                successors[flow.source].append(flow.target)
    for targets in successors.values():
        targets.sort()
    incoming = {t for targets in successors.values() for t in targets}
    roots = [i for i in ids if i not in incoming] + [i for i in ids if i in incoming]
    state: dict[str, int] = {}
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, index = stack[-1]
            targets = successors[node]
            if index < len(targets):
                stack[-1] = (node, index + 1)
                target = targets[index]
                if state.get(target) == 1:
                    back.add((node, target))
                elif target not in state:
                    state[target] = 1
                    stack.append((target, 0))
            else:
                state[node] = 2
                order.append(node)
                stack.pop()
    rank = {i: 0 for i in ids}
    for node in reversed(order):
        for target in successors[node]:
            if (node, target) not in back:
                rank[target] = max(rank[target], rank[node] + 1)
    return rank


def _node_height(lines: int) -> float:
    return max(44.0, 16.0 + LINE_HEIGHT * lines)


class _Layout:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.rank = ranks(model)
        boundaries = {b.id: b for b in model.boundaries if not b.is_line}
        self.boundaries = boundaries
        self.children: dict[str | None, list[str]] = {}
        for b in sorted(boundaries.values(), key=lambda b: b.id):
            parent = b.parent if b.parent in boundaries and self._acyclic(b.id) else None
            self.children.setdefault(parent, []).append(b.id)
        self.elements: dict[str | None, list[str]] = {}
        for e in model.elements:
            home = e.boundary if e.boundary in boundaries else None
            self.elements.setdefault(home, []).append(e.id)
        self.labels = {e.id: wrap_label(e.name) for e in model.elements}
        self.sizes: dict[tuple[str, str | None], tuple[float, float]] = {}
        self.min_rank: dict[str | None, int] = {}
        self.nodes: list[Node] = []
        self.boxes: list[Box] = []

    def _acyclic(self, boundary_id: str) -> bool:
        seen = {boundary_id}
        current = self.boundaries[boundary_id].parent
        while current is not None and current in self.boundaries:
            if current in seen or len(seen) > MAX_DEPTH:
                return False
            seen.add(current)
            current = self.boundaries[current].parent
        return True

    def _items(self, container: str | None) -> list[tuple[str, str | None]]:
        items: list[tuple[str, str | None]] = [("box", b) for b in self.children.get(container, [])]
        items += [("node", e) for e in sorted(self.elements.get(container, []))]
        return sorted(
            items, key=lambda item: (self._item_rank(item), item[0] == "box", item[1] or "")
        )

    def _item_rank(self, item: tuple[str, str | None]) -> int:
        kind, ident = item
        if kind == "node":
            assert ident is not None
            return self.rank.get(ident, 0)
        if ident not in self.min_rank:
            values = [self.rank.get(e, 0) for e in self._all_elements(ident)]
            self.min_rank[ident] = min(values) if values else 0
        return self.min_rank[ident]

    def _all_elements(self, container: str | None, depth: int = 0) -> Iterable[str]:
        yield from self.elements.get(container, [])
        if depth < MAX_DEPTH:
            for child in self.children.get(container, []):
                yield from self._all_elements(child, depth + 1)

    def _columns(self, container: str | None) -> list[list[tuple[str, str | None]]]:
        """Items in columns: by rank, boxes in a column of their own after the elements of the
        same rank, at most :data:`MAX_PER_COLUMN` items each."""
        columns: list[list[tuple[str, str | None]]] = []
        last: tuple[int, bool] | None = None
        for item in self._items(container):
            key = (self._item_rank(item), item[0] == "box")
            if last != key or len(columns[-1]) >= MAX_PER_COLUMN:
                columns.append([])
            columns[-1].append(item)
            last = key
        return columns

    def size(self, item: tuple[str, str | None], depth: int = 0) -> tuple[float, float]:
        if item in self.sizes:
            return self.sizes[item]
        kind, ident = item
        if kind == "node":
            assert ident is not None
            result = (float(NODE_WIDTH), _node_height(len(self.labels[ident])))
        else:
            columns = self._columns(ident)
            width = 0.0
            height = 0.0
            for column in columns:
                sizes = [self.size(i, depth + 1) for i in column]
                width += max(w for w, _ in sizes)
                height = max(height, sum(h for _, h in sizes) + ROW_GAP * (len(sizes) - 1))
            width += COLUMN_GAP * max(0, len(columns) - 1)
            if ident is None:
                result = (width, height)
            else:
                result = (max(width + 2 * PAD, 140.0), max(height, 20.0) + 2 * PAD + HEADER)
        self.sizes[item] = result
        return result

    def place(self, item: tuple[str, str | None], x: float, y: float, depth: int = 0) -> None:
        kind, ident = item
        w, h = self.size(item)
        if kind == "node":
            assert ident is not None
            element = self.model.element(ident)
            etype = element.type if element is not None else "process"
            self.nodes.append(Node(ident, self.labels[ident], etype, x, y, w, h))
            return
        if ident is not None:
            boundary = self.boundaries[ident]
            self.boxes.append(Box(ident, plain(boundary.name, 80), x, y, w, h, depth))
            inner_x, inner_y, inner_h = x + PAD, y + PAD + HEADER, h - 2 * PAD - HEADER
        else:
            inner_x, inner_y, inner_h = x, y, h
        cursor = inner_x
        for column in self._columns(ident):
            sizes = [self.size(i) for i in column]
            col_w = max(w for w, _ in sizes)
            col_h = sum(h for _, h in sizes) + ROW_GAP * (len(sizes) - 1)
            top = inner_y + (inner_h - col_h) / 2
            for child, (cw, ch) in zip(column, sizes, strict=True):
                self.place(child, cursor + (col_w - cw) / 2, top, depth + 1)
                top += ch + ROW_GAP
            cursor += col_w + COLUMN_GAP


def _clip(node: Node, dx: float, dy: float) -> tuple[float, float]:
    """Where a line leaving ``node``'s centre in direction (dx, dy) crosses its border."""
    if dx == 0 and dy == 0:
        return node.cx, node.cy
    half_w, half_h = node.w / 2 + 2, node.h / 2 + 2
    t = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return node.cx + dx * t, node.cy + dy * t


BADGE_RADIUS = 9.0
_BADGE_SPOTS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)
_BENDS = (0.0, 45.0, -45.0, 90.0, -90.0, 140.0, -140.0, 200.0, -200.0)
"""How far (px) a flow may bow out sideways to get round elements in its way."""
_SAMPLES = tuple(i / 24 for i in range(2, 23))


def _hits(edge: Edge, obstacles: list[Node], canvas: tuple[float, float]) -> int:
    """How many sample points of the edge fall inside an element box it does not connect
    (or outside the canvas)."""
    pad = 5.0
    count = 0
    for t in _SAMPLES:
        x, y = edge.point(t)
        if not (0 <= x <= canvas[0] and 0 <= y <= canvas[1]):
            count += 1
        count += sum(
            1
            for n in obstacles
            if n.x - pad < x < n.x + n.w + pad and n.y - pad < y < n.y + n.h + pad
        )
    return count


def _route(
    number: int,
    flow_id: str,
    a: Node,
    b: Node,
    offset: float,
    bidirectional: bool,
    nodes: list[Node],
    canvas: tuple[float, float],
) -> Edge:
    """A straight line if nothing is in the way, else the gentlest curve round the obstacles."""
    dx, dy = b.cx - a.cx, b.cy - a.cy
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length, dx / length
    obstacles = [n for n in nodes if n.id not in (a.id, b.id)]
    best: tuple[int, Edge] | None = None
    for bend in _BENDS:
        # A quadratic curve peaks at half its control point's distance from the chord.
        reach = 2 * (offset + bend)
        qx = (a.cx + b.cx) / 2 + nx * reach
        qy = (a.cy + b.cy) / 2 + ny * reach
        x1, y1 = _clip(a, qx - a.cx, qy - a.cy)
        x2, y2 = _clip(b, qx - b.cx, qy - b.cy)
        if bend == 0 and offset == 0:
            qx, qy = (x1 + x2) / 2, (y1 + y2) / 2
        edge = Edge(number, flow_id, x1, y1, x2, y2, qx, qy, bidirectional)
        hits = _hits(edge, obstacles, canvas)
        if hits == 0:
            return edge
        if best is None or hits < best[0]:
            best = (hits, edge)
    assert best is not None
    return best[1]


def _clear_badge(edge: Edge, nodes: list[Node], placed: list[Edge]) -> Edge:
    """The edge with its badge moved along the curve off element boxes and other badges."""
    gap = BADGE_RADIUS + 2
    for at in _BADGE_SPOTS:
        candidate = dataclasses.replace(edge, at=at)
        x, y = candidate.mx, candidate.my
        on_node = any(
            n.x - gap < x < n.x + n.w + gap and n.y - gap < y < n.y + n.h + gap for n in nodes
        )
        on_badge = any(math.hypot(e.mx - x, e.my - y) < 2 * gap for e in placed)
        if not on_node and not on_badge:
            return candidate
    return edge


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def layout(model: Model, margin: float = 16) -> Diagram:
    """Lay out the whole model."""
    work = _Layout(model)
    root = ("box", None)
    width, height = work.size(root)
    work.place(root, margin, margin)
    nodes = {n.id: n for n in work.nodes}
    flows = sorted(
        (
            f
            for f in model.flows
            if f.source in nodes and f.target in nodes and f.source != f.target
        ),
        key=lambda f: f.id,
    )
    pairs: dict[tuple[str, str], list[str]] = {}
    for flow in flows:
        pairs.setdefault(_pair(flow.source, flow.target), []).append(flow.id)
    edges: list[Edge] = []
    for number, flow in enumerate(flows, start=1):
        group = pairs[_pair(flow.source, flow.target)]
        # Several flows between the same two elements run side by side, 9 px apart.
        offset = (group.index(flow.id) - (len(group) - 1) / 2) * 9
        if flow.source > flow.target:
            offset = -offset
        edge = _route(
            number,
            flow.id,
            nodes[flow.source],
            nodes[flow.target],
            offset,
            flow.bidirectional,
            work.nodes,
            (width + 2 * margin, height + 2 * margin),
        )
        edges.append(_clear_badge(edge, work.nodes, edges))
    lines = tuple(sorted(plain(b.name, 80) for b in model.boundaries if b.is_line))
    work.boxes.sort(key=lambda b: (b.depth, b.id))
    # A curve that could not avoid leaving the canvas still has to be seen whole.
    right, bottom = width + 2 * margin, height + 2 * margin
    for edge in edges:
        for t in (0.0, *_SAMPLES, 1.0):
            x, y = edge.point(t)
            right, bottom = max(right, x + margin), max(bottom, y + margin)
    return Diagram(
        right,
        bottom,
        tuple(work.boxes),
        tuple(sorted(work.nodes, key=lambda n: n.id)),
        tuple(edges),
        lines,
    )
