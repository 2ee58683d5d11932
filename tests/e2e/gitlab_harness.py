"""Run ``threatdelta gitlab`` the way a GitLab CI job does: a real git repository, GitLab's
predefined variables, and the fake GitLab server as the API."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.harness import GitRepo
from tests.fakegitlab import FakeGitLab, Note

from threatdelta.cli import main

PROJECT = 4242
PROJECT_PATH = "medtech/syringe-driver"
MR = 17
TOKEN = "glpat-e2eS3cretT0kenValue-4242"
JOB_TOKEN = "glcbt-64_jobT0kenSecretValue"
BOT = "project_4242_bot_threatdelta"
VARIABLES = (
    "CI_MERGE_REQUEST_IID",
    "CI_MERGE_REQUEST_DIFF_BASE_SHA",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
    "CI_MERGE_REQUEST_PROJECT_ID",
    "CI_COMMIT_SHA",
    "CI_PROJECT_ID",
    "CI_API_V4_URL",
    "CI_SERVER_URL",
    "CI_PROJECT_DIR",
    "CI_JOB_TOKEN",
    "THREATDELTA_GITLAB_TOKEN",
    "THREATDELTA_MODELS",
    "THREATDELTA_CONFIG",
    "THREATDELTA_FAIL_ON",
    "THREATDELTA_COMMENT_MODE",
    "THREATDELTA_RULES",
    "THREATDELTA_COMMENT_NAME",
)


REPORT_FILES = (
    "gl-code-quality-report.json",
    "threatdelta-junit.xml",
    "threatdelta.env",
    "threatdelta-report.json",
    "threatdelta-report.md",
)


@dataclass
class JobResult:
    """What one job left behind (the report files are taken out of the checkout)."""

    code: int
    stdout: str
    stderr: str
    files: dict[str, str]

    def file(self, name: str) -> str:
        return self.files.get(name, "")

    @property
    def code_quality(self) -> list[dict[str, Any]]:
        return json.loads(self.file("gl-code-quality-report.json"))  # type: ignore[no-any-return]

    @property
    def dotenv(self) -> dict[str, str]:
        lines = self.file("threatdelta.env").splitlines()
        return dict(line.split("=", 1) for line in lines if line)

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.file("threatdelta-report.json"))  # type: ignore[no-any-return]

    @property
    def markdown(self) -> str:
        return self.file("threatdelta-report.md")

    @property
    def everything(self) -> str:
        """Every text the job produced that a person could read."""
        return "\n".join((self.stdout, self.stderr, *self.files.values()))


@dataclass
class GitLabHarness:
    """One repository, one fake GitLab, and a way to run the job against them."""

    tmp: Path
    fake: FakeGitLab
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    repo: GitRepo = field(init=False)

    def __post_init__(self) -> None:
        self.repo = GitRepo(self.tmp / "checkout")
        self.fake.add_project(PROJECT, PROJECT_PATH)
        self.fake.set_user(TOKEN, BOT)

    def open_merge_request(self, base: str, head: str) -> None:
        self.fake.add_merge_request(PROJECT, MR, head_sha=head, base_sha=base)

    def run(
        self,
        base: str,
        head: str,
        *,
        token: str | None = TOKEN,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        move_head: bool = True,
    ) -> JobResult:
        """Run ``threatdelta gitlab`` in a merge-request pipeline from ``base`` to ``head``."""
        if move_head:
            self.fake.set_head(PROJECT, MR, head)
        for name in VARIABLES:
            self.monkeypatch.delenv(name, raising=False)
        variables = {
            "GITLAB_CI": "true",
            "CI_MERGE_REQUEST_IID": str(MR),
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
            "CI_COMMIT_SHA": head,
            "CI_PROJECT_ID": str(PROJECT),
            "CI_API_V4_URL": self.fake.api_url,
            "CI_SERVER_URL": self.fake.url,
            "CI_PROJECT_DIR": str(self.repo.root),
            "CI_JOB_TOKEN": JOB_TOKEN,
            "THREATDELTA_WAIT_SCALE": "0",
        }
        if token is not None:
            variables["THREATDELTA_GITLAB_TOKEN"] = token
        variables.update(env or {})
        for name, value in variables.items():
            self.monkeypatch.setenv(name, value)
        code = main(["gitlab", *args])
        captured = self.capsys.readouterr()
        files = {}
        for name in REPORT_FILES:
            path = self.repo.root / name
            if path.exists():
                files[name] = path.read_text(encoding="utf-8")
                path.unlink()
        return JobResult(code, captured.out, captured.err, files)

    def notes(self) -> list[Note]:
        return self.fake.notes(PROJECT, MR)

    def writes(self) -> list[Any]:
        return [r for r in self.fake.requests if r.is_write]
