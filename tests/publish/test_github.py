"""Publishing on a pull request, against the stateful fake GitHub server."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from tests.fakegithub import SECONDARY_RATE_LIMIT_MESSAGE, FakeGitHub

from threatdelta.publish.deadline import PublishLimits
from threatdelta.publish.github import (
    COMMENT_LIMIT,
    READONLY_LINE,
    compose_comment,
    publish_pull_request,
)
from threatdelta.publish.interface import Annotation, Publication, PublishResult
from threatdelta.publish.sticky import head_marker, read_markers, sticky_marker

REPO = "acme/pump"
PR = 42
HEAD = "a" * 40
NEWER = "c" * 40
BASE = "b" * 40
TOKEN = "ghs_bot_token_0001"
BOT = "threatdelta-bot"


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
    fake: FakeGitHub
    runs: list[Run] = field(default_factory=list)

    def publish(
        self, pub: Publication, token: str = TOKEN, api_url: str | None = None, **kw: Any
    ) -> Run:
        log: list[str] = []
        sleeps: list[float] = []
        options: dict[str, Any] = {
            "retry_backoff": 0.001,
            "sleep": sleeps.append,
            "seconds_between_requests": 0,
            "seconds_between_writes": 0,
            "limits": PublishLimits(total=600, timeout=5),
        }
        options.update(kw)
        result = publish_pull_request(
            api_url or self.fake.url, token, REPO, PR, pub, log=log.append, **options
        )
        run = Run(result, log, sleeps)
        self.runs.append(run)
        return run

    def comments(self) -> list[Any]:
        return self.fake.comments(REPO, PR)

    def writes(self) -> list[Any]:
        return [r for r in self.fake.requests if r.is_write]


@pytest.fixture
def env(fake_github: FakeGitHub) -> Env:
    fake_github.add_repo(REPO)
    fake_github.add_pull(REPO, PR, head_sha=HEAD, base_sha=BASE)
    fake_github.set_login(TOKEN, BOT)
    return Env(fake_github)


# --- the comment body ---------------------------------------------------------------------


def test_composed_comment_starts_with_both_markers_and_keeps_the_body() -> None:
    text = compose_comment("models", HEAD, "Hello **world**")
    assert text.startswith(f"{sticky_marker('models')}\n{head_marker(HEAD)}\n")
    assert text.endswith("Hello **world**")
    markers = read_markers(text)
    assert markers is not None
    assert (markers.config_name, markers.head_sha) == ("models", HEAD)


def test_config_names_cannot_break_out_of_the_marker() -> None:
    marker = sticky_marker("x --> <script>")
    assert marker.count("-->") == 1 and marker.endswith(" -->")
    assert "<script>" not in marker
    # different names never share a marker
    assert sticky_marker("a b") != sticky_marker("a%20b")


def test_body_cannot_forge_a_marker_or_open_an_html_comment() -> None:
    forged = f"{sticky_marker('other')}\n{head_marker(NEWER)}\nthen <!-- hides the rest"
    text = compose_comment("models", HEAD, forged)
    assert text.count("<!--") == 2  # only our own two markers
    assert "&lt;!-- threatdelta:sticky name=other -->" in text
    assert "&lt;!-- hides the rest" in text
    markers = read_markers(text)
    assert markers is not None and markers.config_name == "models"
    # a body that merely starts with a marker, without ours in front, is not ours
    assert read_markers("quoted:\n" + sticky_marker("models")) is None


def test_too_long_a_comment_is_trimmed_with_a_note() -> None:
    body = "| threat | status |\n" + "| x | open |\n" * 10_000
    text = compose_comment("models", HEAD, body)
    assert len(text) <= COMMENT_LIMIT
    assert "trimmed" in text.splitlines()[-1]


# --- update mode --------------------------------------------------------------------------


def test_first_run_creates_one_comment_by_the_bot(env: Env) -> None:
    run = env.publish(publication())
    comments = env.comments()
    assert len(comments) == 1
    assert comments[0].login == BOT
    assert comments[0].body.startswith(sticky_marker("models"))
    assert head_marker(HEAD) in comments[0].body
    assert run.result.comment_action == "created"
    assert (
        run.result.comment_url
        == f"https://github.com/{REPO}/pull/{PR}#issuecomment-{comments[0].id}"
    )


def test_rerun_with_a_new_body_updates_the_same_comment(env: Env) -> None:
    env.publish(publication("first report"))
    first = env.comments()[0]
    run = env.publish(publication("second report"))
    comments = env.comments()
    assert [c.id for c in comments] == [first.id]
    assert comments[0].body.endswith("second report")
    assert run.result.comment_action == "updated"


def test_unchanged_rerun_writes_nothing(env: Env) -> None:
    env.publish(publication())
    env.fake.clear_requests()
    run = env.publish(publication())
    assert run.result.comment_action == "unchanged"
    assert env.writes() == []
    assert [r.method for r in env.fake.requests] == ["GET"] * len(env.fake.requests)


def test_two_concurrent_runs_end_with_one_comment(env: Env) -> None:
    # both runs are held at the comment POST until both arrive: each has listed no comment yet
    env.fake.gate("POST", rf"/repos/{REPO}/issues/{PR}/comments", parties=2)
    results: list[PublishResult] = []

    def go() -> None:
        results.append(env.publish(publication()).result)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    posts = [r for r in env.fake.requests if r.method == "POST"]
    assert len(posts) == 2  # the race really happened
    comments = env.comments()
    assert len(comments) == 1
    assert {r.comment_url for r in results} == {
        f"https://github.com/{REPO}/pull/{PR}#issuecomment-{comments[0].id}"
    }


def test_another_users_comment_with_a_copied_marker_is_left_alone(env: Env) -> None:
    copied = compose_comment("models", HEAD, "I copied the bot's markers")
    mallory = env.fake.add_comment(REPO, PR, copied, login="mallory")
    run = env.publish(publication("the real report"))
    comments = env.comments()
    assert len(comments) == 2
    assert comments[0] == mallory
    assert comments[1].login == BOT and comments[1].body.endswith("the real report")
    assert run.result.comment_action == "created"


def test_each_config_name_keeps_its_own_comment(env: Env) -> None:
    env.publish(publication("models report"))
    env.publish(publication("firmware report", config_name="firmware"))
    env.publish(publication("models report, again", config_name="models"))
    bodies = [c.body for c in env.comments()]
    assert len(bodies) == 2
    assert bodies[0].endswith("models report, again")
    assert bodies[1].endswith("firmware report")


def test_leftover_duplicates_are_removed_on_update(env: Env) -> None:
    first = env.fake.add_comment(REPO, PR, compose_comment("models", HEAD, "one"), login=BOT)
    env.fake.add_comment(REPO, PR, compose_comment("models", HEAD, "two"), login=BOT)
    env.publish(publication("three"))
    comments = env.comments()
    assert [c.id for c in comments] == [first.id]
    assert comments[0].body.endswith("three")


def test_more_than_a_hundred_comments_are_paged_through(env: Env) -> None:
    for i in range(180):
        env.fake.add_comment(REPO, PR, f"chatter {i}", login="someone")
    ours = env.fake.add_comment(REPO, PR, compose_comment("models", HEAD, "old report"), login=BOT)
    for i in range(70):
        env.fake.add_comment(REPO, PR, f"more chatter {i}", login="someone")
    env.fake.clear_requests()
    run = env.publish(publication("new report"))
    assert run.result.comment_action == "updated"
    assert len(env.comments()) == 251
    assert env.fake.comments(REPO, PR)[180].id == ours.id
    assert env.fake.comments(REPO, PR)[180].body.endswith("new report")
    pages = [
        r.query.get("page", "1")
        for r in env.fake.requests
        if r.method == "GET" and r.path.endswith(f"/issues/{PR}/comments")
    ]
    assert pages == ["1", "2", "3"]


# --- other modes --------------------------------------------------------------------------


def test_hide_and_new_minimises_the_previous_comment(env: Env) -> None:
    env.publish(publication("first", comment_mode="hide-and-new"))
    old = env.comments()[0]
    run = env.publish(publication("second", comment_mode="hide-and-new"))
    comments = env.comments()
    assert len(comments) == 2
    assert comments[0].id == old.id and comments[0].minimized
    assert comments[0].minimized_reason == "OUTDATED"
    assert not comments[1].minimized and comments[1].body.endswith("second")
    [mutation] = env.fake.graphql_requests
    assert "minimizeComment" in mutation["query"]
    assert mutation["variables"]["input"] == {"subjectId": old.node_id, "classifier": "OUTDATED"}
    assert run.result.comment_action == "created"


def test_hide_and_new_with_an_unchanged_body_writes_nothing(env: Env) -> None:
    env.publish(publication("same", comment_mode="hide-and-new"))
    env.fake.clear_requests()
    run = env.publish(publication("same", comment_mode="hide-and-new"))
    assert run.result.comment_action == "unchanged"
    assert env.writes() == []


def test_delete_and_new_deletes_the_previous_comment(env: Env) -> None:
    env.publish(publication("first", comment_mode="delete-and-new"))
    old = env.comments()[0]
    run = env.publish(publication("second", comment_mode="delete-and-new"))
    comments = env.comments()
    assert len(comments) == 1
    assert comments[0].id != old.id and comments[0].body.endswith("second")
    assert any(
        r.method == "DELETE" and r.path.endswith(f"/comments/{old.id}") for r in env.fake.requests
    )
    assert run.result.comment_action == "created"


def test_new_mode_always_posts(env: Env) -> None:
    env.publish(publication("report", comment_mode="new"))
    env.publish(publication("report", comment_mode="new"))
    assert len(env.comments()) == 2


def test_off_mode_touches_no_comment(env: Env) -> None:
    run = env.publish(publication(comment_mode="off"))
    assert run.result.comment_action == "off"
    assert run.result.comment_url is None
    assert env.fake.requests == []


# --- heads --------------------------------------------------------------------------------


def test_a_comment_for_a_newer_head_is_not_overwritten(env: Env) -> None:
    env.fake.set_head(REPO, PR, NEWER)
    env.publish(publication("report for the newer head", head_sha=NEWER))
    env.fake.clear_requests()
    run = env.publish(publication("stale report", head_sha=HEAD))
    assert run.result.comment_action == "skipped-newer"
    assert env.comments()[0].body.endswith("report for the newer head")
    assert env.writes() == []
    assert (
        run.result.comment_url
        == f"https://github.com/{REPO}/pull/{PR}#issuecomment-{env.comments()[0].id}"
    )


def test_a_comment_for_an_older_head_is_updated_even_by_a_late_run(env: Env) -> None:
    older = "d" * 40
    env.fake.add_comment(REPO, PR, compose_comment("models", older, "oldest"), login=BOT)
    env.fake.set_head(REPO, PR, NEWER)
    run = env.publish(publication("late but newer than the comment", head_sha=HEAD))
    assert run.result.comment_action == "updated"
    assert head_marker(HEAD) in env.comments()[0].body


# --- logins and permissions ---------------------------------------------------------------


def test_actions_token_without_user_endpoint_falls_back_to_the_actions_bot(env: Env) -> None:
    env.fake.set_login("ghs_actions", "github-actions[bot]", user_endpoint=False)
    existing = env.fake.add_comment(
        REPO, PR, compose_comment("models", HEAD, "from the last run"), login="github-actions[bot]"
    )
    run = env.publish(publication("this run"), token="ghs_actions")
    assert run.result.comment_action == "updated"
    assert [c.id for c in env.comments()] == [existing.id]
    assert any(r.path == "/user" and r.status == 403 for r in env.fake.requests)


def test_read_only_token_skips_with_one_clear_line(env: Env) -> None:
    env.fake.set_login("ghs_fork", "github-actions[bot]", read_only=True, user_endpoint=False)
    run = env.publish(publication(check_run=True), token="ghs_fork")
    assert run.result.comment_action == "skipped-readonly"
    assert run.result.check_run_url is None
    assert run.log.count(READONLY_LINE) == 1
    assert READONLY_LINE in run.result.messages
    assert env.comments() == []
    assert env.fake.check_runs(REPO) == []


def test_read_only_token_cannot_hide_either(env: Env) -> None:
    env.fake.add_comment(
        REPO, PR, compose_comment("models", HEAD, "old"), login="github-actions[bot]"
    )
    env.fake.set_login("ghs_fork", "github-actions[bot]", read_only=True, user_endpoint=False)
    run = env.publish(publication("new", comment_mode="hide-and-new"), token="ghs_fork")
    assert run.result.comment_action == "skipped-readonly"
    assert not env.comments()[0].minimized


def test_read_only_token_without_comment_still_reports_the_check_run(env: Env) -> None:
    env.fake.set_login("ghs_fork", "github-actions[bot]", read_only=True)
    run = env.publish(publication(comment_mode="off", check_run=True), token="ghs_fork")
    assert run.result.comment_action == "off"
    assert run.result.check_run_url is None
    assert run.log == [READONLY_LINE]


# --- faults -------------------------------------------------------------------------------


def test_two_bad_gateways_then_success_is_recovered(env: Env) -> None:
    env.fake.inject("POST", rf"/repos/{REPO}/issues/{PR}/comments", 502, times=2)
    run = env.publish(publication())
    assert run.result.comment_action == "created"
    assert len(env.comments()) == 1
    assert run.sleeps == [0.001, 0.002]
    assert [r.status for r in env.fake.requests if r.method == "POST"] == [502, 502, 201]


def test_server_errors_on_an_edit_are_retried(env: Env) -> None:
    env.publish(publication("one"))
    env.fake.inject("PATCH", r"/repos/.*/issues/comments/\d+", 500, times=1)
    run = env.publish(publication("two"))
    assert run.result.comment_action == "updated"
    assert env.comments()[0].body.endswith("two")


def test_secondary_rate_limit_with_retry_after_is_waited_out(env: Env) -> None:
    env.fake.inject(
        "POST",
        rf"/repos/{REPO}/issues/{PR}/comments",
        403,
        headers={"Retry-After": "1"},
        body={"message": SECONDARY_RATE_LIMIT_MESSAGE},
    )
    run = env.publish(publication())
    assert run.result.comment_action == "created"
    assert run.sleeps == [1.0]  # Retry-After honoured as asked
    assert any("retrying in 1s" in line for line in run.log)


def test_secondary_rate_limit_without_retry_after_waits_a_minute(env: Env) -> None:
    env.fake.inject(
        "PATCH",
        r"/repos/.*/issues/comments/\d+",
        403,
        body={"message": SECONDARY_RATE_LIMIT_MESSAGE},
    )
    env.publish(publication("one"))
    run = env.publish(publication("two"))
    assert run.result.comment_action == "updated"
    assert run.sleeps == [60.0]  # GitHub asks integrations to wait at least a minute


def test_429_is_retried(env: Env) -> None:
    env.fake.inject("GET", rf"/repos/{REPO}/pulls/{PR}", 429, headers={"Retry-After": "2"})
    run = env.publish(publication())
    assert run.result.comment_action == "created"
    assert run.sleeps == [2.0]


def test_a_wait_beyond_the_cap_is_not_taken(env: Env) -> None:
    env.fake.inject(
        "POST",
        rf"/repos/{REPO}/issues/{PR}/comments",
        403,
        headers={"Retry-After": "600"},
        body={"message": SECONDARY_RATE_LIMIT_MESSAGE},
    )
    run = env.publish(publication(), max_total_wait=30)
    assert run.result.comment_action == "failed"
    assert run.sleeps == []
    assert any("600s" in m and "creating the comment" in m for m in run.result.messages)


def test_github_down_fails_softly_with_messages(env: Env) -> None:
    env.fake.inject("*", r".*", 503, times=1000)
    run = env.publish(publication(check_run=True))
    assert run.result.comment_action == "failed"
    assert run.result.comment_url is None and run.result.check_run_url is None
    assert any(
        m.startswith("could not publish the pull-request comment") and "503" in m
        for m in run.result.messages
    )
    assert any(m.startswith("could not publish the check run") for m in run.result.messages)
    assert len(run.sleeps) <= 8  # bounded: a few retries per step, no more


def test_unreachable_github_fails_softly(env: Env) -> None:
    port_owner = FakeGitHub().start()
    dead_url = port_owner.url
    port_owner.stop()
    run = env.publish(publication(), api_url=dead_url)
    assert run.result.comment_action == "failed"
    assert any("could not connect to GitHub" in m for m in run.result.messages)


def test_bad_credentials_fail_softly(env: Env) -> None:
    run = env.publish(publication(), token="not-a-known-token")
    assert run.result.comment_action == "failed"
    assert any("401" in m for m in run.result.messages)
    assert run.sleeps == []


def test_unknown_pull_request_fails_softly(env: Env) -> None:
    pub = publication()
    log: list[str] = []
    result = publish_pull_request(
        env.fake.url,
        TOKEN,
        REPO,
        999,
        pub,
        log=log.append,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    assert result.comment_action == "failed"
    assert any("404" in m for m in result.messages)


# --- check runs ---------------------------------------------------------------------------


def make_annotations(n: int) -> tuple[Annotation, ...]:
    return tuple(
        Annotation(
            "threatmodel.yaml",
            i + 1,
            i + 1,
            "failure" if i % 2 else "warning",
            f"threat {i}",
            f"finding {i}",
        )
        for i in range(n)
    )


def test_check_run_with_120_annotations_is_sent_50_50_20(env: Env) -> None:
    run = env.publish(
        publication(verdict="fail", check_run=True, annotations=make_annotations(120))
    )
    [check] = env.fake.check_runs(REPO)
    assert check["head_sha"] == HEAD
    assert check["name"] == "threatdelta"
    assert (check["status"], check["conclusion"]) == ("completed", "failure")
    assert [a["message"] for a in check["annotations"]] == [f"finding {i}" for i in range(120)]
    sent = [
        len(r.body["output"].get("annotations", []))
        for r in env.fake.requests
        if "/check-runs" in r.path and r.method in ("POST", "PATCH")
    ]
    assert sent == [50, 50, 20]
    assert [r.method for r in env.fake.requests if "/check-runs" in r.path] == [
        "POST",
        "PATCH",
        "PATCH",
    ]
    assert run.result.check_run_url == f"https://github.com/{REPO}/runs/{check['id']}"


def test_annotations_lost_midway_are_reported_and_the_check_run_kept(env: Env) -> None:
    env.fake.inject("PATCH", rf"/repos/{REPO}/check-runs/\d+", 422, times=1)
    run = env.publish(publication(check_run=True, annotations=make_annotations(120)))
    [check] = env.fake.check_runs(REPO)
    assert len(check["annotations"]) == 50
    assert run.result.check_run_url is not None
    assert any("only 50 of 120 annotations" in m for m in run.result.messages)


def test_passing_check_run_without_annotations(env: Env) -> None:
    env.publish(publication(check_run=True, check_name="threat model", comment_mode="off"))
    [check] = env.fake.check_runs(REPO)
    assert (check["name"], check["conclusion"]) == ("threat model", "success")
    assert check["annotations"] == []
    assert [r.method for r in env.fake.requests] == ["GET", "POST"]


def test_check_run_summary_is_trimmed_to_githubs_limit(env: Env) -> None:
    summary = "line of the summary\n" * 5000  # 100,000 characters
    run = env.publish(publication(check_run=True, summary_markdown=summary, comment_mode="off"))
    [check] = env.fake.check_runs(REPO)
    assert len(check["output"]["summary"]) <= 65535
    assert "trimmed" in check["output"]["summary"]
    assert run.result.check_run_url is not None


def test_a_failing_check_run_does_not_undo_the_comment(env: Env) -> None:
    env.fake.inject("POST", rf"/repos/{REPO}/check-runs", 422, times=1)
    run = env.publish(publication(check_run=True))
    assert run.result.comment_action == "created"
    assert run.result.check_run_url is None
    assert any(m.startswith("could not publish the check run") for m in run.result.messages)


# --- the token stays secret ---------------------------------------------------------------


SECRET = "ghp_Zq8SECRETtokenNEVERprint3d"


@pytest.mark.parametrize(
    "scenario", ["success", "read-only", "down", "rate-limited", "bad-credentials"]
)
def test_token_never_appears_in_any_output(
    env: Env, scenario: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    token = SECRET
    if scenario == "read-only":
        env.fake.set_login(SECRET, "github-actions[bot]", read_only=True, user_endpoint=False)
    elif scenario != "bad-credentials":
        env.fake.set_login(SECRET, BOT)
    if scenario == "down":
        env.fake.inject("*", r".*", 502, times=1000)
    if scenario == "rate-limited":
        env.fake.inject(
            "*",
            r".*",
            403,
            times=1000,
            headers={"Retry-After": "1"},
            body={"message": SECONDARY_RATE_LIMIT_MESSAGE},
        )
    pub = publication(check_run=True, annotations=make_annotations(3))
    env.fake.add_comment(REPO, PR, compose_comment("models", HEAD, "old"), login=BOT)
    env.fake.set_head(REPO, PR, HEAD)
    try:
        run = env.publish(replace(pub, comment_body=f"new {scenario}"), token=token)
    except Exception as exc:  # pragma: no cover - the publisher must not raise
        pytest.fail(f"publish raised {exc!r}")
    assert any(r.token == SECRET for r in env.fake.requests)  # the token really was used
    captured = capsys.readouterr()
    outputs = [
        *run.log,
        *run.result.messages,
        repr(run.result),
        caplog.text,
        captured.out,
        captured.err,
    ]
    assert all(SECRET not in text for text in outputs)
    assert caplog.text  # PyGithub's own debug log was captured and checked
