"""The GitHub Actions runner's files and workflow commands: annotations, outputs, job summary.

Pure text helpers plus two small appenders; nothing here talks to the GitHub API.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Literal

from threatdelta.publish.interface import Annotation, AnnotationLevel

SUMMARY_LIMIT = 1_000_000
"""Bytes we allow in one step summary (GitHub refuses summaries over 1 MiB)."""

SUMMARY_TRIMMED_NOTE = (
    "> **Note:** this summary was trimmed to stay under GitHub's size limit for job summaries; "
    "run `threatdelta review` locally for the full report."
)

_COMMAND_FOR_LEVEL: dict[AnnotationLevel, str] = {
    "failure": "error",
    "warning": "warning",
    "notice": "notice",
}
_SEVERITY_RANK: dict[AnnotationLevel, int] = {"failure": 0, "warning": 1, "notice": 2}
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def escape_data(text: str) -> str:
    """Escape a workflow command's message the way the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (``:`` and ``,`` separate properties)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command_annotation(a: Annotation) -> str:
    """The ``::error file=..,line=..,endLine=..,title=..::message`` line for one annotation."""
    props = [
        f"file={escape_property(a.path)}",
        f"line={max(1, a.start_line)}",
        f"endLine={max(1, a.start_line, a.end_line)}",
    ]
    if a.title:
        props.append(f"title={escape_property(a.title)}")
    return f"::{_COMMAND_FOR_LEVEL[a.level]} {','.join(props)}::{escape_data(a.message)}"


def _annotation_order(a: Annotation) -> tuple[int, str, int, int, str, str]:
    return (_SEVERITY_RANK[a.level], a.path, a.start_line, a.end_line, a.title, a.message)


def select_step_annotations(
    annotations: Iterable[Annotation], per_level_limit: int = 10
) -> tuple[Annotation, ...]:
    """The annotations one step can show: at most ``per_level_limit`` of each level.

    GitHub shows only the first ten errors, ten warnings and ten notices a step prints, so we choose
    which: most severe first, then by file, line and text, so the choice does not depend on the
    order the findings arrived in.
    """
    if per_level_limit < 0:
        raise ValueError("per_level_limit must not be negative")
    taken: dict[AnnotationLevel, int] = {"failure": 0, "warning": 0, "notice": 0}
    selected: list[Annotation] = []
    for a in sorted(annotations, key=_annotation_order):
        if taken[a.level] < per_level_limit:
            taken[a.level] += 1
            selected.append(a)
    return tuple(selected)


def _heredoc_delimiter(value: str) -> str:
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            return delimiter


def format_outputs(outputs: Mapping[str, str]) -> str:
    """The text to append to ``GITHUB_OUTPUT`` for ``outputs``.

    Single-line values are written ``name=value``; values with line breaks use a heredoc whose
    random delimiter is checked not to occur in the value, so a value cannot end it early and set
    other outputs.
    """
    parts: list[str] = []
    for name, value in outputs.items():
        if not _OUTPUT_NAME.fullmatch(name):
            raise ValueError(
                f"output name {name!r} is not valid: use letters, digits, '_' and '-', "
                "starting with a letter or '_'"
            )
        if "\n" in value or "\r" in value:
            delimiter = _heredoc_delimiter(value)
            parts.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        else:
            parts.append(f"{name}={value}\n")
    return "".join(parts)


def write_outputs(path: str | os.PathLike[str], outputs: Mapping[str, str]) -> None:
    """Append ``outputs`` to the runner's ``GITHUB_OUTPUT`` file at ``path``."""
    text = format_outputs(outputs)
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write(text)


def _size(text: str, unit: Literal["chars", "bytes"]) -> int:
    return len(text) if unit == "chars" else len(text.encode("utf-8"))


def _cut(text: str, limit: int, unit: Literal["chars", "bytes"]) -> str:
    if unit == "chars":
        return text[:limit]
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def trim_markdown(
    markdown: str, limit: int, note: str, *, unit: Literal["chars", "bytes"] = "chars"
) -> tuple[str, bool]:
    """``markdown`` cut so that it, plus ``note``, fits in ``limit`` characters (or bytes).

    Returns the text and whether it was trimmed. The cut falls at a line break when there is one,
    an open code fence is closed, and ``note`` follows the kept text.
    """
    if _size(markdown, unit) <= limit:
        return markdown, False
    closing = "\n```\n"
    tail = f"\n\n{note}\n"
    room = limit - _size(tail, unit) - _size(closing, unit)
    if room <= 0:
        return _cut(note, max(0, limit), unit), True
    kept = _cut(markdown, room, unit)
    newline = kept.rfind("\n")
    if newline > 0:
        kept = kept[: newline + 1]
    fences = sum(1 for line in kept.splitlines() if line.lstrip().startswith("```"))
    if fences % 2:
        kept = kept.rstrip("\n") + closing
    return kept.rstrip("\n") + tail, True


def write_summary(path: str | os.PathLike[str], markdown: str, limit: int = SUMMARY_LIMIT) -> bool:
    """Append ``markdown`` to the step summary at ``path``, keeping the file under ``limit`` bytes.

    What the file already holds counts against the limit. Returns True when the markdown had to be
    trimmed (a note then says so at its end).
    """
    try:
        used = os.path.getsize(path)
    except FileNotFoundError:
        used = 0
    text, trimmed = trim_markdown(
        markdown if markdown.endswith("\n") else markdown + "\n",
        max(0, limit - used),
        SUMMARY_TRIMMED_NOTE,
        unit="bytes",
    )
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write(text)
    return trimmed
