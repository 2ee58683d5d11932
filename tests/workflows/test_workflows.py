"""The action and the workflows are valid, and safe in the ways that matter: inputs reach scripts
only through ``env:``, tokens stay least-privileged, and pull-request code is never checked out
where a write token is."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from threatdelta.action.inputs import INPUTS
from threatdelta.cli import main
from threatdelta.commands.github import OUTPUT_NAMES
from threatdelta.config import COMMENT_MODES

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
DOCS = ROOT / "docs" / "github-action.md"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in data:
        return list(data["runs"]["steps"])
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def _workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def _docs_workflows() -> list[dict[str, Any]]:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    return [
        _load_text(b)
        for b in blocks
        if re.search(r"^on:", b, re.M) and re.search(r"^jobs:", b, re.M)
    ]


def _load_text(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    if True in data:
        data["on"] = data.pop(True)
    return data  # type: ignore[no-any-return]


# --- action.yml ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return _load(ROOT / "action.yml")


def test_action_is_a_composite_with_the_documented_inputs_and_outputs(
    action: dict[str, Any],
) -> None:
    assert action["runs"]["using"] == "composite"
    assert action["name"] and action["description"]
    assert set(action["inputs"]) == {spec.name for spec in INPUTS} | {
        "github-token",
        "python-version",
    }
    for name, spec in action["inputs"].items():
        assert spec.get("description"), name
        assert spec.get("required", False) is False, name
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert action["inputs"]["python-version"]["default"] == "3.12"
    assert action["inputs"]["check-run"]["default"] == "false"
    for mode in COMMENT_MODES:
        assert mode in action["inputs"]["comment-mode"]["description"]
    assert set(action["outputs"]) == set(OUTPUT_NAMES)
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.review.outputs.{name} }}}}"


def test_action_scripts_take_every_value_from_env_never_from_an_expression(
    action: dict[str, Any],
) -> None:
    runs = [s for s in _steps(action) if "run" in s]
    assert runs
    for step in runs:
        assert step["shell"] == "bash", step["name"]
        assert EXPRESSION.search(step["run"]) is None, step["name"]


def test_every_input_reaches_threatdelta_under_the_variable_it_reads(
    action: dict[str, Any],
) -> None:
    review = next(s for s in _steps(action) if s.get("id") == "review")
    env = review["env"]
    for spec in INPUTS:
        assert env[spec.env] == f"${{{{ inputs.{spec.name} }}}}"
    assert env["INPUT_GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    assert re.fullmatch(r'"\$TD_BIN/threatdelta" github\s*', review["run"])


def test_action_installs_itself_into_a_venv_under_the_runner_temp(action: dict[str, Any]) -> None:
    steps = _steps(action)
    python = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "${{ inputs.python-version }}"
    assert python["with"]["update-environment"] is False  # the job's own Python is left alone
    install = next(s for s in steps if s.get("id") == "install")
    assert install["env"]["TD_ACTION_PATH"] == "${{ github.action_path }}"
    assert install["env"]["TD_RUNNER_TEMP"] == "${{ runner.temp }}"
    assert install["env"]["TD_PYTHON"] == f"${{{{ steps.{python['id']}.outputs.python-path }}}}"
    assert '"$TD_PYTHON" -m venv "$venv"' in install["run"]
    assert 'venv="$TD_RUNNER_TEMP/threatdelta-venv"' in install["run"]
    assert 'pip install --quiet --disable-pip-version-check "$TD_ACTION_PATH"' in install["run"]
    assert steps.index(python) < steps.index(install)


def test_expressions_in_the_action_name_only_inputs_and_trusted_contexts(
    action: dict[str, Any],
) -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    for expression in EXPRESSION.findall(text):
        assert re.fullmatch(
            r"\s*(inputs\.[a-z-]+|github\.(token|action_path)|runner\.temp|"
            r"steps\.[a-z]+\.outputs\.[a-z-]+)\s*",
            expression,
        ), expression


# --- workflows ----------------------------------------------------------------------------


def test_every_workflow_parses_and_has_jobs_with_steps() -> None:
    files = _workflow_files()
    assert {f.name for f in files} >= {"threat-review.yml"}
    for path in files:
        data = _load(path)
        assert data.get("on"), path
        for name, job in data["jobs"].items():
            assert job.get("runs-on"), (path, name)
            assert job.get("steps"), (path, name)


def test_no_workflow_runs_on_pull_request_target() -> None:
    for path in _workflow_files():
        assert "pull_request_target" not in _load(path)["on"], path


def test_no_workflow_script_interpolates_event_text() -> None:
    for path in _workflow_files():
        for step in _steps(_load(path)):
            for expression in EXPRESSION.findall(step.get("run", "")):
                assert "github.event" not in expression and "inputs." not in expression, path


def test_threat_review_runs_this_action_with_least_privilege() -> None:
    data = _load(WORKFLOWS / "threat-review.yml")
    assert list(data["on"]) == ["pull_request"]
    assert data["permissions"] == {"contents": "read", "pull-requests": "write"}
    (job,) = data["jobs"].values()
    assert "permissions" not in job
    checkout, review = job["steps"]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False
    assert review["uses"] == "./"
    assert review["with"]["models"] == "threatmodel.yaml"
    assert (ROOT / review["with"]["models"]).is_file()
    # no check run requested, so no checks: write
    assert str(review["with"].get("check-run", "false")).lower() == "false"


# --- the documented quick start -----------------------------------------------------------


def test_the_documented_workflows_are_complete_and_safe() -> None:
    workflows = _docs_workflows()
    assert workflows, "docs/github-action.md has no complete workflow"
    for data in workflows:
        jobs = list(data["jobs"].values())
        steps = [s for job in jobs for s in job["steps"]]
        checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["fetch-depth"] == 0
        uses = [s for s in steps if "threatdelta" in s.get("uses", "")]
        assert uses, "the workflow does not use the action"
        permissions = data.get("permissions") or jobs[0].get("permissions")
        assert permissions["contents"] == "read"
        assert permissions["pull-requests"] == "write"
        wants_checks = any(
            str(s.get("with", {}).get("check-run", "")).lower() == "true" for s in uses
        )
        assert ("checks" in permissions) == wants_checks
        if "pull_request_target" in data["on"]:
            # the base branch is checked out, and nothing from the pull request ever is
            assert "ref" not in checkout.get("with", {})
            for step in steps:
                assert "github.event.pull_request.head" not in str(step.get("with", {}))


def test_the_documented_inputs_table_lists_every_input_and_output(action: dict[str, Any]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in text, name


# --- the model the workflow reviews ---------------------------------------------------------


def test_threatdeltas_own_model_has_every_threat_addressed_with_real_evidence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    code = main(
        [
            "check",
            "threatmodel.yaml",
            "--format",
            "json",
            "--fail-on",
            "open",
            "--today",
            "2026-06-01",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["summary"]["unaddressed"] == 0 and data["summary"]["total"] > 40
    assert [t["id"] for t in data["threats"] if t["problems"]] == []
    assert data["orphaned_dispositions"] == []
    text = (ROOT / "threatmodel.yaml").read_text(encoding="utf-8")
    for evidence in set(re.findall(r"tests/[\w/]+\.py", text)):
        assert (ROOT / evidence).is_file(), evidence
