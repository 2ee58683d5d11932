"""``threatdelta github`` on a pull request, end to end: real git, real event file, real
PyGithub talking to the fake GitHub server."""

from __future__ import annotations

import json
import threading

from tests.e2e.harness import (
    BOT,
    LOG_ELEMENTS,
    LOG_FLOWS,
    PR,
    REPO,
    TOKEN,
    Harness,
    model,
    pull_request_event,
)

from threatdelta.cli import main
from threatdelta.publish.sticky import head_marker, read_markers, sticky_marker


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def _start(h: Harness) -> tuple[str, str]:
    base = h.repo.commit({"threatmodel.yaml": model()}, "base")
    head = h.repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "add a dose log")
    h.open_pull(base, head)
    return base, head


def test_first_run_posts_one_comment_annotates_and_fails(harness: Harness) -> None:
    base, head = _start(harness)
    result = harness.run(base, head)

    assert result.code == 1
    comments = harness.comments()
    assert len(comments) == 1
    body = comments[0].body
    assert comments[0].login == BOT
    assert body.startswith(f"{sticky_marker('default')}\n{head_marker(head)}\n")
    assert "❌ threatdelta" in body and "`process-tampering@log-service`" in body

    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    new = [t["id"] for m in report["models"] for t in m["new"]]
    unaddressed = [t["id"] for m in report["models"] for t in m["unaddressed"]]
    assert "process-tampering@log-service" in new
    assert result.outputs == {
        "verdict": "fail",
        "new-threats": str(len(new)),
        "unaddressed": str(len(unaddressed)),
        "comment-url": f"https://github.com/{REPO}/pull/{PR}#issuecomment-{comments[0].id}",
        "report-path": str(result.report_path),
    }
    assert str(result.report_path).startswith(str(harness.tmp / "run1" / "temp"))

    # the job summary has the same report (untrimmed) and says where the JSON is
    assert "`process-tampering@log-service`" in result.summary
    assert str(result.report_path) in result.summary

    # annotations at the dose log's line: high severity is an error, medium a warning
    line = _line_of(model(LOG_ELEMENTS, LOG_FLOWS), "id: log-service")
    commands = [ln for ln in result.stdout.splitlines() if ln.startswith("::")]
    assert any(
        c.startswith(f"::error file=threatmodel.yaml,line={line},")
        and "process-tampering@log-service" in c
        for c in commands
    )
    assert any(c.startswith("::warning file=threatmodel.yaml,") for c in commands)
    assert "verdict: fail" in result.stdout


def test_rerun_with_a_new_head_updates_the_same_comment(harness: Harness) -> None:
    base, head = _start(harness)
    harness.run(base, head)
    first = harness.comments()[0]

    head2 = harness.repo.commit(
        {
            "threatmodel.yaml": model(
                LOG_ELEMENTS,
                LOG_FLOWS + "  - {id: audit, from: dose-log, to: nurse, protocol: usb}\n",
            )
        },
        "export the log",
    )
    result = harness.run(base, head2)

    comments = harness.comments()
    assert [c.id for c in comments] == [first.id]
    assert head_marker(head2) in comments[0].body
    assert "audit" in comments[0].body and comments[0].body != first.body
    assert "updated the pull-request comment" in result.stdout
    assert result.outputs["comment-url"].endswith(f"#issuecomment-{first.id}")


def test_unchanged_rerun_writes_nothing(harness: Harness) -> None:
    base, head = _start(harness)
    harness.run(base, head)
    harness.fake.clear_requests()

    result = harness.run(base, head)

    assert result.code == 1
    assert harness.writes() == []
    assert harness.fake.requests  # it did look
    assert len(harness.comments()) == 1
    assert "up to date" in result.stdout


def test_two_concurrent_runs_end_with_one_comment(harness: Harness) -> None:
    base, head = _start(harness)
    harness.fake.gate("POST", rf"/repos/{REPO}/issues/{PR}/comments", parties=2)
    folder = harness.prepare("pull_request", pull_request_event(base, head))
    codes: list[int] = []

    def go() -> None:
        codes.append(main(["github"]))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    harness.collect(folder, 0)

    assert codes == [1, 1]
    posts = [
        r for r in harness.fake.requests if r.method == "POST" and r.path.endswith("/comments")
    ]
    assert len(posts) == 2  # both runs really raced to create the comment
    assert len(harness.comments()) == 1


def test_a_change_without_new_threats_passes_with_exit_code_0(harness: Harness) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit(
        {"threatmodel.yaml": model(description="A syringe driver for intensive care.")}, "reword"
    )
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 0
    assert result.outputs["verdict"] == "pass"
    assert result.outputs["new-threats"] == "0"
    assert "✅ threatdelta" in harness.comments()[0].body
    assert "verdict: pass" in result.stdout


def test_fail_on_input_sets_the_exit_code(harness: Harness) -> None:
    base, head = _start(harness)
    assert harness.run(base, head, env={"INPUT_FAIL_ON": "none"}).code == 0
    assert harness.run(base, head, env={"INPUT_FAIL_ON": "severity:critical"}).code == 0
    assert harness.run(base, head, env={"INPUT_FAIL_ON": "severity:high"}).code == 1
    # a flag wins over the environment variable
    assert (
        harness.run(
            base, head, env={"INPUT_FAIL_ON": "none"}, args=["--fail-on", "unaddressed"]
        ).code
        == 1
    )


