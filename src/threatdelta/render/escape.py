"""Make untrusted text (names, ids and descriptions from a model or a pull request) inert.

Text from a model ends up in GitHub- and GitLab-flavoured markdown (the comment or note, the job
summary), inside
tables, inside HTML blocks, inside Mermaid diagrams, in HTML documents and in logs. Every piece of
it goes through :func:`inert`, with the context it lands in; the template filters (``md``,
``code``, ``mermaid``, ...) are that function with the context filled in. Inert means:

- no markdown structure: no link, image, emphasis, heading, table cell break, footnote or math;
- no autolink: ``https://``, ``www.``, e-mail addresses, ``owner/repo@sha``;
- no reference a host would link: ``@mention``, ``#12``, ``owner/repo#12``, ``GH-42``, and
  GitLab's ``!12`` (merge request), ``~label``, ``%milestone``, ``$12`` (snippet), ``&12`` (epic);
- no ``:emoji:`` shortcode, no HTML, no hidden HTML comment that could pose as the bot's markers;
- no Mermaid directive (``%%{init: ...}%%``) or label break-out;
- no control, bidirectional-override or invisible character (U+202E, U+200B, U+200E, U+061C, ...):
  what a reader sees is what is there.

Where a reference must be defused in running text, a WORD JOINER (U+2060, invisible) is put inside
it; everything else is escaped. Ids and threat keys are shown as code spans, which GitHub renders
literally, so they stay exactly copyable.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import lru_cache
from typing import Literal

from threatdelta.encoding import INVISIBLE_LETTERS, hidden

Context = Literal[
    "plain", "visible", "markdown", "code", "html-code", "mermaid", "fence", "sarif", "log"
]
"""Where the text lands:

- ``plain``: one line of plain text (terminal output, annotations, SARIF messages);
- ``visible``: the text with its lines, for an output that escapes on its own (HTML documents);
- ``markdown``: running text in markdown (paragraphs, lists, table cells, headings);
- ``code``: an id or key in markdown, as a code span (copyable as it is);
- ``html-code``: an id or key inside an HTML block (e.g. a ``<summary>`` line), as ``<code>``;
- ``mermaid``: a double-quoted Mermaid node or edge label;
- ``fence``: a line inside a fenced code block;
- ``sarif``: a SARIF message text (where ``[text](n)`` would be a link to a location);
- ``log``: a log line (lines kept; hidden characters shown as ``\\uXXXX``).
"""

ZERO_WIDTH_JOINER = "\u2060"
"""WORD JOINER: put inside a mention, reference, autolink or shortcode so GitHub links none."""

_WHITESPACE = re.compile(r"\s+")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>$])")
_URL_SCHEME = re.compile(r"(?<=:)(?=//)")
_WWW = re.compile(r"(?i)(?<![A-Za-z0-9])(www)(?=\.)")
_GH_REFERENCE = re.compile(r"(?i)(?<![A-Za-z0-9])(gh)(?=-\d)")
_ISSUE_REFERENCE = re.compile(r"(#)(?=\d)")
_GITLAB_REFERENCE = re.compile(r"[!$&%~](?=[A-Za-z0-9_\"])")
"""GitLab's ``!12``, ``~label``, ``%milestone``, ``$12`` and ``&12`` (``%"Release 2"`` too)."""
_MENTION = re.compile(r"(?<![A-Za-z0-9_.+-])@(?=[A-Za-z0-9_-])")
"""An ``@`` GitHub would read as a mention: not preceded by a word character."""
_EMAIL_OR_COMMIT = re.compile(
    r"@(?=(?:\\?[A-Za-z0-9_.-])*\\?\.[A-Za-z0-9]|[0-9a-fA-F]{7,40}(?![A-Za-z0-9]))"
)
"""An ``@`` that would make an e-mail autolink (a dotted domain follows, perhaps with a markdown
escape in it: ``_@\\_x.example`` still links, and so does a domain that starts with its dot,
``_@.https``) or an ``owner/repo@sha`` commit reference. Threat
keys such as ``flow-dos@telemetry`` match neither and stay as they are."""
_SHORTCODE = re.compile(r":(?=[A-Za-z0-9_+-]+:)")

_MERMAID_ENTITIES = {
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "#": "#35;",
    "%": "#37;",
    "`": "#96;",
    "\\": "#92;",
}


_ASCII_HIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
"""The hidden characters of ASCII (its controls), but for the line break."""


