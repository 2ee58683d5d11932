"""GitLab's Code Quality report (``gl-code-quality-report.json``) from annotations.

A JSON array of findings, each with a description, a check name, a fingerprint, a severity and a
location (path and first line); GitLab shows them in the merge-request widget and beside the
model file's lines in the diff. Pure: the caller writes the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from threatdelta.publish.interface import Annotation, AnnotationLevel

FILE_NAME = "gl-code-quality-report.json"
"""The name GitLab's documentation uses for the report (any name works in ``artifacts:``)."""

SEVERITY: dict[AnnotationLevel, str] = {
    "failure": "critical",
    "warning": "major",
    "notice": "info",
}
"""Annotation levels as Code Quality severities (info, minor, major, critical, blocker)."""


def _fingerprint(a: Annotation, seen: set[str]) -> str:
    """Stable across runs as long as the finding reads the same (the line does not count, so a
    finding that only moved is not reported as new)."""
    basis = "\x00".join((a.path, a.level, a.title, a.message))
    n = 0
    while True:
        value = hashlib.sha256(f"{basis}\x00{n}".encode()).hexdigest()
        if value not in seen:
            seen.add(value)
            return value
        n += 1


def code_quality_report(annotations: Iterable[Annotation]) -> list[dict[str, Any]]:
    """One Code Quality finding per annotation, in the order given."""
    seen: set[str] = set()
    findings = []
    for a in annotations:
        description = f"{a.title}: {a.message}" if a.title else a.message
        findings.append(
            {
                "type": "issue",
                "check_name": "threatdelta",
                "description": description,
                "categories": ["Security"],
                "severity": SEVERITY[a.level],
                "fingerprint": _fingerprint(a, seen),
                "location": {"path": a.path, "lines": {"begin": max(1, a.start_line)}},
            }
        )
    return findings
