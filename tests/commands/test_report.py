"""``threatdelta report`` from the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from tests.history.gitrepo import PACK, GitRepo, scripted_history

from threatdelta.cli import main


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_history(tmp_path_factory.mktemp("scripted") / "repo")


def test_html_to_a_file_by_default(
    scripted: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.html"
    code = main(
        [
            "report",
            "models/pump.yaml",
            "-C",
            str(scripted.root),
            "--rules",
            str(PACK),
            "-o",
            str(target),
        ]
    )
    assert code == 0 and capsys.readouterr().out == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "missing: broken link</span> <code>tests/test_auth.py</code>" in page


def test_csv_at_an_older_revision(scripted: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "report",
            "model.yaml",
            "--rev",
            "v1.0",
            "-C",
            str(scripted.root),
            "--rules",
            str(PACK),
            "--format",
            "csv",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["verdict"] for r in rows if r["threat"] == "spoof@user"} == {"evidenced"}
    assert {r["revision_date"] for r in rows} == {"2025-01-05"}


def test_markdown_with_today(scripted: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "report",
            "models/pump.yaml",
            "-C",
            str(scripted.root),
            "--rules",
            str(PACK),
            "--format",
            "markdown",
            "--today",
            "2026-06-01",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Justifications judged as of 2026-06-01" in out
    assert "❌ expired 2026-01-01" in out


def test_errors_exit_2(scripted: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "model.yaml", "-C", str(scripted.root)]) == 2
    assert "model.yaml: does not exist at HEAD" in capsys.readouterr().err
    assert main(["report", "models/pump.yaml", "--rev", "nope", "-C", str(scripted.root)]) == 2
    assert "unknown revision 'nope'" in capsys.readouterr().err
    assert main(["report", "../elsewhere.yaml", "-C", str(scripted.root)]) == 2
    assert "is outside the repository" in capsys.readouterr().err
