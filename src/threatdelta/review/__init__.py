"""Comparing a model between two revisions: what changed, and what that did to its threats."""
