"""The trend picture: threats by effective status over model revisions.

:func:`trend_chart` lays the chart out as plain geometry (an inline SVG template draws it, so the
HTML report needs no script and no network); :func:`trend_mermaid` writes the same series as a
Mermaid ``xychart-beta`` for markdown (GitHub draws it in comments and job summaries).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from threatdelta.history.metrics import Retrospective, RevisionMetrics

SERIES: tuple[tuple[str, str, str, str], ...] = (
    ("open", "Open (unaddressed)", "#cf222e", ""),
    ("mitigated", "Mitigated", "#1a7f37", "7 4"),
    ("accepted", "Accepted or transferred", "#9a6700", "2 3"),
    ("not_applicable", "Not applicable", "#57606a", "9 3 2 3"),
)
"""``(name, label, colour, SVG dash pattern)``; dashes tell the lines apart in grey print."""

MERMAID_MAX_REVISIONS = 100
"""The Mermaid chart shows at most this many (newest) revisions."""

WIDTH = 880
HEIGHT = 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 16, 40, 44


@dataclass(frozen=True)
class TrendPoint:
    """One value on one line."""

    x: float
    """Horizontal position."""
    y: float
    """Vertical position."""
    value: int
    """The count."""
    tooltip: str
    """Hover text: revision, date and value."""


@dataclass(frozen=True)
class TrendLine:
    """One series."""

    name: str
    """open, mitigated, accepted or not_applicable."""
    label: str
    """Legend text."""
    color: str
    """Stroke colour."""
    dash: str
    """SVG ``stroke-dasharray`` ('' for solid)."""
    points: tuple[TrendPoint, ...]
    """Points, left to right."""

    @property
    def path(self) -> str:
        """The ``points`` attribute of an SVG polyline."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Tick:
    """An axis tick."""

    position: float
    """x for the horizontal axis, y for the vertical one."""
    label: str
    """Its label."""


@dataclass(frozen=True)
class IterationLine:
    """A vertical line where an iteration ends."""

    x: float
    """Horizontal position."""
    label: str
    """The iteration's name."""


@dataclass(frozen=True)
class TrendChart:
    """A laid-out line chart."""

    width: int
    """Canvas width."""
    height: int
    """Canvas height."""
    left: float
    """Plot area left edge."""
    top: float
    """Plot area top edge."""
    right: float
    """Plot area right edge."""
    bottom: float
    """Plot area bottom edge."""
    lines: tuple[TrendLine, ...]
    """The series."""
    y_ticks: tuple[Tick, ...]
    """Value ticks."""
    x_ticks: tuple[Tick, ...]
    """Revision-number ticks."""
    iterations: tuple[IterationLine, ...]
    """Iteration ends."""


def _values(revision: RevisionMetrics) -> dict[str, int]:
    counts = revision.counts
    return {
        "open": counts.open,
        "mitigated": counts.mitigated,
        "accepted": counts.accepted + counts.transferred,
        "not_applicable": counts.not_applicable,
    }


def nice_ceiling(value: int) -> tuple[int, int]:
    """An axis maximum at or above ``value`` and a tick step giving at most about six ticks."""
    if value <= 0:
        return 1, 1
    raw = value / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = magnitude
    for factor in (1, 2, 5, 10):
        step = max(1, int(factor * magnitude))
        if value / step <= 6:
            break
    top = step * math.ceil(value / step)
    return top, step


def trend_chart(
    revisions: Sequence[RevisionMetrics], iterations: Sequence[Retrospective] = ()
) -> TrendChart | None:
    """The chart of ``revisions`` (unreadable ones left out), or None when none is readable."""
    shown = [r for r in revisions if not r.error]
    if not shown:
        return None
    left, top, right, bottom = _LEFT, _TOP, WIDTH - _RIGHT, HEIGHT - _BOTTOM
    highest = max(max(_values(r).values()) for r in shown)
    y_max, step = nice_ceiling(highest)

    def x_of(index: int) -> float:
        if len(shown) == 1:
            return (left + right) / 2
        return left + (right - left) * index / (len(shown) - 1)

    def y_of(value: int) -> float:
        return bottom - (bottom - top) * value / y_max

    lines = []
    for name, label, color, dash in SERIES:
        points = tuple(
            TrendPoint(
                x_of(i),
                y_of(_values(r)[name]),
                _values(r)[name],
                f"revision {r.number} ({r.sha[:7]}, {r.date.isoformat()}): "
                f"{_values(r)[name]} {label.lower()}",
            )
            for i, r in enumerate(shown)
        )
        lines.append(TrendLine(name, label, color, dash, points))
    y_ticks = tuple(Tick(y_of(v), str(v)) for v in range(0, y_max + 1, step))
    every = max(1, math.ceil(len(shown) / 12))
    x_ticks = tuple(
        Tick(x_of(i), str(r.number))
        for i, r in enumerate(shown)
        if i % every == 0 or i == len(shown) - 1
    )
    index_of = {r.number: i for i, r in enumerate(shown)}
    marks = []
    for iteration in iterations:
        numbers = [n for n in iteration.revisions if n in index_of]
        if numbers:
            marks.append(IterationLine(x_of(index_of[numbers[-1]]), iteration.name))
    return TrendChart(
        WIDTH, HEIGHT, left, top, right, bottom, tuple(lines), y_ticks, x_ticks, tuple(marks)
    )


_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9 ._+-]")


def _label(text: str) -> str:
    return _LABEL_UNSAFE.sub("", text)[:24]


def trend_mermaid(
    revisions: Sequence[RevisionMetrics], iterations: Sequence[Retrospective] = ()
) -> str:
    """A fenced Mermaid ``xychart-beta`` of the trend, with a legend line (markdown)."""
    shown = [r for r in revisions if not r.error][-MERMAID_MAX_REVISIONS:]
    if not shown:
        return ""
    ends = {}
    for iteration in iterations:
        if iteration.revisions:
            ends[iteration.revisions[-1]] = _label(iteration.name)
    labels = ", ".join(
        f'"{r.number} {ends[r.number]}"' if r.number in ends else f'"{r.number}"' for r in shown
    )
    highest = max(max(_values(r).values()) for r in shown)
    y_max, _ = nice_ceiling(highest)
    palette = ", ".join(color for _, _, color, _ in SERIES)
    lines = [
        "```mermaid",
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + palette + '"}}}}%%',
        "xychart-beta",
        '    title "Threats by status per model revision"',
        f'    x-axis "Model revision" [{labels}]',
        f'    y-axis "Threats" 0 --> {y_max}',
    ]
    for name, _, _, _ in SERIES:
        lines.append("    line [" + ", ".join(str(_values(r)[name]) for r in shown) + "]")
    lines.append("```")
    colours = ("red", "green", "amber", "grey")
    legend = ", ".join(
        f"{label.lower()} ({colour})"
        for (_, label, _, _), colour in zip(SERIES, colours, strict=True)
    )
    note = ""
    if len([r for r in revisions if not r.error]) > len(shown):
        note = f" The chart shows the newest {len(shown)} revisions."
    return "\n".join(lines) + f"\n\nLines: {legend}.{note}\n"
