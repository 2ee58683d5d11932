"""Decisions files beside models whose own format cannot hold threatdelta's decisions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.review.conftest import GitRepo

from threatdelta.cli import main
from threatdelta.errors import InputError, InputErrors
from threatdelta.formats.registry import read_model
from threatdelta.formats.sidecar import decisions_path, read_decisions

FIXTURES = Path(__file__).parent / "fixtures"
DRAGON = FIXTURES / "dragon" / "pump-v2.json"
TODAY = "2026-11-25"


def _accepting(keys: list[str], who: str = "security-lead") -> str:
    lines = ["version: 1", "threats:"]
    for key in keys:
        lines += [
            f"  {json.dumps(key)}:",
            "    status: accepted",
            "    justification: The pump only talks to the hospital gateway over a cable.",
            f"    approved_by: {who}",
        ]
    return "\n".join(lines) + "\n"


def _check_json(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, dict[str, Any]]:
    code = main(["check", str(path), "--format", "json", "--today", TODAY])
    return code, json.loads(capsys.readouterr().out)


def test_decisions_path_is_named_after_the_whole_model_file() -> None:
    assert decisions_path("models/pump.json") == "models/pump.json.threatdelta.yaml"


def test_a_dragon_model_passes_check_once_its_decisions_file_addresses_every_threat(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = tmp_path / "pump.json"
    shutil.copy(DRAGON, model)
    code, before = _check_json(capsys, model)
    open_keys = [t["id"] for t in before["threats"] if not t["addressed"]]
    assert code == 1 and open_keys
    (tmp_path / "pump.json.threatdelta.yaml").write_text(_accepting(open_keys))
    code, after = _check_json(capsys, model)
    assert code == 0
    assert after["summary"]["unaddressed"] == 0
    decided = {t["id"]: t for t in after["threats"]}
    assert {decided[k]["status"] for k in open_keys} == {"accepted"}


def test_a_dragon_model_is_reviewed_to_a_passing_gate_with_decisions_recorded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("README.md", "pump\n")
    empty = repo.commit("start")
    (repo.root / "pump.json").write_bytes(DRAGON.read_bytes())
    model_only = repo.commit("add the Threat Dragon model")

    def review(base: str, head: str) -> tuple[int, dict[str, Any]]:
        args = ["-C", str(repo.root), "--base", base, "--head", head, "pump.json"]
        code = main(["review", *args, "--format", "json", "--today", TODAY])
        return code, json.loads(capsys.readouterr().out)

    code, first = review(empty, model_only)
    assert code == 1
    open_keys = sorted(t["id"] for t in first["unaddressed"])
    assert open_keys

    repo.write("pump.json.threatdelta.yaml", _accepting(open_keys))
    decided = repo.commit("record the decisions")
    code, second = review(model_only, decided)
    assert code == 0
    # The decisions file is part of the model's review: its entries are status changes.
    assert sorted(t["id"] for t in second["transitions"]) == open_keys
    assert {(t["from"], t["to"]) for t in second["transitions"]} == {("open", "accepted")}
    code, whole = review(empty, decided)
    assert code == 0 and whole["unaddressed"] == []

    # Taking a decision back is a regression the gate sees.
    repo.write("pump.json.threatdelta.yaml", _accepting(open_keys[1:]))
    undone = repo.commit("drop one decision")
    code, third = review(decided, undone)
    assert code == 1
    assert [r["id"] for r in third["regressions"]] == [open_keys[0]]


def test_mistakes_in_a_decisions_file_are_located() -> None:
    text = b"threats:\n  td:t-1:\n    status: acepted\n"
    with pytest.raises(InputError) as caught:
        read_decisions(text, "pump.json.threatdelta.yaml")
    location = caught.value.location
    assert location is not None
    assert (location.path, location.line) == ("pump.json.threatdelta.yaml", 3)
    assert "acepted" in caught.value.message


def test_a_decisions_file_holds_only_controls_and_threats() -> None:
    with pytest.raises(InputError, match="unknown key 'elements'"):
        read_decisions(b"elements: []\n", "x.json.threatdelta.yaml")


def test_a_control_defined_twice_is_refused() -> None:
    # The Dragon reader defines a control for each Mitigated threat's text.
    data = DRAGON.read_bytes()
    model = read_model(data, "pump.json").model
    assert model.controls
    clash = model.controls[0].id
    sidecar = f"controls:\n  - {{id: {json.dumps(clash)}, name: Again, status: planned}}\n"
    with pytest.raises(InputError, match="already defined by the model"):
        read_model(data, "pump.json", decisions=sidecar.encode())


def test_the_decisions_file_wins_over_the_files_own_status_and_says_so() -> None:
    data = DRAGON.read_bytes()
    model = read_model(data, "pump.json").model
    decided = next(k for k, d in model.dispositions.items() if d.status == "not-applicable")
    parsed = read_model(data, "pump.json", decisions=_accepting([decided]).encode())
    assert parsed.model.dispositions[decided].status == "accepted"
    assert any("the decisions file's accepted is used" in w for w in parsed.warnings)


def test_a_native_model_ignores_a_decisions_file_with_a_warning(tmp_path: Path) -> None:
    native = (FIXTURES / "native" / "infusion_pump.yaml").read_bytes()
    parsed = read_model(native, "threatmodel.yaml", decisions=_accepting(["x@y"]).encode())
    assert "x@y" not in parsed.model.dispositions
    assert any("ignored" in w for w in parsed.warnings)


def test_a_decisions_file_is_never_read_as_a_model() -> None:
    with pytest.raises(InputError, match="decisions file, not a model"):
        read_model(b"threats: {}\n", "pump.json.threatdelta.yaml")


def test_mistakes_in_a_decisions_file_are_reported_top_to_bottom() -> None:
    text = b"threats:\n  td:b:\n    status: acepted\n  td:a:\n    status: nope\n"
    with pytest.raises(InputErrors) as caught:
        read_decisions(text, "pump.json.threatdelta.yaml")
    lines = [e.location.line for e in caught.value.errors if e.location is not None]
    assert lines == [3, 5]
    assert "acepted" in caught.value.errors[0].message