def _visible(text: str) -> str:
    """``text`` without hidden characters; tabs and line breaks become spaces or stay as lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _ASCII_HIDDEN.sub("", text)
    if text.isascii():
        return text
    # Each distinct character is judged once, not each occurrence.
    gone = [ord(ch) for ch in set(text) if ch > "\x7f" and hidden(ch)]
    return text.translate(dict.fromkeys(gone)) if gone else text


def _line(text: str, limit: int) -> str:
    """One line of visible text, at most ``limit`` characters."""
    if (
        len(text) <= limit
        and text.isprintable()
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
        and (text.isascii() or INVISIBLE_LETTERS.isdisjoint(text))
    ):
        # Already one line of visible text: every white-space character but the space, and
        # every hidden character but the invisible letters, is one Python does not print.
        return text
    return _made_line(text, limit)


def _made_line(text: str, limit: int) -> str:
    """:func:`_line`, worked out step by step (what its shortcut is tested against)."""
    # Bound the work on huge input before looking at each character.
    text = _WHITESPACE.sub(" ", text[: limit * 4 + 16])
    text = _visible(text).strip()
    text = _WHITESPACE.sub(" ", text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


_MARKDOWN_ACTIVE = re.compile(r"[!$&%~<>:@\\`*_{}\[\]()#+|]|(?i:www\.|gh-\d)")
"""What any step of :func:`_made_markdown` acts on: text without it is markdown as it is."""


def _markdown(text: str) -> str:
    """Markdown text that shows ``text`` (one line of visible text) and links nothing."""
    if _MARKDOWN_ACTIVE.search(text) is None:
        return text
    if len(text) <= _REMEMBERED_LENGTH:  # a label shown on many rows is escaped once
        return _remembered_markdown(text)
    return _made_markdown(text)


def _made_markdown(text: str) -> str:
    """:func:`_markdown`, every step (what its shortcut is tested against)."""
    # Quotes need no escaping in markdown text; escaping them would leave entities whose '#' the
    # markdown escaping below would then break.
    text = _GITLAB_REFERENCE.sub(lambda m: m.group(0) + ZERO_WIDTH_JOINER, text)
    text = html.escape(text, quote=False)
    text = _SHORTCODE.sub(":" + ZERO_WIDTH_JOINER, text)
    # Before the backslash escapes, which would hide an e-mail's '_' from these patterns.
    text = _MENTION.sub("@" + ZERO_WIDTH_JOINER, text)
    text = _EMAIL_OR_COMMIT.sub("@" + ZERO_WIDTH_JOINER, text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _URL_SCHEME.sub(ZERO_WIDTH_JOINER, text)
    text = _WWW.sub(r"\1" + ZERO_WIDTH_JOINER, text)
    text = _GH_REFERENCE.sub(r"\1" + ZERO_WIDTH_JOINER, text)
    text = _ISSUE_REFERENCE.sub(r"\1" + ZERO_WIDTH_JOINER, text)
    return text


_REMEMBERED_LENGTH = 160
_remembered_markdown = lru_cache(maxsize=1 << 14)(_made_markdown)
"""Text of at most :data:`_REMEMBERED_LENGTH` characters made markdown (the last 16,384
distinct ones are kept: a few megabytes)."""


def _code_span(text: str) -> str:
    # A code span shows its content literally: no link, emphasis, autolink, mention or HTML.
    # Only a backtick could end it and only a pipe could end a table cell around it.
    text = text.replace("`", "'").replace("|", "¦").replace("<!--", "< !--")
    return f"`{text}`" if text else "` `"


def _log(text: str) -> str:
    out = []
    for ch in text.replace("\r\n", "\n"):
        if ch == "\n" or ch == "\t" or not hidden(ch):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def inert(text: str, context: Context = "markdown", limit: int = 300) -> str:
    """``text`` made inert for ``context`` (see :data:`Context`); the one way untrusted text
    reaches any output. ``limit`` caps the characters kept in one-line contexts."""
    if context == "log":
        return _log(text)
    if context == "visible":
        return _visible(text)
    line = _line(text, limit)
    if context == "plain":
        return line
    if context == "markdown":
        return _markdown(line)
    if context == "code":
        return _code_span(line)
    if context == "html-code":
        return f"<code>{html.escape(line, quote=True)}</code>"
    if context == "mermaid":
        return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in line)
    if context == "fence":
        return line.replace("`", "'").replace("<!--", "< !--")
    if context == "sarif":
        return line.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    raise ValueError(f"unknown context {context!r}")


# --- the template filters: inert() with the context filled in -------------------------------


def plain(text: str, limit: int = 300) -> str:
    """One line of text, hidden characters removed, at most ``limit`` characters."""
    return inert(text, "plain", limit)


def md(text: str, limit: int = 300) -> str:
    """Running markdown text that renders exactly as written and links nothing."""
    return inert(text, "markdown", limit)


def code(text: str, limit: int = 200) -> str:
    """An id or key as a markdown code span: shown literally, copyable."""
    return inert(text, "code", limit)


def html_code(text: str, limit: int = 200) -> str:
    """An id or key inside an HTML block (where markdown is not read), as ``<code>``."""
    return inert(text, "html-code", limit)


def mermaid_label(text: str, limit: int = 60) -> str:
    """A label safe inside a double-quoted Mermaid node or edge label.

    Mermaid's own entity syntax (``#quot;``) replaces every character that could end the label,
    open HTML, start an entity or a directive (``%%``); the rest is literal inside quotes.
    """
    return inert(text, "mermaid", limit)


def fence(text: str, limit: int = 200) -> str:
    """Text inside a fenced code block: one line, no backtick that could close the fence, and
    nothing that looks like the start of a hidden HTML comment (the bot's markers)."""
    return inert(text, "fence", limit)


def sarif_text(text: str, limit: int = 1000) -> str:
    """A SARIF message: one line, brackets escaped so no embedded link forms."""
    return inert(text, "sarif", limit)


def log_text(text: str) -> str:
    """Text for a log or a terminal: lines kept, every hidden character shown as an escape."""
    return inert(text, "log")


# --- derived identifiers and values (not free text) -----------------------------------------

_MERMAID_ID = re.compile(r"[^A-Za-z0-9_]")


def mermaid_id(raw: str, prefix: str = "n") -> str:
    """A Mermaid node id derived from ``raw`` (stable, only ``[A-Za-z0-9_]``)."""
    cleaned = _MERMAID_ID.sub("_", raw)
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{prefix}_{cleaned[:40]}_{digest}"


def _yaml_escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}"


def yaml_scalar(text: str) -> str:
    """A YAML double-quoted scalar for a snippet the user pastes (any text round-trips)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() and ch != "`" else _yaml_escape(ch) for ch in escaped)
    # Never the start of a hidden HTML comment (the bot's markers), even inside a code block.
    escaped = escaped.replace("<!--", "<\\u0021--")
    return f'"{escaped}"'
