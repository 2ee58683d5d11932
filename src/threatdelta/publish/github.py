"""Publish a review on a GitHub pull request: one sticky comment, and optionally a check run.

The comment is found by two hidden markers at the top of its body (which configuration wrote it,
and which head commit it reports) and by its author being the token's own login, so comments by
other people that copy the markers are never touched. Network trouble never raises: every outcome,
including "GitHub was down", "GitHub answered with something that is not the API's JSON" and
"GitHub did not finish answering within the time allowed", comes back as a :class:`PublishResult`
and log lines, and the token never appears in either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.CheckRun import CheckRun
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest
from github.Repository import Repository

from threatdelta.publish import sticky
from threatdelta.publish.deadline import Deadline, OutOfTime, PublishLimits, run_before
from threatdelta.publish.interface import (
    Annotation,
    Publication,
    PublishResult,
)
from threatdelta.publish.retry import Calls, GaveUp, retry_after_seconds
from threatdelta.publish.sticky import (
    Gone,
    PostedComment,
    StickyOutcome,
    publish_sticky,
)
from threatdelta.publish.workflow import trim_markdown

T = TypeVar("T")

FALLBACK_LOGIN = "github-actions[bot]"
"""Who the Actions ``GITHUB_TOKEN`` posts as; used when ``GET /user`` is refused to the token."""

COMMENT_LIMIT = 65536
"""GitHub's maximum comment body, in characters."""

CHECK_TEXT_LIMIT = 65535
"""GitHub's maximum check-run output title and summary, in characters."""

ANNOTATIONS_PER_REQUEST = 50
"""GitHub accepts at most this many annotations per check-run request."""

READONLY_LINE = (
    "the token cannot write to this pull request (a fork PR?); "
    "the report is in the job summary and the annotations"
)

COMMENT_TRIMMED_NOTE = (
    "> **Note:** this comment was trimmed to fit GitHub's size limit; "
    "the job summary has the full report."
)
CHECK_TRIMMED_NOTE = (
    "> **Note:** this summary was trimmed to fit GitHub's size limit; "
    "the job summary has the full report."
)

_SECONDARY_RATE_WAIT = 60.0
_ANNOTATION_MESSAGE_LIMIT = 64 * 1024 - 1
_ANNOTATION_TITLE_LIMIT = 255


# --- the comment body ---------------------------------------------------------------------


def compose_comment(config_name: str, head_sha: str, body: str) -> str:
    """The full comment: our two markers, then the neutralised body, trimmed to GitHub's limit."""
    return sticky.compose_comment(config_name, head_sha, body, COMMENT_LIMIT, COMMENT_TRIMMED_NOTE)


# --- retrying and describing failures -----------------------------------------------------


class _ReadOnly(Exception):
    """The token may not write (403 on a write)."""


class _Malformed(Exception):
    """GitHub answered, but not with the JSON its API describes (say, an HTML page from a proxy)."""


_MALFORMED = (_Malformed, AttributeError, TypeError, ValueError, KeyError, IndexError)
"""What reading an answer that is not the API's JSON raises, in PyGithub or in our code."""


def _text(value: object, what: str) -> str:
    """``value`` when GitHub's answer really held a string there, else :class:`_Malformed`."""
    if not isinstance(value, str):
        raise _Malformed(f"GitHub's answer had no {what}")
    return value


