"""The GitHub Actions runner's environment and the event that started the workflow.

Pure functions over an environment mapping and the bytes of ``GITHUB_EVENT_PATH``; the command
reads the file. Everything that is wrong raises :class:`~threatdelta.errors.InputError` with the
fix, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from threatdelta.errors import InputError, Location

DEFAULT_API_URL = "https://api.github.com"
"""Where the REST API lives when ``GITHUB_API_URL`` is not set (github.com)."""

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
"""Events that carry a pull request to review."""
PUSH_EVENT = "push"
SUPPORTED_EVENTS = (*PULL_REQUEST_EVENTS, PUSH_EVENT)

MAX_EVENT_BYTES = 64 * 1024 * 1024
"""The largest event payload read (GitHub's payloads stay far below this)."""

TOKEN_VARIABLES = ("INPUT_GITHUB_TOKEN", "GITHUB_TOKEN")
"""Where the token is looked for, first match wins (the action sets the first)."""

_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_ZERO_SHA = re.compile(r"0{40}(0{24})?")


@dataclass(frozen=True)
class RunnerEnv:
    """What the Actions runner tells a step through environment variables."""

    event_name: str
    """``GITHUB_EVENT_NAME``: pull_request, pull_request_target, push, ..."""
    event_path: str
    """``GITHUB_EVENT_PATH``: the JSON payload of the event."""
    repository: str | None
    """``GITHUB_REPOSITORY`` (``owner/name``), when set."""
    api_url: str
    """``GITHUB_API_URL``: the REST API root (GitHub Enterprise Server's ``/api/v3`` too)."""
    token: str = field(repr=False)
    """The token for the API (empty when none was given); never printed."""
    step_summary: str | None = None
    """``GITHUB_STEP_SUMMARY``: the job-summary file to append to."""
    output: str | None = None
    """``GITHUB_OUTPUT``: the step-outputs file to append to."""
    workspace: str | None = None
    """``GITHUB_WORKSPACE``: where the repository was checked out."""
    runner_temp: str | None = None
    """``RUNNER_TEMP``: a scratch folder emptied after the job."""


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def read_runner_env(environ: Mapping[str, str]) -> RunnerEnv:
    """The runner's environment; an error naming the fix when this is not an Actions job."""
    event_name = _get(environ, "GITHUB_EVENT_NAME")
    event_path = _get(environ, "GITHUB_EVENT_PATH")
    if event_name is None or event_path is None:
        missing = "GITHUB_EVENT_NAME" if event_name is None else "GITHUB_EVENT_PATH"
        raise InputError(
            f"{missing} is not set: 'threatdelta github' runs inside a GitHub Actions job; "
            "to review outside Actions, run 'threatdelta review --base REV --head REV'"
        )
    api_url = (_get(environ, "GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise InputError(
            f"GITHUB_API_URL must be an http(s) address such as {DEFAULT_API_URL}, "
            f"not '{api_url[:100]}'"
        )
    repository = _get(environ, "GITHUB_REPOSITORY")
    if repository is not None and not _REPOSITORY.fullmatch(repository):
        raise InputError(f"GITHUB_REPOSITORY must be owner/name, not '{repository[:100]}'")
    token = ""
    for name in TOKEN_VARIABLES:
        value = _get(environ, name)
        if value is not None:
            token = value
            break
    return RunnerEnv(
        event_name=event_name,
        event_path=event_path,
        repository=repository,
        api_url=api_url,
        token=token,
        step_summary=_get(environ, "GITHUB_STEP_SUMMARY"),
        output=_get(environ, "GITHUB_OUTPUT"),
        workspace=_get(environ, "GITHUB_WORKSPACE"),
        runner_temp=_get(environ, "RUNNER_TEMP"),
    )


@dataclass(frozen=True)
class PullRequestEvent:
    """A ``pull_request`` or ``pull_request_target`` event: what to review and where to post."""

    event_name: str
    """``pull_request`` or ``pull_request_target``."""
    number: int
    """The pull request's number."""
    base_sha: str
    """The base branch's commit the pull request is compared with."""
    head_sha: str
    """The pull request's head commit (not the merge commit)."""
    base_ref: str
    """The base branch's name."""
    head_ref: str
    """The head branch's name (in the fork, for a fork pull request)."""
    fork: bool
    """Whether the head branch lives in another repository (the token is then read-only)."""
    repository: str
    """The base repository, ``owner/name``."""


@dataclass(frozen=True)
class PushEvent:
    """A ``push`` event: a branch moved to a new commit."""

    ref: str
    """The full ref that moved, e.g. ``refs/heads/main``."""
    sha: str
    """The commit the ref points to now."""
    before: str | None
    """The commit it pointed to before (None for a new branch)."""
    default_branch: str | None
    """The repository's default branch, as the payload says."""
    repository: str
    """``owner/name``."""

    @property
    def branch(self) -> str | None:
        """The branch name, when a branch (not a tag) was pushed."""
        return self.ref.removeprefix("refs/heads/") if self.ref.startswith("refs/heads/") else None

    @property
    def on_default_branch(self) -> bool:
        """Whether the push went to the repository's default branch."""
        return self.branch is not None and self.branch == self.default_branch


Event = PullRequestEvent | PushEvent


def _at(payload: Any, path: tuple[str, ...]) -> Any:
    value = payload
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _required_str(payload: Any, path: tuple[str, ...], where: str) -> str:
    value = _at(payload, path)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"the event has no '{'.'.join(path)}' text", Location(where))
    return value.strip()


def _sha(payload: Any, path: tuple[str, ...], where: str) -> str:
    value = _required_str(payload, path, where).lower()
    if not _SHA.fullmatch(value):
        raise InputError(f"'{'.'.join(path)}' is not a commit SHA: '{value[:80]}'", Location(where))
    return value


def _repository(payload: Any, env_repository: str | None, where: str) -> str:
    name = _at(payload, ("repository", "full_name"))
    if isinstance(name, str) and _REPOSITORY.fullmatch(name):
        return name
    if env_repository is not None:
        return env_repository
    raise InputError(
        "neither the event's 'repository.full_name' nor GITHUB_REPOSITORY names the repository",
        Location(where),
    )


def parse_event(
    event_name: str, data: bytes, where: str, env_repository: str | None = None
) -> Event:
    """The event in ``data`` (the JSON file at ``where``), for the events threatdelta handles."""
    if event_name not in SUPPORTED_EVENTS:
        raise InputError(
            f"the '{event_name[:60]}' event is not supported: 'threatdelta github' runs on "
            f"{', '.join(SUPPORTED_EVENTS)} events; for anything else run "
            "'threatdelta review --base REV --head REV' or 'threatdelta check'"
        )
    if len(data) > MAX_EVENT_BYTES:
        raise InputError(
            f"the event payload is {len(data)} bytes; at most {MAX_EVENT_BYTES} are read",
            Location(where),
        )
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InputError(f"the event payload is not JSON ({error})", Location(where)) from error
    if not isinstance(payload, dict):
        raise InputError("the event payload is not a JSON object", Location(where))
    repository = _repository(payload, env_repository, where)
    if event_name == PUSH_EVENT:
        before = _at(payload, ("before",))
        before_sha = before.lower() if isinstance(before, str) else None
        if before_sha is not None and (
            not _SHA.fullmatch(before_sha) or _ZERO_SHA.fullmatch(before_sha)
        ):
            before_sha = None
        default = _at(payload, ("repository", "default_branch"))
        return PushEvent(
            ref=_required_str(payload, ("ref",), where),
            sha=_sha(payload, ("after",), where),
            before=before_sha,
            default_branch=default if isinstance(default, str) and default else None,
            repository=repository,
        )
    number = _at(payload, ("pull_request", "number"))
    if number is None:
        number = _at(payload, ("number",))
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise InputError(
            "the event has no pull request number ('pull_request.number')", Location(where)
        )
    head = _at(payload, ("pull_request", "head"))
    head_repo = head.get("repo", {}) if isinstance(head, dict) else {}
    if isinstance(head_repo, dict) and isinstance(head_repo.get("full_name"), str):
        fork = head_repo["full_name"] != repository
    else:  # no name, or the fork was deleted (GitHub then sends "repo": null)
        fork = head_repo is None or (isinstance(head_repo, dict) and head_repo.get("fork") is True)
    head_ref = _at(payload, ("pull_request", "head", "ref"))
    return PullRequestEvent(
        event_name=event_name,
        number=number,
        base_sha=_sha(payload, ("pull_request", "base", "sha"), where),
        head_sha=_sha(payload, ("pull_request", "head", "sha"), where),
        base_ref=_required_str(payload, ("pull_request", "base", "ref"), where),
        head_ref=head_ref if isinstance(head_ref, str) else "",
        fork=fork,
        repository=repository,
    )
