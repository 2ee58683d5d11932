"""The gate's settings come from the base revision; the change's own edits are shown, not used."""

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

TODAY = dt.date(2026, 11, 25)
NEW_FLOW = BASE_MODEL.replace(
    "\ncontrols:",
    "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: ble}\ncontrols:",
)
EMPTY_PACK = "version: 1\nname: nothing to see\nrules: []\n"


def review(repo: GitRepo, base: str, head: str, overrides: Overrides = NO_OVERRIDES) -> ReviewSet:
    return review_revisions(Repo(repo.root), base, head, today=TODAY, overrides=overrides)


def start(git_repo: GitRepo, files: dict[str, str] | None = None) -> str:
    git_repo.write("evidence/tls.md", "TLS verified.\n")
    git_repo.write("threatmodel.yaml", BASE_MODEL)
    for path, text in (files or {}).items():
        git_repo.write(path, text)
    return git_repo.commit("base")


def test_a_change_adding_an_empty_rule_pack_does_not_pass(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.write("threatmodel.yaml", NEW_FLOW)
    git_repo.write("pack.yaml", EMPTY_PACK)
    git_repo.write(".threatdelta.yml", "rules: [pack.yaml]\n")
    head = git_repo.commit("new flow, and a pack that finds nothing")
    result = review(git_repo, base, head)
    assert not result.verdict.passed
    (model,) = result.reviews
    assert {e.threat.flow for e in model.new} == {"phone"}  # scored with the base's (built-in) pack
    assert not model.resolved  # the base was not re-scored with the change's pack either
    changes = {c.setting: c for c in result.settings_changes}
    assert changes["rules"].after == "pack.yaml"
    body = review_comment(result).body
    assert "Gate settings changed" in body and "pack.yaml" in body
    data = review_set_data(result)
    assert {c["setting"] for c in data["gate_settings_changed"]} == {"settings", "rules"}


def test_a_change_setting_policy_none_does_not_pass(git_repo: GitRepo) -> None:
    base = start(git_repo)
    git_repo.write("threatmodel.yaml", NEW_FLOW)
    git_repo.write(".threatdelta.yml", "policy: [none]\n")
    head = git_repo.commit("new flow, and no gate")
    result = review(git_repo, base, head)
    assert not result.verdict.passed
    assert result.policy.describe() == "unaddressed,regressions,reconfirm"
    (policy,) = [c for c in result.settings_changes if c.setting == "policy"]
    assert (policy.before, policy.after) == ("unaddressed,regressions,reconfirm", "none")


def test_editing_the_base_rule_pack_takes_effect_after_merge(git_repo: GitRepo) -> None:
    base = start(git_repo, {".threatdelta.yml": "rules: [pack.yaml]\n", "pack.yaml": EMPTY_PACK})
    git_repo.write("pack.yaml", EMPTY_PACK.replace("nothing to see", "still nothing"))
    head = git_repo.commit("edit the pack")
    result = review(git_repo, base, head)
    assert [c.setting for c in result.settings_changes] == ["rule pack"]
    assert result.verdict.passed


def test_command_line_flags_still_override_the_base(git_repo: GitRepo) -> None:
    base = start(git_repo, {".threatdelta.yml": "policy: [none]\n"})
    git_repo.write("threatmodel.yaml", NEW_FLOW)
    head = git_repo.commit("new flow")
    assert review(git_repo, base, head).verdict.passed
    strict = review(git_repo, base, head, Overrides(fail_on="unaddressed"))
    assert not strict.verdict.passed


def test_a_deleted_model_is_a_regression(git_repo: GitRepo) -> None:
    base = start(git_repo)
    (git_repo.root / "threatmodel.yaml").unlink()
    git_repo.write("notes.md", "the model is gone\n")
    head = git_repo.commit("delete the model")
    result = review(git_repo, base, head)
    (model,) = result.reviews
    assert [r.code for r in model.regressions] == ["model-removed"]
    assert not result.verdict.passed


def test_a_model_dropped_from_the_models_setting_is_a_regression(git_repo: GitRepo) -> None:
    base = start(git_repo, {".threatdelta.yml": "models: [threatmodel.yaml]\n"})
    git_repo.write(".threatdelta.yml", "models: [other.yaml]\n")
    git_repo.write("other.yaml", BASE_MODEL.replace("system: Pump", "system: Other"))
    head = git_repo.commit("review another model instead")
    result = review(git_repo, base, head)
    (model,) = result.reviews  # still reviewed: the base's models list holds
    assert model.path == "threatmodel.yaml"
    assert [r.code for r in model.regressions] == ["model-dropped"]
    assert not result.verdict.passed
    assert [c.setting for c in result.settings_changes] == ["models"]


def test_unreadable_base_settings_fall_back_to_the_defaults(git_repo: GitRepo) -> None:
    base = start(git_repo, {".threatdelta.yml": "policy: [nonsense]\n"})
    git_repo.write("threatmodel.yaml", NEW_FLOW)
    git_repo.write(".threatdelta.yml", "policy: [none]\n")
    head = git_repo.commit("fix the settings, and add a flow")
    result = review(git_repo, base, head)
    assert not result.verdict.passed
    assert any("settings at the base revision could not be read" in w for w in result.warnings)


def test_review_command_reads_the_gate_from_the_base(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = start(git_repo)
    git_repo.write("threatmodel.yaml", NEW_FLOW)
    git_repo.write("pack.yaml", EMPTY_PACK)
    git_repo.write(".threatdelta.yml", "rules: [pack.yaml]\npolicy: [none]\n")
    head = git_repo.commit("loosen everything")
    monkeypatch.chdir(git_repo.root)
    args = ["review", "--base", base, "--head", head, "--today", "2026-11-25"]
    assert main([*args, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["policy"] == "unaddressed,regressions,reconfirm"
    assert {c["setting"] for c in data["gate_settings_changed"]} == {"settings", "rules", "policy"}
    assert main([*args, "--fail-on", "none"]) == 0
