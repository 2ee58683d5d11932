"""Per-revision and per-iteration numbers, from hand-built snapshots (no git)."""

from __future__ import annotations

import datetime as dt

from threatdelta.history.metrics import (
    IterationEnd,
    RevisionInput,
    control_gaps,
    retrospectives,
    revision_metrics,
    status_counts,
)
from threatdelta.history.snapshot import ControlState, Snapshot, ThreatState
from threatdelta.review.delta import Regression

DAY = 86400
T0 = 1_735_732_800  # 2025-01-01 12:00 UTC


def threat(
    key: str,
    status: str = "open",
    *,
    controls: tuple[str, ...] = (),
    expires: str | None = None,
    blocked: bool = False,
) -> ThreatState:
    return ThreatState(key, key, "S", "high", key, status, blocked, controls, expires, "lead")


def snap(*threats: ThreatState, controls: tuple[ControlState, ...] = ()) -> Snapshot:
    return Snapshot("sys", "native", 1, 1, 0, tuple(threats), controls)


TLS = ControlState("tls", "TLS", "verified", ("tests/test_tls.py",))


def rev(
    day: int, snapshot: Snapshot | None, missing: frozenset[str] = frozenset()
) -> RevisionInput:
    return RevisionInput(
        f"sha{day}",
        T0 + day * DAY,
        f"day {day}",
        "m.yaml",
        snapshot,
        "" if snapshot else "broken",
        missing,
    )


def regressions(
    before: Snapshot,
    before_date: dt.date,
    before_missing: frozenset[str],
    after: Snapshot,
    after_date: dt.date,
    after_missing: frozenset[str],
) -> tuple[Regression, ...]:
    """The regressions history records for ``after`` following ``before``."""
    day0 = (before_date - dt.date(2025, 1, 1)).days
    day1 = (after_date - dt.date(2025, 1, 1)).days
    metrics = revision_metrics([rev(day0, before, before_missing), rev(day1, after, after_missing)])
    return metrics[1].regressions


def test_status_counts_use_effective_status() -> None:
    s = snap(
        threat("a"),
        threat("b", "mitigated", controls=("tls",)),
        threat("c", "mitigated", blocked=True),
        threat("d", "accepted", expires="2025-01-10"),
        threat("e", "transferred"),
        threat("f", "not-applicable"),
    )
    before = status_counts(s, dt.date(2025, 1, 10))
    after = status_counts(s, dt.date(2025, 1, 11))
    assert (
        before.open,
        before.mitigated,
        before.accepted,
        before.transferred,
        before.not_applicable,
        before.total,
    ) == (2, 1, 1, 1, 1, 6)
    assert (after.open, after.accepted) == (3, 0)


def test_regression_codes() -> None:
    before = snap(
        threat("a", "mitigated", controls=("tls",)),
        threat("b", "accepted", expires="2025-01-05"),
        controls=(TLS,),
    )
    downgraded = ControlState("tls", "TLS", "implemented", ())
    after = snap(
        threat("a", "mitigated", controls=("tls",)),
        threat("b", "accepted", expires="2025-01-05"),
        controls=(downgraded,),
    )
    found = regressions(
        before, dt.date(2025, 1, 1), frozenset(), after, dt.date(2025, 1, 9), frozenset()
    )
    assert sorted(r.code for r in found) == [
        "control-downgraded",
        "evidence-removed",
        "expired",
    ]
    gone = snap(threat("a", "mitigated", controls=(), blocked=True))
    found = regressions(
        before, dt.date(2025, 1, 1), frozenset(), gone, dt.date(2025, 1, 2), frozenset()
    )
    assert sorted((r.code, r.key) for r in found) == [("control-removed", "a")]
    redecided = snap(threat("a", "accepted", expires="2026-01-01"))
    found = regressions(
        before, dt.date(2025, 1, 1), frozenset(), redecided, dt.date(2025, 1, 2), frozenset()
    )
    assert found == ()


def test_newly_missing_evidence_is_a_regression_once() -> None:
    s = snap(threat("a", "mitigated", controls=("tls",)), controls=(TLS,))
    missing = frozenset({"tests/test_tls.py"})
    first = regressions(s, dt.date(2025, 1, 1), frozenset(), s, dt.date(2025, 1, 2), missing)
    again = regressions(s, dt.date(2025, 1, 2), missing, s, dt.date(2025, 1, 3), missing)
    assert [r.code for r in first] == ["evidence-missing"]
    assert again == ()


