"""Fixtures: the scripted history (built once per module) and its rule pack."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.history.gitrepo import PACK, GitRepo, scripted_history

from threatdelta.formats.packs import load_rules
from threatdelta.git import Repo
from threatdelta.rules.pack import RulePack


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """The eight-revision history described in :func:`scripted_history` (do not modify it)."""
    return scripted_history(tmp_path_factory.mktemp("scripted") / "repo")


@pytest.fixture(scope="module")
def scripted_repo(scripted: GitRepo) -> Repo:
    return Repo(scripted.root)


@pytest.fixture(scope="session")
def pack() -> RulePack:
    """The three-rule pack the scripted numbers were worked out with."""
    return load_rules(PACK.read_bytes(), "pack.yaml")


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """An empty repository for one test."""
    return GitRepo(tmp_path / "repo")
