"""The trend chart's geometry and its Mermaid twin."""

from __future__ import annotations

import pytest

from threatdelta.git import Repo
from threatdelta.history.build import History, build_history
from threatdelta.history.metrics import StatusCounts
from threatdelta.history.trend import nice_ceiling, trend_chart, trend_mermaid
from threatdelta.rules.pack import RulePack


@pytest.fixture(scope="module")
def history(scripted_repo: Repo, pack: RulePack) -> History:
    return build_history(scripted_repo, "models/pump.yaml", pack=pack)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, (1, 1)), (3, (3, 1)), (7, (8, 2)), (98, (100, 20)), (1234, (1500, 500))],
)
def test_nice_ceiling(value: int, expected: tuple[int, int]) -> None:
    assert nice_ceiling(value) == expected


def test_chart_has_one_point_per_revision_per_series(history: History) -> None:
    chart = trend_chart(history.revisions, history.iterations)
    assert chart is not None
    assert [line.name for line in chart.lines] == [
        "open",
        "mitigated",
        "accepted",
        "not_applicable",
    ]
    opens = [p.value for p in chart.lines[0].points]
    assert opens == [3, 2, 1, 1, 0, 1, 3, 1]
    accepted = [p.value for p in chart.lines[2].points]
    assert accepted == [0, 0, 1, 1, 1, 1, 0, 1]
    # The highest value sits on the top of the plot, zero on its bottom.
    top = min(p.y for p in chart.lines[0].points)
    assert top == pytest.approx(chart.top)
    assert chart.lines[3].points[0].y == pytest.approx(chart.bottom)
    xs = [p.x for p in chart.lines[0].points]
    assert xs == sorted(xs) and xs[0] == chart.left and xs[-1] == chart.right
    assert [m.label for m in chart.iterations] == ["v1.0", "v2.0", "after v2.0"]
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3"]
    assert "revision 7" in chart.lines[0].points[6].tooltip


def test_unreadable_revisions_are_left_out(history: History) -> None:
    import dataclasses

    broken = [dataclasses.replace(r, error="bad", counts=StatusCounts()) for r in history.revisions]
    assert trend_chart(broken) is None
    assert trend_mermaid(broken) == ""


def test_mermaid_xychart(history: History) -> None:
    text = trend_mermaid(history.revisions, history.iterations)
    assert text.startswith("```mermaid\n")
    assert "xychart-beta" in text
    assert '"3 v1.0"' in text and '"7 v2.0"' in text
    assert "    line [3, 2, 1, 1, 0, 1, 3, 1]" in text
    assert 'y-axis "Threats" 0 --> 3' in text
    assert "open (unaddressed) (red)" in text
