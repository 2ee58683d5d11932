"""Make untrusted text (names and descriptions from a model or a pull request) inert.

Text from a model ends up in GitHub-flavoured markdown, inside tables, inside Mermaid diagrams and
inside HTML. These helpers make sure it can neither mention people or teams, nor inject HTML or
markdown structure, nor forge the bot's hidden markers, nor break a table row or a diagram.
"""

from __future__ import annotations

import hashlib
import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9_-])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE = re.compile(r"\s+")

ZERO_WIDTH_JOINER = "\u2060"
"""Inserted after ``@`` and ``#`` so GitHub links neither a mention nor an issue reference."""


def plain(text: str, limit: int = 300) -> str:
    """One line of text, control characters removed, at most ``limit`` characters."""
    text = _CONTROL.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def md(text: str, limit: int = 300) -> str:
    """Inline markdown: HTML escaped, markdown syntax and table pipes escaped, no mentions."""
    text = html.escape(plain(text, limit), quote=True)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MENTION.sub("@" + ZERO_WIDTH_JOINER, text)
    return text


def code(text: str, limit: int = 200) -> str:
    """Inline code span that cannot be broken out of (backticks and pipes neutralised)."""
    text = plain(text, limit).replace("`", "'").replace("|", "¦")
    text = html.escape(text, quote=False)
    return f"<code>{text}</code>"


def html_text(text: str, limit: int = 2000) -> str:
    """Text for an HTML element body or attribute."""
    return html.escape(plain(text, limit), quote=True)


def mermaid_label(text: str, limit: int = 60) -> str:
    """A label safe inside a quoted Mermaid node or edge label."""
    text = plain(text, limit)
    text = html.escape(text, quote=True)
    # Mermaid reads entity codes; keep only characters that cannot end the label or the line.
    text = text.replace("`", "&#96;").replace("[", "&#91;").replace("]", "&#93;")
    text = text.replace("(", "&#40;").replace(")", "&#41;").replace("{", "&#123;")
    text = text.replace("}", "&#125;").replace("|", "&#124;").replace(";", "&#59;")
    text = text.replace("@", "&#64;")
    return text


_MERMAID_ID = re.compile(r"[^A-Za-z0-9_]")


def mermaid_id(raw: str, prefix: str = "n") -> str:
    """A Mermaid node id derived from ``raw`` (stable, only ``[A-Za-z0-9_]``)."""
    cleaned = _MERMAID_ID.sub("_", raw)
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}_{cleaned[:40]}_{digest}"


def yaml_scalar(text: str) -> str:
    """A YAML double-quoted scalar for a snippet the user pastes (any text round-trips)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped)
    return f'"{escaped}"'
