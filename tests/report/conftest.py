"""The report tests use the history tests' repository builder."""

from __future__ import annotations

from tests.history.conftest import git_repo, pack, scripted, scripted_repo  # noqa: F401
