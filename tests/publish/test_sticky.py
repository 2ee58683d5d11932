"""The sticky-comment rules, on an in-memory thread (the GitHub and GitLab publisher tests run the
same rules against the fake servers)."""

from __future__ import annotations

from dataclasses import replace

from threatdelta.publish.sticky import (
    Gone,
    PostedComment,
    compose_comment,
    publish_sticky,
    read_markers,
)

HEAD = "a" * 40


class Thread:
    def __init__(self, me: str = "bot", head: str = HEAD) -> None:
        self.me = me
        self.head = head
        self.items: list[PostedComment] = []
        self.next_id = 1
        self.gone_on_edit = False
        self.can_hide = True
        self.hidden: list[int] = []

    def own_author(self) -> str:
        return self.me

    def current_head(self) -> str:
        return self.head

    def comments(self) -> list[PostedComment]:
        return list(self.items)

    def create(self, body: str) -> PostedComment:
        c = PostedComment(self.next_id, body, self.me, f"u{self.next_id}")
        self.next_id += 1
        self.items.append(c)
        return c

    def edit(self, comment: PostedComment, body: str) -> None:
        if self.gone_on_edit:
            self.items = [c for c in self.items if c.id != comment.id]
            raise Gone(comment.url)
        self.items = [replace(c, body=body) if c.id == comment.id else c for c in self.items]

    def delete(self, comment: PostedComment) -> None:
        self.items = [c for c in self.items if c.id != comment.id]

    def hide(self, comment: PostedComment) -> bool:
        self.hidden.append(comment.id)
        return self.can_hide


def _body(text: str, name: str = "default", head: str = HEAD) -> str:
    return compose_comment(name, head, text, 1000, "> cut")


def _publish(t: Thread, text: str, mode: str = "update", notes: list[str] | None = None) -> str:
    out = publish_sticky(
        t,
        "default",
        t.head,
        _body(text, head=t.head),
        mode,  # type: ignore[arg-type]
        say=lambda _: None,
        note=(notes if notes is not None else []).append,
    )
    return out.action


def test_markers_and_trimming() -> None:
    body = compose_comment("a b", HEAD, "x" * 2000, 500, "> cut")
    assert len(body) <= 500 and body.endswith("> cut\n")
    markers = read_markers(body)
    assert markers is not None and markers.config_name == "a%20b" and markers.head_sha == HEAD
    assert read_markers("text <!-- threatdelta:sticky name=x -->\n") is None


def test_update_creates_then_edits_then_leaves_alone() -> None:
    t = Thread()
    assert [_publish(t, "one"), _publish(t, "two"), _publish(t, "two")] == [
        "created",
        "updated",
        "unchanged",
    ]
    assert len(t.items) == 1 and t.items[0].body.endswith("two")


def test_a_comment_deleted_while_being_edited_is_posted_again() -> None:
    t = Thread()
    _publish(t, "one")
    t.gone_on_edit = True
    assert _publish(t, "two") == "created"
    assert [c.body.endswith("two") for c in t.items] == [True]


def test_a_host_that_does_not_hide_is_noted_and_a_new_comment_still_posted() -> None:
    t = Thread()
    _publish(t, "one", "hide-and-new")
    t.can_hide = False
    notes: list[str] = []
    assert _publish(t, "two", "hide-and-new", notes) == "created"
    assert t.hidden == [1] and len(t.items) == 2
    assert notes and "could not be hidden" in notes[0]


def test_other_authors_and_other_names_are_never_touched() -> None:
    t = Thread()
    t.items.append(PostedComment(50, _body("forged"), "mallory", "m"))
    t.items.append(PostedComment(51, _body("other", name="cloud"), "bot", "c"))
    _publish(t, "mine", "delete-and-new")
    assert {c.id for c in t.items} >= {50, 51} and len(t.items) == 3
