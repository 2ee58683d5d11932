"""Only the threats whose conditions a change alters are in front of the gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.review.conftest import GitRepo

from threatdelta.cli import main

DRAGON = Path(__file__).resolve().parents[1] / "formats" / "fixtures" / "dragon" / "pump-v2.json"


def _set_flow(path: Path, flow: str, **data: Any) -> None:
    doc = json.loads(path.read_text())
    for diagram in doc["detail"]["diagrams"]:
        for cell in diagram["cells"]:
            if cell.get("id") == flow:
                cell["data"].update(data)
    path.write_text(json.dumps(doc, indent=2))


def _review(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    args = ["-C", str(repo.root), "--base", "HEAD~1", "--head", "HEAD", "pump.json"]
    main(["review", *args, "--format", "json", "--today", "2026-11-25"])
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_encrypting_a_dragon_flow_touches_only_the_threats_that_ask_about_encryption(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = GitRepo(tmp_path / "repo")
    shutil.copy(DRAGON, repo.root / "pump.json")
    repo.commit("base")
    _set_flow(repo.root / "pump.json", "f-dose", isEncrypted=True)
    repo.commit("encrypt the dose command")
    data = _review(repo, capsys)
    assert [r["threat"]["rule"] for r in data["resolved"]] == ["crossing-sniffing"]
    # The flow's other threats (denial of service, bus spoofing, the ones stored in the file)
    # read nothing the change altered: they stay out of the gate.
    assert data["unaddressed"] == []


def test_changing_the_protocol_touches_every_threat_of_the_flow_that_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = GitRepo(tmp_path / "repo")
    shutil.copy(DRAGON, repo.root / "pump.json")
    repo.commit("base")
    _set_flow(repo.root / "pump.json", "f-dose", protocol="HTTPS")
    repo.commit("the dose command moves to HTTPS")
    data = _review(repo, capsys)
    touched = {t["id"] for t in data["unaddressed"]}
    # The protocol is the flow's structure: every open threat of the flow is in front of the
    # gate, the stored Threat Dragon threat included.
    assert "td:f-dose/dose-command-altered-on-the-bus" in touched
    assert all("f-dose" in key for key in touched)
