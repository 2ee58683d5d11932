"""The ``fake_github`` pytest fixture: a started :class:`~fakegithub.server.FakeGitHub`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub server on a free local port, stopped after the test."""
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
