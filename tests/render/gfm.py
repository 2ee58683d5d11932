"""Render markdown the way GitHub's parser does (cmark-gfm, with GitHub's extensions) and say what
in the result is live: links, images, HTML elements, and the references GitHub's own filters
link afterwards in text outside code (mentions, issue and commit references, emoji)."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

from threatdelta.render.escape import ZERO_WIDTH_JOINER

GITHUB_TEXT_LINKS = {
    "mention": re.compile(r"(?<![A-Za-z0-9_.+-])@[A-Za-z0-9]"),
    "issue reference": re.compile(r"#\d"),
    "GH reference": re.compile(r"(?i)(?<![A-Za-z0-9])gh-\d"),
    "commit reference": re.compile(r"@[0-9a-fA-F]{7,40}(?![A-Za-z0-9])"),
    "emoji shortcode": re.compile(r":[A-Za-z0-9_+-]+:"),
}
"""What GitHub links or replaces in text nodes that are not inside code, pre or a link."""

_SKIP = {"code", "pre", "a"}
_VOID = {"br", "img", "hr", "input"}


def to_html(markdown: str) -> str:
    """``markdown`` as GitHub's parser turns it into HTML (before GitHub's sanitiser)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Rendered(HTMLParser):
    """The tags and the text of one rendered document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        """Every start tag, in order."""
        self.links: list[str] = []
        """Every ``href`` and ``src``."""
        self.free_text: list[str] = []
        """Text outside code, pre and links (what GitHub's filters look at)."""
        self.text: list[str] = []
        """All text."""
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links.extend(v or "" for k, v in attrs if k in ("href", "src"))
        if tag not in _VOID:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if not _SKIP.intersection(self._open):
            self.free_text.append(data)

    def live_references(self) -> list[str]:
        """What GitHub would link or replace in the free text."""
        found = []
        for chunk in self.free_text:
            for what, pattern in GITHUB_TEXT_LINKS.items():
                found.extend(f"{what}: {m.group(0)!r}" for m in pattern.finditer(chunk))
        return found

    def hidden_characters(self) -> list[str]:
        """Control, bidi and invisible characters in any text, other than our word joiner."""
        return [
            f"U+{ord(ch):04X}"
            for chunk in self.text
            for ch in chunk
            if ch not in "\n\t" + ZERO_WIDTH_JOINER
            and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        ]


def render(markdown: str) -> Rendered:
    """Parse ``markdown`` as GitHub does and collect what is in it."""
    out = Rendered()
    out.feed(to_html(markdown))
    out.close()
    return out