def _header(exc: GithubException, name: str) -> str | None:
    for key, value in (exc.headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _message(exc: GithubException) -> str:
    data = exc.data
    if isinstance(data, dict):
        msg = data.get("message")
        if isinstance(msg, str):
            return msg
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message", ""))
    return ""


def _graphql_error_type(exc: GithubException) -> str | None:
    data = exc.data
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        for err in data["errors"]:
            if isinstance(err, dict) and isinstance(err.get("type"), str):
                return str(err["type"])
    return None


def _is_rate_limit(exc: GithubException) -> bool:
    if exc.status == 429:
        return True
    if exc.status != 403:
        return False
    msg = _message(exc).lower()
    return (
        _header(exc, "retry-after") is not None
        or "rate limit" in msg
        or msg.endswith("please wait a few minutes before you try again.")
        or msg.endswith("please retry your request again later.")
    )


def _is_readonly(exc: Exception) -> bool:
    if not isinstance(exc, GithubException):
        return False
    if exc.status == 403 and not _is_rate_limit(exc):
        return True
    return _graphql_error_type(exc) == "FORBIDDEN"


def _describe(exc: BaseException) -> str:
    """A short, token-free description of what went wrong."""
    if isinstance(exc, GithubException):
        msg = _message(exc)
        return f"GitHub answered {exc.status}" + (f" ({msg})" if msg else "")
    if isinstance(exc, requests.Timeout):
        return "GitHub did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect to GitHub"
    if isinstance(exc, _MALFORMED):
        return "GitHub's answer was not the JSON its API describes"
    return type(exc).__name__


def _delay(backoff: float) -> Callable[[Exception, int], float | None]:
    """How long to wait after a failed GitHub call, or None when retrying is pointless."""

    def delay(exc: Exception, attempt: int) -> float | None:
        exponential = backoff * (2.0**attempt)
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return exponential
        if not isinstance(exc, GithubException):
            return None
        asked = retry_after_seconds(_header(exc, "retry-after"))
        if exc.status >= 500:
            return asked if asked is not None else exponential
        if _is_rate_limit(exc):
            if asked is not None:
                return asked
            remaining = _header(exc, "x-ratelimit-remaining")
            reset = _header(exc, "x-ratelimit-reset")
            if remaining == "0" and reset is not None and reset.isdigit():
                return max(0.0, int(reset) - time.time()) + 1.0
            return max(_SECONDARY_RATE_WAIT, exponential)
        return None

    return delay


# --- the publisher ------------------------------------------------------------------------


class _Publisher:
    def __init__(
        self,
        gh: Github,
        calls: Calls,
        repo_name: str,
        pr_number: int,
        pub: Publication,
        say: Callable[[str], None],
        fallback_login: str,
    ) -> None:
        self.gh = gh
        self.calls = calls
        self.repo_name = repo_name
        self.pr_number = pr_number
        self.pub = pub
        self.say = say
        self.fallback_login = fallback_login
        self.messages: list[str] = []
        self.readonly = False
        self._repo: Repository | None = None
        self.comment_outcome: StickyOutcome | None = None
        """Set when the comment step has ended, whatever its outcome."""
        self.check_url: str | None = None
        self.check_done = False
        """Whether the check-run step has ended, whatever its outcome."""
        self.abandoned = False
        """Set when the caller stopped waiting: later notes from this publisher are dropped."""

    def unfinished(self) -> list[str]:
        """What the publication asked for and this publisher has not finished."""
        left = []
        if self.pub.comment_mode != "off" and self.comment_outcome is None:
            left.append("the pull-request comment")
        if self.pub.check_run and not self.check_done:
            left.append("the check run")
        return left

    def note(self, line: str) -> None:
        if self.abandoned:
            return
        self.messages.append(line)
        self.say(line)

    def readonly_hit(self) -> None:
        if not self.readonly:
            self.readonly = True
            self.note(READONLY_LINE)

    def repo(self) -> Repository:
        if self._repo is None:
            self._repo = self.calls(
                f"reading repository {self.repo_name}", lambda: self.gh.get_repo(self.repo_name)
            )
        return self._repo

    def write(self, what: str, fn: Callable[[], T]) -> T:
        """A call that changes something: a refusal to write becomes :class:`_ReadOnly`."""
        try:
            return self.calls(what, fn)
        except GithubException as exc:
            if _is_readonly(exc):
                raise _ReadOnly(what) from exc
            raise

    # comment ----------------------------------------------------------------------------

    def comment(self) -> StickyOutcome:
        pub = self.pub
        body = compose_comment(pub.config_name, pub.head_sha, pub.comment_body)
        thread = _Thread(self)
        return publish_sticky(
            thread,
            pub.config_name,
            pub.head_sha,
            body,
            pub.comment_mode,
            say=self.say,
            note=self.note,
        )

    # check run --------------------------------------------------------------------------

    def check_run(self) -> str | None:
        pub = self.pub
        title = (
            "Threat model review passed" if pub.verdict == "pass" else "Threat model review failed"
        )
        summary, _ = trim_markdown(
            pub.summary_markdown or title, CHECK_TEXT_LIMIT, CHECK_TRIMMED_NOTE
        )
        batches = [
            [_check_annotation(a) for a in pub.annotations[i : i + ANNOTATIONS_PER_REQUEST]]
            for i in range(0, len(pub.annotations), ANNOTATIONS_PER_REQUEST)
        ] or [[]]
        repo = self.repo()

        def output(batch: list[dict[str, Any]]) -> dict[str, Any]:
            out: dict[str, Any] = {"title": title, "summary": summary}
            if batch:
                out["annotations"] = batch
            return out

        run: CheckRun = self.write(
            "creating the check run",
            lambda: repo.create_check_run(
                name=pub.check_name,
                head_sha=pub.head_sha,
                status="completed",
                conclusion="success" if pub.verdict == "pass" else "failure",
                output=output(batches[0]),
            ),
        )
        self.say(
            f"created check run {pub.check_name!r}: {_text(run.html_url, 'check run address')}"
        )
        for n, batch in enumerate(batches[1:], start=2):
            try:
                self.write(
                    f"adding annotations (batch {n} of {len(batches)}) to the check run",
                    lambda batch=batch: run.edit(output=output(batch)),  # type: ignore[misc]
                )
            except (
                GithubException,
                requests.RequestException,
                GaveUp,
                _ReadOnly,
                *_MALFORMED,
            ) as exc:
                sent = (n - 1) * ANNOTATIONS_PER_REQUEST
                self.note(
                    f"the check run shows only {sent} of {len(pub.annotations)} annotations: "
                    f"{_failure_text(exc)}"
                )
                break
        return str(run.html_url)


class _Thread:
    """The pull request's issue comments, as :func:`publish_sticky` asks for them."""

    def __init__(self, p: _Publisher) -> None:
        self.p = p
        self._pull: PullRequest | None = None
        self._objects: dict[int, IssueComment] = {}

    def pull(self) -> PullRequest:
        if self._pull is None:
            repo = self.p.repo()
            number = self.p.pr_number
            self._pull = self.p.calls(
                f"reading pull request #{number}", lambda: repo.get_pull(number)
            )
        return self._pull

    def _posted(self, c: IssueComment) -> PostedComment:
        if not isinstance(c.id, int):
            raise _Malformed("GitHub's answer had no comment id")
        self._objects[c.id] = c
        return PostedComment(
            c.id, c.body or "", _text(c.user.login, "author"), _text(c.html_url, "comment address")
        )

    def own_author(self) -> str:
        try:
            login = self.p.calls(
                "asking GitHub who the token belongs to",
                lambda: _text(self.p.gh.get_user().login, "login"),
            )
        except GithubException as exc:
            if exc.status in (403, 404) and not _is_rate_limit(exc):
                return self.p.fallback_login
            raise
        return str(login)

    def current_head(self) -> str:
        return _text(self.pull().head.sha, "head commit")

    def comments(self) -> list[PostedComment]:
        pull = self.pull()
        found = self.p.calls(
            "listing the pull request's comments", lambda: list(pull.get_issue_comments())
        )
        return [self._posted(c) for c in found]

    def create(self, body: str) -> PostedComment:
        pull = self.pull()
        return self._posted(
            self.p.write("creating the comment", lambda: pull.create_issue_comment(body))
        )

    def edit(self, comment: PostedComment, body: str) -> None:
        target = self._objects[comment.id]
        try:
            self.p.write(f"updating comment {comment.id}", lambda: target.edit(body))
        except GithubException as exc:
            if exc.status == 404:
                raise Gone(comment.url) from exc
            raise

    def delete(self, comment: PostedComment) -> None:
        target = self._objects[comment.id]
        try:
            self.p.write(f"deleting comment {comment.id}", target.delete)
        except GithubException as exc:
            if exc.status != 404:  # already gone (a concurrent run deleted it)
                raise

    def hide(self, comment: PostedComment) -> bool:
        target = self._objects[comment.id]
        return bool(
            self.p.write(
                f"hiding comment {comment.id} as outdated", lambda: target.minimize("OUTDATED")
            )
        )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_annotation(a: Annotation) -> dict[str, Any]:
    start = max(1, a.start_line)
    out: dict[str, Any] = {
        "path": a.path,
        "start_line": start,
        "end_line": max(start, a.end_line),
        "annotation_level": a.level,
        "message": _clip(a.message or a.title or "(no message)", _ANNOTATION_MESSAGE_LIMIT),
    }
    if a.title:
        out["title"] = _clip(a.title, _ANNOTATION_TITLE_LIMIT)
    return out


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, GaveUp):
        return f"{exc.reason} while {exc.what}"
    if isinstance(exc, _ReadOnly):
        return f"the token may not write ({exc})"
    return _describe(exc)


