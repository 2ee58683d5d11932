"""The pull-request comment: what the author needs to know, most important first.

The comment is rendered from ``templates/review.md.j2``, the same for every host. Hosts refuse
comments over a size (GitHub 65,536 characters, GitLab 1,000,000), so the renderer tries detail
levels from full to bare and keeps the first that fits under the limit it is given (by default
:data:`COMMENT_LIMIT`), saying what it left out and where the full report is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from threatdelta import __version__
from threatdelta.formats.sidecar import decisions_view, target_path
from threatdelta.policy import Policy, at_or_above
from threatdelta.register import Entry
from threatdelta.render.comment_template import review_template
from threatdelta.render.data import (
    countermeasure_names,
    orphan_data,
    status_label,
    subject_label,
    threat_location,
)
from threatdelta.render.mermaid import changed_chart
from threatdelta.render.review_data import (
    decision_data,
    scope_decisions_data,
    stale_data,
    unverified_data,
)
from threatdelta.render.skeleton import ACCEPTANCE_LINES, Skeleton, build_skeleton
from threatdelta.review.partial import looked_at
from threatdelta.review.reasons import DECISION_CODES
from threatdelta.review.review import Review
from threatdelta.review.revisions import ReviewSet
from threatdelta.rules.pack import SEVERITIES

COMMENT_LIMIT = 65_000
"""Characters; GitHub's hard limit is 65,536 and the publisher adds hidden markers."""


@dataclass(frozen=True)
class Detail:
    """How much of each part to show."""

    rows: int | None
    """Rows per table (None: all)."""
    snippets: int | None
    """Disposition snippets (None: all, 0: none)."""
    chart: bool
    """Draw the Mermaid chart."""
    sections: bool
    """Show resolved threats, status changes and new addressed threats."""


LEVELS = (
    Detail(None, None, True, True),
    Detail(None, None, False, True),
    Detail(None, 0, False, True),
    Detail(50, 20, False, True),
    Detail(15, 5, False, True),
    Detail(10, 0, False, False),
    Detail(0, 0, False, False),
)


@dataclass(frozen=True)
class Comment:
    """A rendered comment."""

    body: str
    """Markdown, under :data:`COMMENT_LIMIT` characters."""
    trimmed: tuple[str, ...]
    """What was left out to fit, in plain words."""


def _severity_order(entry: Entry) -> tuple[int, str]:
    return (-SEVERITIES.index(entry.severity), entry.key)


def _threat_row(entry: Entry, review: Review) -> dict[str, Any]:
    assert review.head is not None and review.pack is not None
    threat = entry.threat
    location = threat_location(threat, review.head.model)
    return {
        "key": threat.key,
        "reference": entry.reference,
        "title": threat.title,
        "stride": threat.stride,
        "severity": entry.severity,
        "risk": entry.risk,
        "hazards": list(threat.hazards),
        "subject": subject_label(entry, review.head),
        "status": status_label(entry),
        "line": location.line if location is not None else None,
        "countermeasures": [
            c["name"] for c in countermeasure_names(threat.countermeasures, review.pack)
        ],
        "problems": [p.message for p in entry.problems],
    }


def _instructions(review: Review) -> str:
    model = review.head.model if review.head is not None else None
    fmt = model.format if model is not None else "native"
    return {
        "tm7": "Or, for threats from the model's own template (the ones the Threat Modeling Tool "
        "lists), decide in the tool: set the threat's state to Mitigated (describing the "
        "countermeasure) or Not Applicable (with the justification), save, and commit the .tm7 "
        "file.",
        "dragon": "Or, for threats stored in the Threat Dragon file (keys starting with `td:`), "
        "decide in Threat Dragon: set the threat to Mitigated with the mitigation text, or Not "
        "Applicable with the reason, save, and commit the JSON file.",
        "otm": "Or, for threats stored in the Open Threat Model file, add a mitigation to the "
        "threat in the file (or in the tool that produced it) and commit the file.",
    }.get(fmt, "")