def test_check_run_gets_every_annotation_and_the_step_at_most_ten_per_level(
    harness: Harness,
) -> None:
    stores = "".join(
        f"  - {{id: store-{i}, name: Store {i}, type: data-store, boundary: device}}\n"
        for i in range(20)
    )
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit({"threatmodel.yaml": model(stores)}, "twenty stores")
    harness.open_pull(base, head)

    result = harness.run(base, head, env={"INPUT_CHECK_RUN": "true"})

    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    unaddressed = sum(len(m["unaddressed"]) for m in report["models"])
    assert unaddressed > 50
    runs = harness.fake.check_runs(REPO)
    assert len(runs) == 1
    assert runs[0]["head_sha"] == head
    assert runs[0]["name"] == "threatdelta review"  # not the job's own check name
    assert runs[0]["conclusion"] == "failure"
    assert len(runs[0]["annotations"]) == unaddressed
    errors = [ln for ln in result.stdout.splitlines() if ln.startswith("::error ")]
    warnings = [ln for ln in result.stdout.splitlines() if ln.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 10
    assert "more annotations are not shown here" in result.stdout


def test_comment_mode_hide_and_new_keeps_the_old_comment_hidden(harness: Harness) -> None:
    base, head = _start(harness)
    harness.run(base, head, env={"INPUT_COMMENT_MODE": "hide-and-new"})
    head2 = harness.repo.commit(
        {"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS, description="Changed.")}, "reword"
    )
    harness.run(base, head2, env={"INPUT_COMMENT_MODE": "hide-and-new"})

    comments = harness.comments()
    assert len(comments) == 2
    assert comments[0].minimized and comments[0].minimized_reason == "OUTDATED"
    assert not comments[1].minimized and head_marker(head2) in comments[1].body


def test_comment_mode_off_posts_nothing_but_still_reports(harness: Harness) -> None:
    base, head = _start(harness)
    result = harness.run(base, head, env={"INPUT_COMMENT_MODE": "off"})
    assert result.code == 1
    assert harness.comments() == []
    assert harness.writes() == []
    assert "process-tampering@log-service" in result.summary
    assert result.outputs["comment-url"] == ""


def test_comment_name_input_keeps_a_separate_comment(harness: Harness) -> None:
    base, head = _start(harness)
    harness.run(base, head)
    harness.run(base, head, env={"INPUT_COMMENT_NAME": "firmware models"})
    comments = harness.comments()
    assert len(comments) == 2
    assert read_markers(comments[0].body).config_name == "default"  # type: ignore[union-attr]
    assert comments[1].body.startswith(sticky_marker("firmware models"))


def test_the_workflow_token_variable_works_too(harness: Harness) -> None:
    base, head = _start(harness)
    result = harness.run(base, head, token=None, env={"GITHUB_TOKEN": TOKEN})
    assert result.code == 1
    assert len(harness.comments()) == 1


def test_without_a_token_nothing_is_posted_and_the_verdict_stands(harness: Harness) -> None:
    base, head = _start(harness)
    result = harness.run(base, head, token=None)
    assert result.code == 1
    assert harness.fake.requests == []
    assert "no token" in result.stderr
    assert "process-tampering@log-service" in result.summary
    assert result.outputs["verdict"] == "fail"


def test_a_broken_model_replaces_the_comment_with_the_error_and_exits_2(
    harness: Harness,
) -> None:
    base, head = _start(harness)
    harness.run(base, head)
    broken = model(LOG_ELEMENTS, LOG_FLOWS).replace("kind: log", "kind: logbook")
    head2 = harness.repo.commit({"threatmodel.yaml": broken}, "typo")

    result = harness.run(base, head2)

    assert result.code == 2
    assert result.outputs["verdict"] == "error"
    comments = harness.comments()
    assert len(comments) == 1
    assert head_marker(head2) in comments[0].body
    assert "could not review" in comments[0].body and "logbook" in comments[0].body
    line = _line_of(broken, "kind: logbook")
    assert any(
        ln.startswith(f"::error file=threatmodel.yaml,line={line},")
        for ln in result.stdout.splitlines()
    )
    assert "logbook" in result.stderr and "Traceback" not in result.stderr
    assert "could not review" in result.summary


def test_a_commit_missing_from_the_checkout_names_the_fix(harness: Harness) -> None:
    base, _ = _start(harness)
    missing = "f" * 40
    result = harness.run(base, missing)
    assert result.code == 2
    assert "fetch-depth: 0" in result.stderr
    assert missing[:12] in result.stderr
    assert "fetch-depth: 0" in result.summary
    assert result.outputs["verdict"] == "error"


def test_pull_request_target_hint_says_how_to_fetch_the_head_safely(harness: Harness) -> None:
    base, _ = _start(harness)
    result = harness.run(base, "e" * 40, event_name="pull_request_target")
    assert result.code == 2
    assert f"refs/pull/{PR}/head" in result.stderr and "never check it out" in result.stderr


def test_an_event_threatdelta_does_not_handle_exits_2(harness: Harness) -> None:
    folder = harness.prepare("issue_comment", {"repository": {"full_name": REPO}})
    result = harness.collect(folder, main(["github"]))
    assert result.code == 2
    assert "'issue_comment' event is not supported" in result.stderr
    assert harness.fake.requests == []
