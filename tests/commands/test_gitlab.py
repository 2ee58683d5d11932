"""``threatdelta gitlab``: its options, and python-gitlab staying out of every other command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.gitlab_harness import GitLabHarness
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, model
from tests.fakegitlab import FakeGitLab
from tests.fakegitlab.fixture import fake_gitlab  # noqa: F401

from threatdelta.cli import main


@pytest.fixture
def job(
    tmp_path: Path,
    fake_gitlab: FakeGitLab,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> GitLabHarness:
    return GitLabHarness(tmp_path, fake_gitlab, monkeypatch, capsys)


def test_python_gitlab_is_not_imported_until_the_command_runs() -> None:
    code = (
        "import sys\n"
        "from threatdelta.cli import build_parser\n"
        "build_parser().parse_args(['check'])\n"
        "print(sorted(m for m in sys.modules if m == 'gitlab' or m.startswith('gitlab.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


def test_help_names_each_variable_and_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["gitlab", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in (
        "THREATDELTA_MODELS",
        "THREATDELTA_FAIL_ON",
        "THREATDELTA_COMMENT_MODE",
        "THREATDELTA_COMMENT_NAME",
        "THREATDELTA_RULES",
        "THREATDELTA_CONFIG",
        "THREATDELTA_GITLAB_TOKEN",
        "CI_JOB_TOKEN cannot write notes",
    ):
        assert name in out, name
    assert "--check-run" not in out


def test_a_flag_wins_over_its_variable(job: GitLabHarness) -> None:
    base = job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = job.repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "head")
    job.open_merge_request(base, head)
    result = job.run(
        base, head, env={"THREATDELTA_FAIL_ON": "none"}, args=["--fail-on", "unaddressed"]
    )
    assert result.code == 1


def test_a_bad_option_is_exit_2_and_the_note_says_so(job: GitLabHarness) -> None:
    base = job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = job.repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "head")
    job.open_merge_request(base, head)
    result = job.run(base, head, env={"THREATDELTA_COMMENT_MODE": "sideways"})
    assert result.code == 2 and "sideways" in result.stderr
    (note,) = job.notes()
    assert "could not review" in note.body


def test_reports_go_where_asked(job: GitLabHarness, tmp_path: Path) -> None:
    base = job.repo.commit({"threatmodel.yaml": model()}, "base")
    head = job.repo.commit({"threatmodel.yaml": model(description="Reworded.")}, "head")
    job.open_merge_request(base, head)
    out = tmp_path / "reports"
    result = job.run(base, head, args=["--reports-dir", str(out), "--report", str(out / "r.json")])
    assert result.code == 0
    assert {p.name for p in out.iterdir()} == {
        "gl-code-quality-report.json",
        "threatdelta-junit.xml",
        "threatdelta.env",
        "threatdelta-report.md",
        "r.json",
    }
