"""Registers at a pushed commit, read from git objects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.e2e.harness import GitRepo, model

from threatdelta.action.push import registers_at
from threatdelta.errors import InputError
from threatdelta.git import Repo
from threatdelta.revision import evidence_exists_at

TODAY = dt.date(2026, 1, 1)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Repo, str]:
    git = GitRepo(tmp_path / "repo")
    sha = git.commit(
        {
            "models/pump.yaml": model(),
            "models/evidence/report.md": "ok\n",
            "tests/security/test_tls.py": "def test(): ...\n",
        }
    )
    git.commit({"tests/security/test_tls.py": None})  # gone after, present at sha
    return Repo(git.root), sha


def test_evidence_is_found_from_the_root_or_the_models_folder(repo: tuple[Repo, str]) -> None:
    r, sha = repo
    named = (
        "tests/security/test_tls.py",
        "tests/security",
        "/tests/",
        "evidence/report.md",
        "tests/security/test_other.py",
    )
    exists = evidence_exists_at(r, sha, "models/pump.yaml", named)
    assert exists("tests/security/test_tls.py")
    assert exists("tests/security") and exists("/tests/")
    assert exists("evidence/report.md")  # relative to the model's folder
    assert not exists("tests/security/test_other.py") and not exists("")
    assert not evidence_exists_at(r, "HEAD", "models/pump.yaml", named)(
        "tests/security/test_tls.py"
    )


def test_registers_at_a_commit(repo: tuple[Repo, str]) -> None:
    r, sha = repo
    (result,) = registers_at(r, sha, ("models/*.yaml",), None, TODAY)
    assert result.register.model.path == "models/pump.yaml"
    assert result.register.entries


def test_no_matching_model_names_the_patterns(repo: tuple[Repo, str]) -> None:
    r, sha = repo
    with pytest.raises(InputError, match=r"no model file matches threatmodel\.yaml at"):
        registers_at(r, sha, ("threatmodel.yaml",), None, TODAY)
