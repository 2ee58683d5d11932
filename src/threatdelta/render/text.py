"""Plain-text output for terminals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from threatdelta.render.escape import plain


def register_text(data: dict[str, Any]) -> str:
    """A register (as from :func:`threatdelta.render.data.register_data`) for a terminal."""
    return "\n".join(register_lines(data)) + "\n"


def register_lines(data: dict[str, Any]) -> Iterator[str]:
    """The lines of :func:`register_text`, made one threat at a time (``data`` may be a
    :func:`threatdelta.render.data.register_document`, whose rows are made as they are read)."""
    summary = data["summary"]
    yield f"{plain(data['system'])} — {data['model']} ({data['format']}, rules: {plain(data['rules'])})"
    yield (
        f"{summary['total']} threats: {summary['mitigated']} mitigated, {summary['accepted']} accepted, "
        f"{summary['transferred']} transferred, {summary['not-applicable']} not applicable, "
        f"{summary['open']} open; {summary['unaddressed']} unaddressed"
    )
    yield ""
    for threat in data["threats"]:
        mark = "ok " if threat["addressed"] else "!! "
        status = threat["status"]
        if threat.get("unverified"):
            status = f"{status} ({threat['unverified']})"
        yield (
            f"{mark}[{threat['stride']}] {threat['severity']:<8} {status:<14} "
            f"{plain(threat['title'], 120)}"
        )
        reference = threat.get("reference")
        yield f"      {threat['id']}" + (f" ({plain(reference, 40)})" if reference else "")
        for problem in threat["problems"]:
            yield f"      - {plain(problem['message'], 200)}"
    for orphan in data["orphaned_dispositions"]:
        yield f"?? {orphan['id']}: {plain(orphan['message'], 200)}"
    excluded = data.get("excluded") or []
    if excluded:
        yield ""
        yield f"Designed out ({len(excluded)}): threats a property of the design excludes"
    for item in excluded:
        yield (
            f"-- [{item['stride']}] {item['severity']:<8} {plain(item['title'], 120)}: "
            f"excluded by {plain(item['excluded_by'], 200)}"
        )
        yield f"      {item['id']}"
        for cause in item["causes"]:
            for control in cause["implemented_by"]:
                evidence = ", ".join(plain(e, 120) for e in control["evidence"]) or "none"
                yield (
                    f"      implemented by {plain(control['id'], 80)} "
                    f"({control['status'] or 'not defined'}; evidence: {evidence})"
                )
                for problem in control["problems"]:
                    yield f"      - {plain(problem['message'], 200)}"
