"""Countermeasures that another tool records only as text on the threat they answer.

The Threat Modeling Tool and Threat Dragon have no list of countermeasures: a threat marked
Mitigated carries a text that *is* the description of its countermeasure. threatdelta gives each
such text a control of its own (status implemented, no evidence), which the threat's disposition
names, so the threat counts as mitigated with that text as its justification. Its id is built
from the threat key, so rewording the text changes the control's name, never its identity.
"""

from __future__ import annotations

from threatdelta.errors import Location
from threatdelta.model.model import Control

NAME_LIMIT = 120
"""Longest control name; the whole text stays in the description."""


def whole_sentences(text: str, limit: int) -> str:
    """The first sentences of ``text`` (as one line) that fit in ``limit`` characters, and at
    least the first one whole: a sentence is never cut."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    sentences = _sentences(line)
    kept = sentences[0] if sentences else ""
    for sentence in sentences[1:]:
        if len(kept) + 1 + len(sentence) > limit:
            break
        kept = f"{kept} {sentence}"
    return kept


def short_name(text: str, limit: int = NAME_LIMIT) -> str:
    """A name for ``text`` of at most ``limit`` characters: its first line's whole sentences
    that fit, else its first words with an ellipsis (never a cut word)."""
    first_line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    kept = whole_sentences(first_line, limit)
    if len(kept) <= limit:
        return kept
    return first_line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _sentences(text: str) -> list[str]:
    """``text`` split after '.', '!' or '?' followed by a space."""
    parts: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char in ".!?" and (index + 1 == len(text) or text[index + 1] == " "):
            parts.append(text[start : index + 1].strip())
            start = index + 1
    rest = text[start:].strip()
    if rest:
        parts.append(rest)
    return parts


def described_control(control_id: str, text: str, location: Location | None) -> Control | None:
    """The control a Mitigated threat's text describes (None when there is no text)."""
    text = text.strip()
    if not text:
        return None
    return Control(
        id=control_id,
        name=short_name(text),
        status="implemented",
        description=text,
        location=location,
    )
