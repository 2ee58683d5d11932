"""Publish a review on a GitLab merge request: one sticky note, through python-gitlab.

The note is found as on GitHub (:mod:`threatdelta.publish.sticky`): two hidden markers at the top
of its body, and its author being the token's own user, so notes by other people that copy the
markers are never touched; system notes are never ours. GitLab cannot hide a note, so
``hide-and-new`` folds the previous note into a closed ``<details>`` block marked outdated.

This module imports python-gitlab, so only the ``gitlab`` command imports it. Network trouble never
raises: every outcome comes back as a :class:`PublishResult` and log lines, and the token appears
in neither.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import ProjectMergeRequest, ProjectMergeRequestNote

from threatdelta.publish import sticky
from threatdelta.publish.deadline import Deadline, OutOfTime, PublishLimits, run_before
from threatdelta.publish.interface import Publication, PublishResult
from threatdelta.publish.retry import Calls, GaveUp, retry_after_seconds
from threatdelta.publish.sticky import Gone, PostedComment, StickyOutcome, publish_sticky

T = TypeVar("T")

NOTE_LIMIT = 1_000_000
"""GitLab's maximum note body, in characters."""

REPORT_ARTIFACT = "threatdelta-report.md"
"""The job artifact with the full report, which a trimmed note points to."""

NOTE_TRIMMED_NOTE = (
    "> **Note:** this note was trimmed to fit GitLab's size limit; "
    f"the job's {REPORT_ARTIFACT} artifact has the full report."
)

READONLY_LINE = (
    "the token cannot write notes on this merge request; the verdict is in the job log and the "
    "job's reports. THREATDELTA_GITLAB_TOKEN must be a project or group access token with the "
    "'api' scope and at least the Reporter role (CI_JOB_TOKEN cannot write notes)"
)

OUTDATED_SUMMARY = "Outdated: a newer threatdelta review follows below"
"""The closed ``<details>`` summary of a note folded away by ``hide-and-new``."""

_RATE_LIMIT_WAIT = 60.0


# --- describing and retrying failures -----------------------------------------------------


def _status(exc: BaseException) -> int | None:
    return exc.response_code if isinstance(exc, GitlabError) else None


def _message(exc: GitlabError) -> str:
    message = exc.error_message
    if isinstance(message, dict):  # validation errors: {"note": ["is too long ..."]}
        parts = [
            f"{k} {'; '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in message.items()
        ]
        message = ", ".join(parts)
    return str(message)[:300]


def _describe(exc: BaseException) -> str:
    """A short, token-free description of what went wrong."""
    if isinstance(exc, GaveUp):
        return f"{exc.reason} while {exc.what}"
    if isinstance(exc, GitlabError) and exc.response_code is not None:
        message = _message(exc)
        return f"GitLab answered {exc.response_code}" + (f" ({message})" if message else "")
    if isinstance(exc, GitlabError):
        return "GitLab's answer could not be read"
    if isinstance(exc, requests.Timeout):
        return "GitLab did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect to GitLab"
    if isinstance(exc, OSError) and not isinstance(exc, requests.RequestException):
        return f"could not set up the connection to GitLab ({str(exc)[:200]})"
    return type(exc).__name__


class _ReadOnly(Exception):
    """The token may not write (403)."""


# --- the merge request's notes ------------------------------------------------------------


