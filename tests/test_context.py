"""What a run uses, resolved from a git revision or a working tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.history.gitrepo import GitRepo

from threatdelta.context import (
    Overrides,
    Source,
    context_at,
    context_in_tree,
    file_source,
    settings_changes,
)
from threatdelta.errors import InputError
from threatdelta.git import Repo

PACK = "version: 1\nname: small\nrules: []\n"


def test_settings_and_pack_come_from_the_commit_not_the_working_tree(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write(".threatdelta.yml", "rules: [pack.yaml]\npolicy: [any-open]\n")
    repo.write("pack.yaml", PACK)
    sha = repo.commit("settings", "2026-01-01")
    repo.write(".threatdelta.yml", "policy: [none]\n")  # uncommitted
    context = context_at(Repo(repo.root), sha)
    assert context.policy.describe() == "any-open"
    assert context.pack is not None and context.pack.name == "small"
    assert context_in_tree(repo.root).policy.describe() == "none"


def test_a_missing_pack_or_two_packs_are_located_errors(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write(".threatdelta.yml", "rules: [pack.yaml]\n")
    sha = repo.commit("no pack", "2026-01-01")
    with pytest.raises(InputError, match="does not exist at") as raised:
        context_at(Repo(repo.root), sha)
    assert raised.value.location is not None
    assert raised.value.location.path == ".threatdelta.yml"
    repo.write(".threatdelta.yml", "rules: [a.yaml, b.yaml]\n")
    sha = repo.commit("two packs", "2026-01-02")
    with pytest.raises(InputError, match="only one rule pack"):
        context_at(Repo(repo.root), sha)


def test_overrides_win(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write(".threatdelta.yml", "policy: [none]\nmodels: [a.yaml]\n")
    sha = repo.commit("lax", "2026-01-01")
    context = context_at(
        Repo(repo.root),
        sha,
        Overrides(fail_on="severity:high", models=("b.yaml",), rules=Source(PACK.encode(), "p")),
    )
    assert context.policy.describe() == "severity:high"
    assert context.models == ("b.yaml",)
    assert context.pack is not None and context.pack.name == "small"


def test_input_files_are_read_at_the_trusted_revision_when_tracked(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("ci/settings.yml", "policy: [unaddressed]\n")
    sha = repo.commit("settings", "2026-01-01")
    repo.write("ci/settings.yml", "policy: [none]\n")
    repo.write("ci/untracked.yml", "policy: [any-open]\n")
    git = Repo(repo.root)
    assert file_source("ci/settings.yml", git, sha).data == b"policy: [unaddressed]\n"
    assert file_source("ci/untracked.yml", git, sha).data == b"policy: [any-open]\n"


def test_settings_changes_name_what_the_head_would_change(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit("nothing", "2026-01-01")
    repo.write(".threatdelta.yml", "policy: [none]\nmodels: [m.yaml]\n")
    head = repo.commit("settings", "2026-01-02")
    git = Repo(repo.root)
    changes = settings_changes(context_at(git, base), context_at(git, head))
    assert [(c.setting, c.before, c.after) for c in changes] == [
        ("settings", "(no settings file)", ".threatdelta.yml"),
        ("models", "threatmodel.yaml", "m.yaml"),
        ("policy", "unaddressed,regressions,reconfirm", "none"),
    ]
    assert settings_changes(context_at(git, head), context_at(git, head)) == ()
