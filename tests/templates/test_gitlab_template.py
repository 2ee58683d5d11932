"""templates/threatdelta.gitlab-ci.yml: a merge-request job whose script really runs, and whose
artifacts are the files ``threatdelta gitlab`` writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from tests.e2e.gitlab_harness import MR, PROJECT, TOKEN
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, GitRepo, model
from tests.fakegitlab import FakeGitLab
from tests.fakegitlab.fixture import fake_gitlab  # noqa: F401

from threatdelta.commands.gitlab import ENV_PREFIX, OPTIONS
from threatdelta.host.gitlab_ci import (
    CODE_QUALITY_FILE,
    DOTENV_FILE,
    JSON_FILE,
    JUNIT_FILE,
    MARKDOWN_FILE,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "threatdelta.gitlab-ci.yml"
DOCS = ROOT / "docs" / "gitlab.md"


def _template() -> dict[str, Any]:
    data = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_job_runs_only_in_merge_request_pipelines_with_the_whole_history() -> None:
    data = _template()
    job = data[".threatdelta"]
    assert data["threatdelta"] == {"extends": ".threatdelta"}
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["variables"]["GIT_DEPTH"] == "0"
    assert any("threatdelta gitlab" in line for line in job["script"])
    # the token is never written into the template: it comes from a masked CI/CD variable
    assert "THREATDELTA_GITLAB_TOKEN" not in job["variables"]


def test_the_artifacts_are_the_files_the_command_writes() -> None:
    artifacts = _template()[".threatdelta"]["artifacts"]
    assert artifacts["when"] == "always"  # a failing verdict still uploads its reports
    assert artifacts["reports"] == {
        "codequality": CODE_QUALITY_FILE,
        "junit": JUNIT_FILE,
        "dotenv": DOTENV_FILE,
    }
    assert set(artifacts["paths"]) == {MARKDOWN_FILE, JSON_FILE}


def test_the_documentation_names_every_variable_and_the_permissions() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for spec in OPTIONS:
        assert f"{ENV_PREFIX}{spec.name.upper().replace('-', '_')}" in text
    for name in (
        "THREATDELTA_GITLAB_TOKEN",
        "CI_JOB_TOKEN",
        "api",
        "Reporter",
        "CI_MERGE_REQUEST_IID",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA",
        "CI_COMMIT_SHA",
        "CI_PROJECT_ID",
        "CI_API_V4_URL",
        "CI_SERVER_URL",
        "GIT_DEPTH",
        "templates/threatdelta.gitlab-ci.yml",
    ):
        assert name in text, name
    assert "templates/threatdelta.gitlab-ci.yml" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_script_runs_as_written_against_a_merge_request(
    tmp_path: Path,
    fake_gitlab: FakeGitLab,  # noqa: F811
) -> None:
    repo = GitRepo(tmp_path / "builds" / "syringe")
    base = repo.commit({"threatmodel.yaml": model()}, "base")
    head = repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "add a dose log")
    fake_gitlab.add_project(PROJECT, "medtech/syringe")
    fake_gitlab.add_merge_request(PROJECT, MR, head_sha=head, base_sha=base)
    fake_gitlab.set_user(TOKEN, "project_bot")
    job = _template()[".threatdelta"]
    # the job's own virtual environment is this one: pip install is the only step not run here
    bin_dir = str(Path(sys.executable).parent) + "/"
    script = [line.replace("/tmp/threatdelta/bin/", bin_dir) for line in job["script"]]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CI_", "THREATDELTA_"))},
        **{k: str(v) for k, v in job["variables"].items()},
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": str(MR),
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_COMMIT_SHA": head,
        "CI_PROJECT_ID": str(PROJECT),
        "CI_API_V4_URL": fake_gitlab.api_url,
        "CI_SERVER_URL": fake_gitlab.url,
        "CI_PROJECT_DIR": str(repo.root),
        "THREATDELTA_GITLAB_TOKEN": TOKEN,
        "THREATDELTA_WAIT_SCALE": "0",
    }
    result = subprocess.run(
        ["sh", "-ec", "\n".join(script)],
        cwd=repo.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr  # the verdict is the job's exit code
    assert len(fake_gitlab.notes(PROJECT, MR)) == 1
    artifacts = job["artifacts"]
    for name in [*artifacts["paths"], *artifacts["reports"].values()]:
        assert (repo.root / name).is_file(), name
    assert TOKEN not in result.stdout + result.stderr