class _Notes:
    """The merge request's notes, as :func:`publish_sticky` asks for them."""

    def __init__(self, gl: gitlab.Gitlab, calls: Calls, project_id: str, iid: int) -> None:
        self.gl = gl
        self.calls = calls
        self.project_id = project_id
        self.iid = iid
        self._mr: ProjectMergeRequest | None = None
        self._web_url = ""

    def mr(self) -> ProjectMergeRequest:
        if self._mr is None:
            project = self.gl.projects.get(self.project_id, lazy=True)
            self._mr = self.calls(
                f"reading merge request !{self.iid}",
                lambda: project.mergerequests.get(self.iid, obey_rate_limit=False),
            )
            self._web_url = str(getattr(self._mr, "web_url", "") or "")
        return self._mr

    def _url(self, note_id: int) -> str:
        return f"{self._web_url}#note_{note_id}" if self._web_url else f"note {note_id}"

    def _posted(self, note: ProjectMergeRequestNote) -> PostedComment:
        author = note.author.get("username", "") if isinstance(note.author, dict) else ""
        return PostedComment(int(note.id), str(note.body or ""), str(author), self._url(note.id))

    def write(self, what: str, fn: Callable[[], T]) -> T:
        """A call that changes something: a refusal (403) becomes :class:`_ReadOnly`."""
        try:
            return self.calls(what, fn)
        except GitlabError as exc:
            if exc.response_code == 403:
                raise _ReadOnly(what) from exc
            raise

    def own_author(self) -> str:
        try:
            user = self.calls(
                "asking GitLab who the token belongs to",
                lambda: self.gl.http_get("/user", obey_rate_limit=False),
            )
        except GitlabError as exc:
            if exc.response_code == 403:  # a token that may not even read its user
                raise _ReadOnly("asking GitLab who the token belongs to") from exc
            raise
        if not isinstance(user, dict) or not isinstance(user.get("username"), str):
            raise GaveUp("asking GitLab who the token belongs to", "the answer had no username")
        return str(user["username"])

    def current_head(self) -> str:
        return str(self.mr().sha)

    def comments(self) -> list[PostedComment]:
        mr = self.mr()
        notes = self.calls(
            "listing the merge request's notes",
            lambda: list(
                mr.notes.list(
                    iterator=True, sort="asc", order_by="created_at", obey_rate_limit=False
                )
            ),
        )
        return [self._posted(n) for n in notes if not getattr(n, "system", False)]

    def create(self, body: str) -> PostedComment:
        mr = self.mr()
        note = self.write(
            "creating the note",
            lambda: mr.notes.create({"body": body}, obey_rate_limit=False),
        )
        return self._posted(note)

    def edit(self, comment: PostedComment, body: str) -> None:
        mr = self.mr()
        try:
            self.write(
                f"updating note {comment.id}",
                lambda: mr.notes.update(comment.id, {"body": body}, obey_rate_limit=False),
            )
        except GitlabError as exc:
            if exc.response_code == 404:
                raise Gone(comment.url) from exc
            raise

    def delete(self, comment: PostedComment) -> None:
        mr = self.mr()
        try:
            self.write(
                f"deleting note {comment.id}",
                lambda: mr.notes.delete(comment.id, obey_rate_limit=False),
            )
        except GitlabError as exc:
            if exc.response_code != 404:  # already gone (a concurrent run deleted it)
                raise

    def hide(self, comment: PostedComment) -> bool:
        try:
            self.edit(comment, fold_outdated(comment.body))
        except Gone:
            return True
        return True


def fold_outdated(body: str) -> str:
    """A note's body folded into a closed ``<details>`` block marked outdated.

    The markers stay at the top, so the note is still recognised as ours; the folded text already
    went through :func:`~threatdelta.publish.sticky.neutralise_markers`.
    """
    markers = sticky.read_markers(body)
    if markers is None:
        return body
    lines = body.split("\n", 2)
    header, rest = "\n".join(lines[:2]) + "\n", lines[2] if len(lines) > 2 else ""
    if rest.startswith("<details><summary>" + OUTDATED_SUMMARY):
        return body
    folded = f"<details><summary>{OUTDATED_SUMMARY}</summary>\n\n{rest.rstrip()}\n\n</details>\n"
    if len(header) + len(folded) > NOTE_LIMIT:
        folded = (
            f"<details><summary>{OUTDATED_SUMMARY}</summary>\n\n(too long to keep)\n\n</details>\n"
        )
    return header + folded


def compose_note(config_name: str, head_sha: str, body: str) -> str:
    """The full note: our two markers, then the neutralised body, trimmed to GitLab's limit."""
    return sticky.compose_comment(config_name, head_sha, body, NOTE_LIMIT, NOTE_TRIMMED_NOTE)


# --- the publisher ------------------------------------------------------------------------


def _delay(
    backoff: float, last_headers: Callable[[], dict[str, str]]
) -> Callable[[Exception, int], float | None]:
    """How long to wait after a failed GitLab call, or None when retrying is pointless."""

    def delay(exc: Exception, attempt: int) -> float | None:
        exponential = backoff * (2.0**attempt)
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return exponential
        status = _status(exc)
        if status is None:
            return None
        headers = {k.lower(): v for k, v in last_headers().items()}
        asked = retry_after_seconds(headers.get("retry-after"))
        if status >= 500:
            return asked if asked is not None else exponential
        if status == 429:
            if asked is not None:
                return asked
            reset = headers.get("ratelimit-reset", "")
            if reset.isdigit():
                return max(0.0, int(reset) - time.time()) + 1.0
            return max(_RATE_LIMIT_WAIT, exponential)
        return None

    return delay