def test_revision_metrics_compare_with_the_previous_readable_revision() -> None:
    inputs = [
        rev(0, snap(threat("a"), threat("b"))),
        rev(1, None),
        rev(2, snap(threat("a", "not-applicable"), threat("c"))),
    ]
    metrics = revision_metrics(inputs)
    assert metrics[1].error == "broken"
    assert metrics[2].new == ("c",) and metrics[2].resolved == ("b",)
    assert [(t.key, t.before, t.after) for t in metrics[2].transitions] == [
        ("a", "open", "not-applicable")
    ]
    assert [m.number for m in metrics] == [1, 2, 3]


def test_retrospective_durations_in_days_and_revisions() -> None:
    # a: seen day 0, addressed day 4 (revision 3); b: seen day 0, addressed day 10 (revision 4);
    # c: seen day 4, addressed at once; d: never addressed.
    inputs = [
        rev(0, snap(threat("a"), threat("b"))),
        rev(2, snap(threat("a"), threat("b"))),
        rev(4, snap(threat("a", "not-applicable"), threat("b"), threat("c", "not-applicable"))),
        rev(
            10,
            snap(
                threat("a", "not-applicable"),
                threat("b", "not-applicable"),
                threat("c", "not-applicable"),
                threat("d"),
            ),
        ),
    ]
    metrics = revision_metrics(inputs)
    ends = [
        IterationEnd("one", "sha2", T0 + 2 * DAY, "", 2),
        IterationEnd("two", "sha10", T0 + 10 * DAY, "", 4),
    ]
    one, two = retrospectives(inputs, metrics, ends)
    assert one.time_to_disposition.count == 0
    assert one.still_open == ("a", "b")
    d = two.time_to_disposition
    # a: 4 days / 2 revisions; b: 10 / 3; c: 0 / 0 -> median 4 days, 2 revisions.
    assert (d.count, d.median_days, d.max_days, d.median_revisions, d.max_revisions) == (
        3,
        4.0,
        10.0,
        2.0,
        3,
    )
    assert two.added == ("c", "d") and two.closed == ("a", "b", "c")
    assert two.still_open == ("d",)


def test_retrospective_gone_reopened_and_empty_iteration() -> None:
    inputs = [
        rev(0, snap(threat("a"), threat("b", "not-applicable"))),
        rev(3, snap(threat("b"))),
    ]
    metrics = revision_metrics(inputs)
    ends = [
        IterationEnd("one", "sha0", T0, "", 1),
        IterationEnd("quiet", "sha1", T0 + DAY, "", 1),
        IterationEnd("two", "sha3", T0 + 3 * DAY, "", 2),
    ]
    _, quiet, two = retrospectives(inputs, metrics, ends)
    assert quiet.revisions == () and quiet.added == () and quiet.start == quiet.end
    assert two.gone == ("a",)
    assert two.reopened == ("b",)
    assert two.still_open == ("b",)


def test_expiring_window_is_90_days() -> None:
    s = snap(
        threat("x", "accepted", expires="2025-04-01"),
        threat("y", "accepted", expires="2025-04-02"),
        threat("z", "accepted", expires="2024-12-31"),
    )
    (retro,) = retrospectives(
        [rev(0, s)],
        revision_metrics([rev(0, s)]),
        [
            IterationEnd("one", "sha0", T0, "", 1)  # 2025-01-01 + 90 days = 2025-04-01
        ],
    )
    assert [n.key for n in retro.expiring] == ["x"]
    assert [n.key for n in retro.expired] == ["z"]


def test_control_gaps() -> None:
    bare = ControlState("bare", "Bare", "planned", ())
    report = ControlState("pt", "Pen test", "verified", ("PT-1#F-2",))
    s = snap(threat("a", "mitigated", controls=("tls", "bare")), controls=(bare, report, TLS))
    gaps = control_gaps(s, frozenset({"tests/test_tls.py"}))
    assert [(g.id, g.missing, g.threats, g.reason) for g in gaps] == [
        ("bare", (), 1, "names no evidence"),
        ("tls", ("tests/test_tls.py",), 1, "evidence not found: tests/test_tls.py"),
    ]


def test_a_declared_rename_is_neither_new_nor_resolved_in_the_history() -> None:
    before = snap(threat("process-dos@ctrl", "mitigated", controls=("tls",)), controls=(TLS,))
    renamed = Snapshot(
        "sys",
        "native",
        1,
        1,
        0,
        (threat("process-dos@controller", "mitigated", controls=("tls",)),),
        (TLS,),
        renames=(("ctrl", "controller"),),
    )
    undeclared = Snapshot("sys", "native", 1, 1, 0, renamed.threats, (TLS,))
    declared_row = revision_metrics([rev(0, before), rev(1, renamed)])[1]
    assert declared_row.new == () and declared_row.resolved == ()
    undeclared_row = revision_metrics([rev(0, before), rev(1, undeclared)])[1]
    assert undeclared_row.new == ("process-dos@controller",)
    assert undeclared_row.resolved == ("process-dos@ctrl",)