def _decision_rows(review: Review, policy: Policy) -> list[dict[str, Any]]:
    """The review's risk decisions, each with what the policy says about it."""
    allowed = {a.casefold() for a in policy.approvers}
    rows = []
    for decision in review.decisions:
        row = decision_data(decision)
        flags = []
        if (
            policy.max_accepted_severity is not None
            and decision.entry.status == "accepted"
            and at_or_above(decision.entry, policy.max_accepted_severity)
        ):
            flags.append(f"severity {policy.max_accepted_severity} or higher may not be accepted")
        if (
            allowed
            and decision.entry.status in ("accepted", "transferred")
            and (row["approved_by"] or "").strip().casefold() not in allowed
        ):
            flags.append("not one of the approvers")
        rows.append(row | {"flags": flags})
    return rows


def _renamed_keys(review: Review) -> list[dict[str, Any]]:
    """Decisions that still count through a declared rename, with the key to write them under."""
    if review.head is None:
        return []
    rows = []
    # Every entry with a disposition is among those the review looked at.
    for entry in looked_at(review.head).entries:
        disposition = entry.disposition
        if disposition is not None and disposition.key != entry.key:
            location = disposition.location
            rows.append(
                {
                    "old": disposition.key,
                    "new": entry.key,
                    "line": location.line if location is not None else None,
                }
            )
    return rows


def _model_context(
    review: Review, detail: Detail, trimmed: list[str], policy: Policy
) -> dict[str, Any]:
    rows = detail.rows

    def cap(items: list[Any], what: str) -> list[Any]:
        if rows is not None and len(items) > rows:
            trimmed.append(f"{len(items) - rows} of {len(items)} {what} ({review.path})")
            return items[:rows]
        return items

    # A flow marked out of scope takes its threats away by a decision: shown among the risk
    # decisions (like an acceptance), with the reason, not among threats the design removed.
    decisions = review.scope_decisions
    resolved = [r for r in review.resolved if r.code not in DECISION_CODES]
    unaddressed = sorted(review.unaddressed, key=_severity_order)
    unaddressed_keys = {e.key for e in unaddressed}
    new_addressed = sorted(
        (e for e in review.new if e.key not in unaddressed_keys), key=_severity_order
    )
    skeleton: Skeleton | None = None
    head_model = review.head.model if review.head is not None else None
    if head_model is not None and detail.snippets != 0 and unaddressed:
        limit = detail.snippets if detail.snippets is not None else len(unaddressed)
        skeleton = build_skeleton(
            unaddressed[:limit], decisions_view(head_model), review.pack, compact=True
        )
        if len(unaddressed) > limit:
            trimmed.append(f"{len(unaddressed) - limit} disposition snippets ({review.path})")
    elif detail.snippets == 0 and unaddressed and head_model is not None:
        trimmed.append(f"disposition snippets ({review.path})")
    chart = None
    if review.diff is not None and review.head is not None:
        if detail.chart:
            chart = changed_chart(review.head.model, review.diff)
        elif changed_chart(review.head.model, review.diff) is not None:
            trimmed.append(f"the diagram of the change ({review.path})")
    if not detail.sections and (resolved or decisions or review.transitions or new_addressed):
        trimmed.append(
            f"resolved threats, status changes and new addressed threats ({review.path})"
        )
    counts = review.head.counts() if review.head is not None else None
    base_counts = review.base.counts() if review.base is not None else None
    return {
        "path": review.path,
        "base_path": review.base_path,
        "file_change": review.file_change,
        "format": review.head.model.format if review.head is not None else "",
        "unaddressed": cap([_threat_row(e, review) for e in unaddressed], "unaddressed threats"),
        "unaddressed_total": len(unaddressed),
        "new_addressed": cap(
            [_threat_row(e, review) for e in new_addressed], "new addressed threats"
        )
        if detail.sections
        else [],
        "new_total": len(review.new),
        "resolved": cap(
            [
                {
                    "key": r.entry.key,
                    "reference": r.entry.reference,
                    "title": r.entry.threat.title,
                    "reason": r.reason,
                }
                for r in resolved
            ],
            "resolved threats",
        )
        if detail.sections
        else [],
        "resolved_total": len(resolved),
        "transitions": cap(
            [
                {
                    "key": t.entry.key,
                    "reference": t.entry.reference,
                    "title": t.entry.threat.title,
                    "before": t.before,
                    "after": status_label(t.entry) if t.after == t.entry.status else t.after,
                    "addressed": t.entry.addressed,
                    "reason": "",
                }
                for t in review.transitions
            ],
            "status changes",
        )
        if detail.sections
        else [],
        "transitions_total": len(review.transitions),
        "regressions": cap(
            [
                {"message": r.message, "line": r.location.line if r.location else None}
                for r in review.regressions
            ],
            "regressions",
        ),
        "regressions_total": len(review.regressions),
        "stale": cap(stale_data(review), "decisions to re-confirm"),
        "renamed_keys": cap(_renamed_keys(review), "decisions under an old key"),
        "likely_renames": cap(
            [
                {"old": r.old, "new": r.new, "what": r.what, "name": r.name}
                for r in review.likely_renames
            ],
            "possible renames",
        ),
        "orphans": cap(
            [orphan_data(o) for o in (review.head.orphans if review.head is not None else ())],
            "decisions that match no threat",
        ),
        "stale_total": len(review.stale),
        "decisions": cap(
            _decision_rows(review, policy)
            + [row | {"flags": []} for row in scope_decisions_data(review)],
            "risk decisions",
        ),
        "decisions_total": len(review.decisions) + len(decisions),
        "unverified": cap(unverified_data(review.scope), "unverified mitigations"),
        "skeleton": skeleton,
        "acceptance": "\n".join(ACCEPTANCE_LINES) + "\n",
        "decisions_path": target_path(head_model) if head_model is not None else review.path,
        "instructions": _instructions(review) if unaddressed else "",
        "chart": chart.text if chart is not None else "",
        "chart_truncated": chart.truncated if chart is not None else False,
        "open_before": base_counts["unaddressed"] if base_counts else None,
        "open_after": counts["unaddressed"] if counts else None,
        "removed_count": len(review.base.entries)
        if review.file_change == "removed" and review.base
        else 0,
    }


