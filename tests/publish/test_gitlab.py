"""Publishing on a merge request, against the stateful fake GitLab server."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.fakegitlab import NOTE_LIMIT, FakeGitLab
from tests.fakegitlab.fixture import fake_gitlab  # noqa: F401

from threatdelta.publish.deadline import PublishLimits
from threatdelta.publish.gitlab import (
    OUTDATED_SUMMARY,
    READONLY_LINE,
    GitLabPublisher,
    compose_note,
    fold_outdated,
)
from threatdelta.publish.interface import Publication, Publisher, PublishResult
from threatdelta.publish.sticky import head_marker, read_markers, sticky_marker

PROJECT = 31
PATH = "med/pump"
MR = 9
HEAD = "a" * 40
NEWER = "c" * 40
BASE = "b" * 40
TOKEN = "glpat-S3cretGitLabT0ken-0001"
BOT = "project_31_bot_threatdelta"


def publication(
    body: str = "## Threat review\n\nAll threats answered.\n", **kw: Any
) -> Publication:
    defaults: dict[str, Any] = {
        "config_name": "models",
        "head_sha": HEAD,
        "base_sha": BASE,
        "comment_body": body,
        "summary_markdown": "# Summary\n",
        "verdict": "pass",
        "annotations": (),
    }
    defaults.update(kw)
    return Publication(**defaults)


@dataclass
class Run:
    result: PublishResult
    log: list[str]
    sleeps: list[float]


@dataclass
class Env:
    fake: FakeGitLab
    runs: list[Run] = field(default_factory=list)

    def publisher(
        self, token: str = TOKEN, api_url: str | None = None, **kw: Any
    ) -> tuple[GitLabPublisher, list[str], list[float]]:
        log: list[str] = []
        sleeps: list[float] = []
        project_id = str(kw.pop("project_id", PROJECT))
        options: dict[str, Any] = {
            "retry_backoff": 0.001,
            "sleep": sleeps.append,
            "limits": PublishLimits(total=180, timeout=5),
        }
        options.update(kw)
        publisher = GitLabPublisher(
            api_url=api_url or self.fake.api_url,
            token=token,
            project_id=project_id,
            iid=MR,
            log=log.append,
            **options,
        )
        return publisher, log, sleeps

    def publish(self, pub: Publication, **kw: Any) -> Run:
        publisher, log, sleeps = self.publisher(**kw)
        run = Run(publisher.publish(pub), log, sleeps)
        self.runs.append(run)
        return run

    def notes(self) -> list[Any]:
        return self.fake.notes(PROJECT, MR)

    def writes(self) -> list[Any]:
        return [r for r in self.fake.requests if r.is_write]


@pytest.fixture
def env(fake_gitlab: FakeGitLab) -> Env:  # noqa: F811
    fake_gitlab.add_project(PROJECT, PATH)
    fake_gitlab.add_merge_request(PROJECT, MR, head_sha=HEAD, base_sha=BASE)
    fake_gitlab.set_user(TOKEN, BOT)
    return Env(fake_gitlab)


# --- the note body --------------------------------------------------------------------------


def test_the_publisher_meets_the_shared_interface(env: Env) -> None:
    publisher: Publisher = env.publisher()[0]
    assert publisher.host == "GitLab" and publisher.comment_limit == NOTE_LIMIT
    assert TOKEN not in repr(publisher)


def test_a_note_over_gitlabs_limit_is_trimmed_with_a_pointer_to_the_artifact() -> None:
    body = "\n".join(f"| row {i} | {'x' * 80} |" for i in range(20_000))
    note = compose_note("models", HEAD, body)
    assert len(note) <= NOTE_LIMIT < len(body)
    assert note.startswith(sticky_marker("models") + "\n" + head_marker(HEAD) + "\n")
    assert "threatdelta-report.md" in note.splitlines()[-1]


def test_a_long_body_under_the_limit_is_kept_whole() -> None:
    body = "y" * 900_000  # far over GitHub's limit, under GitLab's
    assert compose_note("models", HEAD, body).endswith(body)


def test_folding_keeps_the_markers_and_is_idempotent() -> None:
    note = compose_note("models", HEAD, "old verdict")
    folded = fold_outdated(note)
    assert read_markers(folded) == read_markers(note)
    assert f"<details><summary>{OUTDATED_SUMMARY}</summary>" in folded and "old verdict" in folded
    assert fold_outdated(folded) == folded


# --- the sticky note ------------------------------------------------------------------------


def test_first_run_creates_one_note_by_the_token_user(env: Env) -> None:
    run = env.publish(publication())
    notes = env.notes()
    assert len(notes) == 1 and notes[0].username == BOT
    assert run.result.comment_action == "created"
    assert run.result.comment_url == (
        f"https://gitlab.example.com/{PATH}/-/merge_requests/{MR}#note_{notes[0].id}"
    )
    assert read_markers(notes[0].body) is not None


def test_rerun_with_a_new_body_updates_the_same_note(env: Env) -> None:
    env.publish(publication("first"))
    first = env.notes()[0]
    run = env.publish(publication("second"))
    assert run.result.comment_action == "updated"
    assert [n.id for n in env.notes()] == [first.id]
    assert env.notes()[0].body.endswith("second")


def test_unchanged_rerun_writes_nothing(env: Env) -> None:
    env.publish(publication())
    env.fake.clear_requests()
    run = env.publish(publication())
    assert run.result.comment_action == "unchanged"
    assert env.writes() == []


def test_another_users_note_with_a_copied_marker_is_left_alone(env: Env) -> None:
    forged = env.fake.add_note(PROJECT, MR, compose_note("models", HEAD, "forged"), "mallory")
    env.publish(publication("real"))
    notes = env.notes()
    assert len(notes) == 2 and notes[0].id == forged.id and notes[0].body.endswith("forged")
    assert notes[1].username == BOT


def test_system_notes_are_never_taken_for_ours(env: Env) -> None:
    env.fake.add_note(PROJECT, MR, compose_note("models", HEAD, "x"), BOT, system=True)
    run = env.publish(publication())
    assert run.result.comment_action == "created"
    assert len(env.fake.notes(PROJECT, MR, system=True)) == 2


def test_each_comment_name_keeps_its_own_note(env: Env) -> None:
    env.publish(publication("a", config_name="device"))
    env.publish(publication("b", config_name="cloud"))
    env.publish(publication("a2", config_name="device"))
    bodies = sorted(n.body.rsplit("\n", 1)[-1] for n in env.notes())
    assert bodies == ["a2", "b"]


def test_more_than_a_hundred_notes_are_paged_through(env: Env) -> None:
    env.publish(publication("first"))
    for i in range(230):
        env.fake.add_note(PROJECT, MR, f"chatter {i}", "alice")
    env.fake.clear_requests()
    run = env.publish(publication("second"))
    assert run.result.comment_action == "updated"
    listed = [r for r in env.fake.requests if r.method == "GET" and r.path.endswith("/notes")]
    assert len(listed) == 3
    assert len([n for n in env.notes() if n.username == BOT]) == 1


def test_pagination_links_to_the_external_address_are_followed_where_the_job_reaches_gitlab(
    env: Env,
) -> None:
    env.publish(publication("first"))
    for i in range(120):
        env.fake.add_note(PROJECT, MR, f"chatter {i}", "alice")
    env.fake.link_base = "https://gitlab.internal.example"  # not reachable from the job
    run = env.publish(publication("second"))
    assert run.result.comment_action == "updated"
    assert len([n for n in env.notes() if n.username == BOT]) == 1


def test_two_concurrent_runs_end_with_one_note(env: Env) -> None:
    env.fake.gate("POST", rf"/projects/{PROJECT}/merge_requests/{MR}/notes", parties=2)
    results: list[PublishResult] = []

    def go() -> None:
        results.append(env.publisher()[0].publish(publication()))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(env.notes()) == 1
    assert {r.comment_url for r in results} == {results[0].comment_url}


def test_hide_and_new_folds_the_previous_note_and_posts_a_new_one(env: Env) -> None:
    env.publish(publication("first", comment_mode="hide-and-new"))
    run = env.publish(publication("second", comment_mode="hide-and-new"))
    old, new = env.notes()
    assert run.result.comment_action == "created"
    assert f"<details><summary>{OUTDATED_SUMMARY}" in old.body and "first" in old.body
    assert new.body.endswith("second") and "<details><summary>Outdated" not in new.body
    env.fake.clear_requests()
    assert (
        env.publish(publication("second", comment_mode="hide-and-new")).result.comment_action
        == "unchanged"
    )
    assert env.writes() == []


def test_delete_and_new_and_new_modes(env: Env) -> None:
    env.publish(publication("one", comment_mode="new"))
    env.publish(publication("two", comment_mode="new"))
    assert len(env.notes()) == 2
    env.publish(publication("three", comment_mode="delete-and-new"))
    assert [n.body.rsplit("\n", 1)[-1] for n in env.notes()] == ["three"]


def test_off_mode_makes_no_request(env: Env) -> None:
    run = env.publish(publication(comment_mode="off"))
    assert run.result.comment_action == "off" and env.fake.requests == []


def test_a_note_for_a_newer_head_is_not_overwritten(env: Env) -> None:
    env.fake.set_head(PROJECT, MR, NEWER)
    env.publish(publication("newer", head_sha=NEWER))
    run = env.publish(publication("late", head_sha=HEAD))
    assert run.result.comment_action == "skipped-newer"
    assert env.notes()[0].body.endswith("newer")
    assert any("newer head" in m for m in run.result.messages)


def test_the_project_can_be_named_by_its_path(env: Env) -> None:
    run = env.publish(publication(), project_id=PATH)
    assert run.result.comment_action == "created" and len(env.notes()) == 1


# --- faults ---------------------------------------------------------------------------------


def test_read_only_token_skips_with_one_clear_line(env: Env) -> None:
    env.fake.set_user("glpat-readonly", "reporter", read_only=True)
    run = env.publish(publication(), token="glpat-readonly")
    assert run.result.comment_action == "skipped-readonly"
    assert run.result.messages == (READONLY_LINE,)
    assert "CI_JOB_TOKEN cannot write notes" in READONLY_LINE
    assert env.notes() == []


def test_a_token_that_may_not_read_its_user_is_treated_as_read_only(env: Env) -> None:
    env.fake.set_user("glpat-noscope", "someone", user_endpoint=False)
    run = env.publish(publication(), token="glpat-noscope")
    assert run.result.comment_action == "skipped-readonly"


def test_server_errors_are_retried_with_backoff(env: Env) -> None:
    env.fake.inject("POST", rf"/projects/{PROJECT}/merge_requests/{MR}/notes", 502, times=2)
    run = env.publish(publication())
    assert run.result.comment_action == "created" and len(env.notes()) == 1
    assert run.sleeps == [0.001, 0.002]
    assert sum("GitLab answered 502" in line for line in run.log) == 2


def test_429_waits_as_long_as_retry_after_says(env: Env) -> None:
    env.fake.inject(
        "GET", rf"/projects/{PROJECT}/merge_requests/{MR}/notes", 429, headers={"Retry-After": "17"}
    )
    run = env.publish(publication())
    assert run.sleeps == [17.0]
    assert run.result.comment_action == "created"
    assert any("retrying in 17s" in line for line in run.log)


def test_429_without_retry_after_waits_a_minute(env: Env) -> None:
    env.fake.inject("GET", r"/user", 429)
    run = env.publish(publication())
    assert run.sleeps == [60.0] and run.result.comment_action == "created"


def test_a_wait_beyond_the_cap_is_not_taken(env: Env) -> None:
    env.fake.inject("GET", r"/user", 429, headers={"Retry-After": "3600"})
    run = env.publish(publication())
    assert run.sleeps == []
    assert run.result.comment_action == "failed"
    assert any("would exceed the 90s allowed" in m for m in run.result.messages)


def test_gitlab_down_fails_softly_after_five_tries(env: Env) -> None:
    env.fake.inject("*", r"/.*", 503, times=100)
    run = env.publish(publication())
    assert run.result.comment_action == "failed"
    assert len(env.fake.requests) == 5
    assert any("GitLab answered 503" in m and "5 times" in m for m in run.result.messages)


def test_unreachable_gitlab_fails_softly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/v4"
    log: list[str] = []
    publisher = GitLabPublisher(
        closed, TOKEN, str(PROJECT), MR, log.append, sleep=lambda _: None, retry_backoff=0.001
    )
    result = publisher.publish(publication())
    assert result.comment_action == "failed"
    assert any("could not connect to GitLab" in m for m in result.messages)


def test_a_gitlab_that_never_answers_is_given_up_at_the_deadline(env: Env) -> None:
    env.fake.inject_silence("GET", rf"/projects/{PROJECT}/merge_requests/{MR}")
    started = time.monotonic()
    run = env.publish(publication(), limits=PublishLimits(total=1.5, timeout=30))
    assert time.monotonic() - started < 10
    assert run.result.comment_action == "failed"
    assert any("within the 1.5s allowed for publishing" in m for m in run.result.messages)


def test_an_html_page_where_json_was_expected_is_a_failure_not_a_crash(env: Env) -> None:
    env.fake.inject_raw("GET", r"/user", b"<html>proxy says no</html>", times=5)
    run = env.publish(publication())
    assert run.result.comment_action == "failed"
    assert env.notes() == []


def test_a_missing_certificate_authority_file_fails_softly() -> None:
    log: list[str] = []
    publisher = GitLabPublisher(
        "https://127.0.0.1:9/api/v4",
        TOKEN,
        str(PROJECT),
        MR,
        log.append,
        sleep=lambda _: None,
        ca_file="/nonexistent/ca.pem",
    )
    result = publisher.publish(publication())
    assert result.comment_action == "failed"
    assert any("could not" in m for m in result.messages)


def test_bad_credentials_fail_softly(env: Env) -> None:
    run = env.publish(publication(), token="glpat-unknown")
    assert run.result.comment_action == "failed"
    assert any("GitLab answered 401" in m for m in run.result.messages)


def test_token_never_appears_in_any_output(env: Env) -> None:
    env.fake.inject("*", r"/.*", 500, times=2)
    runs = [env.publish(publication()), env.publish(publication(), token="glpat-x" + TOKEN)]
    for run in runs:
        text = "\n".join([*run.log, *run.result.messages, run.result.comment_url or ""])
        assert TOKEN not in text
    assert any(r.token == TOKEN for r in env.fake.requests)
