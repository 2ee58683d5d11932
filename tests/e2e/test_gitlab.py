"""``threatdelta gitlab`` in a merge-request pipeline, end to end: real git, GitLab's predefined
variables, real python-gitlab talking to the fake GitLab server."""

from __future__ import annotations

import re
import socket

from tests.e2e.gitlab_harness import BOT, JOB_TOKEN, MR, PROJECT, PROJECT_PATH, TOKEN, GitLabHarness
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, model

from threatdelta.publish.gitlab import NOTE_LIMIT, OUTDATED_SUMMARY, READONLY_LINE
from threatdelta.publish.sticky import head_marker, read_markers, sticky_marker

NOTES = rf"/projects/{PROJECT}/merge_requests/{MR}/notes"


def _start(job: GitLabHarness) -> tuple[str, str]:
    base = job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = job.repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "add a dose log")
    job.open_merge_request(base, head)
    return base, head


def _decide_all(job: GitLabHarness, keys: list[str]) -> str:
    threats = "".join(
        f"  {key}: {{status: accepted, justification: Reviewed on the ward., approved_by: lead}}\n"
        for key in keys
    )
    return job.repo.commit(
        {"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS, threats=threats)}, "decide"
    )


def test_a_merge_request_gets_one_note_reports_and_a_failing_exit(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)

    job = gitlab_job.run(base, head)

    assert job.code == 1
    (note,) = gitlab_job.notes()
    assert note.username == BOT
    assert note.body.startswith(f"{sticky_marker('default')}\n{head_marker(head)}\n")
    assert "❌ threatdelta" in note.body and "`process-tampering@log-service`" in note.body
    assert "reviewing merge request !17" in job.stdout and "verdict: fail" in job.stdout
    unaddressed = [t["id"] for m in job.report["models"] for t in m["unaddressed"]]
    new = [t["id"] for m in job.report["models"] for t in m["new"]]
    assert job.dotenv == {
        "THREATDELTA_VERDICT": "fail",
        "THREATDELTA_NEW_THREATS": str(len(new)),
        "THREATDELTA_UNADDRESSED": str(len(unaddressed)),
        "THREATDELTA_NOTE_URL": (
            f"https://gitlab.example.com/{PROJECT_PATH}/-/merge_requests/{MR}#note_{note.id}"
        ),
    }
    assert "process-tampering@log-service" in job.markdown


def test_code_quality_findings_sit_on_the_models_lines(gitlab_job: GitLabHarness) -> None:
    base, head = _start(gitlab_job)
    job = gitlab_job.run(base, head)
    lines = model(LOG_ELEMENTS, LOG_FLOWS).splitlines()
    findings = job.code_quality
    unaddressed = {t["id"] for m in job.report["models"] for t in m["unaddressed"]}
    assert len(findings) >= len(unaddressed) > 0
    for key in unaddressed:
        (finding,) = [f for f in findings if f"'{key}'" in f["description"]]
        assert finding["location"]["path"] == "threatmodel.yaml"
        assert finding["severity"] in ("major", "critical")
        subject = key.split("@", 1)[1].split(">")[-1]
        line = lines[finding["location"]["lines"]["begin"] - 1]
        assert f"id: {subject}" in line, (key, line)
    assert len({f["fingerprint"] for f in findings}) == len(findings)
    junit = job.file("threatdelta-junit.xml")
    assert all(f"{key}" in junit for key in unaddressed)
    assert f'failures="{len([f for f in findings if f["severity"] != "info"])}"' in junit
    # the same findings on a rerun keep their fingerprints (GitLab compares them across runs)
    again = gitlab_job.run(base, head).code_quality
    assert [f["fingerprint"] for f in again] == [f["fingerprint"] for f in findings]


def test_rerun_unchanged_writes_nothing_and_a_fix_updates_the_note(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)
    first = gitlab_job.run(base, head)
    unaddressed = [t["id"] for m in first.report["models"] for t in m["unaddressed"]]
    (note,) = gitlab_job.notes()

    gitlab_job.fake.clear_requests()
    assert gitlab_job.run(base, head).code == 1
    assert gitlab_job.writes() == []

    fixed = _decide_all(gitlab_job, unaddressed)
    job = gitlab_job.run(base, fixed)
    assert job.code == 0
    (updated,) = gitlab_job.notes()
    assert updated.id == note.id and updated.body.startswith(
        f"{sticky_marker('default')}\n{head_marker(fixed)}\n"
    )
    assert "✅ threatdelta" in updated.body
    assert job.dotenv["THREATDELTA_VERDICT"] == "pass"
    assert job.dotenv["THREATDELTA_UNADDRESSED"] == "0"
    assert [f for f in job.code_quality if f["severity"] != "info"] == []


def test_options_come_from_flags_or_threatdelta_variables(gitlab_job: GitLabHarness) -> None:
    base, head = _start(gitlab_job)
    assert gitlab_job.run(base, head, env={"THREATDELTA_FAIL_ON": "none"}).code == 0
    assert gitlab_job.run(base, head, args=["--fail-on", "severity:critical"]).code == 0
    gitlab_job.run(base, head, args=["--comment-name", "device"])
    gitlab_job.run(base, head, env={"THREATDELTA_COMMENT_NAME": "cloud"})
    names = sorted(read_markers(n.body).config_name for n in gitlab_job.notes())  # type: ignore[union-attr]
    assert names == ["cloud", "default", "device"]


def test_hide_and_new_folds_the_last_note(gitlab_job: GitLabHarness) -> None:
    base, head = _start(gitlab_job)
    gitlab_job.run(base, head)
    other = gitlab_job.repo.commit(
        {"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS, description="Reworded.")}, "reword"
    )
    gitlab_job.run(base, other, args=["--comment-mode", "hide-and-new"])
    old, new = gitlab_job.notes()
    assert OUTDATED_SUMMARY in old.body and OUTDATED_SUMMARY not in new.body
    assert new.body.startswith(f"{sticky_marker('default')}\n{head_marker(other)}\n")


def test_the_gate_is_configured_by_the_base_not_by_the_merge_request(
    gitlab_job: GitLabHarness,
) -> None:
    base = gitlab_job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = gitlab_job.repo.commit(
        {
            "threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS),
            ".threatdelta.yml": "policy: [none]\n",
        },
        "turn the gate off and add a dose log",
    )
    gitlab_job.open_merge_request(base, head)
    assert gitlab_job.run(base, head).code == 1


def test_a_merged_results_pipeline_reviews_the_source_branch_head(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)
    gitlab_job.repo.git("checkout", "-q", "-b", "merged", base)
    gitlab_job.repo.git(
        "-c",
        "user.name=CI",
        "-c",
        "user.email=ci@example.com",
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "merge for testing",
        head,
    )
    merge_commit = gitlab_job.repo.git("rev-parse", "HEAD")

    job = gitlab_job.run(
        base, merge_commit, env={"CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": head}, move_head=False
    )

    assert job.code == 1
    (note,) = gitlab_job.notes()
    assert read_markers(note.body).head_sha == head  # type: ignore[union-attr]


def test_outside_a_merge_request_pipeline_it_says_so_and_exits_2(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)
    job = gitlab_job.run(base, head, env={"CI_MERGE_REQUEST_IID": ""})
    assert job.code == 2
    assert "merge_request_event" in job.stderr and "Traceback" not in job.stderr
    assert gitlab_job.notes() == []
    assert job.dotenv["THREATDELTA_VERDICT"] == "error"


def test_a_shallow_checkout_is_explained(gitlab_job: GitLabHarness) -> None:
    _, head = _start(gitlab_job)
    job = gitlab_job.run("d" * 40, head)
    assert job.code == 2
    assert 'GIT_DEPTH: "0"' in job.stderr
    (note,) = gitlab_job.notes()  # the note says the review could not run
    assert "could not review" in note.body


def test_a_broken_model_is_an_error_on_its_line_in_the_note_and_the_reports(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)
    gitlab_job.run(base, head)
    broken = gitlab_job.repo.commit(
        {"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS) + "  - {id: x, type: teapot}\n"},
        "break",
    )

    job = gitlab_job.run(base, broken)

    assert job.code == 2
    (note,) = gitlab_job.notes()
    assert (
        "could not review" in note.body
        and "✅" not in note.body
        and "❌ threatdelta" not in note.body
    )
    assert job.dotenv["THREATDELTA_VERDICT"] == "error"
    assert any(f["location"]["path"] == "threatmodel.yaml" for f in job.code_quality)


# --- faults -----------------------------------------------------------------------------------


def test_server_errors_are_retried_and_the_note_lands(gitlab_job: GitLabHarness) -> None:
    base, head = _start(gitlab_job)
    gitlab_job.fake.inject("POST", NOTES, 502, times=2)
    job = gitlab_job.run(base, head)
    assert job.code == 1 and len(gitlab_job.notes()) == 1
    assert job.stdout.count("GitLab answered 502") == 2


def test_429_is_honoured_with_retry_after(gitlab_job: GitLabHarness) -> None:
    base, head = _start(gitlab_job)
    gitlab_job.fake.inject("GET", NOTES, 429, headers={"Retry-After": "17"})
    job = gitlab_job.run(base, head)
    assert "retrying in 17s" in job.stdout
    assert len(gitlab_job.notes()) == 1


def test_a_read_only_token_falls_back_to_the_log_and_the_reports(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)
    writable = gitlab_job.run(base, head)
    gitlab_job.fake.set_user("glpat-reporter-readonly", "reporter", read_only=True)

    readonly = gitlab_job.run(base, head, token="glpat-reporter-readonly")

    assert (readonly.code, readonly.dotenv["THREATDELTA_UNADDRESSED"]) == (
        writable.code,
        writable.dotenv["THREATDELTA_UNADDRESSED"],
    )
    assert readonly.stdout.count(READONLY_LINE) == 1
    assert readonly.dotenv["THREATDELTA_NOTE_URL"] == ""
    assert "process-tampering@log-service" in readonly.markdown
    assert "Not everything could be published" in readonly.markdown
    assert "threatmodel.yaml:" in readonly.stdout  # the findings are in the job log
    assert readonly.code_quality == writable.code_quality


def test_without_a_token_it_says_the_job_token_cannot_write_notes(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)
    job = gitlab_job.run(base, head, token=None)
    assert job.code == 1
    assert "CI_JOB_TOKEN is there, but it cannot write merge-request notes" in job.stderr
    assert gitlab_job.fake.requests == []


def test_gitlab_down_keeps_the_verdict(gitlab_job: GitLabHarness) -> None:
    base = gitlab_job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = gitlab_job.repo.commit({"threatmodel.yaml": model(description="Reworded.")}, "reword")
    gitlab_job.open_merge_request(base, head)
    gitlab_job.fake.inject("*", r"/.*", 503, times=1000)
    job = gitlab_job.run(base, head)
    assert job.code == 0 and job.dotenv["THREATDELTA_VERDICT"] == "pass"
    assert "could not publish the merge-request note" in job.stdout


def test_unreachable_gitlab_keeps_the_verdict(gitlab_job: GitLabHarness) -> None:
    base, head = _start(gitlab_job)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/v4"
    job = gitlab_job.run(base, head, env={"CI_API_V4_URL": closed})
    assert job.code == 1
    assert "could not connect to GitLab" in job.stdout


def test_the_tokens_never_appear_in_anything_the_job_writes(gitlab_job: GitLabHarness) -> None:
    base, head = _start(gitlab_job)
    gitlab_job.fake.inject("POST", NOTES, 500, times=1)
    jobs = [
        gitlab_job.run(base, head),
        gitlab_job.run(base, "d" * 40),  # bad input
        gitlab_job.run(base, head, env={"THREATDELTA_COMMENT_MODE": "sideways"}),
        gitlab_job.run(base, head, token="glpat-unknown-" + TOKEN),  # 401
    ]
    for job in jobs:
        assert TOKEN not in job.everything and JOB_TOKEN not in job.everything
    assert {r.token for r in gitlab_job.fake.requests} >= {TOKEN}


# --- untrusted text ----------------------------------------------------------------------------


def test_model_text_cannot_reference_mention_or_run_quick_actions(
    gitlab_job: GitLabHarness,
) -> None:
    hostile = ["/merge", "!1 and #2", "~bug %v1.0 $3 &4", "@group/team", "[[_TOC_]]"]
    elements = "".join(
        f'  - {{id: bad-{i}, name: "{name}", type: process, kind: web-service, boundary: device,\n'
        f'     description: "{name}"}}\n'
        for i, name in enumerate(hostile)
    )
    flows = "".join(
        f'  - {{id: bad-flow-{i}, name: "{name}", from: controller, to: bad-{i}, protocol: tcp}}\n'
        for i, name in enumerate(hostile)
    )
    base = gitlab_job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = gitlab_job.repo.commit(
        {"threatmodel.yaml": model(elements, flows, system="/close")}, "hostile"
    )
    gitlab_job.open_merge_request(base, head)

    assert gitlab_job.run(base, head).code == 1
    (note,) = gitlab_job.notes()
    body = note.body
    assert "bad-0" in body
    outside_code = re.sub(r"```.*?```", "", body, flags=re.S)
    outside_code = re.sub(r"<code>[^<]*</code>|(?<!\\)`[^`\n]*`", "", outside_code)
    # no line starts with a quick action
    assert not any(line.lstrip().startswith("/") for line in outside_code.splitlines())
    # no GitLab reference or mention survives outside code
    for pattern in (
        r"(?<![\w\\])[!#$&]\d",
        r"(?<![\w\\])~[a-z]",
        r"(?<![\w\\])%v",
        r"(?<![\w])@[a-z]",
    ):
        assert re.search(pattern, outside_code) is None, pattern
    assert "[[_TOC_]]" not in outside_code


def test_a_gitlab_that_never_answers_is_left_at_the_deadline_with_the_verdict_on_record(
    gitlab_job: GitLabHarness,
) -> None:
    base, head = _start(gitlab_job)
    gitlab_job.fake.inject_silence("POST", NOTES)
    job = gitlab_job.run(base, head, env={"THREATDELTA_PUBLISH_DEADLINE": "2"})
    assert job.code == 1
    assert job.dotenv["THREATDELTA_VERDICT"] == "fail"
    assert "within the 2s allowed for publishing" in job.stdout
    assert "process-tampering@log-service" in job.markdown


def test_a_review_too_long_for_github_fits_gitlabs_note_limit(gitlab_job: GitLabHarness) -> None:
    n = 200
    elements = "".join(
        f"  - {{id: p{i}, name: Process {i}, type: process, kind: web-service, boundary: device}}\n"
        for i in range(n)
    )
    flows = "".join(
        f"  - {{id: f{i}, from: p{i}, to: p{(i + 1) % n}, protocol: tcp}}\n"
        f"  - {{id: g{i}, from: nurse, to: p{i}, protocol: udp}}\n"
        for i in range(n)
    )
    base = gitlab_job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = gitlab_job.repo.commit({"threatmodel.yaml": model(elements, flows)}, "huge")
    gitlab_job.open_merge_request(base, head)

    job = gitlab_job.run(base, head)

    keys = [t["id"] for m in job.report["models"] for t in m["unaddressed"]]
    assert len(keys) > 2000
    (note,) = gitlab_job.notes()
    assert 65_536 < len(note.body) <= NOTE_LIMIT
    assert "GitHub" not in note.body
    in_note = [k for k in keys if f"`{k}`" in note.body or f"<code>{k}</code>" in note.body]
    assert len(in_note) == len(keys)  # GitHub's comment shows under a tenth of them
    # what did not fit (the diagram, the paste block) is named, with where to find it
    assert "Left out to fit GitLab's comment limit" in note.body
    assert "The job's threatdelta-report.md artifact has the full report" in note.body
    assert all(k in job.markdown for k in keys)
