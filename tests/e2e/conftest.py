"""Fixtures for the end-to-end tests: the fake GitHub server and a harness around it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.harness import Harness
from tests.fakegithub import FakeGitHub
from tests.fakegithub.fixture import fake_github  # noqa: F401


@pytest.fixture
def harness(
    tmp_path: Path,
    fake_github: FakeGitHub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Harness:
    """A repository, the fake GitHub, and the runner's environment pointed at both."""
    return Harness(tmp_path, fake_github, monkeypatch, capsys)
