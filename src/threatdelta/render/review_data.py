"""Plain data of a review set: the ``review --format json`` contract, also fed to templates."""

from __future__ import annotations

from typing import Any

from threatdelta.register import Entry, Register, unverified
from threatdelta.render.data import orphan_data, subject_label, threat_data
from threatdelta.review.decisions import Decision
from threatdelta.review.partial import looked_at
from threatdelta.review.reasons import DECISION_CODES, NO_REASON, decision_text
from threatdelta.review.review import Review
from threatdelta.review.revisions import ReviewSet
from threatdelta.rules.pack import RulePack


def _threats(
    entries: tuple[Entry, ...], register: Register | None, pack: RulePack | None
) -> list[dict[str, Any]]:
    if register is None or pack is None:
        return []
    return [threat_data(e, register, pack) | {"model": register.model.path} for e in entries]


def decision_data(decision: Decision) -> dict[str, Any]:
    """One acceptance, transfer or not-applicable entry the change added or changed."""
    entry = decision.entry
    disposition = entry.disposition
    assert disposition is not None
    return {
        "id": entry.key,
        "reference": entry.reference,
        "title": entry.threat.title,
        "severity": entry.threat.severity,
        "status": entry.status,
        "before": decision.before or None,
        "downgrade": decision.downgrade,
        "addressed": entry.addressed,
        "justification": disposition.justification,
        "approved_by": disposition.approved_by or None,
        "approved_on": disposition.approved_on.isoformat() if disposition.approved_on else None,
        "expires": disposition.expires.isoformat() if disposition.expires else None,
        "transferred_to": disposition.transferred_to or None,
        "line": disposition.location.line if disposition.location is not None else None,
    }


def scope_decisions_data(review: Review) -> list[dict[str, Any]]:
    """Threats the change took out of scope (a flow marked Out Of Scope), as decisions like an
    acceptance: the author's reason is the justification."""
    rows = []
    for entry, before in review.scope_decisions:
        reason = decision_text(entry.threat, review.head.model) if review.head is not None else ""
        given = reason != NO_REASON
        rows.append(
            {
                "id": entry.key,
                "reference": entry.reference,
                "title": entry.threat.title,
                "severity": entry.threat.severity,
                "status": "out-of-scope",
                "before": before or None,
                "downgrade": before == "mitigated",
                "addressed": given,
                "justification": reason if given else "",
                "approved_by": None,
                "approved_on": None,
                "expires": None,
                "transferred_to": None,
                "line": None,
            }
        )
    return rows


def unverified_data(entries: tuple[Entry, ...]) -> list[dict[str, Any]]:
    """Threats in the changed scope mitigated only by planned or evidence-less controls."""
    return [
        {
            "id": e.key,
            "title": e.threat.title,
            "severity": e.threat.severity,
            "controls": [c.id for c in e.controls],
            "lacking": unverified(e),
        }
        for e in entries
        if unverified(e)
    ]


def review_data(review: Review) -> dict[str, Any]:
    """One model file's review."""
    head, base, pack = review.head, review.base, review.pack
    resolved = []
    for item in review.resolved:
        assert base is not None
        data = threat_data(item.entry, base, pack or _never())
        resolved.append(
            {
                "threat": data | {"model": base.model.path},
                "reason": item.reason,
                "code": item.code,
                "unverified": item.unverified or None,
                "decision": item.code in DECISION_CODES,
            }
        )
    return {
        "path": review.path,
        "base_path": review.base_path,
        "file_change": review.file_change,
        "new": _threats(review.new, head, pack),
        "resolved": resolved,
        "transitions": [
            {
                "id": t.entry.key,
                "from": t.before,
                "to": t.after,
                "title": t.entry.threat.title,
                "subject": subject_label(t.entry, head) if head is not None else "",
                "addressed": t.entry.addressed,
            }
            for t in review.transitions
        ],
        "regressions": [
            {
                "code": r.code,
                "message": r.message,
                "id": r.key,
                "line": r.location.line if r.location is not None else None,
            }
            for r in review.regressions
        ],
        "unaddressed": _threats(review.unaddressed, head, pack),
        "decisions": [decision_data(d) for d in review.decisions] + scope_decisions_data(review),
        "unverified": unverified_data(review.scope),
        "stale_dispositions": stale_data(review),
        "counts": {
            "base": base.counts() if base is not None else None,
            "head": head.counts() if head is not None else None,
        },
        "model_changes": review.diff.summary() if review.diff is not None else {},
        "orphaned_dispositions": [
            orphan_data(o) for o in (head.orphans if head is not None else ())
        ],
        "likely_renames": [
            {"old": r.old, "new": r.new, "what": r.what, "name": r.name}
            for r in review.likely_renames
        ],
    }


def _never() -> RulePack:
    raise AssertionError("a review with a base register always has a pack")


def stale_data(review: Review) -> list[dict[str, Any]]:
    """The dispositions to re-confirm: ``key`` and ``reason``, plus what changed."""
    # A disposition to re-confirm is on an entry the review looked at.
    head = looked_at(review.head).by_key() if review.head is not None else {}
    return [
        {
            "key": s.key,
            "id": s.key,
            "reason": s.reason,
            "status": s.status,
            "title": head[s.key].threat.title if s.key in head else "",
            "line": s.location.line if s.location is not None else None,
            "changes": [
                {"subject": c.subject, "fact": c.fact, "base": c.before, "head": c.after}
                for c in s.changes
            ],
        }
        for s in review.stale
    ]


def review_set_data(result: ReviewSet) -> dict[str, Any]:
    """The whole ``review --format json`` document."""
    reviews = [review_data(r) for r in result.reviews]
    return {
        "verdict": result.verdict.name,
        "reasons": list(result.verdict.reasons),
        "policy": result.policy.describe(),
        "base": result.base_sha,
        "head": result.head_sha,
        "today": result.today.isoformat(),
        "new": [t for r in reviews for t in r["new"]],
        "resolved": [t for r in reviews for t in r["resolved"]],
        "transitions": [t for r in reviews for t in r["transitions"]],
        "regressions": [t for r in reviews for t in r["regressions"]],
        "unaddressed": [t for r in reviews for t in r["unaddressed"]],
        "decisions": [d | {"model": r["path"]} for r in reviews for d in r["decisions"]],
        "unverified": [u | {"model": r["path"]} for r in reviews for u in r["unverified"]],
        "stale_dispositions": [
            s | {"model": r["path"]} for r in reviews for s in r["stale_dispositions"]
        ],
        "orphaned_dispositions": [
            o | {"model": r["path"]} for r in reviews for o in r["orphaned_dispositions"]
        ],
        "likely_renames": [n | {"model": r["path"]} for r in reviews for n in r["likely_renames"]],
        "model_changes": {
            r["path"]: r["model_changes"] | {"file": r["file_change"]} for r in reviews
        },
        "models": reviews,
        "warnings": list(result.warnings),
        "gate_settings_changed": [
            {"setting": c.setting, "base": c.before, "head": c.after, "message": c.message}
            for c in result.settings_changes
        ],
    }
