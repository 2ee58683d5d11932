"""What a run uses, resolved from a git revision or a working tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.history.gitrepo import GitRepo

from threatdelta import context
from threatdelta.context import (
    Overrides,
    RunContext,
    Source,
    context_at,
    context_in_tree,
    file_source,
    gate_context,
    review_contexts,
    settings_changes,
    tree_evidence,
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


def _described(context: RunContext) -> tuple[object, ...]:
    return (
        context.where,
        context.config,
        context.config_source,
        context.policy.describe(),
        context.pack_source,
        context.models,
    )


@pytest.mark.parametrize(
    ("at_base", "at_head"),
    [
        (None, None),
        ("policy: [none]\n", None),
        (None, "policy: [any-open]\nmodels: [m.yaml]\n"),
        ("policy: [none]\n", "policy: [severity:high]\n"),
        ("policy: [nonsense]\n", "policy: [none]\n"),  # the gate falls back to the defaults
    ],
)
def test_review_contexts_are_the_base_gate_and_the_head_context(
    tmp_path: Path, at_base: str | None, at_head: str | None
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("readme.md", "base\n")
    if at_base is not None:
        repo.write(".threatdelta.yml", at_base)
    base = repo.commit("base", "2026-01-01")
    repo.write("readme.md", "head\n")
    if at_head is not None:
        repo.write(".threatdelta.yml", at_head)
    else:
        (repo.root / ".threatdelta.yml").unlink(missing_ok=True)
    head = repo.commit("head", "2026-01-02")
    gate, notes, proposed = review_contexts(Repo(repo.root), base, head)
    expected_gate, expected_notes = gate_context(Repo(repo.root), base)
    assert _described(gate) == _described(expected_gate)
    assert notes == expected_notes
    assert _described(proposed) == _described(context_at(Repo(repo.root), head))
    assert bool(notes) == (at_base == "policy: [nonsense]\n")


def test_review_contexts_look_both_settings_files_up_in_one_git_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("readme.md", "base\n")
    base = repo.commit("base", "2026-01-01")
    repo.write(".threatdelta.yml", "policy: [none]\n")
    head = repo.commit("head", "2026-01-02")
    git = Repo(repo.root)
    git.resolve_all(base, head)
    calls: list[str] = []
    run = Repo.run

    def counted(self: Repo, *args: str, **kwargs: Any) -> bytes:
        calls.append(args[0])
        return run(self, *args, **kwargs)

    monkeypatch.setattr(Repo, "run", counted)
    gate, _, proposed = review_contexts(git, base, head)
    assert gate.config_source is None
    assert proposed.config_source is not None and proposed.policy.describe() == "none"
    assert calls == ["cat-file", "cat-file"]  # what names the files, then the one blob read


def test_review_contexts_report_an_unreadable_settings_file_as_each_context_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write(".threatdelta.yml", "policy: [none]\n" + "# padding\n" * 20)
    base = repo.commit("base", "2026-01-01")
    repo.write(".threatdelta.yml", "policy: [none]\n")
    head = repo.commit("head", "2026-01-02")
    monkeypatch.setattr("threatdelta.git.MAX_BLOB_BYTES", 100)
    gate, notes, proposed = review_contexts(Repo(repo.root), base, head)
    assert (gate.config_source, proposed.config_source) == (
        None,
        Source(b"policy: [none]\n", ".threatdelta.yml"),
    )
    assert notes == gate_context(Repo(repo.root), base)[1]
    assert notes and "at most 100 are read" in notes[0]
    with pytest.raises(InputError) as raised:
        review_contexts(Repo(repo.root), head, base)
    with pytest.raises(InputError) as alone:
        context_at(Repo(repo.root), base)
    assert str(raised.value) == str(alone.value)


def test_evidence_on_disk_looks_for_the_repository_at_the_first_path_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("docs/test.md", "passed\n")
    repo.write("model/notes.md", "beside the model\n")
    repo.commit("files", "2026-01-01")
    looked: list[Path] = []
    find = context.find_repo

    def counted(start: Path) -> Repo | None:
        looked.append(start)
        return find(start)

    monkeypatch.setattr(context, "find_repo", counted)
    exists = tree_evidence(repo.root / "model" / "threatmodel.yaml")
    assert looked == []  # no git process for a model that names no evidence
    assert exists("docs/test.md")
    assert exists("notes.md")  # from the model's folder
    assert not exists("docs/missing.md")
    assert not exists("../outside.md")
    assert len(looked) == 1
