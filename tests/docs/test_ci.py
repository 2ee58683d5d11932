"""docs/ci.md: the generic CI gate, run exactly as documented on real repositories."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, GitRepo, model

from threatdelta.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ci.md"
BIN = Path(sys.executable).parent


def _gate_script() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## The commands", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None, "docs/ci.md has no sh block under 'The commands'"
    return match.group(1)


def _clone_with_change(tmp: Path, head_model: str) -> Path:
    """An upstream with the base model on main, and a clone with ``head_model`` on a branch."""
    upstream = GitRepo(tmp / "upstream")
    upstream.commit({"threatmodel.yaml": model()}, "base")
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", str(upstream.root), str(clone)], check=True)
    work = GitRepo(clone)  # an existing repository: init leaves it as it is
    work.git("checkout", "-q", "-b", "change")
    work.commit({"threatmodel.yaml": head_model}, "the change")
    return clone


def _run_gate(clone: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TARGET_BRANCH": "main",
    }
    return subprocess.run(
        ["sh", "-c", _gate_script()],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_change_with_unaddressed_threats_fails_the_build_and_leaves_the_artefacts(
    tmp_path: Path,
) -> None:
    clone = _clone_with_change(tmp_path, model(LOG_ELEMENTS, LOG_FLOWS))
    result = _run_gate(clone)
    assert result.returncode == 1, result.stderr
    report = (clone / "threatdelta-report.md").read_text(encoding="utf-8")
    assert "process-tampering@log-service" in report
    sarif = json.loads((clone / "threatdelta.sarif").read_text(encoding="utf-8"))
    results = sarif["runs"][0]["results"]
    assert any(
        r["partialFingerprints"].get("threatKey") == "process-tampering@log-service"
        for r in results
    )
    assert all(
        loc["physicalLocation"]["artifactLocation"]["uri"] == "threatmodel.yaml"
        for r in results
        for loc in r["locations"]
    )
    data = json.loads((clone / "threatdelta-report.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "fail"


def test_a_harmless_change_passes(tmp_path: Path) -> None:
    clone = _clone_with_change(tmp_path, model(description="Reworded."))
    result = _run_gate(clone)
    assert result.returncode == 0, result.stderr
    assert (clone / "threatdelta.sarif").is_file()


def test_a_broken_model_is_exit_2_with_its_line(tmp_path: Path) -> None:
    clone = _clone_with_change(tmp_path, model() + "  - {id: oops, type: teapot}\n")
    result = _run_gate(clone)
    assert result.returncode == 2
    assert "threatmodel.yaml:13:5:" in result.stderr


def test_the_code_quality_format_for_branch_pipelines(tmp_path: Path) -> None:
    clone = _clone_with_change(tmp_path, model(LOG_ELEMENTS, LOG_FLOWS))
    out = clone / "cq.json"
    args = ["-C", str(clone), "--base", "origin/main", "--format", "codequality", "-o", str(out)]
    assert main(["review", *args]) == 1
    findings = json.loads((clone / "cq.json").read_text(encoding="utf-8"))
    assert any("process-tampering@log-service" in f["description"] for f in findings)
    assert {f["location"]["path"] for f in findings} == {"threatmodel.yaml"}


def test_the_junit_format_for_ci_test_reports(tmp_path: Path) -> None:
    clone = _clone_with_change(tmp_path, model(LOG_ELEMENTS, LOG_FLOWS))
    out = clone / "junit.xml"
    args = ["-C", str(clone), "--base", "origin/main", "--format", "junit", "-o", str(out)]
    assert main(["review", *args]) == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "process-tampering@log-service" in text
    assert 'failures="0"' not in text