def publish_pull_request(
    api_url: str,
    token: str,
    repo: str,
    pr_number: int,
    pub: Publication,
    *,
    log: Callable[[str], None],
    retry_backoff: float = 1.0,
    max_total_wait: float = 90.0,
    sleep: Callable[[float], None] = time.sleep,
    fallback_login: str = FALLBACK_LOGIN,
    seconds_between_requests: float = 0.25,
    seconds_between_writes: float = 1.0,
    limits: PublishLimits | None = None,
) -> PublishResult:
    """Publish ``pub`` on pull request ``pr_number`` of ``repo`` (``owner/name``).

    ``retry_backoff`` is the first wait after a server error (doubling each time);
    ``Retry-After`` is honoured as asked; all waits together stay under ``max_total_wait``
    seconds, after which the step is given up and reported. ``seconds_between_*`` space requests
    out as GitHub asks of integrations (pass 0 against a local server). Each request may take
    ``limits.timeout`` seconds to connect and as long again per read, and everything together
    ``limits.total`` seconds: then this returns, naming what was not published, even while a
    request is still hanging. Never raises for GitHub's answers or a network failure; never puts
    ``token`` in a log line or a message.
    """
    limits = limits or PublishLimits()
    stopped = threading.Event()

    def redact(text: str) -> str:
        return text.replace(token, "***") if token else text

    def say(line: str) -> None:
        if not stopped.is_set():
            log(redact(line))

    deadline = Deadline(limits.total)
    gh = Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token),
        retry=None,
        per_page=100,
        timeout=limits.timeout,  # for connecting, and again for each read
        user_agent="threatdelta",
        seconds_between_requests=seconds_between_requests or None,
        seconds_between_writes=seconds_between_writes or None,
    )
    calls = Calls(
        retryable=(GithubException, requests.RequestException),
        delay=_delay(retry_backoff),
        describe=_describe,
        max_total_wait=max_total_wait,
        sleep=sleep,
        log=say,
        deadline=deadline,
    )
    # Whatever was rendered, the token is never posted.
    pub = replace(
        pub, comment_body=redact(pub.comment_body), summary_markdown=redact(pub.summary_markdown)
    )
    p = _Publisher(gh, calls, repo, pr_number, pub, say, fallback_login)
    try:
        run_before(deadline, lambda: _publish_steps(p))
    except OutOfTime:
        stopped.set()
        left = p.unfinished()
        p.abandoned = True
        line = (
            f"GitHub did not finish answering within the {limits.total:g}s allowed for publishing"
        )
        if left:
            line += f"; not published (or not confirmed): {' and '.join(left)}"
        p.messages.append(line)
        log(redact(line))
    finally:
        if not stopped.is_set():
            gh.close()
    comment = p.comment_outcome
    if comment is None:
        comment = StickyOutcome("failed", None)
    return PublishResult(
        comment_url=comment.url,
        comment_action=comment.action,
        check_run_url=p.check_url,
        messages=tuple(redact(m) for m in list(p.messages)),
    )


