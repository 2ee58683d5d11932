"""Tests for ``threatdelta convert``, run through the command line entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from threatdelta.cli import main
from threatdelta.formats import native, otm

FIXTURES = Path(__file__).parents[1] / "formats" / "fixtures"
DRAGON = FIXTURES / "dragon" / "pump-v2.json"
OTM_YAML = FIXTURES / "otm" / "pump.otm.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["convert", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_dragon_to_otm_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(DRAGON), "--to", "otm")
    assert code == 0
    document = json.loads(out)
    assert document["otmVersion"] == "0.2.0"
    model = otm.read(out.encode(), "out.otm.json").model
    assert {e.id for e in model.elements} == {
        "a-clinician",
        "a-cloud",
        "p-controller",
        "p-gateway",
        "p-pharmacy",
        "s-doselog",
    }
    assert len(model.stored_threats) == 4
    lines = err.splitlines()
    assert (
        "threatdelta: convert: line boundary 'Firewall' (c-firewall) is not kept by otm; "
        "OTM trust zones are areas that hold components"
    ) in lines
    assert any(
        line.startswith("threatdelta: convert: warning: ") and "unknown shape 'tm.Proces'" in line
        for line in lines
    )
    assert all(line.startswith("threatdelta: convert: ") for line in lines)


def test_dragon_to_native_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_path = tmp_path / "threatmodel.yaml"
    code, out, err = run(capsys, str(DRAGON), "--to", "native", "-o", str(out_path))
    assert code == 0
    assert out == ""
    model = native.read(out_path.read_bytes(), str(out_path)).model
    assert {f.id for f in model.flows} == {"f-dose", "f-log", "f-sync", "f-telemetry"}
    assert model.dispositions["td:t-spoof"].status == "mitigated"
    # The stored threats and the line boundary are kept: nothing about them on stderr.
    assert "td:t-spoof" in {t.key for t in model.stored_threats}
    firewall = model.boundary("c-firewall")
    assert firewall is not None and firewall.is_line
    assert "stored threat" not in err and "line boundary" not in err


def test_otm_yaml_to_native_and_back_to_otm(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    native_path = tmp_path / "threatmodel.yaml"
    assert run(capsys, str(OTM_YAML), "--to", "native", "-o", str(native_path))[0] == 0
    code, out, _ = run(capsys, str(native_path), "--to", "otm")
    assert code == 0
    model = otm.read(out.encode(), "again.otm.json").model
    assert {e.id for e in model.elements} == {
        "clinician",
        "cloud",
        "controller",
        "dose-library",
        "dose-log",
    }
    # the stored OTM threats went through native as dispositions, and come back as such
    assert set(model.dispositions) == {
        "otm:cmd-spoofing@dose-cmd",
        "otm:log-forgery@dose-log",
        "otm:log-forgery@write-log",
    }
    assert model.dispositions["otm:cmd-spoofing@dose-cmd"].controls == ("badge-auth",)


def test_native_to_native_says_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    run(capsys, str(OTM_YAML), "--to", "native", "-o", str(first))
    code, out, err = run(capsys, str(first), "--to", "native")
    assert code == 0
    assert err == ""
    assert out == first.read_text()


def test_from_forces_the_reader(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    renamed = tmp_path / "model.data"
    renamed.write_bytes(DRAGON.read_bytes())
    code, out, _ = run(capsys, str(renamed), "--from", "dragon", "--to", "otm")
    assert code == 0
    assert json.loads(out)["project"]["name"] == "Infusion pump"


def test_stdin_needs_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(capsys, "-", "--to", "otm")
    assert code == 2
    assert "needs --from" in err
    stdin = io.TextIOWrapper(io.BytesIO(OTM_YAML.read_bytes()))
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, _ = run(capsys, "-", "--from", "otm", "--to", "native")
    assert code == 0
    assert out.startswith("# yaml-language-server: $schema=threatmodel.schema.json\n")


def test_bad_json_exits_2_with_a_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"summary": {},\n  "detail": {"diagrams": [}}')
    code, out, err = run(capsys, str(bad), "--from", "dragon", "--to", "otm")
    assert code == 2
    assert out == ""
    assert err.startswith(f"{bad}:2:27: not valid JSON")


def test_bad_otm_exits_2_with_a_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.otm.yaml"
    bad.write_text("otmVersion: 0.2.0\nproject:\n  id: p\n")
    code, _, err = run(capsys, str(bad), "--to", "native")
    assert code == 2
    assert err == f"{bad}:3:3: project.name is missing; name the project\n"


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.json"), "--to", "otm")
    assert code == 2
    assert "no such file" in err


def test_unrecognised_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\n")
    code, _, err = run(capsys, str(junk), "--to", "otm")
    assert code == 2
    assert "cannot tell which model format" in err


def test_unwritable_output_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(OTM_YAML), "--to", "otm", "-o", str(tmp_path))
    assert code == 2
    assert "cannot write the output" in err


def test_target_format_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["convert", str(DRAGON)])
    assert caught.value.code == 2
    assert "--to" in capsys.readouterr().err


@pytest.mark.parametrize(
    "relative",
    [
        "dragon/v2-threat-model.json",
        "dragon/iot-device.json",
        "dragon/three-tier-web-app.json",
        "dragon/payment-online.json",
        "otm/EXAMPLE.json",
        "otm/EXAMPLE.yaml",
        "otm/threatdragon-mobile-cloud.otm.json",
    ],
)
@pytest.mark.parametrize("target", ["native", "otm"])
def test_every_sample_converts(
    capsys: pytest.CaptureFixture[str], samples_dir: Path, relative: str, target: str
) -> None:
    code, out, _ = run(capsys, str(samples_dir / relative), "--to", target)
    assert code == 0
    if target == "native":
        native.read(out.encode(), "threatmodel.yaml")
    else:
        otm.read(out.encode(), "model.otm.json")


def test_tm7_attribute_guids_become_readable_names_the_template_still_finds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.formats.fixtures.tm7.fidelity_fixtures import (
        FLOW_1,
        FLOW_2,
        Connector,
        fidelity_tm7,
    )

    from threatdelta.engine import enumerate_threats
    from threatdelta.formats import native, tm7

    data = fidelity_tm7(
        (
            Connector(FLOW_1, "Request", out_of_scope=True, reason="Bench only"),
            Connector(FLOW_2, "Reply"),
        )
    )
    source = tmp_path / "ward.tm7"
    source.write_bytes(data)
    out = tmp_path / "ward.yaml"
    assert main(["convert", str(source), "--to", "native", "-o", str(out)]) == 0
    capsys.readouterr()
    text = out.read_text()
    assert "71f3d9aa" not in text and "752473b6" not in text
    assert "out_of_scope: true" in text and "out_of_scope_reason: Bench only" in text
    converted = native.read(out.read_bytes(), str(out)).model
    request = converted.flow(FLOW_1)
    assert request is not None and request.out_of_scope
    assert request.out_of_scope_reason == "Bench only"
    # And back: the template, as a rule pack on the converted model, reads the GUID-named
    # attribute under its readable name and finds exactly the threats it finds in the .tm7.
    parsed = tm7.read(data, str(source))
    assert parsed.pack is not None
    assert parsed.pack.property_names["71f3d9aa-b8ef-4e54-8126-607a1d903103"] == "out_of_scope"
    original = {t.key for t in enumerate_threats(parsed.model, parsed.pack)}
    again = {t.key for t in enumerate_threats(converted, parsed.pack)}
    assert original == again and original


def test_a_template_filter_on_a_guid_attribute_reads_the_converted_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from threatdelta.engine import enumerate_threats
    from threatdelta.formats import tm7
    from threatdelta.model.graph import facts
    from threatdelta.subjects import SubjectFactory

    source = FIXTURES / "tm7" / "two_tabs.tm7"
    out = tmp_path / "pump.yaml"
    assert main(["convert", str(source), "--to", "native", "-o", str(out)]) == 0
    capsys.readouterr()
    assert "firmware_signed:" in out.read_text()
    parsed = tm7.read(source.read_bytes(), str(source))
    assert parsed.pack is not None
    converted = native.read(out.read_bytes(), str(out)).model

    firmware = "5e1c0b4a-6a43-4f55-9b38-0f4c6a1d2e77"  # "Firmware signed" in the template
    controller = converted.element("33333333-0000-4000-8000-000000000002")
    assert controller is not None and firmware not in controller.properties
    subject = SubjectFactory.for_pack(facts(converted), parsed.pack).element(controller)
    assert subject.attribute(firmware) == "Select"
    assert {
        t.key for t in enumerate_threats(parsed.model, parsed.pack) if t.rule_id == "DEMO5"
    } == {t.key for t in enumerate_threats(converted, parsed.pack) if t.rule_id == "DEMO5"}
