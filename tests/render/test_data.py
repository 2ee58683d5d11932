"""The ``check --format json`` document: written row by row, it is the document the in-memory
builder gives, on the bundled example and on a generated diagram."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from bench.diagram import diagram, native_yaml
from tests.helpers import element, flow, model, pack, rule

from threatdelta.assess import assess_bytes
from threatdelta.engine import enumerate_threats
from threatdelta.errors import Location
from threatdelta.exclusions import excluded_threats
from threatdelta.register import build_register
from threatdelta.render.data import (
    RegisterRows,
    register_data,
    register_document,
    threat_data,
    threat_location,
)
from threatdelta.render.jsontext import write_json
from threatdelta.render.text import register_text
from threatdelta.threat import Threat

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "infusion-pump" / "threatmodel.yaml"
TODAY = dt.date(2026, 11, 25)


def example_files(path: str) -> bool:
    return (EXAMPLE.parent / path).is_file()


def documents(text: bytes, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same register as a streamed document and as the in-memory one."""
    assessment = assess_bytes(text, path, None, today=TODAY, evidence_exists=example_files)
    register = assessment.register
    designed_out = excluded_threats(register.model, assessment.pack, evidence_exists=example_files)
    return (
        register_document(register, assessment.pack, designed_out),
        register_data(register, assessment.pack, designed_out),
    )


def streamed(document: Any) -> str:
    out = io.StringIO()
    write_json(out.write, document)
    return out.getvalue()


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (EXAMPLE.read_bytes(), "threatmodel.yaml"),
        (native_yaml(diagram(150)).encode(), "generated.yaml"),
    ],
    ids=["example", "generated"],
)
def test_the_streamed_json_is_the_in_memory_documents_text(text: bytes, path: str) -> None:
    stream, held = documents(text, path)
    assert len(held["threats"]) > 50 and held["excluded"]
    written = streamed(stream)
    assert written == json.dumps(held, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert json.loads(written) == held
    several = streamed({"models": [stream, stream]})
    assert json.loads(several) == {"models": [held, held]}
    assert register_text(stream) == register_text(held)


def test_each_row_names_its_subject_and_suggestions_by_name() -> None:
    m = model(
        [element("pump", name="Pump"), element("cloud", name="Cloud", type="external-entity")],
        [flow("upload", "pump", "cloud", name="Upload")],
    )
    rules = pack(
        rule("spoof", "element is 'GE.P'", countermeasures=("tls",)),
        rule("sniff", "flow is 'GE.DF'", scope="flow", countermeasures=("tls", "unknown-cm")),
    )
    register = build_register(m, enumerate_threats(m, rules), today=TODAY)
    rows = {row["id"]: row for row in register_document(register, rules)["threats"]}
    assert rows["spoof@pump"]["subject"] == "Pump"
    assert rows["sniff@upload"]["subject"] == "Upload (Pump → Cloud)"
    assert rows["spoof@pump"]["suggested_countermeasures"] == [{"id": "tls", "name": "TLS"}]
    assert rows["sniff@upload"]["suggested_countermeasures"] == [
        {"id": "tls", "name": "TLS"},
        {"id": "unknown-cm", "name": "unknown-cm"},
    ]
    for entry in register.entries:
        assert threat_data(entry, register, rules) == rows[entry.key]
        assert RegisterRows(register, rules).threat(entry) == rows[entry.key]


def test_a_threats_line_is_looked_up_where_its_subject_is_declared() -> None:
    pump = replace(element("pump"), location=Location("m.yaml", 7, 5))
    upload = replace(flow("upload", "pump", "pump"), location=Location("m.yaml", 12, 5))
    m = model([pump], [upload])
    on_element = Threat("spoof@pump", "spoof", "S", "t", "element", element="pump")
    on_flow = Threat("sniff@upload", "sniff", "I", "t", "flow", flow="upload", source="pump")
    stored = replace(on_element, key="own@pump", location=Location("m.yaml", 40, 3))
    gone = Threat("x@ghost", "x", "S", "t", "element", element="ghost")
    assert threat_location(on_element, m) == Location("m.yaml", 7, 5)
    assert threat_location(on_flow, m) == Location("m.yaml", 12, 5)
    assert threat_location(stored, m) == Location("m.yaml", 40, 3)  # the file's own threat
    assert threat_location(gone, m) is None
    register = build_register(m, [on_element, on_flow, gone], today=TODAY)
    rows = {row["id"]: row for row in register_data(register, pack())["threats"]}
    assert rows["spoof@pump"]["line"] == 7 and rows["sniff@upload"]["line"] == 12
    assert "line" not in rows["x@ghost"]
