"""Plain-text output for terminals."""

from __future__ import annotations

from typing import Any

from threatdelta.render.escape import plain


def register_text(data: dict[str, Any]) -> str:
    """A register (as from :func:`threatdelta.render.data.register_data`) for a terminal."""
    summary = data["summary"]
    lines = [
        f"{plain(data['system'])} — {data['model']} ({data['format']}, rules: {plain(data['rules'])})",
        f"{summary['total']} threats: {summary['mitigated']} mitigated, {summary['accepted']} accepted, "
        f"{summary['transferred']} transferred, {summary['not-applicable']} not applicable, "
        f"{summary['open']} open; {summary['unaddressed']} unaddressed",
        "",
    ]
    for threat in data["threats"]:
        mark = "ok " if threat["addressed"] else "!! "
        lines.append(
            f"{mark}[{threat['stride']}] {threat['severity']:<8} {threat['status']:<14} "
            f"{plain(threat['title'], 120)}"
        )
        lines.append(f"      {threat['id']}")
        for problem in threat["problems"]:
            lines.append(f"      - {plain(problem['message'], 200)}")
    for orphan in data["orphaned_dispositions"]:
        lines.append(f"?? {orphan['id']}: {plain(orphan['message'], 200)}")
    return "\n".join(lines) + "\n"
