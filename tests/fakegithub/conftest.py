"""Fixtures for the fake's own tests."""

from fakegithub.fixture import fake_github  # noqa: F401
