"""Temporary git repositories with scripted model histories."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

BASE_MODEL = """\
version: 1
system: Pump
boundaries:
  - {id: device, name: Device, kind: device}
elements:
  - {id: nurse, name: Nurse, type: external-entity, kind: person}
  - {id: ctrl, name: Controller, type: process, kind: control-unit, boundary: device, properties: {sanitizes_input: true}}
  - {id: log, name: Event log, type: data-store, kind: log, boundary: device, properties: {stores_logs: true}}
flows:
  - {id: dose, name: Dose entry, from: nurse, to: ctrl, protocol: https, properties: {authenticated: true, encrypted: false, integrity_protected: true}}
  - {id: records, name: Records, from: ctrl, to: log, protocol: ipc}
controls:
  - {id: tls, name: Mutual TLS, status: verified, evidence: [evidence/tls.md]}
threats:
  flow-dos@dose: {status: mitigated, controls: [tls]}
"""


class GitRepo:
    """A scratch repository: write files, commit, and get the SHA back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        self.count += 1
        stamp = f"2026-01-{1 + self.count % 28:02d}T12:00:00+00:00"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        out = subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, env=env
        )
        return out.stdout.decode().strip()

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


@pytest.fixture
def two_commits(git_repo: GitRepo) -> Callable[[str, str], tuple[GitRepo, str, str]]:
    """Commit ``base`` then ``head`` as threatmodel.yaml (with the evidence file)."""

    def make(base: str, head: str) -> tuple[GitRepo, str, str]:
        git_repo.write("evidence/tls.md", "TLS verified.\n")
        git_repo.write("threatmodel.yaml", base)
        base_sha = git_repo.commit("base")
        git_repo.write("threatmodel.yaml", head)
        head_sha = git_repo.commit("head")
        return git_repo, base_sha, head_sha

    return make
