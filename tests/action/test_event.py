"""Reading the runner's environment and the event payload."""

from __future__ import annotations

import json
from typing import Any

import pytest

from threatdelta.action.event import (
    DEFAULT_API_URL,
    PullRequestEvent,
    PushEvent,
    parse_event,
    read_runner_env,
)
from threatdelta.errors import InputError

BASE = "b" * 40
HEAD = "a" * 40
ENV = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": "/tmp/event.json"}


def _pr(**over: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "number": 5,
        "pull_request": {
            "number": 5,
            "base": {"sha": BASE, "ref": "main"},
            "head": {
                "sha": HEAD,
                "ref": "feature",
                "repo": {"full_name": "acme/pump", "fork": False},
            },
        },
        "repository": {"full_name": "acme/pump"},
    }
    payload.update(over)
    return payload


def _parse(payload: Any, event: str = "pull_request") -> PullRequestEvent | PushEvent:
    return parse_event(event, json.dumps(payload).encode(), "event.json")


# --- the environment ----------------------------------------------------------------------


def test_outside_actions_the_error_says_what_to_run_instead() -> None:
    with pytest.raises(InputError) as caught:
        read_runner_env({})
    assert "GITHUB_EVENT_NAME is not set" in caught.value.message
    assert "threatdelta review" in caught.value.message


def test_defaults_and_enterprise_server_api_url() -> None:
    env = read_runner_env(ENV)
    assert env.api_url == DEFAULT_API_URL
    assert env.token == "" and env.step_summary is None and env.output is None
    ghes = read_runner_env({**ENV, "GITHUB_API_URL": "https://ghe.example.com/api/v3/"})
    assert ghes.api_url == "https://ghe.example.com/api/v3"


def test_an_api_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(InputError, match="GITHUB_API_URL"):
        read_runner_env({**ENV, "GITHUB_API_URL": "file:///etc/passwd"})


def test_a_malformed_repository_is_refused() -> None:
    with pytest.raises(InputError, match="owner/name"):
        read_runner_env({**ENV, "GITHUB_REPOSITORY": "acme/pump/extra"})


def test_the_input_token_wins_and_an_empty_one_falls_back() -> None:
    both = read_runner_env({**ENV, "INPUT_GITHUB_TOKEN": "ghs_input", "GITHUB_TOKEN": "ghs_env"})
    assert both.token == "ghs_input"
    empty = read_runner_env({**ENV, "INPUT_GITHUB_TOKEN": " ", "GITHUB_TOKEN": "ghs_env"})
    assert empty.token == "ghs_env"


def test_the_token_is_not_in_the_repr() -> None:
    env = read_runner_env({**ENV, "GITHUB_TOKEN": "ghs_secret_value"})
    assert "ghs_secret_value" not in repr(env)


# --- pull request events ------------------------------------------------------------------


def test_a_pull_request_event() -> None:
    event = _parse(_pr())
    assert event == PullRequestEvent(
        event_name="pull_request",
        number=5,
        base_sha=BASE,
        head_sha=HEAD,
        base_ref="main",
        head_ref="feature",
        fork=False,
        repository="acme/pump",
    )


def test_pull_request_target_is_read_the_same_way() -> None:
    event = _parse(_pr(), "pull_request_target")
    assert isinstance(event, PullRequestEvent) and event.event_name == "pull_request_target"


def test_a_head_in_another_repository_is_a_fork() -> None:
    payload = _pr()
    payload["pull_request"]["head"]["repo"] = {"full_name": "mallory/pump", "fork": True}
    assert _parse(payload).fork  # type: ignore[union-attr]


def test_a_fork_of_a_fork_with_a_same_repository_branch_is_not_a_fork_pr() -> None:
    payload = _pr()
    payload["pull_request"]["head"]["repo"] = {"full_name": "acme/pump", "fork": True}
    assert not _parse(payload).fork  # type: ignore[union-attr]


def test_a_deleted_fork_counts_as_a_fork() -> None:
    payload = _pr()
    payload["pull_request"]["head"]["repo"] = None
    assert _parse(payload).fork  # type: ignore[union-attr]


def test_the_repository_falls_back_to_the_environment() -> None:
    payload = _pr()
    del payload["repository"]
    event = parse_event("pull_request", json.dumps(payload).encode(), "e.json", "acme/other")
    assert event.repository == "acme/other"
    with pytest.raises(InputError, match="names the repository"):
        _parse(payload)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["pull_request"]["base"].pop("sha"), "pull_request.base.sha"),
        (lambda p: p["pull_request"]["head"].update(sha="main"), "not a commit SHA"),
        (lambda p: (p.pop("number"), p["pull_request"].pop("number")), "pull request number"),
        (lambda p: p["pull_request"].update(number=True), "pull request number"),
    ],
)
def test_missing_or_wrong_fields_are_named(change: Any, message: str) -> None:
    payload = _pr()
    change(payload)
    with pytest.raises(InputError, match=message) as caught:
        _parse(payload)
    assert caught.value.location is not None and caught.value.location.path == "event.json"


@pytest.mark.parametrize(
    "data", [b"{not json", b"\xff\xfe", b"[1, 2]", b"[" * 100_000 + b"]" * 100_000]
)
def test_a_payload_that_is_not_a_json_object_is_an_input_error(data: bytes) -> None:
    with pytest.raises(InputError, match="event payload"):
        parse_event("pull_request", data, "event.json")


def test_an_unsupported_event_names_the_supported_ones() -> None:
    with pytest.raises(InputError) as caught:
        parse_event("issue_comment", b"{}", "event.json")
    assert "pull_request, pull_request_target, push" in caught.value.message


# --- push events --------------------------------------------------------------------------


def test_a_push_to_the_default_branch() -> None:
    event = _parse(
        {
            "ref": "refs/heads/main",
            "before": BASE,
            "after": HEAD,
            "repository": {"full_name": "acme/pump", "default_branch": "main"},
        },
        "push",
    )
    assert isinstance(event, PushEvent)
    assert (event.sha, event.before, event.branch) == (HEAD, BASE, "main")
    assert event.on_default_branch


def test_a_new_branch_has_no_before_and_a_tag_no_branch() -> None:
    event = _parse(
        {
            "ref": "refs/tags/v1",
            "before": "0" * 40,
            "after": HEAD,
            "repository": {"full_name": "acme/pump", "default_branch": "main"},
        },
        "push",
    )
    assert isinstance(event, PushEvent)
    assert event.before is None and event.branch is None and not event.on_default_branch
