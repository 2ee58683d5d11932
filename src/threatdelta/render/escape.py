"""Make untrusted text (names and descriptions from a model or a pull request) inert.

Text from a model ends up in GitHub- and GitLab-flavoured markdown, inside tables, inside Mermaid
diagrams and inside HTML. These helpers make sure it can neither mention people or teams, nor
reference issues, merge requests, labels, milestones, snippets or epics, nor inject HTML or
markdown structure, nor forge the bot's hidden markers, nor break a table row or a diagram.
"""

from __future__ import annotations

import hashlib
import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
_MENTION = re.compile(r"(?<![A-Za-z0-9_.+-])@(?=[A-Za-z0-9_-])")
"""An ``@`` GitHub would read as a mention: not preceded by a word character (``a@b`` is not one,
so threat keys such as ``flow-dos@telemetry`` stay intact for copying)."""
_REFERENCE = re.compile(r"#(?=\d)|[!$&%~](?=[A-Za-z0-9_\"])")
"""Where a host would read a reference: ``#12`` (an issue or pull request, also after a
``project`` name), and GitLab's ``!12`` (merge request), ``~label``, ``%milestone``, ``$12``
(snippet) and ``&12`` (epic)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"\s+")

ZERO_WIDTH_JOINER = "\u2060"
"""Inserted after ``@``, ``#`` and GitLab's reference characters so no host links a mention or a
reference."""


def plain(text: str, limit: int = 300) -> str:
    """One line of text, control characters removed, at most ``limit`` characters."""
    text = _CONTROL.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def md(text: str, limit: int = 300) -> str:
    """Inline markdown: HTML escaped, markdown syntax and table pipes escaped, no mentions."""
    # Quotes need no escaping in markdown text; escaping them would leave entities whose '#' the
    # markdown escaping below would then break.
    text = _REFERENCE.sub(lambda m: m.group(0) + ZERO_WIDTH_JOINER, plain(text, limit))
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MENTION.sub("@" + ZERO_WIDTH_JOINER, text)
    return text


def code(text: str, limit: int = 200) -> str:
    """Inline code span that cannot be broken out of (backticks and pipes neutralised)."""
    text = plain(text, limit).replace("`", "'").replace("|", "¦")
    text = html.escape(text, quote=False)
    return f"<code>{text}</code>"


_MERMAID_ENTITIES = {
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "#": "#35;",
    "`": "#96;",
    "\\": "#92;",
}


def mermaid_label(text: str, limit: int = 60) -> str:
    """A label safe inside a double-quoted Mermaid node or edge label.

    Mermaid's own entity syntax (``#quot;``) replaces every character that could end the label,
    open HTML, or start an entity; the rest is literal inside quotes.
    """
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in plain(text, limit))


_MERMAID_ID = re.compile(r"[^A-Za-z0-9_]")


def mermaid_id(raw: str, prefix: str = "n") -> str:
    """A Mermaid node id derived from ``raw`` (stable, only ``[A-Za-z0-9_]``)."""
    cleaned = _MERMAID_ID.sub("_", raw)
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}_{cleaned[:40]}_{digest}"


def yaml_scalar(text: str) -> str:
    """A YAML double-quoted scalar for a snippet the user pastes (any text round-trips)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(
        ch if ch.isprintable() and ch != "`" else f"\\u{ord(ch):04x}" for ch in escaped
    )
    # Never the start of a hidden HTML comment (the bot's markers), even inside a code block.
    escaped = escaped.replace("<!--", "<\\u0021--")
    return f'"{escaped}"'


def fence(text: str, limit: int = 200) -> str:
    """Text inside a fenced code block: one line, no backtick that could close the fence, and
    nothing that looks like the start of a hidden HTML comment (the bot's markers)."""
    return plain(text, limit).replace("`", "'").replace("<!--", "< !--")
