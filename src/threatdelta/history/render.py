"""The history in every output format: text, markdown, JSON, CSV and HTML.

All formats start from :func:`history_data`, one plain-data view with sorted keys, so the same
history always gives byte-identical output. Work counters (cache hits) are never part of it.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from threatdelta.history.build import History
from threatdelta.history.metrics import Durations, Retrospective, RevisionMetrics, StatusCounts
from threatdelta.history.trend import SERIES, trend_chart, trend_mermaid
from threatdelta.render.data import dumps
from threatdelta.render.escape import plain

FORMATS = ("text", "markdown", "json", "csv", "html")


def _counts(counts: StatusCounts) -> dict[str, int]:
    return {
        "open": counts.open,
        "mitigated": counts.mitigated,
        "accepted": counts.accepted,
        "transferred": counts.transferred,
        "not_applicable": counts.not_applicable,
        "total": counts.total,
    }


def _durations(d: Durations) -> dict[str, Any]:
    return {
        "count": d.count,
        "median_days": d.median_days,
        "max_days": d.max_days,
        "median_revisions": d.median_revisions,
        "max_revisions": d.max_revisions,
    }


def revision_data(r: RevisionMetrics) -> dict[str, Any]:
    """One revision as plain data."""
    data: dict[str, Any] = {
        "number": r.number,
        "commit": r.sha,
        "date": r.date.isoformat(),
        "subject": r.subject,
        "path": r.path,
        "renamed_from": r.renamed_from,
    }
    if r.error:
        data["error"] = r.error
        return data
    data.update(
        {
            "elements": r.elements,
            "flows": r.flows,
            "boundaries": r.boundaries,
            "controls": r.controls,
            "threats": _counts(r.counts),
            "new": list(r.new),
            "resolved": list(r.resolved),
            "transitions": [
                {"key": t.key, "before": t.before, "after": t.after, "addressed": t.addressed}
                for t in r.transitions
            ],
            "regressions": [
                {"code": g.code, "message": g.message, "key": g.key} for g in r.regressions
            ],
        }
    )
    return data


def iteration_data(it: Retrospective) -> dict[str, Any]:
    """One iteration's retrospective as plain data."""
    return {
        "name": it.name,
        "start_commit": it.start_sha,
        "start_date": it.start_date.isoformat() if it.start_date else None,
        "end_commit": it.end_sha,
        "end_date": it.end_date.isoformat(),
        "revisions": list(it.revisions),
        "start": _counts(it.start),
        "end": _counts(it.end),
        "added": list(it.added),
        "closed": list(it.closed),
        "gone": list(it.gone),
        "still_open": list(it.still_open),
        "reopened": list(it.reopened),
        "time_to_disposition": _durations(it.time_to_disposition),
        "expired": [_note(n) for n in it.expired],
        "expiring": [_note(n) for n in it.expiring],
        "controls_without_evidence": [
            {
                "id": g.id,
                "name": g.name,
                "status": g.status,
                "missing": list(g.missing),
                "reason": g.reason,
                "threats": g.threats,
            }
            for g in it.controls_without_evidence
        ],
    }


def _note(n: Any) -> dict[str, str]:
    return {"key": n.key, "status": n.status, "expires": n.expires, "approved_by": n.approved_by}


def history_data(history: History) -> dict[str, Any]:
    """The whole history as plain data (``history --format json``)."""
    return {
        "model": history.path,
        "system": history.system,
        "until": history.until,
        "until_date": history.until_date.isoformat(),
        "since": history.since,
        "rules": history.pack,
        "iterations_from": history.iteration_source,
        "iteration_pattern": history.iteration_pattern,
        "revisions": [revision_data(r) for r in history.revisions],
        "iterations": [iteration_data(i) for i in history.iterations],
        "threats": {
            key: {
                "title": info.title,
                "subject": info.subject,
                "stride": info.stride,
                "severity": info.severity,
            }
            for key, info in history.threats.items()
        },
        "warnings": list(history.warnings),
    }


def _iteration_source(data: dict[str, Any]) -> str:
    source = data["iterations_from"]
    if source == "tags":
        return f"iterations end at tags matching '{data['iteration_pattern']}'"
    if source == "merges":
        return (
            f"no tag matches '{data['iteration_pattern']}': iterations end at merges into "
            "the branch"
        )
    return f"no tag matches '{data['iteration_pattern']}' and no merge: one iteration"


def _fmt_days(d: dict[str, Any]) -> str:
    if not d["count"]:
        return "no threat was first addressed in this iteration"
    return (
        f"{d['count']} {'threat' if d['count'] == 1 else 'threats'}: median {_n(d['median_days'])} days / "
        f"{_n(d['median_revisions'])} revisions, longest {_n(d['max_days'])} days / "
        f"{_n(d['max_revisions'])} revisions"
    )


