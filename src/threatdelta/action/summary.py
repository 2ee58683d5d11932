"""The job summary (and the check run's text): the full report, with what the step did.

The pull request's summary is the comment's markdown at full detail, as far as GitHub's 1 MiB
summary limit allows, followed by where the JSON report is and what could not be published. A
push gets the model's threat register instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from threatdelta.policy import Verdict
from threatdelta.publish.workflow import SUMMARY_LIMIT
from threatdelta.render.comment import review_comment
from threatdelta.render.escape import code, md
from threatdelta.render.templates import render
from threatdelta.review.revisions import ReviewSet

FOOTER_ROOM = 8_000
"""Characters kept free for the footer when the report is sized to the summary limit."""


def publication_notes(notes: Sequence[str]) -> str:
    """What could not be published, as a quote block (empty when everything was)."""
    if not notes:
        return ""
    lines = "\n".join(f"> - {md(n, 500)}" for n in notes)
    return f"\n> **Not everything could be published:**\n>\n{lines}\n"


def _footer(report_path: str | None, notes: Sequence[str]) -> str:
    parts = ["\n---\n"]
    if report_path:
        parts.append(
            f"\n<sub>The JSON report is at {code(report_path, 400)} on the runner "
            "(step output <code>report-path</code>).</sub>\n"
        )
    parts.append(publication_notes(notes))
    return "".join(parts)


def _unaddressed_list(result: ReviewSet, limit: int) -> str:
    """A compact list of every unaddressed threat, cut at ``limit`` characters."""
    total = sum(len(r.unaddressed) for r in result.reviews)
    parts = [f"\n### Every unaddressed threat ({total})\n"]
    size = len(parts[0])
    shown = 0
    for review in result.reviews:
        if not review.unaddressed:
            continue
        header = f"\n{code(review.path, 300)}\n\n| Threat | Severity | STRIDE | Line |\n|---|---|---|---|\n"
        parts.append(header)
        size += len(header)
        for entry in review.unaddressed:
            location = entry.threat.location
            line = location.line if location is not None and location.line else ""
            row = (
                f"| {code(entry.key, 200)} | {entry.severity} | {entry.threat.stride} | {line} |\n"
            )
            if size + len(row) > limit:
                parts.append(f"\n… and {total - shown} more: the JSON report lists every threat.\n")
                return "".join(parts)
            parts.append(row)
            size += len(row)
            shown += 1
    return "".join(parts)


def full_report(result: ReviewSet, limit: int = SUMMARY_LIMIT - FOOTER_ROOM) -> str:
    """The review at the most detail that fits in ``limit`` characters.

    When even that leaves threats out, half the room goes to a compact list of every
    unaddressed threat, so the summary still names each one.
    """
    report = review_comment(result, limit=limit, summary_hint=False)
    if not report.trimmed:
        return report.body
    listing = _unaddressed_list(result, limit // 2)
    shorter = review_comment(result, limit=limit - len(listing), summary_hint=False)
    return shorter.body.rstrip("\n") + "\n" + listing


def pull_request_summary(report: str, report_path: str | None, notes: Sequence[str] = ()) -> str:
    """The job summary of a pull-request run: ``report``, then the footer."""
    return report.rstrip("\n") + "\n" + _footer(report_path, notes)


def error_report(message: str, head_sha: str | None) -> str:
    """Markdown for a run that could not review (bad model, bad input): the error, escaped."""
    lines = [line for line in message.splitlines() if line.strip()] or ["unknown error"]
    shown = lines[:50]
    items = "\n".join(f"- {md(line, 600)}" for line in shown)
    more = f"\n- … and {len(lines) - len(shown)} more\n" if len(lines) > len(shown) else "\n"
    at = f" at <code>{head_sha[:12]}</code>" if head_sha else ""
    return (
        f"### ⚠️ threatdelta could not review this change{at}\n\n"
        f"{items}{more}\n"
        "Fix the file or the workflow input named above and push again; until then the check "
        "fails.\n"
    )


def push_summary(
    register_datas: Sequence[dict[str, object]],
    sha: str,
    branch: str | None,
    verdict: Verdict,
    policy: str,
    history: str | None = None,
) -> str:
    """The job summary of a push: every model's register, and the history section if any."""
    where = f" on {code(branch, 200)}" if branch else ""
    status = "✅" if verdict.passed else "❌"
    reasons = "".join(f"\n- {md(r, 300)}" for r in verdict.reasons)
    text = (
        f"## {status} threatdelta: threat register at <code>{sha[:12]}</code>{where}\n\n"
        f"Policy {code(policy, 200)}: {verdict.name}.{reasons}\n\n"
    )
    text += render("check.md.j2", models=[{"data": d} for d in register_datas])
    if history:
        text = text.rstrip("\n") + "\n\n" + history.rstrip("\n") + "\n"
    return text
