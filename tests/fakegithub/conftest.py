"""Fixtures for the fake's own tests."""

from tests.fakegithub.fixture import fake_github  # noqa: F401