def _n(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _counts_text(c: dict[str, int]) -> str:
    return (
        f"{c['total']} threats: {c['open']} open, {c['mitigated']} mitigated, "
        f"{c['accepted']} accepted, {c['transferred']} transferred, "
        f"{c['not_applicable']} not applicable"
    )


def history_text(history: History) -> str:
    """A plain-text report for the terminal."""
    data = history_data(history)
    out = io.StringIO()
    w = out.write
    w(
        f"History of {plain(data['model'])} ({plain(data['system'])}): "
        f"{len(data['revisions'])} model revisions up to {data['until'][:7]} "
        f"({data['until_date']}); {_iteration_source(data)}\n\n"
    )
    header = (
        f"{'#':>4}  {'date':10}  {'commit':7}  {'elem':>4} {'flow':>4} {'bnd':>3} {'ctl':>3}  "
        f"{'open':>4} {'mit':>4} {'acc':>4} {'tr':>3} {'n/a':>3} {'all':>4}  "
        f"{'new':>3} {'gone':>4} {'chg':>3} {'reg':>3}  subject"
    )
    w(header + "\n")
    for r in data["revisions"]:
        lead = f"{r['number']:>4}  {r['date']}  {r['commit'][:7]}  "
        if "error" in r:
            w(lead + f"unreadable: {plain(r['error'], 120)}\n")
            continue
        t = r["threats"]
        w(
            lead + f"{r['elements']:>4} {r['flows']:>4} {r['boundaries']:>3} {r['controls']:>3}  "
            f"{t['open']:>4} {t['mitigated']:>4} {t['accepted']:>4} {t['transferred']:>3} "
            f"{t['not_applicable']:>3} {t['total']:>4}  "
            f"{len(r['new']):>3} {len(r['resolved']):>4} {len(r['transitions']):>3} "
            f"{len(r['regressions']):>3}  {plain(r['subject'], 60)}"
            + (f" (renamed from {plain(r['renamed_from'])})" if r["renamed_from"] else "")
            + "\n"
        )
    regressions = [(r, g) for r in data["revisions"] for g in r.get("regressions", [])]
    if regressions:
        w("\nRegressions\n")
        for r, g in regressions:
            w(f"  revision {r['number']} ({r['commit'][:7]}): {plain(g['message'], 200)}\n")
    for it in data["iterations"]:
        numbers = it["revisions"]
        span = (
            "no model change"
            if not numbers
            else (
                f"revision {numbers[0]}"
                if len(numbers) == 1
                else f"revisions {numbers[0]}–{numbers[-1]}"
            )
        )
        start = it["start_date"] or "start"
        w(f"\nIteration {plain(it['name'])} ({start} → {it['end_date']}, {span})\n")
        w(f"  at the start: {_counts_text(it['start'])}\n")
        w(f"  at the end:   {_counts_text(it['end'])}\n")
        w(
            f"  added {len(it['added'])}, closed {len(it['closed'])}, gone {len(it['gone'])}, "
            f"still open {len(it['still_open'])}, reopened {len(it['reopened'])}\n"
        )
        w(f"  time to disposition: {_fmt_days(it['time_to_disposition'])}\n")
        for label, notes in (
            ("expired", it["expired"]),
            ("expiring within 90 days", it["expiring"]),
        ):
            items = "; ".join(f"{n['key']} ({n['expires']})" for n in notes) or "none"
            w(f"  {label}: {plain(items, 2000)}\n")
        gaps = it["controls_without_evidence"]
        w(f"  controls without evidence: {'none' if not gaps else ''}\n")
        for g in gaps:
            w(
                f"    {plain(g['id'])} ({g['status']}, relied on by {g['threats']} {'threat' if g['threats'] == 1 else 'threats'}): {plain(g['reason'], 300)}\n"
            )
        if it["reopened"]:
            w(f"  reopened: {plain(', '.join(it['reopened']), 2000)}\n")
    for warning in data["warnings"]:
        w(f"\nwarning: {plain(warning, 400)}\n")
    return out.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def history_csv(history: History) -> str:
    """One row per model revision."""
    data = history_data(history)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "revision",
            "commit",
            "date",
            "path",
            "subject",
            "elements",
            "flows",
            "boundaries",
            "controls",
            "open",
            "mitigated",
            "accepted",
            "transferred",
            "not_applicable",
            "total",
            "new",
            "resolved",
            "transitions",
            "regressions",
            "iteration",
            "error",
        ]
    )
    iteration_of = {n: it["name"] for it in data["iterations"] for n in it["revisions"]}
    for r in data["revisions"]:
        t = r.get("threats", {})
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    r["number"],
                    r["commit"],
                    r["date"],
                    r["path"],
                    r["subject"],
                    r.get("elements", ""),
                    r.get("flows", ""),
                    r.get("boundaries", ""),
                    r.get("controls", ""),
                    t.get("open", ""),
                    t.get("mitigated", ""),
                    t.get("accepted", ""),
                    t.get("transferred", ""),
                    t.get("not_applicable", ""),
                    t.get("total", ""),
                    len(r.get("new", [])),
                    len(r.get("resolved", [])),
                    len(r.get("transitions", [])),
                    len(r.get("regressions", [])),
                    iteration_of.get(r["number"], ""),
                    r.get("error", ""),
                )
            ]
        )
    return out.getvalue()


def _template_context(history: History) -> dict[str, Any]:
    data = history_data(history)
    return {
        "data": data,
        "source": _iteration_source(data),
        "series": SERIES,
        "revisions_by_number": {r["number"]: r for r in data["revisions"]},
    }


def history_markdown(history: History) -> str:
    """A markdown report with a Mermaid trend chart."""
    from threatdelta.render.documents import render

    return render(
        "history.md.j2",
        mermaid=trend_mermaid(history.revisions, history.iterations),
        **_template_context(history),
    )


def history_html(history: History) -> str:
    """A self-contained HTML report with an inline SVG trend chart."""
    from threatdelta.render.documents import render

    return render(
        "history.html.j2",
        chart=trend_chart(history.revisions, history.iterations),
        **_template_context(history),
    )


def render_history(history: History, fmt: str) -> str:
    """The history in one of :data:`FORMATS`."""
    if fmt == "json":
        return dumps(history_data(history))
    if fmt == "csv":
        return history_csv(history)
    if fmt == "markdown":
        return history_markdown(history)
    if fmt == "html":
        return history_html(history)
    return history_text(history)
