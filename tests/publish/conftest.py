"""Fixtures for the publisher tests."""

from tests.fakegithub.fixture import fake_github  # noqa: F401
