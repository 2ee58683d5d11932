"""Fixtures for the end-to-end tests: the fake GitHub and GitLab servers and a harness around
each."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.gitlab_harness import GitLabHarness
from tests.e2e.harness import Harness
from tests.fakegithub import FakeGitHub
from tests.fakegithub.fixture import fake_github  # noqa: F401
from tests.fakegitlab import FakeGitLab
from tests.fakegitlab.fixture import fake_gitlab  # noqa: F401


@pytest.fixture
def harness(
    tmp_path: Path,
    fake_github: FakeGitHub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Harness:
    """A repository, the fake GitHub, and the runner's environment pointed at both."""
    return Harness(tmp_path, fake_github, monkeypatch, capsys)


@pytest.fixture
def gitlab_job(
    tmp_path: Path,
    fake_gitlab: FakeGitLab,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> GitLabHarness:
    """A repository, the fake GitLab, and a merge-request pipeline's variables pointed at both."""
    return GitLabHarness(tmp_path, fake_gitlab, monkeypatch, capsys)
