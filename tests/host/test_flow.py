"""The shared review flow, driven by a third host that exists only here: an in-memory code host
whose publisher keeps its comments in a list. Nothing else is needed to review a change for a new
host: the flow, the comment, the sticky rules and the verdict are the same."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, GitRepo, model

from threatdelta.action.inputs import resolve_inputs
from threatdelta.action.log import StepLog
from threatdelta.cli import main
from threatdelta.errors import InputError
from threatdelta.git import find_repo
from threatdelta.history.cache import CACHE_FILE
from threatdelta.history.gitlog import git_dir
from threatdelta.host import flow
from threatdelta.host.interface import ChangeRequest, Outcome, RunState
from threatdelta.publish.interface import Annotation, Publication, Publisher, PublishResult
from threatdelta.publish.sticky import PostedComment, compose_comment, publish_sticky

TODAY = dt.date(2026, 6, 1)


@dataclass
class Board:
    """The whole "code host": one change's comments."""

    comments: list[PostedComment] = field(default_factory=list)
    head: str = ""


@dataclass
class BoardPublisher:
    """A complete publisher for the in-memory host, in a few lines."""

    board: Board

    @property
    def host(self) -> str:
        return "Board"

    @property
    def comment_limit(self) -> int:
        return 200_000

    def own_author(self) -> str:
        return "bot"

    def current_head(self) -> str:
        return self.board.head

    def comments(self) -> list[PostedComment]:
        return list(self.board.comments)

    def create(self, body: str) -> PostedComment:
        c = PostedComment(
            len(self.board.comments) + 1, body, "bot", f"board://{len(self.board.comments) + 1}"
        )
        self.board.comments.append(c)
        return c

    def edit(self, comment: PostedComment, body: str) -> None:
        self.board.comments = [
            replace(c, body=body) if c.id == comment.id else c for c in self.board.comments
        ]

    def delete(self, comment: PostedComment) -> None:
        self.board.comments = [c for c in self.board.comments if c.id != comment.id]

    def hide(self, comment: PostedComment) -> bool:
        return False

    def publish(self, pub: Publication) -> PublishResult:
        body = compose_comment(
            pub.config_name, pub.head_sha, pub.comment_body, self.comment_limit, "> cut"
        )
        out = publish_sticky(
            self,
            pub.config_name,
            pub.head_sha,
            body,
            pub.comment_mode,
            say=lambda _: None,
            note=lambda _: None,
        )
        return PublishResult(out.url, out.action, None, ())


@dataclass
class BoardHost:
    """The in-memory host's CI side: records what the flow hands it, in order."""

    board: Board
    events: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    folder: Path = Path(".")

    @property
    def name(self) -> str:
        return "Board"

    @property
    def comment_limit(self) -> int:
        return 150_000

    @property
    def full_report_at(self) -> str:
        return "the board's report"

    def checkout_help(self, change: ChangeRequest | None) -> str:
        return "fetch everything"

    def report_path(self, comment_name: str) -> Path:
        return self.folder / f"{comment_name}.json"

    def publisher(self) -> Publisher | None:
        self.events.append("publish")
        return BoardPublisher(self.board)

    def show_annotations(self, annotations: tuple[Annotation, ...]) -> None:
        self.events.append(f"annotations:{len(annotations)}")

    def deliver(self, outcome: Outcome) -> None:
        self.events.append(f"deliver:{outcome.verdict}")
        self.outcomes.append(outcome)

    def record_publication(self, published: PublishResult) -> None:
        self.events.append(f"published:{published.comment_action}")


def _setup(tmp_path: Path) -> tuple[BoardHost, RunState, GitRepo, str, str]:
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit({"threatmodel.yaml": model()}, "base")
    head = repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "head")
    board = Board(head=head)
    host = BoardHost(board, folder=tmp_path / "out")
    state = RunState(
        inputs=resolve_inputs({}, {}),
        change=ChangeRequest("change", "C-1", base, head),
    )
    return host, state, repo, base, head


def _log() -> tuple[StepLog, io.StringIO]:
    out = io.StringIO()
    return StepLog(out, out), out


def test_a_third_host_gets_the_review_reports_first_then_one_sticky_comment(tmp_path: Path) -> None:
    host, state, repo, _, head = _setup(tmp_path)
    log, out = _log()
    found = find_repo(repo.root)
    assert found is not None

    code = flow.review_change(host, state, found, TODAY, log)

    assert code == 1
    assert host.events[0].startswith("annotations:") and host.events[0] != "annotations:0"
    assert host.events[1:3] == ["deliver:fail", "publish"]  # the verdict is on record first
    assert host.events[-1] == "published:created"
    (comment,) = host.board.comments
    assert "process-tampering@log-service" in comment.body
    assert host.outcomes[0].unaddressed > 0 and host.outcomes[0].report_path
    assert "reviewing change C-1" in out.getvalue() and "verdict: fail" in out.getvalue()
    # a rerun changes nothing on the host
    assert flow.review_change(host, state, found, TODAY, log) == 1
    assert host.events[-1] == "published:unchanged" and len(host.board.comments) == 1
    assert head in comment.body.splitlines()[1]


def test_bad_input_on_a_third_host_replaces_the_comment_and_exits_2(tmp_path: Path) -> None:
    host, state, repo, _, _ = _setup(tmp_path)
    log, out = _log()
    found = find_repo(repo.root)
    assert found is not None
    flow.review_change(host, state, found, TODAY, log)

    code = flow.bad_input(host, state, InputError("threatmodel.yaml is broken"), log)

    assert code == 2
    (comment,) = host.board.comments
    assert "could not review" in comment.body and "threatmodel.yaml is broken" in comment.body
    assert host.outcomes[-1].verdict == "error"
    assert "threatmodel.yaml is broken" in out.getvalue()


def test_the_hosted_review_neither_reads_nor_keeps_a_threat_index(tmp_path: Path) -> None:
    """A cache in the repository's git folder could come from a job of the same change: the
    hosted review must not read it (nor write one a later job could read)."""
    host, state, repo, base, head = _setup(tmp_path)
    found = find_repo(repo.root)
    assert found is not None
    flow.review_change(host, state, found, TODAY, _log()[0])
    (honest,) = host.board.comments
    cache_file = git_dir(found) / CACHE_FILE
    assert not cache_file.exists()

    # A local review leaves the base's index in the cache; then every key of it is dropped,
    # so a review that read it would count the base's other threats as gone.
    assert main(["review", "--repo", str(repo.root), "--base", base, "--head", head,
                 "--fail-on=none", "--today", TODAY.isoformat()]) == 0  # fmt: skip
    with sqlite3.connect(cache_file) as db:
        (count,) = db.execute("SELECT count(*) FROM threat_index").fetchone()
        assert count == 1
        db.execute("UPDATE threat_index SET data = ?", ('{"elements": {}, "flows": {}}',))
    host.board.comments.clear()

    flow.review_change(host, state, found, TODAY, _log()[0])

    (again,) = host.board.comments
    assert again.body == honest.body
