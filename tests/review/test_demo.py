"""The README's first command: the bundled example reviewed as a pull request."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from threatdelta.cli import main

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo"] = module
    spec.loader.exec_module(module)
    return module


def test_the_demo_comment_shows_exactly_what_the_change_did(
    demo: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "pump"
    demo.build_demo_repo(repo)
    common = ["-C", str(repo), "--today", demo.REVIEW_DATE]
    assert main(["check", str(repo / "threatmodel.yaml"), "--today", demo.REVIEW_DATE]) == 1
    capsys.readouterr()  # the head has open threats; the base is checked through the review
    code = main(["review", *common, "--base", "main", "--head", "add-phone-app"])
    body = capsys.readouterr().out
    assert code == 1
    # the base is a model a regulated team keeps: nothing open, so every open threat is the change's
    assert "0 at base →" in body
    visible = body.split("<details>", 1)[0]
    # the gate's own settings: changed by the pull request, applied only after the merge
    assert "**Gate settings changed.**" in visible
    assert "'policy' adds approvers:app-developer" in visible
    # the acceptances in plain sight, the downgrade called so, the unlisted approver flagged
    assert "**Risk decisions in this change** (2)" in visible
    rows = {
        key: line
        for line in visible.splitlines()
        for key in (
            "fieldbus-spoofing@motor-commands",
            "radio-sniffing@app-status",
        )
        if line.startswith("| ") and key in line
    }
    assert "downgrade: was mitigated" in rows["fieldbus-spoofing@motor-commands"]
    assert "security-lead" in rows["fieldbus-spoofing@motor-commands"]
    assert "❌ not one of the approvers" in rows["radio-sniffing@app-status"]
    assert "❌" not in rows["fieldbus-spoofing@motor-commands"]
    assert "control 'watchdog' was removed" in visible
    assert "not one of the approvers (security-lead, quality-manager, service-manager)" in body
