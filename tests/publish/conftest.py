"""Fixtures for the publisher tests."""

from fakegithub.fixture import fake_github  # noqa: F401