def _headline(result: ReviewSet) -> str:
    unaddressed = sum(len(r.unaddressed) for r in result.reviews)
    regressions = sum(len(r.regressions) for r in result.reviews)
    if result.verdict.passed:
        if unaddressed or regressions:
            return "passes the configured policy"
        return "every threat touched by this change is addressed"
    parts = []
    if unaddressed:
        parts.append(
            f"{unaddressed} threat{'s' if unaddressed != 1 else ''} need{'s' if unaddressed == 1 else ''} a countermeasure or a justification"
        )
    if regressions:
        parts.append(f"{regressions} regression{'s' if regressions != 1 else ''}")
    return " and ".join(parts) if parts else "; ".join(result.verdict.reasons)


def review_comment(
    result: ReviewSet,
    limit: int = COMMENT_LIMIT,
    summary_hint: bool = True,
    *,
    host: str = "GitHub",
    full_report_at: str = "the job summary",
) -> Comment:
    """The comment body for ``result``, trimmed to ``limit`` characters.

    ``host`` names whose size limit a trimmed comment was cut to; ``full_report_at`` says where
    the full report is (told only when ``summary_hint``).
    """
    body = ""
    trimmed: list[str] = []
    for detail in LEVELS:
        trimmed = []
        models = [_model_context(r, detail, trimmed, result.policy) for r in result.reviews]
        body = review_template().render(
            verdict=result.verdict.name,
            headline=_headline(result),
            reasons=list(result.verdict.reasons),
            base=result.base_sha[:12],
            head=result.head_sha[:12],
            models=models,
            multiple=len(models) > 1,
            totals={
                "new": sum(len(r.new) for r in result.reviews),
                "resolved": sum(len(r.resolved) for r in result.reviews),
                "unaddressed": sum(len(r.unaddressed) for r in result.reviews),
                "regressions": sum(len(r.regressions) for r in result.reviews),
                "transitions": sum(len(r.transitions) for r in result.reviews),
            },
            trimmed=trimmed,
            summary_hint=summary_hint,
            host=host,
            full_report_at=full_report_at,
            warnings=list(result.warnings),
            settings_changes=[{"message": c.message} for c in result.settings_changes],
            policy=result.policy.describe(),
            today=result.today.isoformat(),
            version=__version__,
        )
        if len(body) <= limit:
            return Comment(body, tuple(trimmed))
    # Even the barest level did not fit (thousands of model files): cut hard, and say so.
    note = f"\n\n… (cut to fit {host}'s comment size limit; see {full_report_at} for the full report)\n"
    return Comment(body[: limit - len(note)] + note, (*trimmed, "the end of the comment"))
