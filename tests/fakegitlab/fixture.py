"""The ``fake_gitlab`` pytest fixture: a started :class:`~fakegitlab.server.FakeGitLab`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeGitLab


@pytest.fixture
def fake_gitlab() -> Iterator[FakeGitLab]:
    """A fresh fake GitLab server on a free local port, stopped after the test."""
    fake = FakeGitLab().start()
    try:
        yield fake
    finally:
        fake.stop()
