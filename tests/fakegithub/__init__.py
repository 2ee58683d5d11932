"""A stateful fake GitHub API server for tests (see :mod:`tests.fakegithub.server`).

Use the ``fake_github`` pytest fixture from :mod:`tests.fakegithub.fixture`: in a test folder's
``conftest.py`` write ``from tests.fakegithub.fixture import fake_github  # noqa: F401``.
"""

from tests.fakehttp import RequestRecord

from .server import (
    READ_ONLY_MESSAGE,
    SECONDARY_RATE_LIMIT_MESSAGE,
    Comment,
    FakeGitHub,
)

__all__ = [
    "READ_ONLY_MESSAGE",
    "SECONDARY_RATE_LIMIT_MESSAGE",
    "Comment",
    "FakeGitHub",
    "RequestRecord",
]
