"""Rows written from shared patterns are the text of the rows the row builder makes, and the
rows the text register reads say what the whole rows say: on random
models with decisions of every kind, designed-out threats, safety links and awkward names."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatdelta.assess import assess_bytes
from threatdelta.exclusions import excluded_threats
from threatdelta.render.data import register_document
from threatdelta.render.json_rows import _keys
from threatdelta.render.jsontext import Rows, dumps, json_chunks
from threatdelta.render.text import register_text
from threatdelta.rules.packfile import load_pack
from threatdelta.threat import Threat

TODAY = dt.date(2026, 11, 25)
KINDS = {
    "process": ("generic", "control-unit", "mobile-app"),
    "external-entity": ("generic", "person", "cloud-service"),
    "data-store": ("generic",),
}
PROTOCOLS = ("https", "can", "spi", "jtag", "udp", "ble", "ipc", "usb", "ui", "generic")
ELEMENT_PROPS = ("sanitizes_input", "runs_privileged", "stores_logs", "encrypted", "signed")
FLOW_PROPS = ("authenticated", "encrypted", "integrity_protected")
RULES = (
    "process-tampering",
    "process-spoofing",
    "entity-spoofing",
    "store-tampering",
    "store-disclosure",
    "flow-dos",
    "flow-sniffing",
    "crossing-tampering",
    "gone-rule",
)
CONTROLS = ("tls", "boot", "plan", "bare", "lost", "undefined")
VECTORS = (
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
)
NAMES = st.sampled_from(
    ("Pump", 'Quote "q"', "100% dose", "Back\\slash", "Pompe → nuage", "Tab\there", "%s %b")
)


@st.composite
def dispositions(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(
        st.sampled_from(("open", "mitigated", "accepted", "transferred", "not-applicable"))
    )
    found: dict[str, Any] = {"status": status}
    if status == "mitigated":
        found["controls"] = draw(st.lists(st.sampled_from(CONTROLS), max_size=2, unique=True))
    if status != "open" and draw(st.booleans()):
        found["justification"] = draw(st.sampled_from(("Reviewed.", "TODO", "")))
    if status in ("accepted", "transferred"):
        if draw(st.booleans()):
            found["approved_by"] = "security-lead"
            found["approved_on"] = "2026-03-02"
        if draw(st.booleans()):
            found["expires"] = draw(st.sampled_from(("2026-01-01", "2026-12-01", "2027-06-30")))
    if status == "transferred" and draw(st.booleans()):
        found["transferred_to"] = "Hospital IT"
    if draw(st.booleans()):
        found["severity"] = draw(st.sampled_from(("low", "critical")))
        found["rationale"] = "Needs physical access."
    if draw(st.booleans()):
        found["exploitability"] = draw(st.sampled_from(("low", "high")))
        found["rationale"] = "Needs physical access."
    if draw(st.booleans()):
        found["cvss"] = draw(st.sampled_from(VECTORS))
    if draw(st.booleans()):
        found["needs_investigation"] = True
    return found


def _properties(draw: st.DrawFn, names: tuple[str, ...]) -> dict[str, bool]:
    return {p: draw(st.booleans()) for p in draw(st.sets(st.sampled_from(names), max_size=3))}


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    boundaries = [
        {"id": f"b{i}", "kind": draw(st.sampled_from(("network", "device")))}
        for i in range(draw(st.integers(0, 2)))
    ]
    elements = []
    for i in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(sorted(KINDS)))
        e: dict[str, Any] = {
            "id": f"e{i}",
            "name": draw(NAMES) + str(i),
            "type": kind,
            "kind": draw(st.sampled_from(KINDS[kind])),
        }
        if boundaries and draw(st.booleans()):
            e["boundary"] = draw(st.sampled_from(boundaries))["id"]
        properties = _properties(draw, ELEMENT_PROPS)
        if properties:
            e["properties"] = properties
            named = [p for p, v in properties.items() if v]
            if named and draw(st.booleans()):
                e["implemented_by"] = {named[0]: draw(st.sampled_from(CONTROLS))}
        if draw(st.booleans()):
            e["data"] = draw(
                st.lists(st.sampled_from(("readings", "dose")), min_size=1, unique=True)
            )
        if draw(st.booleans()):
            e["hazards"] = ["HAZ-3"]
        if draw(st.booleans()):
            e["essential_performance"] = True
        elements.append(e)
    flows = []
    for i in range(draw(st.integers(0, 8))):
        f: dict[str, Any] = {
            "id": f"f{i}",
            "name": draw(NAMES),
            "from": draw(st.sampled_from(elements))["id"],
            "to": draw(st.sampled_from(elements))["id"],
            "protocol": draw(st.sampled_from(PROTOCOLS)),
        }
        properties: dict[str, Any] = _properties(draw, FLOW_PROPS)
        if draw(st.integers(0, 4)) == 0:
            properties["out_of_scope"] = True
            if draw(st.booleans()):
                properties["out_of_scope_reason"] = "Bench use only"
        if properties:
            f["properties"] = properties
            named = [p for p, v in properties.items() if v is True and p in FLOW_PROPS]
            if named and draw(st.booleans()):
                f["implemented_by"] = {p: draw(st.sampled_from(CONTROLS)) for p in named}
        if draw(st.booleans()):
            f["data"] = ["readings"]
        if draw(st.booleans()):
            f["hazards"] = ["HAZ-7"]
        if draw(st.booleans()):
            f["bidirectional"] = True
        flows.append(f)
    subjects = [e["id"] for e in elements] + [f["id"] for f in flows]
    threats = {}
    for _ in range(draw(st.integers(0, 2))):  # mostly orphaned: no such threat
        key = f"{draw(st.sampled_from(RULES))}@{draw(st.sampled_from(subjects))}"
        threats[key] = draw(dispositions())
    model: dict[str, Any] = {
        "version": 1,
        "system": draw(NAMES),
        "assets": [
            {"id": "readings", "name": "Readings", "classification": "phi"},
            {"id": "dose", "classification": "therapy-command"},
        ],
        "boundaries": boundaries,
        "elements": elements,
        "flows": flows,
        "controls": [
            {"id": "tls", "name": "TLS", "status": "verified", "evidence": ["tests/tls.md"]},
            {"id": "boot", "name": "Secure boot", "status": "implemented", "evidence": ["PT-1"]},
            {"id": "plan", "name": "Planned", "status": "planned", "evidence": ["docs/plan.md"]},
            {"id": "bare", "name": "No evidence", "status": "implemented"},
            {"id": "lost", "name": "Lost", "status": "verified", "evidence": ["gone/x.md"]},
        ],
    }
    if threats:
        model["threats"] = threats
    return model


def decided(model: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``model`` with decisions drawn for some of the threats it has."""
    text = yaml.safe_dump(model, allow_unicode=True).encode()
    keys = [e.key for e in assess_bytes(text, "m.yaml", None, today=TODAY).register.entries]
    if not keys:
        return model
    chosen = data.draw(st.lists(st.sampled_from(keys), max_size=12, unique=True))
    threats = dict(model.get("threats", {}))
    threats.update({key: data.draw(dispositions()) for key in chosen})
    return {**model, "threats": threats}


