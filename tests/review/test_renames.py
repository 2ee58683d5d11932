"""Renamed element ids in a review, on real git repositories."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from tests.review.conftest import BASE_MODEL, GitRepo

from threatdelta.cli import main
from threatdelta.git import Repo
from threatdelta.render.comment import review_comment
from threatdelta.render.review_data import review_set_data
from threatdelta.review.revisions import ReviewSet, review_revisions

# The controller is renamed ctrl -> controller; the flows follow it.
RENAMED = (
    BASE_MODEL.replace("to: ctrl", "to: controller")
    .replace("from: ctrl", "from: controller")
    .replace("{id: ctrl,", "{id: controller, renamed_from: ctrl,")
)
UNDECLARED = RENAMED.replace(" renamed_from: ctrl,", "")
ACCEPTED = """\
  process-dos@{id}:
    status: accepted
    justification: The controller restarts within 200 ms and the pump alarms meanwhile.
    approved_by: safety-lead
    approved_on: 2026-10-01
"""


def review(git_repo: GitRepo, base_text: str, head_text: str) -> ReviewSet:
    git_repo.write("evidence/tls.md", "TLS verified.\n")
    git_repo.write("threatmodel.yaml", base_text)
    base = git_repo.commit("base")
    git_repo.write("threatmodel.yaml", head_text)
    head = git_repo.commit("head")
    return review_revisions(Repo(git_repo.root), base, head, today=dt.date(2026, 11, 25))


def test_a_declared_rename_keeps_the_threats_and_their_decisions(git_repo: GitRepo) -> None:
    base = BASE_MODEL + ACCEPTED.format(id="ctrl")
    head = RENAMED + ACCEPTED.format(id="ctrl")  # the decision still under the old key
    result = review(git_repo, base, head)
    (model,) = result.reviews
    assert model.new == () and model.resolved == ()
    entry = model.head.by_key()["process-dos@controller"] if model.head else None
    assert entry is not None and entry.status == "accepted" and entry.addressed
    assert "old-key" in {p.code for p in entry.problems}
    assert model.head is not None and model.head.orphans == ()
    assert result.verdict.passed, result.verdict.reasons
    body = review_comment(result).body
    assert "Decisions written under an old key" in body
    assert "`process-dos@ctrl` → `process-dos@controller`" in body


def test_the_decision_rewritten_under_the_new_key_needs_no_hint(git_repo: GitRepo) -> None:
    base = BASE_MODEL + ACCEPTED.format(id="ctrl")
    head = RENAMED + ACCEPTED.format(id="controller")
    result = review(git_repo, base, head)
    (model,) = result.reviews
    assert model.new == () and model.resolved == ()
    assert result.verdict.passed, result.verdict.reasons
    assert "old key" not in review_comment(result).body


def test_an_undeclared_rename_is_suggested_and_its_orphaned_decision_shown(
    git_repo: GitRepo,
) -> None:
    base = BASE_MODEL + ACCEPTED.format(id="ctrl")
    head = UNDECLARED + ACCEPTED.format(id="ctrl")
    result = review(git_repo, base, head)
    (model,) = result.reviews
    # Without the declaration the threats are new and the old ones resolved ...
    assert "process-dos@controller" in {e.key for e in model.new}
    assert "process-dos@ctrl" in {r.entry.key for r in model.resolved}
    assert not result.verdict.passed
    body = review_comment(result).body
    # ... the comment suggests the rename and shows the decision that now decides nothing.
    assert "**Renamed?**" in body and "`ctrl` → `controller`" in body
    assert "renamed_from: ctrl" in body
    assert "Decisions that match no threat" in body and "`process-dos@ctrl`" in body
    data = review_set_data(result)
    assert {
        "old": "ctrl",
        "new": "controller",
        "what": "element",
        "name": "Controller",
        "model": "threatmodel.yaml",
    } in data["likely_renames"]
    assert [o["id"] for o in data["orphaned_dispositions"]] == ["process-dos@ctrl"]


def test_renamed_from_naming_an_id_still_in_the_model_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "threatmodel.yaml"
    path.write_text(
        BASE_MODEL.replace(
            "{id: nurse, name: Nurse,", "{id: nurse, renamed_from: ctrl, name: Nurse,"
        )
    )
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "threatmodel.yaml:6:" in err and "'ctrl' is still an id in this model" in err


def test_review_json_cli_on_a_declared_rename(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.write("evidence/tls.md", "TLS verified.\n")
    git_repo.write("threatmodel.yaml", BASE_MODEL)
    base = git_repo.commit("base")
    git_repo.write("threatmodel.yaml", RENAMED)
    head = git_repo.commit("head")
    monkeypatch.chdir(git_repo.root)
    main(["review", "--base", base, "--head", head, "--format", "json", "--today", "2026-11-25"])
    data = json.loads(capsys.readouterr().out)
    assert data["new"] == [] and data["resolved"] == [] and data["likely_renames"] == []
