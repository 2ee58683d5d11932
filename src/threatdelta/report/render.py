"""The traceability report as HTML (self-contained, print-friendly), markdown or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from threatdelta import __version__
from threatdelta.history.render import csv_cell
from threatdelta.model.graph import facts
from threatdelta.render.data import exclusion_data
from threatdelta.render.documents import render
from threatdelta.report.build import Report
from threatdelta.report.mermaid import flowchart
from threatdelta.report.traceability import VERDICTS
from threatdelta.rules.pack import STRIDE_NAMES

FORMATS = ("html", "markdown", "csv")


def _flow_rows(report: Report) -> list[dict[str, Any]]:
    model = report.model
    model_facts = facts(model)
    rows = []
    for edge in report.diagram.edges:
        flow = model.flow(edge.flow)
        if flow is None:
            continue
        source = model.element(flow.source)
        target = model.element(flow.target)
        crosses = model_facts.crossings(flow)
        rows.append(
            {
                "number": edge.number,
                "id": flow.id,
                "name": flow.name,
                "source": source.name if source is not None else flow.source,
                "target": target.name if target is not None else flow.target,
                "protocol": flow.protocol,
                "bidirectional": flow.bidirectional,
                "crosses": [
                    (b.name if b is not None else i)
                    for i, b in ((i, model.boundary(i)) for i in crosses)
                ],
            }
        )
    return rows


def _context(report: Report) -> dict[str, Any]:
    verdict_counts: dict[str, int] = {}
    for row in report.rows:
        verdict_counts[row.verdict] = verdict_counts.get(row.verdict, 0) + 1
    return {
        "r": report,
        "verdicts": VERDICTS,
        "verdict_counts": verdict_counts,
        "stride_names": STRIDE_NAMES,
        "flows": _flow_rows(report),
        "version": __version__,
        "gaps": [c for c in report.controls if c.missing or not c.evidence],
        "excluded": [exclusion_data(e, report.model) for e in report.excluded],
    }


def report_html(report: Report) -> str:
    """A self-contained HTML page: no script, no network, print-friendly."""
    return render("report.html.j2", **_context(report))


def report_markdown(report: Report) -> str:
    """Markdown with a Mermaid data-flow diagram."""
    numbers = {e.flow: e.number for e in report.diagram.edges}
    chart, truncated = flowchart(report.model, numbers)
    return render("report.md.j2", chart=chart, chart_truncated=truncated, **_context(report))


CSV_COLUMNS = (
    "threat",
    "reference",
    "title",
    "stride",
    "stride_name",
    "severity",
    "exploitability",
    "risk",
    "residual_risk",
    "hazards",
    "scope",
    "about",
    "subject_ids",
    "disposition",
    "control",
    "control_name",
    "control_status",
    "evidence",
    "evidence_status",
    "justification",
    "problems",
    "verdict",
    "revision",
    "revision_date",
)


def report_csv(report: Report) -> str:
    """The traceability matrix, one row per threat, control and piece of evidence."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        base = [
            row.key,
            row.reference,
            row.title,
            row.stride,
            STRIDE_NAMES.get(row.stride, row.stride),
            row.severity,
            row.exploitability,
            row.risk,
            row.residual_risk,
            " ".join(row.hazards),
            row.scope,
            row.subject,
            " ".join(row.subject_ids),
            row.disposition,
        ]
        tail = [
            row.justification,
            "; ".join(row.problems),
            VERDICTS[row.verdict][0],
            report.revision,
            report.revision_date.isoformat(),
        ]
        lines: list[list[str]] = []
        for control in row.controls:
            if not control.evidence:
                lines.append([control.id, control.name, control.status, "", "none named"])
            for ev in control.evidence:
                state = (
                    "reference (not checked)"
                    if ev.exists is None
                    else ("exists" if ev.exists else "MISSING")
                )
                lines.append([control.id, control.name, control.status, ev.text, state])
        if not lines:
            lines.append(["", "", "", "", ""])
        for line in lines:
            writer.writerow([csv_cell(v) for v in (*base, *line, *tail)])
    return out.getvalue()


def render_report(report: Report, fmt: str) -> str:
    """The report in one of :data:`FORMATS`."""
    if fmt == "csv":
        return report_csv(report)
    if fmt == "markdown":
        return report_markdown(report)
    return report_html(report)
