"""Decisions whose ground moved need re-confirmation, on real git repositories."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.review.conftest import BASE_MODEL, GitRepo

from threatdelta.cli import main
from threatdelta.context import NO_OVERRIDES, Overrides
from threatdelta.git import Repo
from threatdelta.render.comment import review_comment
from threatdelta.render.review_data import review_set_data
from threatdelta.review.revisions import ReviewSet, review_revisions

ACCEPTED = """\
  log-tampering@log:
    status: accepted
    justification: The log sits on the same PCB as the controller; altering it needs the case open.
    approved_by: safety-lead
    approved_on: 2026-10-01
    expires: 2027-10-01
"""
DECIDED = BASE_MODEL + ACCEPTED
CLOUD = "  - {id: cloud, name: Vendor cloud, kind: cloud}\nelements:"
MOVED = DECIDED.replace("\nelements:", "\n" + CLOUD, 1).replace(
    "type: data-store, kind: log, boundary: device", "type: data-store, kind: log, boundary: cloud"
)


def review(
    git_repo: GitRepo, base_text: str, head_text: str, overrides: Overrides = NO_OVERRIDES
) -> ReviewSet:
    git_repo.write("evidence/tls.md", "TLS verified.\n")
    git_repo.write("threatmodel.yaml", base_text)
    base = git_repo.commit("base")
    git_repo.write("threatmodel.yaml", head_text)
    head = git_repo.commit("head")
    return review_revisions(
        Repo(git_repo.root), base, head, today=dt.date(2026, 11, 25), overrides=overrides
    )


def test_moving_an_element_into_another_boundary_asks_to_reconfirm_its_acceptance(
    git_repo: GitRepo,
) -> None:
    assert "boundary: cloud" in MOVED
    result = review(git_repo, DECIDED, MOVED)
    (model,) = result.reviews
    (stale,) = [s for s in model.stale if s.key == "log-tampering@log"]
    assert [(c.subject, c.fact, c.before, c.after) for c in stale.changes] == [
        ("log", "boundary", "device", "cloud")
    ]
    assert not result.verdict.passed
    assert any("re-confirmation" in r for r in result.verdict.reasons)
    data = review_set_data(result)
    keys = {s["key"]: s["reason"] for s in data["stale_dispositions"]}
    assert "log-tampering@log" in keys
    assert "boundary device → cloud" in keys["log-tampering@log"]
    body = review_comment(result).body
    assert "Decisions to re-confirm" in body
    assert "log-tampering@log" in body and "device → cloud" in body


def test_editing_the_entry_in_the_same_change_reconfirms_it(git_repo: GitRepo) -> None:
    confirmed = MOVED.replace("approved_on: 2026-10-01", "approved_on: 2026-11-24")
    result = review(git_repo, DECIDED, confirmed)
    (model,) = result.reviews
    assert "log-tampering@log" not in {s.key for s in model.stale}


def test_a_flow_whose_protocol_changes_asks_to_reconfirm_its_mitigation(
    git_repo: GitRepo,
) -> None:
    head = BASE_MODEL.replace(
        "from: nurse, to: ctrl, protocol: https", "from: nurse, to: ctrl, protocol: http"
    )
    result = review(git_repo, BASE_MODEL, head)
    (model,) = result.reviews
    (stale,) = [s for s in model.stale if s.key == "flow-dos@dose"]
    assert ("dose", "protocol", "https", "http") in [
        (c.subject, c.fact, c.before, c.after) for c in stale.changes
    ]
    assert stale.status == "mitigated"


def test_a_new_display_name_or_an_unread_property_needs_no_reconfirmation(
    git_repo: GitRepo,
) -> None:
    head = MOVED.replace("name: Event log", "name: Event journal")
    renamed_only = DECIDED.replace("name: Event log", "name: Event journal")
    result = review(git_repo, DECIDED, renamed_only)
    assert result.reviews[0].stale == ()
    assert result.verdict.passed
    assert head != renamed_only


def test_without_reconfirm_in_the_policy_the_list_stays_and_the_gate_passes(
    git_repo: GitRepo,
) -> None:
    result = review(git_repo, DECIDED, MOVED, Overrides(fail_on="regressions"))
    assert result.reviews[0].stale
    assert result.verdict.passed


def test_review_json_names_stale_dispositions(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = review(git_repo, DECIDED, MOVED)
    monkeypatch.chdir(git_repo.root)
    code = main(
        [
            "review",
            "--base",
            result.base_sha,
            "--head",
            result.head_sha,
            "--format",
            "json",
            "--today",
            "2026-11-25",
        ]
    )
    assert code == 1
    data = json.loads(capsys.readouterr().out)
    (entry,) = [s for s in data["stale_dispositions"] if s["key"] == "log-tampering@log"]
    assert entry["model"] == "threatmodel.yaml"
    assert entry["changes"] == [
        {"subject": "log", "fact": "boundary", "base": "device", "head": "cloud"}
    ]
