"""When GitHub refuses or fails: the verdict and the exit code never change, the job summary and
the annotations still carry the report, and the log says what could not be published."""

from __future__ import annotations

import socket

from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, PR, REPO, TOKEN, Harness, model
from tests.fakegithub import SECONDARY_RATE_LIMIT_MESSAGE

from threatdelta.publish.github import READONLY_LINE

READ_ONLY_TOKEN = "ghs_forkReadOnlyT0ken_7777"


def _start(h: Harness, fork: bool = False) -> tuple[str, str]:
    base = h.repo.commit({"threatmodel.yaml": model()}, "base")
    head = h.repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "add a dose log")
    h.open_pull(base, head, fork=fork)
    return base, head


def test_read_only_token_on_a_fork_keeps_verdict_summary_and_annotations(harness: Harness) -> None:
    base, head = _start(harness, fork=True)
    harness.fake.set_login(
        READ_ONLY_TOKEN, "github-actions[bot]", read_only=True, user_endpoint=False
    )

    result = harness.run(
        base, head, fork=True, token=READ_ONLY_TOKEN, env={"INPUT_CHECK_RUN": "true"}
    )

    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    assert result.outputs["comment-url"] == ""
    assert harness.comments() == []
    assert harness.fake.check_runs(REPO) == []
    assert result.stdout.count(READONLY_LINE) == 1  # one clear line, not one per attempt
    assert "process-tampering@log-service" in result.summary
    assert "the token cannot write" in result.summary
    assert any(ln.startswith("::error file=threatmodel.yaml") for ln in result.stdout.splitlines())


def test_read_only_fallback_has_the_same_verdict_as_a_writable_run(harness: Harness) -> None:
    base, head = _start(harness, fork=True)
    harness.fake.set_login(READ_ONLY_TOKEN, "github-actions[bot]", read_only=True)
    readonly = harness.run(base, head, fork=True, token=READ_ONLY_TOKEN)
    writable = harness.run(base, head, fork=True)
    assert (readonly.code, readonly.outputs["verdict"], readonly.outputs["unaddressed"]) == (
        writable.code,
        writable.outputs["verdict"],
        writable.outputs["unaddressed"],
    )


def test_bad_gateways_are_retried_and_the_comment_lands(harness: Harness) -> None:
    base, head = _start(harness)
    harness.fake.inject("POST", rf"/repos/{REPO}/issues/{PR}/comments", 502, times=2)

    result = harness.run(base, head)

    assert result.code == 1
    assert len(harness.comments()) == 1
    assert result.stdout.count("GitHub answered 502") == 2
    assert result.outputs["comment-url"].endswith(f"#issuecomment-{harness.comments()[0].id}")


def test_a_secondary_rate_limit_is_waited_out(harness: Harness) -> None:
    base, head = _start(harness)
    harness.fake.inject(
        "POST",
        rf"/repos/{REPO}/issues/{PR}/comments",
        403,
        headers={"Retry-After": "17"},
        body={"message": SECONDARY_RATE_LIMIT_MESSAGE},
    )

    result = harness.run(base, head)

    assert len(harness.comments()) == 1
    assert "retrying in 17s" in result.stdout
    assert READONLY_LINE not in result.stdout  # a rate limit is not a read-only token


def test_github_down_keeps_the_verdict_and_says_what_was_not_published(harness: Harness) -> None:
    base, head = _start(harness)
    harness.fake.inject("*", r"/repos/.*", 503, times=1000)

    result = harness.run(base, head)

    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    assert result.outputs["comment-url"] == ""
    assert "could not publish the pull-request comment" in result.stdout
    assert "Not everything could be published" in result.summary
    assert "process-tampering@log-service" in result.summary
    assert "verdict: fail" in result.stdout


def test_unreachable_github_keeps_a_passing_verdict(harness: Harness) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit({"threatmodel.yaml": model(description="Reworded.")}, "reword")
    harness.open_pull(base, head)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"

    result = harness.run(base, head, env={"GITHUB_API_URL": closed})

    assert result.code == 0
    assert result.outputs["verdict"] == "pass"
    assert "could not connect to GitHub" in result.stdout


def test_the_token_never_appears_in_anything_the_run_writes(harness: Harness) -> None:
    base, head = _start(harness)
    harness.fake.inject("POST", rf"/repos/{REPO}/issues/{PR}/comments", 502, times=1)
    harness.fake.inject("*", rf"/repos/{REPO}/check-runs", 500, times=1000)
    runs = [
        harness.run(base, head, env={"INPUT_CHECK_RUN": "true"}),
        harness.run(base, "d" * 40),  # bad input path
        harness.run(base, head, env={"INPUT_COMMENT_MODE": "sideways"}),
    ]
    harness.fake.set_login("ghs_other", "someone-else")
    runs.append(harness.run(base, head, token="ghs_unknown_" + TOKEN))  # bad credentials
    for result in runs:
        assert TOKEN not in result.everything
    # it was used, though: every request carried it
    assert {r.token for r in harness.fake.requests} >= {TOKEN}