def _publish_steps(p: _Publisher) -> None:
    """The comment, then the check run; each step's outcome is recorded on ``p``."""
    pub = p.pub
    if pub.comment_mode == "off":
        p.comment_outcome = StickyOutcome("off", None)
    else:
        try:
            p.comment_outcome = p.comment()
        except _ReadOnly:
            p.readonly_hit()
            p.comment_outcome = StickyOutcome("skipped-readonly", None)
        except (GithubException, requests.RequestException, GaveUp, *_MALFORMED) as exc:
            p.note(f"could not publish the pull-request comment: {_failure_text(exc)}")
            p.comment_outcome = StickyOutcome("failed", None)
    if pub.check_run:
        if p.readonly:
            p.messages.append("the check run was not created: the token cannot write")
        else:
            try:
                p.check_url = p.check_run()
            except _ReadOnly:
                p.readonly_hit()
            except (GithubException, requests.RequestException, GaveUp, *_MALFORMED) as exc:
                p.note(f"could not publish the check run: {_failure_text(exc)}")
        p.check_done = True


@dataclass(frozen=True)
class GitHubPublisher:
    """:func:`publish_pull_request` for one pull request, as a
    :class:`~threatdelta.publish.interface.Publisher`."""

    api_url: str
    """The REST API root."""
    token: str = field(repr=False)
    """The token; never printed."""
    repo: str
    """``owner/name``."""
    pr_number: int
    """The pull request's number."""
    log: Callable[[str], None]
    """Where progress lines go."""
    sleep: Callable[[float], None] = time.sleep
    """How to wait before a retry."""
    seconds_between_requests: float = 0.25
    """Spacing of requests, as GitHub asks of integrations."""
    seconds_between_writes: float = 1.0
    """Spacing of writes."""
    limits: PublishLimits = field(default_factory=PublishLimits)
    """Per-request timeout and the overall budget."""

    @property
    def host(self) -> str:
        return "GitHub"

    @property
    def comment_limit(self) -> int:
        return COMMENT_LIMIT

    def publish(self, pub: Publication) -> PublishResult:
        return publish_pull_request(
            self.api_url,
            self.token,
            self.repo,
            self.pr_number,
            pub,
            log=self.log,
            sleep=self.sleep,
            seconds_between_requests=self.seconds_between_requests,
            seconds_between_writes=self.seconds_between_writes,
            limits=self.limits,
        )
