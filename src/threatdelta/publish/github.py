"""Publish a review on a GitHub pull request: one sticky comment, and optionally a check run.

The comment is found by two hidden markers at the top of its body (which configuration wrote it,
and which head commit it reports) and by its author being the token's own login, so comments by
other people that copy the markers are never touched. Network trouble never raises: every outcome,
including "GitHub was down", comes back as a :class:`PublishResult` and log lines, and the token
never appears in either.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.CheckRun import CheckRun
from github.IssueComment import IssueComment
from github.PullRequest import PullRequest
from github.Repository import Repository

from threatdelta.publish.interface import (
    Annotation,
    CommentAction,
    Publication,
    PublishResult,
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

_STICKY = re.compile(
    r"\A<!-- threatdelta:sticky name=([A-Za-z0-9._%]+) -->\r?\n"
    r"<!-- threatdelta:head sha=([A-Za-z0-9._%]*) -->\r?\n"
)
_MAX_ATTEMPTS = 5
_SECONDARY_RATE_WAIT = 60.0
_ANNOTATION_MESSAGE_LIMIT = 64 * 1024 - 1
_ANNOTATION_TITLE_LIMIT = 255


# --- the comment body ---------------------------------------------------------------------


def _encode_marker_value(value: str) -> str:
    """Letters, digits, ``.`` and ``_`` stay; every other byte becomes ``%XX`` (injective)."""
    out = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        out.append(ch if ch.isascii() and (ch.isalnum() or ch in "._") else f"%{byte:02X}")
    return "".join(out)


def sticky_marker(config_name: str) -> str:
    """The hidden first line that names the configuration a comment belongs to."""
    return f"<!-- threatdelta:sticky name={_encode_marker_value(config_name)} -->"


def head_marker(head_sha: str) -> str:
    """The hidden second line that names the head commit a comment reports."""
    return f"<!-- threatdelta:head sha={_encode_marker_value(head_sha)} -->"


def neutralise_markers(body: str) -> str:
    """``body`` with every ``<!--`` written as ``&lt;!--``.

    The rendered report is untrusted where it quotes the pull request; an HTML comment in it could
    pose as our marker or hide the rest of the comment from readers. Markdown renders the escaped
    form as the literal text ``<!--`` (inside code spans it shows as written).
    """
    return body.replace("<!--", "&lt;!--")


def compose_comment(config_name: str, head_sha: str, body: str) -> str:
    """The full comment: our two markers, then the neutralised body, trimmed to GitHub's limit."""
    header = f"{sticky_marker(config_name)}\n{head_marker(head_sha)}\n"
    text = neutralise_markers(body)
    text, _ = trim_markdown(text, COMMENT_LIMIT - len(header), COMMENT_TRIMMED_NOTE)
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


def _same_body(a: str | None, b: str) -> bool:
    return (a or "").replace("\r\n", "\n") == b.replace("\r\n", "\n")


# --- retrying and describing failures -----------------------------------------------------


