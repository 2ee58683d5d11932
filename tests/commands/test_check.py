"""``threatdelta check`` as a user runs it."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import yaml

from threatdelta.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "infusion-pump" / "threatmodel.yaml"


def check_json(capsys, path: Path, *extra: str) -> tuple[int, dict]:
    code = main(["check", str(path), "--format", "json", "--today", "2026-11-25", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_the_example_decides_every_threat_with_evidence_that_exists(capsys) -> None:
    code, data = check_json(capsys, EXAMPLE)
    assert code == 0  # a model a regulated team keeps: nothing open at the base
    assert data["summary"]["open"] == data["summary"]["unaddressed"] == 0
    statuses = {t["status"] for t in data["threats"]}
    assert statuses == {"mitigated", "accepted", "transferred", "not-applicable"}
    problems = {p["code"] for t in data["threats"] for p in t["problems"]}
    assert not problems & {"missing-evidence", "unknown-control", "placeholder", "expired"}
    assert data["orphaned_dispositions"] == []
    ids = [t["id"] for t in data["threats"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    by_id = {t["id"]: t for t in data["threats"]}
    fw = by_id["crossing-tampering@service-laptop>firmware-transfer>firmware-image"]
    assert fw["status"] == "mitigated" and fw["controls"] == ["fw-signing"] and fw["addressed"]
    assert fw["flow"] == "firmware-transfer" and fw["source"] == "service-laptop"
    assert data["summary"]["total"] == len(ids)
    # the planned CAN-bus control is honest about itself
    assert by_id["fieldbus-spoofing@motor-commands"]["unverified"] == "planned, no evidence"
    # threats designed out name the control behind the property
    designed = {x["id"]: x for x in data["excluded"]}
    log = designed["store-disclosure@event-log"]
    assert log["excluded_by"] == "encrypted: true"
    (control,) = log["causes"][0]["implemented_by"]
    assert control["id"] == "log-encryption" and control["problems"] == []


def test_shuffling_the_yaml_lists_changes_nothing(capsys, tmp_path: Path) -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    rng = random.Random(7)
    for key in ("boundaries", "elements", "flows", "controls"):
        rng.shuffle(doc[key])
    doc["threats"] = dict(sorted(doc["threats"].items(), key=lambda kv: rng.random()))
    for item in doc["threats"].values():
        for k, v in list(item.items()):
            if hasattr(v, "isoformat"):
                item[k] = v.isoformat()
    shuffled = tmp_path / "threatmodel.yaml"
    shuffled.write_text(yaml.safe_dump(doc, sort_keys=False))
    shutil.copytree(EXAMPLE.parent / "verification", tmp_path / "verification")
    _, original = check_json(capsys, EXAMPLE)
    _, again = check_json(capsys, shuffled)
    original.pop("model")
    again.pop("model")
    for t in original["threats"] + again["threats"]:
        t.pop("line", None)
    assert json.dumps(original, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_flow_to_a_missing_element_exits_2_with_location(capsys, tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("    to: hospital-gateway\n", "    to: hospital-gatway\n", 1)
    bad = tmp_path / "threatmodel.yaml"
    bad.write_text(text)
    code = main(["check", str(bad)])
    err = capsys.readouterr().err
    line = text.splitlines().index("    to: hospital-gatway") + 1
    assert code == 2
    assert f"{bad}:{line}:9:" in err
    assert "hospital-gateway" in err  # the suggestion
    assert "Traceback" not in err


def test_fail_on_none_and_severity(capsys) -> None:
    assert main(["check", str(EXAMPLE), "--fail-on", "none", "--today", "2026-11-25"]) == 0
    assert (
        main(["check", str(EXAMPLE), "--fail-on", "severity:critical", "--today", "2026-11-25"])
        == 0
    )
    assert main(["check", str(EXAMPLE), "--fail-on", "severity:low", "--today", "2026-11-25"]) == 0
    # the CAN-bus mitigation rests on a control that is only planned
    assert main(["check", str(EXAMPLE), "--fail-on", "unverified", "--today", "2026-11-25"]) == 1
    assert main(["check", str(EXAMPLE), "--fail-on", "sometimes"]) == 2
    assert "unknown condition 'sometimes'" in capsys.readouterr().err


def test_markdown_and_text_formats(capsys) -> None:
    main(["check", str(EXAMPLE), "--format", "markdown", "--today", "2026-11-25"])
    out = capsys.readouterr().out
    assert "| Threat | STRIDE |" in out and "Connected infusion pump" in out
    main(["check", str(EXAMPLE), "--today", "2026-11-25"])
    out = capsys.readouterr().out
    assert out.splitlines()[1].endswith(" 0 open; 0 unaddressed")
    assert "Designed out (" in out
    assert "mitigated (planned, no evidence)" in out  # the CAN-bus control is only planned


def test_missing_file_and_default_path(capsys, tmp_path: Path, monkeypatch) -> None:
    assert main(["check", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    assert "threatmodel.yaml" in capsys.readouterr().err


def test_expired_acceptance_is_not_addressed(capsys) -> None:
    _, data = check_json(capsys, EXAMPLE, "--today", "2027-07-01")
    by_id = {t["id"]: t for t in data["threats"]}
    dos = by_id["flow-dos@motor-commands"]
    assert dos["status"] == "accepted" and not dos["addressed"]
    assert [p["code"] for p in dos["problems"]] == ["expired"]


def test_schema_command_prints_the_native_schema(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/draft/2020-12")
    assert "elements" in schema["properties"]


def test_every_threat_in_the_json_contract_carries_its_risk(capsys, tmp_path: Path) -> None:
    from tests.formats.test_native import SAFETY_MODEL

    path = tmp_path / "m.yaml"
    path.write_text(SAFETY_MODEL, encoding="utf-8")
    _, data = check_json(capsys, path)
    for threat in data["threats"]:
        assert threat["exploitability"] in ("low", "medium", "high")
        assert threat["severity"] in ("low", "medium", "high", "critical")
        assert threat["risk"] in ("low", "medium", "high", "critical")
        assert threat["residual_risk"] in ("none", "low", "medium", "high", "critical")
    by_id = {t["id"]: t for t in data["threats"]}
    overridden = by_id["fieldbus-spoofing@cmd"] if "fieldbus-spoofing@cmd" in by_id else None
    assert overridden is None  # BLE is no field bus: the disposition is reported as orphaned
    assert [o["id"] for o in data["orphaned_dispositions"]] == ["fieldbus-spoofing@cmd"]
    dos = by_id["process-dos@pump"]
    assert dos["hazards"] == ["HAZ-3", "HAZ-7"] and dos["essential_performance"]
    assert dos["severity"] == "high" and dos["rule_severity"] == "medium"
    assert dos["severity_reasons"]


def test_an_override_and_a_cvss_vector_show_in_the_json(capsys, tmp_path: Path) -> None:
    from tests.formats.test_native import SAFETY_MODEL

    path = tmp_path / "m.yaml"
    path.write_text(SAFETY_MODEL.replace("fieldbus-spoofing@cmd", "process-dos@pump"), "utf-8")
    _, data = check_json(capsys, path)
    dos = {t["id"]: t for t in data["threats"]}["process-dos@pump"]
    assert (dos["exploitability"], dos["severity"], dos["risk"]) == ("low", "critical", "high")
    assert dos["rationale"].startswith("Needs a paired phone")
    assert dos["cvss"] == {
        "vector": "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
        "version": "3.1",
        "base_score": 8.1,
        "score": 8.1,
        "rating": "high",
    }


def test_the_cgm_example_shows_risk_before_and_after_its_decisions(capsys) -> None:
    _, data = check_json(capsys, REPO / "examples" / "cgm" / "threatmodel.yaml")
    assert data["orphaned_dispositions"] == []
    by_id = {t["id"]: t for t in data["threats"]}
    pairing = by_id["ble-pairing-mitm@radio-module>ble-readings>phone-app"]
    assert pairing["addressed"] and pairing["hazards"] == ["HAZ-CGM-01", "HAZ-CGM-02"]
    assert (pairing["risk"], pairing["residual_risk"]) == ("critical", "high")
    xss = by_id["web-xss@clinician>portal-session>clinician-portal"]
    assert xss["cvss"]["score"] == 7.6 and xss["residual_risk"] == "medium"
    tracking = by_id["radio-tracking@ble-readings"]
    assert tracking["cvss"]["version"] == "4.0" and tracking["cvss"]["score"] == 2.3
    assert tracking["exploitability"] == "medium" and tracking["rationale"]
    assert all(t["problems"] == [] for t in data["threats"] if t["status"] != "open")


def test_a_flow_out_of_scope_without_a_reason_fails_check(capsys, tmp_path: Path) -> None:
    scoped = "    protocol: generic\n    properties: {out_of_scope: true%s}\n"
    text = EXAMPLE.read_text()
    assert text.count("    to: pump-ui\n    protocol: generic\n") == 1
    for reason, expected in (("", 1), (", out_of_scope_reason: Bench use only", 0)):
        model = tmp_path / "threatmodel.yaml"
        model.write_text(
            text.replace(
                "    to: pump-ui\n    protocol: generic\n", "    to: pump-ui\n" + scoped % reason
            )
        )
        code = main(["check", str(model), "--today", "2026-11-25"])
        err = capsys.readouterr().err
        assert code == expected, err
        said = "1 flow is marked out of scope without a written reason ('Dose programming"
        assert (said in err) == (expected == 1)


def test_text_and_markdown_of_several_models_are_written_whole_in_a_few_writes() -> None:
    import datetime as dt

    from threatdelta.assess import assess_bytes
    from threatdelta.commands.check import write_output
    from threatdelta.render.data import register_document
    from threatdelta.render.templates import render_chunks
    from threatdelta.render.text import register_text

    def documents() -> list[dict]:
        found = []
        for path in sorted((REPO / "examples").glob("*/threatmodel.yaml")):
            assessment = assess_bytes(
                path.read_bytes(), str(path), None, today=dt.date(2026, 11, 25)
            )
            found.append(register_document(assessment.register, assessment.pack, shown=True))
        return found

    expected = {
        "text": "\n".join(register_text(d) for d in documents()),
        "markdown": "".join(
            render_chunks("check.md.j2", models=[{"data": d} for d in documents()])
        ),
    }
    for output, text in expected.items():
        writes: list[str] = []
        write_output(output, documents(), writes.append)
        assert "".join(writes) == text
        assert len(writes) <= len(text.splitlines()) // 100 + 2
