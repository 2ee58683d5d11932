"""GitHub that answers nonsense, trickles, or says nothing: the run ends within its budget, with
its verdict, outputs and job summary, and the log says what was not published.

The budgets are set small through the documented environment variables so these tests stay
quick; each fault would, without the budget, keep the run going far longer than it allows.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, PR, REPO, Harness, model, parse_outputs

import threatdelta.publish.github as github_publisher
from threatdelta.publish.deadline import DEADLINE_VARIABLE, TIMEOUT_VARIABLE

SMALL_BUDGET = {DEADLINE_VARIABLE: "3", TIMEOUT_VARIABLE: "1"}


def _start(h: Harness) -> tuple[str, str]:
    base = h.repo.commit({"threatmodel.yaml": model()}, "base")
    head = h.repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "add a dose log")
    h.open_pull(base, head)
    return base, head


def _assert_verdict_reported(result: Any) -> None:
    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    assert result.outputs["unaddressed"] != ""
    assert "process-tampering@log-service" in result.summary
    assert "verdict: fail" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "path",
    [f"/repos/{REPO}/pulls/{PR}", "/user", f"/repos/{REPO}/issues/{PR}/comments"],
)
def test_an_answer_that_is_not_json_is_a_publishing_failure_not_a_crash(
    harness: Harness, path: str
) -> None:
    base, head = _start(harness)
    harness.fake.inject_raw("*", path, b"<html><body>Service unavailable</body></html>", times=99)

    result = harness.run(base, head)

    _assert_verdict_reported(result)
    assert result.outputs["comment-url"] == ""
    assert "GitHub's answer was not the JSON its API describes" in result.stdout
    assert "Not everything could be published" in result.summary
    assert harness.comments() == []


def test_a_trickling_answer_ends_at_the_budget_with_the_verdict(harness: Harness) -> None:
    base, head = _start(harness)
    # headers at once, then one byte every 0.2 s: no read ever times out; 150 bytes take 30 s
    harness.fake.inject_drip("GET", rf"/repos/{REPO}/pulls/{PR}", interval=0.2, size=150)

    started = time.monotonic()
    result = harness.run(base, head, env=SMALL_BUDGET)
    elapsed = time.monotonic() - started

    _assert_verdict_reported(result)
    assert elapsed < 15
    line = (
        "GitHub did not finish answering within the 3s allowed for publishing; "
        "not published (or not confirmed): the pull-request comment"
    )
    assert line in result.stdout
    assert line.replace("(", "\\(").replace(")", "\\)") in result.summary  # escaped markdown
    assert harness.comments() == []


def test_a_silent_api_costs_the_read_timeout_per_attempt_not_minutes(harness: Harness) -> None:
    base, head = _start(harness)
    harness.fake.inject_silence("POST", rf"/repos/{REPO}/issues/{PR}/comments", times=99)

    started = time.monotonic()
    result = harness.run(
        base, head, env={DEADLINE_VARIABLE: "60", TIMEOUT_VARIABLE: "1", "INPUT_CHECK_RUN": "true"}
    )
    elapsed = time.monotonic() - started

    _assert_verdict_reported(result)
    assert elapsed < 20  # five attempts of one second each, not five of thirty
    assert "could not publish the pull-request comment: GitHub did not answer in time" in (
        result.stdout
    )
    # the comment's step failing does not stop the check run
    (run,) = harness.fake.check_runs(REPO)
    assert run["conclusion"] == "failure"


def test_a_silent_api_with_a_check_run_stops_at_the_budget_and_names_both(
    harness: Harness,
) -> None:
    base, head = _start(harness)
    harness.fake.inject_silence("*", r"/.*", times=999)

    result = harness.run(
        base, head, env={DEADLINE_VARIABLE: "2", TIMEOUT_VARIABLE: "5", "INPUT_CHECK_RUN": "true"}
    )

    _assert_verdict_reported(result)
    assert "not published (or not confirmed): the pull-request comment and the check run" in (
        result.stdout
    )


def test_outputs_and_summary_are_written_before_github_is_asked_anything(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, head = _start(harness)
    seen: dict[str, str] = {}
    publish = github_publisher.publish_pull_request

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen["summary"] = Path(harness.tmp / f"run{harness.runs}" / "summary.md").read_text()
        seen["outputs"] = Path(harness.tmp / f"run{harness.runs}" / "output.txt").read_text()
        return publish(*args, **kwargs)

    monkeypatch.setattr(github_publisher, "publish_pull_request", spy)

    result = harness.run(base, head)

    assert "process-tampering@log-service" in seen["summary"]
    outputs = parse_outputs(seen["outputs"])
    assert outputs["verdict"] == "fail"
    assert outputs["report-path"] != ""
    # once published, the comment's address follows
    (comment,) = harness.comments()
    assert result.outputs["comment-url"].endswith(f"/pull/{PR}#issuecomment-{comment.id}")


def test_a_bad_budget_variable_is_an_input_error_that_replaces_the_comment(
    harness: Harness,
) -> None:
    base, head = _start(harness)
    harness.run(base, head)
    assert "threatdelta:sticky" in harness.comments()[0].body

    result = harness.run(base, head, env={DEADLINE_VARIABLE: "soon"})

    assert result.code == 2
    assert f"{DEADLINE_VARIABLE} must be a positive number of seconds" in result.stderr
    (comment,) = harness.comments()
    assert "could not review" in comment.body