class _GaveUp(Exception):
    """GitHub kept failing (or asked us to wait longer than we may) while doing ``what``."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


class _ReadOnly(Exception):
    """The token may not write (403 on a write)."""


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


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _describe(exc: BaseException) -> str:
    """A short, token-free description of what went wrong."""
    if isinstance(exc, GithubException):
        msg = _message(exc)
        return f"GitHub answered {exc.status}" + (f" ({msg})" if msg else "")
    if isinstance(exc, requests.Timeout):
        return "GitHub did not answer in time"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect to GitHub"
    return type(exc).__name__


class _Calls:
    """Runs GitHub calls with a bounded retry for server errors and rate limits."""

    def __init__(
        self,
        backoff: float,
        max_total_wait: float,
        sleep: Callable[[float], None],
        log: Callable[[str], None],
    ) -> None:
        self.backoff = backoff
        self.max_total_wait = max_total_wait
        self.sleep = sleep
        self.log = log
        self.waited = 0.0

    def _delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when ``exc`` is not worth retrying."""
        exponential = self.backoff * (2.0**attempt)
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return exponential
        if not isinstance(exc, GithubException):
            return None
        asked = _retry_after(_header(exc, "retry-after"))
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

    def __call__(self, what: str, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return fn()
            except (GithubException, requests.RequestException) as exc:
                delay = self._delay(exc, attempt)
                if delay is None:
                    raise
                attempt += 1
                if attempt >= _MAX_ATTEMPTS:
                    raise _GaveUp(what, f"{_describe(exc)}, {attempt} times") from exc
                if self.waited + delay > self.max_total_wait:
                    raise _GaveUp(
                        what,
                        f"{_describe(exc)}; waiting {delay:g}s more would exceed the "
                        f"{self.max_total_wait:g}s allowed for retries",
                    ) from exc
                self.log(f"{what}: {_describe(exc)}; retrying in {delay:g}s")
                self.sleep(delay)
                self.waited += delay


# --- the publisher ------------------------------------------------------------------------


@dataclass(frozen=True)
class _CommentOutcome:
    action: CommentAction
    url: str | None


class _Publisher:
    def __init__(
        self,
        gh: Github,
        calls: _Calls,
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

    def note(self, line: str) -> None:
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

    def own_login(self) -> str:
        try:
            login = self.calls(
                "asking GitHub who the token belongs to", lambda: self.gh.get_user().login
            )
        except GithubException as exc:
            if exc.status in (403, 404) and not _is_rate_limit(exc):
                return self.fallback_login
            raise
        return str(login)

    def list_own(self, pull: PullRequest, login: str, name: str) -> list[IssueComment]:
        comments = self.calls(
            "listing the pull request's comments", lambda: list(pull.get_issue_comments())
        )
        own = []
        for c in comments:
            markers = read_markers(c.body)
            if markers is not None and markers.config_name == name and c.user.login == login:
                own.append(c)
        return sorted(own, key=lambda c: c.id)

    def delete(self, comment: IssueComment) -> None:
        try:
            self.write(f"deleting comment {comment.id}", comment.delete)
        except GithubException as exc:
            if exc.status != 404:  # already gone (a concurrent run deleted it)
                raise

    def create(
        self, pull: PullRequest, body: str, login: str, name: str, seen: Sequence[IssueComment]
    ) -> _CommentOutcome:
        created = self.write("creating the comment", lambda: pull.create_issue_comment(body))
        # Runs racing on the same pull request may each have created a comment. Every run lists
        # again and keeps the oldest comment that appeared after what it saw before, so all of
        # them end up agreeing on one.
        newest_seen = max((c.id for c in seen), default=0)
        fresh = [c for c in self.list_own(pull, login, name) if c.id > newest_seen]
        if not fresh:
            fresh = [created]
        keep = min(fresh, key=lambda c: c.id)
        for extra in fresh:
            if extra.id != keep.id:
                self.delete(extra)
        if keep.id != created.id:
            self.note(f"another run posted the same comment at the same time; kept {keep.html_url}")
        else:
            self.say(f"created the pull-request comment {keep.html_url}")
        return _CommentOutcome("created", keep.html_url)

    def comment(self) -> _CommentOutcome:
        pub = self.pub
        name = _encode_marker_value(pub.config_name)
        body = compose_comment(pub.config_name, pub.head_sha, pub.comment_body)
        login = self.own_login()
        repo = self.repo()
        pull = self.calls(
            f"reading pull request #{self.pr_number}", lambda: repo.get_pull(self.pr_number)
        )
        current_head = pull.head.sha
        own = self.list_own(pull, login, name)

        if current_head != pub.head_sha:
            current = _encode_marker_value(current_head)
            newer = [c for c in own if (m := read_markers(c.body)) and m.head_sha == current]
            if newer:
                self.note(
                    f"the comment already reports the pull request's newer head {current_head[:12]}; "
                    f"this run reviewed {pub.head_sha[:12]} and leaves it alone"
                )
                return _CommentOutcome("skipped-newer", newer[-1].html_url)

        mode = pub.comment_mode
        if mode == "new":
            return self.create(pull, body, login, name, own)
        if mode == "update":
            if not own:
                return self.create(pull, body, login, name, own)
            sticky, extras = own[0], own[1:]
            for extra in extras:
                self.delete(extra)
            if _same_body(sticky.body, body):
                self.say(f"the pull-request comment is up to date: {sticky.html_url}")
                return _CommentOutcome("unchanged", sticky.html_url)
            try:
                self.write(f"updating comment {sticky.id}", lambda: sticky.edit(body))
            except GithubException as exc:
                if exc.status != 404:
                    raise
                return self.create(pull, body, login, name, own)  # deleted meanwhile
            self.say(f"updated the pull-request comment {sticky.html_url}")
            return _CommentOutcome("updated", sticky.html_url)
        # hide-and-new, delete-and-new
        if own and _same_body(own[-1].body, body):
            self.say(f"the pull-request comment is up to date: {own[-1].html_url}")
            return _CommentOutcome("unchanged", own[-1].html_url)
        if mode == "hide-and-new":
            if own:
                latest = own[-1]
                hidden = self.write(
                    f"hiding comment {latest.id} as outdated", lambda: latest.minimize("OUTDATED")
                )
                if not hidden:
                    self.note(f"GitHub did not hide the previous comment {latest.html_url}")
        else:
            for old in own:
                self.delete(old)
        return self.create(pull, body, login, name, own)

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
        self.say(f"created check run {pub.check_name!r}: {run.html_url}")
        for n, batch in enumerate(batches[1:], start=2):
            try:
                self.write(
                    f"adding annotations (batch {n} of {len(batches)}) to the check run",
                    lambda batch=batch: run.edit(output=output(batch)),  # type: ignore[misc]
                )
            except (GithubException, requests.RequestException, _GaveUp, _ReadOnly) as exc:
                sent = (n - 1) * ANNOTATIONS_PER_REQUEST
                self.note(
                    f"the check run shows only {sent} of {len(pub.annotations)} annotations: "
                    f"{_failure_text(exc)}"
                )
                break
        return str(run.html_url)


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
    if isinstance(exc, _GaveUp):
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
    timeout: int = 30,
) -> PublishResult:
    """Publish ``pub`` on pull request ``pr_number`` of ``repo`` (``owner/name``).

    ``retry_backoff`` is the first wait after a server error (doubling each time);
    ``Retry-After`` is honoured as asked; all waits together stay under ``max_total_wait``
    seconds, after which the step is given up and reported. ``seconds_between_*`` space requests
    out as GitHub asks of integrations (pass 0 against a local server). Never raises for GitHub's
    answers or a network failure; never puts ``token`` in a log line or a message.
    """

    def redact(text: str) -> str:
        return text.replace(token, "***") if token else text

    def say(line: str) -> None:
        log(redact(line))

    gh = Github(
        base_url=api_url.rstrip("/"),
        auth=Auth.Token(token),
        retry=None,
        per_page=100,
        timeout=timeout,
        user_agent="threatdelta",
        seconds_between_requests=seconds_between_requests or None,
        seconds_between_writes=seconds_between_writes or None,
    )
    calls = _Calls(retry_backoff, max_total_wait, sleep, say)
    p = _Publisher(gh, calls, repo, pr_number, pub, say, fallback_login)
    comment = _CommentOutcome("off", None)
    check_url: str | None = None
    try:
        if pub.comment_mode != "off":
            try:
                comment = p.comment()
            except _ReadOnly:
                p.readonly_hit()
                comment = _CommentOutcome("skipped-readonly", None)
            except (GithubException, requests.RequestException, _GaveUp) as exc:
                p.note(f"could not publish the pull-request comment: {_failure_text(exc)}")
                comment = _CommentOutcome("failed", None)
        if pub.check_run:
            if p.readonly:
                p.messages.append("the check run was not created: the token cannot write")
            else:
                try:
                    check_url = p.check_run()
                except _ReadOnly:
                    p.readonly_hit()
                except (GithubException, requests.RequestException, _GaveUp) as exc:
                    p.note(f"could not publish the check run: {_failure_text(exc)}")
    finally:
        gh.close()
    return PublishResult(
        comment_url=comment.url,
        comment_action=comment.action,
        check_run_url=check_url,
        messages=tuple(redact(m) for m in p.messages),
    )
