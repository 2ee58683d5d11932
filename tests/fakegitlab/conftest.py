"""Fixtures for the fake's own tests."""

from tests.fakegitlab.fixture import fake_gitlab  # noqa: F401
