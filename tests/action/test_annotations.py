"""Annotations for a review, from a real review of two commits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, GitRepo, model

from threatdelta.action.annotations import review_annotations
from threatdelta.context import Overrides
from threatdelta.git import Repo
from threatdelta.review.revisions import ReviewSet, review_revisions

ACCEPTED = """\
  store-dos@dose-log:
    status: accepted
    justification: The log is rotated and sized for ten years of events.
    approved_by: safety-lead
"""
CONTROL = """\
  - {id: mac, name: MAC on log records, status: implemented, evidence: [threatmodel.yaml]}
"""
MITIGATED = """\
  log-tampering@dose-log: {status: mitigated, controls: [mac]}
"""


def _review(
    tmp_path: Path, base_text: str, head_text: str, policy: str = "unaddressed,regressions"
) -> ReviewSet:
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit({"threatmodel.yaml": base_text})
    head = repo.commit({"threatmodel.yaml": head_text})
    return review_revisions(
        Repo(repo.root),
        base,
        head,
        overrides=Overrides(fail_on=policy),
        today=dt.date(2026, 1, 1),
    )


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_unaddressed_threats_by_severity_and_new_addressed_ones_as_notices(tmp_path: Path) -> None:
    head = model(LOG_ELEMENTS, LOG_FLOWS, threats=ACCEPTED)
    result = _review(tmp_path, model(), head)
    by_key = {
        a.message.split("Threat '")[1].split("'")[0]: a
        for a in review_annotations(result)
        if "Threat '" in a.message
    }

    tampering = by_key["process-tampering@log-service"]
    assert tampering.level == "failure"  # high
    assert tampering.path == "threatmodel.yaml"
    assert tampering.start_line == tampering.end_line == _line(head, "id: log-service")
    assert tampering.title.startswith("Unaddressed high threat: The code or memory of Log service")
    assert "Suggested countermeasures:" in tampering.message

    assert by_key["log-sensitive-data@dose-log"].level == "warning"  # medium
    accepted = by_key["store-dos@dose-log"]
    assert accepted.level == "notice" and accepted.title.startswith("New threat, accepted:")
    unaddressed = {e.key for r in result.reviews for e in r.unaddressed}
    assert {k for k, a in by_key.items() if a.level != "notice"} == unaddressed


def test_a_lost_control_is_a_regression_failure_or_warning_by_policy(tmp_path: Path) -> None:
    base = model(LOG_ELEMENTS, LOG_FLOWS, controls=CONTROL, threats=MITIGATED)
    head = model(LOG_ELEMENTS, LOG_FLOWS, threats=MITIGATED)
    strict = review_annotations(_review(tmp_path / "a", base, head))
    lenient = review_annotations(_review(tmp_path / "b", base, head, policy="unaddressed"))
    regressions = [a for a in strict if a.title.startswith("Regression")]
    assert regressions and all(a.level == "failure" for a in regressions)
    assert "control 'mac' was removed" in regressions[0].message
    assert [a.level for a in lenient if a.title.startswith("Regression")] == ["warning"] * len(
        regressions
    )


def test_hostile_names_become_one_bounded_line(tmp_path: Path) -> None:
    name = "evil\n::error::x" + "y" * 180  # names are held to 200 characters
    elements = f"  - {{id: evil, name: {json.dumps(name)}, type: process, boundary: device}}\n"
    result = _review(tmp_path, model(), model(elements))
    for a in review_annotations(result):
        assert "\n" not in a.title + a.message
        assert len(a.title) <= 200 and len(a.message) <= 2000


def test_a_removed_model_gets_no_annotations(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS), "other.yaml": model()})
    head = repo.commit({"threatmodel.yaml": None})
    result = review_revisions(
        Repo(repo.root),
        base,
        head,
        overrides=Overrides(models=("threatmodel.yaml", "other.yaml"), fail_on="unaddressed"),
        today=dt.date(2026, 1, 1),
    )
    assert any(r.file_change == "removed" for r in result.reviews)
    assert review_annotations(result) == ()
