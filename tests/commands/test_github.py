"""``threatdelta github``: arguments, settings, and what goes wrong before anything is reviewed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, REPO, Harness, model, pull_request_event
from tests.fakegithub import FakeGitHub
from tests.fakegithub.fixture import fake_github  # noqa: F401

from threatdelta.cli import main

PACK = """\
version: 1
name: Only stores
rules:
  - id: store-read
    stride: I
    scope: element
    title: "{element.name} could be read"
    include: "element is 'GE.DS'"
    severity: low
"""


@pytest.fixture
def harness(
    tmp_path: Path,
    fake_github: FakeGitHub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Harness:
    return Harness(tmp_path, fake_github, monkeypatch, capsys)


def _start(
    h: Harness,
    base_files: dict[str, str | None] | None = None,
    head_files: dict[str, str | None] | None = None,
) -> tuple[str, str]:
    base = h.repo.commit({"threatmodel.yaml": model(), **(base_files or {})}, "base")
    head = h.repo.commit(
        {"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS), **(head_files or {})}, "head"
    )
    h.open_pull(base, head)
    return base, head


def test_outside_github_actions_it_says_so_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_NAME", raising=False)
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    assert main(["github"]) == 2
    err = capsys.readouterr().err
    assert "runs inside a GitHub Actions job" in err and "Traceback" not in err


def test_help_names_every_input_variable_and_no_token_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "2000")  # no line wrapping inside the words looked for
    with pytest.raises(SystemExit) as exited:
        main(["github", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for name in (
        "INPUT_MODELS",
        "INPUT_CONFIG",
        "INPUT_FAIL_ON",
        "INPUT_COMMENT_MODE",
        "INPUT_RULES",
        "INPUT_CHECK_RUN",
        "INPUT_COMMENT_NAME",
    ):
        assert name in text
    assert "--token" not in text
    assert "fetch-depth: 0" in text


def test_the_json_report_is_the_review_commands_json(harness: Harness) -> None:
    base, head = _start(harness)
    result = harness.run(base, head, args=["--today", "2026-01-01"])
    harness.monkeypatch.chdir(harness.repo.root)
    assert (
        main(
            ["review", "--base", base, "--head", head, "--format", "json", "--today", "2026-01-01"]
        )
        == 1
    )
    assert json.loads(harness.capsys.readouterr().out) == json.loads(
        result.report_path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    )


def test_report_flag_chooses_the_file(harness: Harness) -> None:
    base, head = _start(harness)
    target = harness.tmp / "out" / "report.json"
    result = harness.run(base, head, args=["--report", str(target)])
    assert result.outputs["report-path"] == str(target)
    assert json.loads(target.read_text(encoding="utf-8"))["head"] == head


def test_pull_request_is_judged_by_the_base_settings_and_shows_its_own_edit(
    harness: Harness,
) -> None:
    lax = "policy: [none]\n"
    base, head = _start(
        harness, base_files={".threatdelta.yml": lax}, head_files={".threatdelta.yml": None}
    )
    result = harness.run(base, head)
    assert result.code == 0  # the base's settings judge; removing them takes effect after merge
    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert [c["setting"] for c in report["gate_settings_changed"]] == ["settings", "policy"]
    (comment,) = harness.comments()
    assert "Gate settings changed" in comment.body
    assert "the change deletes .threatdelta.yml" in comment.body


def test_pull_request_cannot_loosen_its_own_gate(harness: Harness) -> None:
    base, head = _start(harness, head_files={".threatdelta.yml": "policy: [none]\n"})
    result = harness.run(base, head)
    assert result.code == 1


def test_pull_request_target_reads_settings_from_the_base_commit(harness: Harness) -> None:
    strict = "policy: [unaddressed]\n"
    base, head = _start(
        harness,
        base_files={".threatdelta.yml": strict},
        head_files={".threatdelta.yml": "policy: [none]\n"},
    )
    result = harness.run(base, head, event_name="pull_request_target")
    assert result.code == 1  # the pull request cannot loosen the gate it is judged by


def test_settings_choose_models_and_comment_behaviour(harness: Harness) -> None:
    settings = "models: [design/*.yaml]\ncomment: {name: design, mode: 'off'}\n"
    base = harness.repo.commit({".threatdelta.yml": settings, "design/a.yaml": model()}, "base")
    head = harness.repo.commit({"design/a.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "head")
    harness.open_pull(base, head)
    result = harness.run(base, head)
    assert result.code == 1
    assert harness.comments() == []
    assert (
        result.report_path is not None
        and result.report_path.name == "threatdelta-report-design.json"
    )
    assert "design/a.yaml" in result.summary
    # inputs win over the settings
    harness.run(base, head, env={"INPUT_COMMENT_MODE": "update"})
    assert len(harness.comments()) == 1


def test_rules_input_replaces_the_pack(harness: Harness) -> None:
    base, head = _start(harness)
    (harness.repo.root / "pack.yaml").write_text(PACK, encoding="utf-8")
    result = harness.run(base, head, env={"INPUT_RULES": "pack.yaml"})
    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert [t["id"] for m in report["models"] for t in m["new"]] == ["store-read@dose-log"]
    assert result.code == 1


def test_a_missing_rules_file_is_bad_input(harness: Harness) -> None:
    base, head = _start(harness)
    result = harness.run(base, head, env={"INPUT_RULES": "nope.yaml"})
    assert result.code == 2
    assert "nope.yaml" in result.stderr and "no such file" in result.stderr


def test_a_workspace_without_git_names_the_checkout_step(harness: Harness) -> None:
    base, head = _start(harness)
    empty = harness.tmp / "empty"
    empty.mkdir()
    result = harness.run(base, head, env={"GITHUB_WORKSPACE": str(empty)})
    assert result.code == 2
    assert "actions/checkout" in result.stderr


def test_a_bad_wait_scale_is_bad_input(harness: Harness) -> None:
    base, head = _start(harness)
    result = harness.run(base, head, env={"THREATDELTA_WAIT_SCALE": "-1"})
    assert result.code == 2 and "THREATDELTA_WAIT_SCALE" in result.stderr


def test_a_bad_event_file_is_bad_input_and_posts_nothing(harness: Harness) -> None:
    folder = harness.prepare("pull_request", b"{ not json")
    result = harness.collect(folder, main(["github"]))
    assert result.code == 2
    assert "event payload is not JSON" in result.stderr
    assert harness.fake.requests == []
    assert result.outputs["verdict"] == "error"


def test_the_pull_request_number_and_repository_come_from_the_event(harness: Harness) -> None:
    base, head = _start(harness)
    payload = pull_request_event(base, head, number=99)
    harness.fake.add_pull(REPO, 99, head_sha=head, base_sha=base)
    folder = harness.prepare("pull_request", payload)
    harness.collect(folder, main(["github"]))
    assert len(harness.fake.comments(REPO, 99)) == 1
    assert harness.comments() == []


def test_an_event_path_that_is_a_folder_is_called_a_folder_not_a_model(
    harness: Harness,
) -> None:
    base, head = _start(harness)
    result = harness.run(base, head, env={"GITHUB_EVENT_PATH": str(harness.tmp)})
    assert result.code == 2
    assert "is a folder, not a GitHub event file" in result.stderr
    assert "model file" not in result.stderr