def existing(path: str) -> bool:
    return not path.startswith("gone/")


def written(document: dict[str, Any]) -> str:
    return b"".join(json_chunks(document)).decode("utf-8")


def made(document: dict[str, Any]) -> dict[str, Any]:
    """The same document with its rows made by the row builder (no patterns)."""
    return {
        key: Rows(list(value), lambda row: row) if isinstance(value, Rows) else value
        for key, value in document.items()
    }


@given(models(), st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_rows_from_patterns_are_the_text_of_the_rows_the_builder_makes(
    drawn: dict[str, Any], data: st.DataObject
) -> None:
    model = decided(drawn, data)
    text = yaml.safe_dump(model, allow_unicode=True).encode()
    assessment = assess_bytes(text, "m.yaml", None, today=TODAY, evidence_exists=existing)
    register = assessment.register
    designed_out = excluded_threats(register.model, assessment.pack, evidence_exists=existing)
    document = register_document(register, assessment.pack, designed_out)
    builder = made(document)
    rows = {key: list(value) for key, value in builder.items() if isinstance(value, Rows)}
    expected = dumps({**document, **rows})
    assert written(document) == expected == written(builder)
    shown = register_document(register, assessment.pack, designed_out, shown=True)
    assert register_text(shown) == register_text(document)
    several = written({"models": [document, register_document(register, assessment.pack)]})
    assert several == written(
        {"models": [builder, made(register_document(register, assessment.pack))]}
    )


def test_a_row_pattern_keeps_what_differs_between_threats_of_one_rule() -> None:
    """Two threats of one rule whose subjects raise the severity differently, one decided: each
    row says its own severity, subject, line and decision."""
    model = {
        "version": 1,
        "system": "Pump",
        "elements": [
            {"id": "a", "name": "Plain", "type": "process"},
            {"id": "b", "name": "Safety 100%", "type": "process", "hazards": ["HAZ-1"]},
            {"id": "c", "name": "Decided", "type": "process"},
        ],
        "threats": {"process-tampering@c": {"status": "accepted", "justification": "Fine."}},
    }
    assessment = assess_bytes(yaml.safe_dump(model).encode(), "m.yaml", None, today=TODAY)
    document = register_document(assessment.register, assessment.pack)
    text = written(document)
    assert text == dumps({**document, "threats": list(document["threats"])})
    rows = {row["id"]: row for row in json.loads(text)["threats"]}
    plain, safety = rows["process-tampering@a"], rows["process-tampering@b"]
    assert plain["subject"] == "Plain" and safety["subject"] == "Safety 100%"
    assert safety["hazards"] == ["HAZ-1"] and plain["hazards"] == []
    assert plain["line"] != safety["line"]
    assert rows["process-tampering@c"]["status"] == "accepted"


@pytest.mark.parametrize("depth", [0, 1, 5])
def test_rows_are_indented_for_where_they_are_written(depth: int) -> None:
    model = {"version": 1, "system": "S", "elements": [{"id": "a", "type": "process"}]}
    assessment = assess_bytes(yaml.safe_dump(model).encode(), "m.yaml", None, today=TODAY)
    rows = register_document(assessment.register, assessment.pack)["threats"]
    wrapped: Any = rows
    for _ in range(depth):
        wrapped = {"x": wrapped}
    plain: Any = list(rows)
    for _ in range(depth):
        plain = {"x": plain}
    assert written({"rows": wrapped}) == dumps({"rows": plain})


@pytest.mark.parametrize(
    "keys",
    [
        ["a@x", "b@y"],
        ["", "", "c"],
        ['quo"te@x', "plain@y"],
        ['comma","split@x', "z@y"],
        ['ends in a quote and comma",', "z@y"],
        ["back\\slash@x"],
        ["tab\there@x", "line\nbreak@y", "→@z"],
        ["lone\ud800surrogate@x", "fine@y"],
    ],
)
def test_keys_encoded_together_are_each_key_as_the_encoder_writes_it(keys: list[str]) -> None:
    threats = [Threat(key, "r", "S", "t", "element", element="x") for key in keys]
    expected: list[bytes | None] = []
    for key in keys:
        try:
            expected.append(orjson.dumps(key)[1:-1])
        except orjson.JSONEncodeError:
            expected.append(None)
    assert _keys(threats) == expected


PACK = """
version: 1
name: placeholder pack
rules:
  - id: vendor
    stride: S
    scope: element
    title: "{element.vendor} % {element.name} \\"{element.name}\\" %s"
    include: "element is 'GE.P'"
  - id: sniff
    stride: I
    scope: flow
    title: "{flow.name} from {source.name} to {target.vendor} {flow.protocol}"
    include: "flow is 'GE.DF'"
    exclude: "flow.encrypted"
"""


def test_titles_whose_placeholders_are_unset_or_awkward_are_the_builders_text() -> None:
    """A placeholder with no value stays as written; the pattern rows say the same."""
    model = {
        "version": 1,
        "system": "S",
        "elements": [
            {
                "id": "a",
                "name": 'Pump "1" 100%',
                "type": "process",
                "properties": {"vendor": "Acme"},
            },
            {"id": "b", "type": "process"},
            {"id": "c", "name": "Tab\there", "type": "data-store"},
        ],
        "flows": [
            {"id": "f", "from": "a", "to": "b", "protocol": "https"},
            {"id": "g", "from": "b", "to": "c", "properties": {"encrypted": True}},
            {"id": "h", "from": "c", "to": "a", "bidirectional": True},
        ],
    }
    pack = load_pack(PACK, "pack.yaml")
    assessment = assess_bytes(yaml.safe_dump(model).encode(), "m.yaml", pack, today=TODAY)
    register = assessment.register
    designed_out = excluded_threats(register.model, pack)
    document = register_document(register, pack, designed_out)
    rows = {key: list(value) for key, value in document.items() if isinstance(value, Rows)}
    assert written(document) == dumps({**document, **rows})
    titles = {row["id"]: row["title"] for row in rows["threats"]}
    assert titles["vendor@b"] == '{element.vendor} % b "b" %s'
    assert rows["excluded"]
