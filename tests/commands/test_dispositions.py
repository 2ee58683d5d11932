"""``threatdelta dispositions`` as a user runs it for a first baseline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from threatdelta.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "infusion-pump"

MODEL = """\
version: 1
system: Pump
boundaries:
  - {id: device, name: Device, kind: device}
elements:
  - {id: nurse, name: Nurse, type: external-entity, kind: person}
  - {id: ctrl, name: Controller, type: process, kind: control-unit, boundary: device}
flows:
  - {id: dose, name: Dose entry, from: nurse, to: ctrl, protocol: ble}
"""


def _check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, dict]:
    code = main(["check", str(path), "--format", "json", "--today", "2026-11-25"])
    return code, json.loads(capsys.readouterr().out)


def test_the_printed_skeleton_appended_to_a_bare_model_parses_and_decides_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = tmp_path / "threatmodel.yaml"
    model.write_text(MODEL)
    _, before = _check(capsys, model)
    assert main(["dispositions", str(model), "--today", "2026-11-25"]) == 0
    skeleton = capsys.readouterr().out
    assert skeleton.count("status: open") == before["summary"]["unaddressed"] > 0
    model.write_text(MODEL + skeleton)
    code, after = _check(capsys, model)
    assert code == 1
    assert after["summary"]["unaddressed"] == before["summary"]["unaddressed"]
    assert after["orphaned_dispositions"] == []
    # the controls the entries name are all defined now (planned)
    assert not any(p["code"] == "unknown-control" for t in after["threats"] for p in t["problems"])


def test_deciding_every_entry_by_hand_then_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = tmp_path / "threatmodel.yaml"
    model.write_text(MODEL)
    main(["dispositions", str(model), "--today", "2026-11-25"])
    skeleton = capsys.readouterr().out
    decided = skeleton.replace("status: open  #", "status: mitigated  #")
    model.write_text(MODEL + decided)
    code, after = _check(capsys, model)
    assert code == 0 and after["summary"]["unaddressed"] == 0
    assert after["summary"]["mitigated"] == after["summary"]["total"]


def test_the_example_skeleton_leaves_every_open_threat_open(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "pump"
    shutil.copytree(EXAMPLE, folder)
    model = folder / "threatmodel.yaml"
    _, before = _check(capsys, model)
    main(["dispositions", str(model), "--today", "2026-11-25"])
    out = capsys.readouterr().out
    if before["summary"]["unaddressed"] == 0:
        assert "nothing to decide" in out
        return
    threats = out.split("under 'threats:':\n", 1)[1].split("\n# ", 1)[0]
    text = model.read_text().replace("\nthreats:\n", "\nthreats:\n" + threats)
    if "under 'controls:':\n" in out:
        controls = out.split("under 'controls:':\n", 1)[1].split("\n# ", 1)[0]
        text = text.replace("\ncontrols:\n", "\ncontrols:\n" + controls)
    model.write_text(text)
    code, after = _check(capsys, model)
    assert code == 1
    assert after["summary"]["unaddressed"] == before["summary"]["unaddressed"]


def test_another_tools_model_gets_a_skeleton_for_its_decisions_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dragon = tmp_path / "pump.json"
    shutil.copy(REPO / "tests" / "formats" / "fixtures" / "dragon" / "pump-v1.json", dragon)
    _, before = _check(capsys, dragon)
    assert main(["dispositions", str(dragon), "--today", "2026-11-25"]) == 0
    skeleton = capsys.readouterr().out
    assert f"of {dragon}.threatdelta.yaml" in skeleton.splitlines()[0]
    # Pasted as printed into the decisions file, it parses and still decides nothing.
    sidecar = tmp_path / "pump.json.threatdelta.yaml"
    sidecar.write_text(skeleton)
    code, after = _check(capsys, dragon)
    assert code == 1
    assert after["summary"]["unaddressed"] == before["summary"]["unaddressed"] > 0