@dataclass(frozen=True)
class GitLabPublisher:
    """Publishes on one merge request; a :class:`~threatdelta.publish.interface.Publisher`."""

    api_url: str
    """The API root, as ``CI_API_V4_URL`` gives it (``https://gitlab.example.com/api/v4``)."""
    token: str = field(repr=False)
    """A project, group or personal access token with the ``api`` scope; never printed."""
    project_id: str
    """The merge request's project: its numeric id or its ``group/name`` path."""
    iid: int
    """The merge request's number in the project (``!iid``)."""
    log: Callable[[str], None]
    """Where progress lines go."""
    sleep: Callable[[float], None] = time.sleep
    """How to wait before a retry."""
    retry_backoff: float = 1.0
    """The first wait after a server error, doubling each time."""
    max_total_wait: float = 90.0
    """All waits between retries together stay under this many seconds."""
    limits: PublishLimits = field(default_factory=PublishLimits)
    """Each request's timeout, and the budget for all of them together."""
    ca_file: str | None = None
    """A certificate-authority file to verify the instance with (else the system's)."""

    @property
    def host(self) -> str:
        return "GitLab"

    @property
    def comment_limit(self) -> int:
        return NOTE_LIMIT

    def publish(self, pub: Publication) -> PublishResult:
        token = self.token
        limits = self.limits
        stopped = threading.Event()

        def redact(text: str) -> str:
            return text.replace(token, "***") if token else text

        def say(line: str) -> None:
            if not stopped.is_set():
                self.log(redact(line))

        messages: list[str] = []

        def note(line: str) -> None:
            messages.append(line)
            say(line)

        if pub.comment_mode == "off":
            return PublishResult(None, "off", None, ())
        deadline = Deadline(limits.total)
        gl = gitlab.Gitlab(
            self.api_url.rstrip("/").removesuffix("/api/v4"),
            private_token=token,
            ssl_verify=self.ca_file or True,
            timeout=limits.timeout,  # for connecting, and again for each read
            per_page=100,
            retry_transient_errors=False,
            user_agent="threatdelta",
            # Pagination links may name the instance's external address; the job reaches it at
            # CI_API_V4_URL, so keep that.
            keep_base_url=True,
        )
        headers: dict[str, str] = {}

        def remember(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            headers.clear()
            headers.update(response.headers)

        gl.session.hooks["response"].append(remember)
        calls = Calls(
            retryable=(GitlabError, requests.RequestException),
            delay=_delay(self.retry_backoff, lambda: dict(headers)),
            describe=_describe,
            max_total_wait=self.max_total_wait,
            sleep=self.sleep,
            log=say,
            deadline=deadline,
        )
        notes = _Notes(gl, calls, self.project_id, self.iid)
        body = compose_note(pub.config_name, pub.head_sha, pub.comment_body)

        def steps() -> StickyOutcome:
            try:
                return publish_sticky(
                    notes,
                    pub.config_name,
                    pub.head_sha,
                    body,
                    pub.comment_mode,
                    say=say,
                    note=note,
                    what="merge-request note",
                )
            except _ReadOnly:
                note(READONLY_LINE)
                return StickyOutcome("skipped-readonly", None)
            except (GitlabError, requests.RequestException, GaveUp, OSError) as exc:
                note(f"could not publish the merge-request note: {_describe(exc)}")
                return StickyOutcome("failed", None)

        try:
            outcome = run_before(deadline, steps)
        except OutOfTime:
            stopped.set()
            line = (
                f"GitLab did not finish answering within the {limits.total:g}s allowed for "
                "publishing; the merge-request note was not published (or not confirmed)"
            )
            messages.append(line)
            self.log(redact(line))
            outcome = StickyOutcome("failed", None)
        finally:
            if not stopped.is_set():
                gl.session.close()
        return PublishResult(
            comment_url=outcome.url,
            comment_action=outcome.action,
            check_run_url=None,
            messages=tuple(redact(m) for m in list(messages)),
        )
