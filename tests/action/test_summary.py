"""Job-summary markdown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, GitRepo, model

from threatdelta.action.summary import (
    error_report,
    full_report,
    pull_request_summary,
    push_summary,
)
from threatdelta.context import Overrides
from threatdelta.git import Repo
from threatdelta.policy import Verdict
from threatdelta.render.comment import review_comment
from threatdelta.review.revisions import ReviewSet, review_revisions


def _review(tmp_path: Path) -> ReviewSet:
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit({"threatmodel.yaml": model()})
    head = repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)})
    return review_revisions(
        Repo(repo.root),
        base,
        head,
        overrides=Overrides(fail_on="unaddressed"),
        today=dt.date(2026, 1, 1),
    )


def test_the_full_report_is_the_comment_at_full_detail(tmp_path: Path) -> None:
    result = _review(tmp_path)
    assert full_report(result) == review_comment(result, limit=10**6, summary_hint=False).body


def test_a_report_too_big_for_the_room_still_names_every_unaddressed_threat(
    tmp_path: Path,
) -> None:
    result = _review(tmp_path)
    keys = [e.key for r in result.reviews for e in r.unaddressed]
    text = full_report(result, limit=3000)
    assert f"### Every unaddressed threat ({len(keys)})" in text
    for key in keys:
        assert f"`{key}`" in text
    tiny = full_report(result, limit=1200)
    assert "more: the JSON report lists every threat" in tiny


def test_footer_names_the_json_report_and_escapes_publishing_notes() -> None:
    text = pull_request_summary(
        "# report\n",
        "/runner/temp/threatdelta-report-default.json",
        ["could not publish the comment: <b>@org</b> said no"],
    )
    assert text.startswith("# report\n")
    assert "`/runner/temp/threatdelta-report-default.json`" in text
    assert "Not everything could be published" in text
    assert "<b>" not in text and "@org" not in text


def test_error_report_escapes_the_message_and_bounds_its_length() -> None:
    message = "model.yaml:3:1: bad name <script>@team</script>\n" + "\n".join(
        f"line {i}" for i in range(80)
    )
    text = error_report(message, "c" * 40)
    assert "could not review this change at <code>cccccccccccc</code>" in text
    assert "<script>" not in text and "@team" not in text
    assert "line 48" in text and "line 79" not in text and "… and 31 more" in text


def test_push_summary_has_the_register_and_the_history_section() -> None:
    data = {
        "model": "threatmodel.yaml",
        "format": "native",
        "system": "Pump <i>",
        "rules": "builtin",
        "threats": [],
        "orphaned_dispositions": [],
        "summary": {
            "total": 0,
            "mitigated": 0,
            "accepted": 0,
            "transferred": 0,
            "not-applicable": 0,
            "open": 0,
            "unaddressed": 0,
        },
    }
    text = push_summary(
        [data], "d" * 40, "main", Verdict(False, ("1 open <threat>",)), "any-open", "### History\n"
    )
    assert text.startswith(
        "## ❌ threatdelta: threat register at <code>dddddddddddd</code> on `main`"
    )
    assert "Policy `any-open`: fail." in text and "&lt;threat&gt;" in text
    assert "### Threat register: Pump &lt;i&gt;" in text
    assert text.rstrip().endswith("### History")
