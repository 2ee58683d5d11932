"""The sticky comment, the same on every host: one comment per configuration name, found by hidden
markers and by its author being the token's own user, updated in place.

A host publisher adapts its API to :class:`Thread` (list, create, edit, delete, hide the comments of
one pull or merge request); :func:`publish_sticky` holds the rules every host follows: which
comment is ours, when nothing is written, how a rerun replaces or supersedes the last comment, how
racing runs agree on one comment, and why a comment for a newer head is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from threatdelta.publish.interface import CommentAction, CommentMode
from threatdelta.publish.workflow import trim_markdown

_STICKY = re.compile(
    r"\A<!-- threatdelta:sticky name=([A-Za-z0-9._%]+) -->\r?\n"
    r"<!-- threatdelta:head sha=([A-Za-z0-9._%]*) -->\r?\n"
)


# --- markers ------------------------------------------------------------------------------


def encode_marker_value(value: str) -> str:
    """Letters, digits, ``.`` and ``_`` stay; every other byte becomes ``%XX`` (injective)."""
    out = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        out.append(ch if ch.isascii() and (ch.isalnum() or ch in "._") else f"%{byte:02X}")
    return "".join(out)


def sticky_marker(config_name: str) -> str:
    """The hidden first line that names the configuration a comment belongs to."""
    return f"<!-- threatdelta:sticky name={encode_marker_value(config_name)} -->"


def head_marker(head_sha: str) -> str:
    """The hidden second line that names the head commit a comment reports."""
    return f"<!-- threatdelta:head sha={encode_marker_value(head_sha)} -->"


def neutralise_markers(body: str) -> str:
    """``body`` with every ``<!--`` written as ``&lt;!--``.

    The rendered report is untrusted where it quotes the change; an HTML comment in it could pose
    as our marker or hide the rest of the comment from readers. Markdown renders the escaped form
    as the literal text ``<!--`` (inside code spans it shows as written).
    """
    return body.replace("<!--", "&lt;!--")


def compose_comment(
    config_name: str, head_sha: str, body: str, limit: int, trimmed_note: str
) -> str:
    """The full comment: our two markers, then the neutralised body, trimmed to ``limit``."""
    header = f"{sticky_marker(config_name)}\n{head_marker(head_sha)}\n"
    text = neutralise_markers(body)
    text, _ = trim_markdown(text, limit - len(header), trimmed_note)
    return header + text


@dataclass(frozen=True)
class Markers:
    """What the hidden markers at the top of a comment say."""

    config_name: str
    """The configuration name, still encoded as in the marker."""
    head_sha: str
    """The head commit the comment reports, still encoded as in the marker."""


def read_markers(body: str | None) -> Markers | None:
    """The markers at the very top of ``body``, or None when it does not start with them."""
    if not body:
        return None
    m = _STICKY.match(body)
    if m is None:
        return None
    return Markers(m.group(1), m.group(2))


def same_body(a: str | None, b: str) -> bool:
    """Whether two comment bodies read the same (hosts may store ``\\r\\n`` for ``\\n``)."""
    return (a or "").replace("\r\n", "\n") == b.replace("\r\n", "\n")


# --- the host's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class PostedComment:
    """A comment on the pull or merge request, as the host lists it."""

    id: int
    """The host's id; later comments have larger ids."""
    body: str
    """The markdown body."""
    author: str
    """Who wrote it (the host's login or username)."""
    url: str
    """Its web address."""


class Gone(Exception):
    """The comment no longer exists (a concurrent run deleted it)."""


class Thread(Protocol):
    """The comments of one pull or merge request on one host.

    Each method raises the host's own errors; the publisher decides what they mean.
    """

    def own_author(self) -> str:
        """The token's own user, as :attr:`PostedComment.author` names it."""

    def current_head(self) -> str:
        """The head commit the pull or merge request points at now."""

    def comments(self) -> list[PostedComment]:
        """Every comment, oldest first."""

    def create(self, body: str) -> PostedComment:
        """Post a new comment."""

    def edit(self, comment: PostedComment, body: str) -> None:
        """Replace a comment's body; raises :class:`Gone` when it was deleted."""

    def delete(self, comment: PostedComment) -> None:
        """Delete a comment; does nothing when it is already gone."""

    def hide(self, comment: PostedComment) -> bool:
        """Hide (collapse) an outdated comment; False when the host did not."""


@dataclass(frozen=True)
class StickyOutcome:
    """What became of the sticky comment."""

    action: CommentAction
    """``created``, ``updated``, ``unchanged`` or ``skipped-newer``."""
    url: str | None
    """The comment that now holds the report."""


def publish_sticky(
    thread: Thread,
    config_name: str,
    head_sha: str,
    body: str,
    mode: CommentMode,
    *,
    say: Callable[[str], None],
    note: Callable[[str], None],
    what: str = "pull-request comment",
) -> StickyOutcome:
    """Put ``body`` (already composed with its markers) on ``thread`` as ``mode`` asks.

    ``say`` logs progress; ``note`` logs an outcome worth repeating in the job's report. ``mode``
    must not be ``off``. Host errors propagate.
    """
    name = encode_marker_value(config_name)
    login = thread.own_author()

    def own() -> list[PostedComment]:
        found = [
            c
            for c in thread.comments()
            if c.author == login and (m := read_markers(c.body)) and m.config_name == name
        ]
        return sorted(found, key=lambda c: c.id)

    def create(seen: Sequence[PostedComment]) -> StickyOutcome:
        created = thread.create(body)
        # Runs racing on the same pull request may each have created a comment. Every run lists
        # again and keeps the oldest comment that appeared after what it saw before, so all of
        # them end up agreeing on one.
        newest_seen = max((c.id for c in seen), default=0)
        fresh = [c for c in own() if c.id > newest_seen] or [created]
        keep = min(fresh, key=lambda c: c.id)
        for extra in fresh:
            if extra.id != keep.id:
                thread.delete(extra)
        if keep.id != created.id:
            note(f"another run posted the same comment at the same time; kept {keep.url}")
        else:
            say(f"created the {what} {keep.url}")
        return StickyOutcome("created", keep.url)

    current_head = thread.current_head()
    mine = own()
    if current_head != head_sha:
        current = encode_marker_value(current_head)
        newer = [c for c in mine if (m := read_markers(c.body)) and m.head_sha == current]
        if newer:
            note(
                f"the comment already reports the newer head {current_head[:12]}; "
                f"this run reviewed {head_sha[:12]} and leaves it alone"
            )
            return StickyOutcome("skipped-newer", newer[-1].url)

    if mode == "new":
        return create(mine)
    if mode == "update":
        if not mine:
            return create(mine)
        sticky, extras = mine[0], mine[1:]
        for extra in extras:
            thread.delete(extra)
        if same_body(sticky.body, body):
            say(f"the {what} is up to date: {sticky.url}")
            return StickyOutcome("unchanged", sticky.url)
        try:
            thread.edit(sticky, body)
        except Gone:
            return create(mine)
        say(f"updated the {what} {sticky.url}")
        return StickyOutcome("updated", sticky.url)
    # hide-and-new, delete-and-new
    if mine and same_body(mine[-1].body, body):
        say(f"the {what} is up to date: {mine[-1].url}")
        return StickyOutcome("unchanged", mine[-1].url)
    if mode == "hide-and-new":
        if mine and not thread.hide(mine[-1]):
            note(f"the previous comment {mine[-1].url} could not be hidden")
    else:
        for old in mine:
            thread.delete(old)
    return create(mine)
