"""The review for a terminal (``review --format text``), to run before pushing."""

from __future__ import annotations

from threatdelta.register import Entry, unverified
from threatdelta.render.escape import plain
from threatdelta.review.reasons import DECISION_CODES, decision_text
from threatdelta.review.revisions import ReviewSet


def _key(entry: Entry) -> str:
    """The threat key, with the source tool's short name for it when there is one."""
    reference = f" ({plain(entry.reference, 40)})" if entry.reference else ""
    return entry.key + reference


def review_text(result: ReviewSet) -> str:
    """Plain text, most important first."""
    lines = [
        f"threatdelta review {result.base_sha[:12]}..{result.head_sha[:12]}: {result.verdict.name.upper()}",
    ]
    lines += [f"  because {plain(r, 300)}" for r in result.verdict.reasons]
    for warning in result.warnings:
        lines.append(f"warning: {plain(warning, 400)}")
    for change in result.settings_changes:
        lines.append(
            f"gate setting changed (takes effect after merge): {plain(change.message, 300)}"
        )
    for review in result.reviews:
        lines.append("")
        title = f"{review.path} ({review.file_change}"
        if review.base_path not in (None, review.path):
            title += f" from {review.base_path}"
        lines.append(title + ")")
        if review.head is not None and review.base is not None:
            lines.append(
                f"  unaddressed threats in the model: {review.base.counts()['unaddressed']} -> "
                f"{review.head.counts()['unaddressed']}"
            )
        for regression in review.regressions:
            lines.append(f"  REGRESSION {plain(regression.message, 300)}")
        for entry in review.unaddressed:
            lines.append(
                f"  UNADDRESSED [{entry.threat.stride}] {entry.severity:<8} {plain(entry.threat.title, 120)}"
            )
            lines.append(f"      {_key(entry)}")
        for stale in review.stale:
            lines.append(f"  RECONFIRM {stale.key}: {plain(stale.reason, 400)}")
        for decision in review.decisions:
            entry = decision.entry
            disposition = entry.disposition
            assert disposition is not None
            was = " (DOWNGRADE: was mitigated)" if decision.downgrade else ""
            lines.append(
                f"  DECISION {entry.status}{was} [{entry.threat.severity}] "
                f"{plain(entry.threat.title, 120)}  [{_key(entry)}]"
            )
            lines.append(f"      justification: {plain(disposition.justification, 300)}")
            approved = disposition.approved_on.isoformat() if disposition.approved_on else "-"
            expires = disposition.expires.isoformat() if disposition.expires else "never"
            lines.append(
                f"      approved by {plain(disposition.approved_by or '-', 80)} on {approved}; "
                f"expires {expires}"
            )
        for entry in review.scope:
            lacking = unverified(entry)
            if lacking:
                lines.append(
                    f"  UNVERIFIED mitigated ({lacking}) {plain(entry.threat.title, 120)}  "
                    f"[{_key(entry)}]"
                )
        unaddressed = {e.key for e in review.unaddressed}
        for entry in review.new:
            if entry.key not in unaddressed:
                lines.append(
                    f"  new ({entry.status}) {plain(entry.threat.title, 120)}  [{_key(entry)}]"
                )
        for entry, before in review.scope_decisions:
            why = decision_text(entry.threat, review.head.model) if review.head is not None else ""
            lines.append(
                f"  DECISION out of scope ({f'was {before}' if before else 'new'}) "
                f"[{entry.threat.severity}] {plain(entry.threat.title, 120)}  [{_key(entry)}]"
            )
            lines.append(f"      justification: {plain(why, 300)}")
        for item in review.resolved:
            if item.code in DECISION_CODES:
                continue
            lines.append(
                f"  resolved {plain(item.entry.threat.title, 100)}: {plain(item.reason, 200)}"
            )
            lines.append(f"      {_key(item.entry)}")
        for transition in review.transitions:
            after = transition.after
            if not transition.entry.addressed and after != "open":
                after += " (not addressed)"
            lines.append(f"  status {transition.before} -> {after}: {_key(transition.entry)}")
    return "\n".join(lines) + "\n"
