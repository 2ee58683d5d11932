"""Evidence look-ups at a revision."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.history.gitrepo import GitRepo

from threatdelta.git import Repo
from threatdelta.register import evidence_path
from threatdelta.revision import EvidenceQuery, evidence_exists_at, evidence_status


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def test_evidence_path_tells_paths_from_report_ids() -> None:
    assert evidence_path("tests/test_tls.py") == "tests/test_tls.py"
    assert evidence_path("docs/pentest.pdf#F-4") == "docs/pentest.pdf"
    assert evidence_path("PT-2026-03#F-2") is None
    assert evidence_path("/tests/x.py") == "tests/x.py"


def test_lookups_from_root_then_model_folder_and_folders_count(git_repo: GitRepo) -> None:
    git_repo.write("models/proof/a.md", "a\n")
    git_repo.write("tests/test_b.py", "b\n")
    git_repo.commit("files", "2025-01-01")
    first = git_repo.git("rev-parse", "HEAD")
    git_repo.remove("tests/test_b.py")
    second = git_repo.commit("gone", "2025-01-02")
    repo = Repo(git_repo.root)
    items = ("proof/a.md", "tests/test_b.py", "tests/", "PT-1#F-1", "nope/c.md")
    at_first, at_second = evidence_status(
        repo,
        [
            EvidenceQuery(first, "models/m.yaml", items),
            EvidenceQuery(second, "models/m.yaml", items),
        ],
    )
    assert at_first == {
        "proof/a.md": True,
        "tests/test_b.py": True,
        "tests": True,
        "nope/c.md": False,
    }
    assert at_second["tests/test_b.py"] is False and at_second["tests"] is False
    check = evidence_exists_at(repo, first, "models/m.yaml", items)
    assert check("proof/a.md") and not check("nope/c.md") and not check("never/asked.md")


def test_symlinks_count_only_while_they_stay_inside_the_tree(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    git_repo.write("docs/report.md", "ok\n")
    os.symlink(str(outside), git_repo.root / "docs" / "absolute.md")
    os.symlink("../../outside.txt", git_repo.root / "docs" / "climbing.md")
    os.symlink("report.md", git_repo.root / "docs" / "inner.md")
    os.symlink("nowhere.md", git_repo.root / "docs" / "dangling.md")
    git_repo.commit("links", "2025-01-01")
    items = ("docs/absolute.md", "docs/climbing.md", "docs/inner.md", "docs/dangling.md")
    (status,) = evidence_status(Repo(git_repo.root), [EvidenceQuery("HEAD", "m.yaml", items)])
    assert status == {
        "docs/absolute.md": False,
        "docs/climbing.md": False,
        "docs/inner.md": True,
        "docs/dangling.md": False,
    }


def test_paths_leaving_the_tree_are_missing_and_do_not_break_the_lookup(git_repo: GitRepo) -> None:
    git_repo.write("tests/test_a.py", "a\n")
    git_repo.commit("files", "2025-01-01")
    items = ("../outside.md", "tests/../../x.md", "/etc/passwd", "tests/test_a.py", "a\nb/c.md")
    (status,) = evidence_status(Repo(git_repo.root), [EvidenceQuery("HEAD", "m/m.yaml", items)])
    assert status["tests/test_a.py"] is True
    assert status["../outside.md"] is False and status["tests/../../x.md"] is False
    assert status["etc/passwd"] is False  # a leading '/' means the repository root


def test_a_model_path_that_is_a_symlink_out_of_the_tree_is_not_read(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("version: 1\n")
    git_repo.write("readme.md", "x\n")
    os.symlink(str(outside), git_repo.root / "threatmodel.yaml")
    git_repo.commit("link", "2025-01-01")
    repo = Repo(git_repo.root)
    assert repo.read("HEAD", "threatmodel.yaml") is None
    assert repo.read("HEAD", "../outside.yaml") is None
    assert repo.read("HEAD", "./readme.md") == b"x\n"
