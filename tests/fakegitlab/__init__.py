"""A stateful fake GitLab API server for tests (see :mod:`tests.fakegitlab.server`).

Use the ``fake_gitlab`` pytest fixture from :mod:`tests.fakegitlab.fixture`: in a test folder's
``conftest.py`` write ``from tests.fakegitlab.fixture import fake_gitlab  # noqa: F401``.
"""

from tests.fakehttp import RequestRecord

from .server import (
    FORBIDDEN_MESSAGE,
    NOTE_LIMIT,
    RATE_LIMIT_MESSAGE,
    FakeGitLab,
    Note,
)

__all__ = [
    "FORBIDDEN_MESSAGE",
    "NOTE_LIMIT",
    "RATE_LIMIT_MESSAGE",
    "FakeGitLab",
    "Note",
    "RequestRecord",
]
