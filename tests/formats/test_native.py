"""Tests for the native YAML model reader and its JSON Schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from threatdelta.errors import InputError, InputErrors, Location
from threatdelta.formats import native
from threatdelta.model.model import (
    CONTROL_STATUSES,
    DISPOSITION_STATUSES,
    Boundary,
    Control,
    Disposition,
    Element,
    Flow,
    Model,
    frozen_props,
)
from threatdelta.model.types import BOUNDARY_KINDS, ELEMENT_KINDS, PROTOCOLS

FIXTURES = Path(__file__).parent / "fixtures" / "native"
PATH = "threatmodel.yaml"

HEAD = "version: 1\nsystem: Pump\n"
"""Two lines every inline model starts with; line 3 is the first line a test writes."""


def read(text: str | bytes) -> Model:
    data = text.encode() if isinstance(text, str) else text
    return native.read(data, PATH).model


def problems(text: str) -> list[tuple[int | None, int | None, str]]:
    """Every error reading ``text`` reports, as (line, column, message), in report order."""
    with pytest.raises(InputError) as info:
        read(text)
    err = info.value
    found = err.errors if isinstance(err, InputErrors) else [err]
    result = []
    for e in found:
        assert e.location is not None
        assert e.location.path == PATH
        result.append((e.location.line, e.location.column, e.message))
    return result


def at(text: str, line: int, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column) of the ``occurrence``-th ``needle`` on 1-based ``line`` of ``text``."""
    row = text.splitlines()[line - 1]
    index = -1
    for _ in range(occurrence):
        index = row.index(needle, index + 1)
    return line, index + 1


def only_problem(text: str) -> tuple[int | None, int | None, str]:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# --- a valid model ---------------------------------------------------------------------------


def test_design_sketch_loads_into_the_expected_model() -> None:
    data = (FIXTURES / "infusion_pump.yaml").read_bytes()
    parsed = native.read(data, PATH)
    assert parsed.pack is None
    assert parsed.warnings == ()
    expected = Model(
        system="Infusion pump",
        boundaries=(
            Boundary(
                id="device",
                name="Pump device",
                kind="device",
                parent="hospital",
                type_chain=("boundary/device", "boundary", "GE.TB.B", "GE.TB", "ROOT"),
            ),
            Boundary(
                id="hospital",
                name="Hospital network",
                kind="network",
                type_chain=("boundary/network", "boundary", "GE.TB.B", "GE.TB", "ROOT"),
            ),
        ),
        elements=(
            Element(
                id="clinician",
                name="clinician",
                type="external-entity",
                kind="person",
                type_chain=("external-entity/person", "external-entity", "GE.EI", "ROOT"),
            ),
            Element(
                id="cloud",
                name="cloud",
                type="external-entity",
                kind="cloud-service",
                type_chain=("external-entity/cloud-service", "external-entity", "GE.EI", "ROOT"),
            ),
            Element(
                id="controller",
                name="controller",
                type="process",
                kind="control-unit",
                boundary="device",
                properties=frozen_props({"sanitizes_input": True}),
                type_chain=("process/control-unit", "process", "GE.P", "ROOT"),
            ),
            Element(
                id="dose-log",
                name="dose-log",
                type="data-store",
                boundary="device",
                properties=frozen_props({"stores_logs": True}),
                type_chain=("data-store/generic", "data-store", "GE.DS", "ROOT"),
            ),
        ),
        flows=(
            Flow(
                id="dose-cmd",
                name="dose-cmd",
                source="clinician",
                target="controller",
                protocol="can",
                properties=frozen_props({"authenticated": False, "encrypted": False}),
                type_chain=("flow/can", "flow", "GE.DF", "ROOT"),
            ),
        ),
        controls=(
            Control(
                id="x509",
                name="Mutual authentication with X.509 device certificates",
                status="verified",
                evidence=("tests/security/test_mutual_tls.py", "PT-2026-03#F-4"),
            ),
        ),
        dispositions={
            "spoofing-flow@dose-cmd": Disposition(
                key="spoofing-flow@dose-cmd", status="mitigated", controls=("x509",)
            ),
            "flooding@dose-cmd": Disposition(
                key="flooding@dose-cmd",
                status="accepted",
                justification="The CAN bus is internal; flooding it needs the chassis opened.",
                approved_by="security-lead",
                expires=dt.date(2027, 6, 30),
            ),
        },
        format="native",
        path=PATH,
    )
    assert parsed.model == expected
    model = parsed.model
    assert model.flows[0].crosses is None
    # Locations point at each item's mapping node.
    assert model.element("controller") is not None
    assert model.element("controller").location == Location(PATH, 10, 5)  # type: ignore[union-attr]
    assert model.boundaries[0].location == Location(PATH, 6, 5)
    assert model.flows[0].location == Location(PATH, 14, 5)
    assert model.controls[0].location == Location(PATH, 17, 5)
    assert model.dispositions["spoofing-flow@dose-cmd"].location == Location(PATH, 20, 27)
    assert model.dispositions["flooding@dose-cmd"].location == Location(PATH, 22, 5)


FULL = """\
version: 1
system: Insulin pump
description: Pump, handheld controller and cloud.
boundaries:
  - id: body
    name: Body-worn devices
    kind: physical
    description: Everything the patient carries.
    properties: {zone: patient}
elements:
  - id: app
    name: Companion app
    type: process
    kind: mobile-app
    boundary: body
    description: Runs on the patient's phone.
    properties:
      runs_privileged: false
      vendor: "yes"
      build: 42
      ratio: 0.5
  - id: phone-store
    type: data-store
    kind: key-store
    boundary: body
    properties: {stores_credentials: true, encrypted: true}
  - id: patient
    type: external-entity
flows:
  - id: sync
    name: Sync
    from: app
    to: phone-store
    protocol: ipc
    bidirectional: true
    description: Keys move both ways.
    properties: {integrity_protected: true}
controls:
  - id: keystore
    name: Hardware-backed key store
    status: implemented
    description: Keys never leave the secure element.
threats:
  store-tampering@phone-store:
    status: transferred
    transferred_to: Phone vendor
    justification: The OS key store is the vendor's responsibility.
    approved_by: ciso
    approved_on: 2026-01-15
  store-disclosure@phone-store: {status: mitigated, controls: [keystore]}
  spoofing@patient: {status: open, needs_investigation: true}
  unknown-rule@nowhere: {status: not-applicable, justification: Left over from an old model.}
"""


def test_every_field_reaches_the_model() -> None:
    model = read(FULL)
    assert model.system == "Insulin pump"
    body = model.boundary("body")
    assert body == Boundary(
        id="body",
        name="Body-worn devices",
        kind="physical",
        type_chain=("boundary/physical", "boundary", "GE.TB.B", "GE.TB", "ROOT"),
        properties=frozen_props(
            {"zone": "patient", "description": "Everything the patient carries."}
        ),
    )
    app = model.element("app")
    assert app is not None
    assert app.name == "Companion app"
    assert app.kind == "mobile-app"
    assert app.boundary == "body"
    assert app.description == "Runs on the patient's phone."
    assert dict(app.properties) == {
        "build": 42,
        "ratio": 0.5,
        "runs_privileged": False,
        "vendor": "yes",
    }
    assert list(app.properties) == ["build", "ratio", "runs_privileged", "vendor"]
    patient = model.element("patient")
    assert patient is not None and patient.kind == "generic" and patient.name == "patient"
    sync = model.flow("sync")
    assert sync is not None
    assert (sync.name, sync.protocol, sync.bidirectional) == ("Sync", "ipc", True)
    assert sync.description == "Keys move both ways."
    assert sync.type_chain == ("flow/ipc", "flow", "GE.DF", "ROOT")
    assert model.control("keystore") == Control(
        id="keystore",
        name="Hardware-backed key store",
        status="implemented",
        description="Keys never leave the secure element.",
    )
    transferred = model.dispositions["store-tampering@phone-store"]
    assert transferred.status == "transferred"
    assert transferred.transferred_to == "Phone vendor"
    assert transferred.approved_by == "ciso"
    assert transferred.approved_on == dt.date(2026, 1, 15)
    assert transferred.expires is None
    assert model.dispositions["spoofing@patient"].needs_investigation is True
    # A disposition for a threat no rule produces is kept: the register reports it.
    assert model.dispositions["unknown-rule@nowhere"].status == "not-applicable"
    assert list(model.dispositions) == sorted(model.dispositions)


def test_minimal_model() -> None:
    model = read("version: 1\nsystem: Empty\n")
    assert model == Model(system="Empty", format="native", path=PATH)


def test_unknown_control_in_a_disposition_is_not_an_error() -> None:
    model = read(HEAD + "threats:\n  a@b: {status: mitigated, controls: [missing]}\n")
    assert model.dispositions["a@b"].controls == ("missing",)


def test_reordering_the_lists_gives_an_equal_model() -> None:
    text = """\
version: 1
system: S
boundaries:
  - {id: outer}
  - {id: inner, parent: outer}
elements:
  - {id: a, type: process, boundary: inner}
  - {id: b, type: data-store}
  - {id: c, type: external-entity}
flows:
  - {id: f1, from: c, to: a}
  - {id: f2, from: a, to: b}
controls:
  - {id: k1, name: One, status: planned}
  - {id: k2, name: Two, status: verified}
threats:
  x@f1: {status: open}
  y@f2: {status: accepted, justification: fine}
"""
    shuffled = """\
version: 1
threats:
  y@f2: {status: accepted, justification: fine}
  x@f1: {status: open}
controls:
  - {id: k2, name: Two, status: verified}
  - {id: k1, name: One, status: planned}
flows:
  - {id: f2, from: a, to: b}
  - {id: f1, from: c, to: a}
elements:
  - {id: c, type: external-entity}
  - {type: data-store, id: b}
  - {id: a, boundary: inner, type: process}
boundaries:
  - {parent: outer, id: inner}
  - {id: outer}
system: S
"""
    first, second = read(text), read(shuffled)
    assert first == second
    assert [e.id for e in first.elements] == ["a", "b", "c"]
    assert [b.id for b in second.boundaries] == ["inner", "outer"]


# --- YAML 1.1 scalars --------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On"])
def test_yaml11_booleans_are_rejected_where_a_boolean_is_expected(word: str) -> None:
    text = HEAD + f"flows:\n  - {{id: f, from: a, to: b, bidirectional: {word}}}\n"
    text += "elements:\n  - {id: a, type: process}\n  - {id: b, type: process}\n"
    line, column, message = only_problem(text)
    assert (line, column) == at(text, 4, f"{word}}}") == (4, 44)
    assert message == (
        f"flow 'f': bidirectional '{word}' is a string in YAML 1.2, not a boolean: "
        "write true or false"
    )


def test_yaml11_booleans_in_contract_properties_and_dispositions() -> None:
    text = HEAD + (
        "elements:\n"
        "  - id: p\n"
        "    type: process\n"
        "    properties:\n"
        "      sanitizes_input: yes\n"  # line 7
        "  - id: s\n"
        "    type: data-store\n"
        "    properties: {stores_logs: On, encrypted: true}\n"  # line 10
        "threats:\n"
        "  t@p: {status: open, needs_investigation: no}\n"  # line 12
    )
    assert problems(text) == [
        (
            *at(text, 7, "yes"),
            "process 'p': properties.sanitizes_input 'yes' is a string in YAML 1.2, "
            "not a boolean: write true or false",
        ),
        (
            *at(text, 10, "On"),
            "data store 's': properties.stores_logs 'On' is a string in YAML 1.2, "
            "not a boolean: write true or false",
        ),
        (
            *at(text, 12, "no}"),
            "threat 't@p': needs_investigation 'no' is a string in YAML 1.2, "
            "not a boolean: write true or false",
        ),
    ]


def test_flow_contract_properties_are_booleans() -> None:
    text = HEAD + (
        "elements: [{id: a, type: process}]\n"
        "flows:\n"
        "  - {id: f, from: a, to: a, properties: {encrypted: 'true', signed: 1}}\n"  # line 5
    )
    assert problems(text) == [
        (
            *at(text, 5, "'true'"),
            "flow 'f': properties.encrypted must be true or false, not 'true'",
        ),
        (*at(text, 5, "1}"), "flow 'f': properties.signed must be true or false, not 1"),
    ]


def test_yaml11_words_are_fine_as_strings_elsewhere() -> None:
    text = HEAD + (
        "elements:\n"
        "  - id: 'no'\n"
        "    name: yes\n"
        "    type: external-entity\n"
        "    description: off\n"
        "    properties: {vendor: on, revision: 017, port: 0o17, count: 1_000, at: 1:20}\n"
        "  - {id: p, type: process, properties: {authenticated: yes}}\n"
    )
    model = read(text)
    entity = model.element("no")
    assert entity is not None
    assert entity.name == "yes"
    assert entity.description == "off"
    assert dict(entity.properties) == {
        "vendor": "on",
        "revision": "017",
        "port": "0o17",
        "count": "1_000",
        "at": "1:20",
    }
    # `authenticated` is only typed for flows and external entities; on a process it is free.
    process = model.element("p")
    assert process is not None and process.properties["authenticated"] == "yes"


@pytest.mark.parametrize(
    ("value", "reading"),
    [
        ("0o1", "an octal number"),
        ("01", "an octal number"),
        ("1_0", "a number with '_' separators"),
    ],
)
def test_yaml11_numbers_in_version(value: str, reading: str) -> None:
    line, column, message = only_problem(f"version: {value}\nsystem: S\n")
    assert (line, column) == (1, 10)
    assert message == (
        f"version '{value}' is a string in YAML 1.2 (YAML 1.1 reads it as {reading}): write 1"
    )


def test_version_must_be_one() -> None:
    assert only_problem("version: 2\nsystem: S\n") == (
        1,
        10,
        "version 2 is not supported; this threatdelta reads version 1 models",
    )
    assert only_problem("version: '1'\nsystem: S\n") == (
        1,
        10,
        "version must be the number 1, not the string '1'",
    )


# --- schema errors ---------------------------------------------------------------------------


def test_unknown_top_level_key_suggests_the_right_one() -> None:
    line, column, message = only_problem(HEAD + "flws: []\n")
    assert (line, column) == (3, 1)
    assert message == (
        "unknown key 'flws' in the model; expected one of assets, boundaries, controls, "
        "description, elements, flows, stored_threats, system, threats, version (did you mean "
        "'flows'?)"
    )


def test_unknown_keys_inside_items() -> None:
    text = HEAD + (
        "elements:\n"
        "  - {id: a, type: process, boundry: x}\n"  # line 4
        "threats:\n"
        "  k@a: {status: accepted, expiry: 2027-01-01}\n"  # line 6
    )
    assert problems(text) == [
        (
            *at(text, 4, "boundry"),
            "unknown key 'boundry' in process 'a'; expected one of boundary, data, description, "
            "essential_performance, hazards, id, implemented_by, kind, name, properties, renamed_from, "
            "type "
            "(did you mean 'boundary'?)",
        ),
        (
            *at(text, 6, "expiry"),
            "unknown key 'expiry' in threat 'k@a'; expected one of approved_by, approved_on, "
            "controls, cvss, expires, exploitability, justification, needs_investigation, "
            "rationale, severity, status, transferred_to (did you mean 'expires'?)",
        ),
    ]


def test_missing_required_keys() -> None:
    text = "system: S\n" + (
        "elements:\n"
        "  - {id: a}\n"  # line 3
        "flows:\n"
        "  - id: f\n"  # line 5
        "    from: a\n"
        "controls:\n"
        "  - {id: c}\n"  # line 8
        "threats:\n"
        "  k@a: {controls: []}\n"  # line 10
    )
    assert problems(text) == [
        (1, 1, "the model has no 'version'; add it: version: 1"),
        (3, 5, "element 'a' has no 'type'; add it: external-entity, process or data-store"),
        (5, 5, "flow 'f' has no 'to'; add it"),
        (8, 5, "control 'c' has no 'name'; add it"),
        (8, 5, "control 'c' has no 'status'; add it: planned, implemented or verified"),
        (
            10,
            8,
            "threat 'k@a' has no 'status'; add it: "
            "open, mitigated, accepted, transferred or not-applicable",
        ),
    ]


def test_wrong_enum_values_list_the_choices() -> None:
    text = HEAD + (
        "boundaries: [{id: b, kind: dmz}]\n"  # line 3
        "elements:\n"
        "  - {id: a, type: proces}\n"  # line 5
        "  - {id: d, type: data-store, kind: databse}\n"  # line 6
        "flows: [{id: f, from: a, to: d, protocol: htps}]\n"  # line 7
        "controls: [{id: c, name: C, status: done}]\n"  # line 8
        "threats: {k@a: {status: fixed}}\n"  # line 9
    )
    assert problems(text) == [
        (
            3,
            28,
            "boundary 'b': kind 'dmz' is not one of: " + ", ".join(BOUNDARY_KINDS),
        ),
        (
            5,
            19,
            "element 'a': type 'proces' is not one of: external-entity, process, data-store "
            "(did you mean 'process'?)",
        ),
        (
            6,
            37,
            "data store 'd': kind 'databse' is not one of: "
            + ", ".join(ELEMENT_KINDS["data-store"])
            + " (did you mean 'database'?)",
        ),
        (8, 37, "control 'c': status 'done' is not one of: planned, implemented, verified"),
        (
            9,
            25,
            "threat 'k@a': status 'fixed' is not one of: "
            "open, mitigated, accepted, transferred, not-applicable",
        ),
    ]


def test_wrong_types() -> None:
    text = HEAD + (
        "elements:\n"
        "  - a\n"  # line 4
        "  - {id: 7, type: process, name: 2024}\n"  # line 5
        "  - {id: p, type: process, properties: {note: [1], z: }}\n"  # line 6
        "flows: {}\n"  # line 7
        "controls:\n"
        "  - {id: c, name: C, status: planned, evidence: tests/x.py}\n"  # line 9
        "threats: []\n"  # line 10
    )
    assert problems(text) == [
        (*at(text, 4, "a"), "elements[0] must be a mapping, not 'a'"),
        (*at(text, 5, "7"), "this process: id must be a string, not 7; put it in quotes"),
        (*at(text, 5, "2024"), "this process: name must be a string, not 2024; put it in quotes"),
        (
            *at(text, 6, "[1]"),
            "process 'p': properties.note must be true or false, a string or a number, not a list",
        ),
        (
            *at(text, 6, "}}"),
            "process 'p': properties.z is empty; "
            "write true or false, a string or a number or remove it",
        ),
        (*at(text, 7, "{}"), "flows must be a list, not a mapping"),
        (*at(text, 9, "tests/x.py"), "control 'c': evidence must be a list, not 'tests/x.py'"),
        (*at(text, 10, "[]"), "threats must be a mapping, not a list"),
    ]


def test_bad_ids() -> None:
    text = HEAD + (
        "elements:\n"
        "  - {id: 'a b', type: process}\n"  # line 4
        "  - {id: x@y, type: process}\n"  # line 5
        "  - {id: '-x', type: process}\n"  # line 6
        "  - {id: '', type: process}\n"  # line 7
        f"  - {{id: {'i' * 201}, type: process}}\n"  # line 8
    )
    hint = (
        "is not a valid id: use letters, digits and _ . : - (starting with a letter or digit), "
        "without spaces, '@' or '>'"
    )
    assert problems(text) == [
        (4, 10, f"process 'a b': id 'a b' {hint}"),
        (5, 10, f"process 'x@y': id 'x@y' {hint}"),
        (6, 10, f"process '-x': id '-x' {hint}"),
        (7, 10, "this process: id is empty; write a value"),
        (8, 10, f"process '{'i' * 201}': id is longer than 200 characters; shorten it"),
    ]


def test_bad_property_names_and_non_string_keys() -> None:
    text = HEAD + (
        "elements:\n"
        "  - {id: p, type: process, properties: {bad key: 1, 2: x, ok-name_2: 3}}\n"  # line 4
        "threats:\n"
        "  1: {status: open}\n"  # line 6
    )
    assert problems(text) == [
        (
            *at(text, 4, "bad key"),
            "key 'bad key' in properties of process 'p' is not a valid property name: "
            "use letters, digits, _ and - only",
        ),
        (
            *at(text, 4, "2:"),
            "key 2 in properties of process 'p' must be a string; put it in quotes",
        ),
        (6, 3, "key 1 in threats must be a string; put it in quotes"),
    ]


def test_bad_date_forms() -> None:
    text = HEAD + (
        "threats:\n"
        "  a@b: {status: accepted, expires: 30.06.2027}\n"  # line 4
        "  c@d: {status: accepted, approved_on: 2027-13-01}\n"  # line 5
        "  e@f: {status: accepted, expires: 2027-02-29, approved_on: 2024-02-29}\n"  # line 6
    )
    assert problems(text) == [
        (4, 36, "threat 'a@b': expires '30.06.2027' is not a date: write it as YYYY-MM-DD"),
        (
            5,
            40,
            "threat 'c@d': approved_on '2027-13-01' is not a real date; check the month and day",
        ),
        (
            6,
            36,
            "threat 'e@f': expires '2027-02-29' is not a real date; check the month and day",
        ),
    ]


def test_top_level_must_be_a_mapping() -> None:
    assert only_problem("- a\n- b\n") == (
        1,
        1,
        "the model must be a YAML mapping with the keys version, system, boundaries, elements, "
        "flows, controls and threats; this file holds a list",
    )


def test_yaml_problems_surface_as_located_input_errors() -> None:
    assert only_problem("") == (1, 1, "the file is empty; it must hold one YAML document")
    line, column, message = only_problem(HEAD + "system: again\n")
    assert (line, column) == (3, 1)
    assert message.startswith("duplicate key 'system'")
    line, column, message = only_problem(HEAD + "elements: [\n")
    assert message.startswith("YAML syntax error")


BILLION_LAUGHS = HEAD + "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [
        f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)


def test_billion_laughs_is_bounded() -> None:
    line, _, message = only_problem(BILLION_LAUGHS)
    assert line == 9
    assert message.startswith("too many nodes / aliases")


# --- semantic errors -------------------------------------------------------------------------


def test_ids_are_unique_across_elements_flows_and_boundaries() -> None:
    text = HEAD + (
        "boundaries:\n"
        "  - {id: zone}\n"  # line 4
        "elements:\n"
        "  - {id: a, type: process}\n"  # line 6
        "  - {id: zone, type: process}\n"  # line 7
        "  - {id: a, type: data-store}\n"  # line 8
        "flows:\n"
        "  - {id: a, from: a, to: a}\n"  # line 10
        "controls:\n"
        "  - {id: a, name: A, status: planned}\n"  # line 12: controls have their own ids
        "  - {id: c, name: C, status: planned}\n"
        "  - {id: c, name: D, status: planned}\n"  # line 14
    )
    shared = (
        "elements, flows and boundaries share one set of ids (threat keys are built from them): "
        "rename one"
    )
    assert problems(text) == [
        (7, 10, f"id 'zone' is already used by the boundary at line 4; {shared}"),
        (8, 10, f"id 'a' is already used by the element at line 6; {shared}"),
        (10, 10, f"id 'a' is already used by the element at line 6; {shared}"),
        (14, 10, "control id 'c' is already used by the control at line 13; rename one"),
    ]


def test_references_must_resolve() -> None:
    text = HEAD + (
        "boundaries:\n"
        "  - {id: device}\n"
        "  - {id: ward, parent: hospitl}\n"  # line 5
        "  - {id: hospital}\n"
        "elements:\n"
        "  - {id: controller, type: process, boundary: devcie}\n"  # line 8
        "  - {id: clinician, type: external-entity, boundary: controller}\n"  # line 9
        "flows:\n"
        "  - {id: cmd, from: clinican, to: device}\n"  # line 11
        "  - {id: log, from: controller, to: zzz}\n"  # line 12
    )
    assert problems(text) == [
        (
            *at(text, 5, "hospitl"),
            "boundary 'ward' has parent 'hospitl', but no boundary has that id "
            "(did you mean 'hospital'?)",
        ),
        (
            *at(text, 8, "devcie"),
            "process 'controller' is inside 'devcie', but no boundary has that id "
            "(did you mean 'device'?)",
        ),
        (
            *at(text, 9, "controller"),
            "external entity 'clinician' is inside 'controller', which is an element, "
            "not a boundary; known boundaries: device, hospital, ward",
        ),
        (
            *at(text, 11, "clinican"),
            "flow 'cmd' goes from 'clinican', but no element has that id "
            "(did you mean 'clinician'?)",
        ),
        (
            *at(text, 11, "device"),
            "flow 'cmd' goes to 'device', which is a boundary, not an element; "
            "known elements: clinician, controller",
        ),
        (
            *at(text, 12, "zzz"),
            "flow 'log' goes to 'zzz', but no element has that id; "
            "known elements: clinician, controller",
        ),
    ]


def test_reference_with_nothing_declared() -> None:
    text = HEAD + "elements:\n  - {id: a, type: process, boundary: box}\n"
    assert only_problem(text) == (
        *at(text, 4, "box"),
        "process 'a' is inside 'box', but no boundary has that id; declare it under boundaries",
    )


def test_boundary_parent_cycles() -> None:
    text = HEAD + (
        "boundaries:\n"
        "  - {id: a, parent: b}\n"  # line 4
        "  - {id: b, parent: c}\n"
        "  - {id: c, parent: a}\n"
        "  - {id: self, parent: self}\n"  # line 7
        "  - {id: d, parent: a}\n"  # leads into the cycle, is not part of it
    )
    assert problems(text) == [
        (
            *at(text, 4, "b}"),
            "boundary parents form a cycle: a -> b -> c -> a; a boundary cannot sit inside "
            "itself, remove one of these parents",
        ),
        (
            *at(text, 7, "self", 2),
            "boundary parents form a cycle: self -> self; a boundary cannot sit inside itself, "
            "remove one of these parents",
        ),
    ]


def test_kind_must_fit_type() -> None:
    text = HEAD + (
        "elements:\n"
        "  - {id: p, type: process, kind: person}\n"  # line 4
        "  - {id: s, type: data-store, kind: generic}\n"
        "  - {id: e, type: external-entity, kind: database}\n"  # line 6
    )
    assert problems(text) == [
        (
            *at(text, 4, "person"),
            "process 'p': kind 'person' does not fit type 'process' ('person' is a kind of "
            "external-entity); a process's kind is one of: " + ", ".join(ELEMENT_KINDS["process"]),
        ),
        (
            *at(text, 6, "database"),
            "external entity 'e': kind 'database' does not fit type 'external-entity' "
            "('database' is a kind of data-store); an external entity's kind is one of: "
            + ", ".join(ELEMENT_KINDS["external-entity"]),
        ),
    ]


def test_all_errors_are_reported_at_once_sorted_by_line() -> None:
    text = HEAD + (
        "elements:\n"
        "  - {id: a, type: process, kind: person}\n"  # line 4: semantic
        "  - {id: b, type: proces}\n"  # line 5: schema
        "flows:\n"
        "  - {id: a, from: a, to: nobody}\n"  # line 7: two semantic
        "flws: []\n"  # line 8: schema
    )
    found = problems(text)
    assert [(line, column) for line, column, _ in found] == [
        at(text, 4, "person"),
        at(text, 5, "proces"),
        at(text, 7, "a,"),
        at(text, 7, "nobody"),
        at(text, 8, "flws"),
    ]
    with pytest.raises(InputErrors) as info:
        read(text)
    rendered = str(info.value).splitlines()
    assert rendered[0].startswith("threatmodel.yaml:4:34: process 'a': kind 'person'")
    assert len(rendered) == 5


# --- sniffing and the schema ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        ("threatmodel.yaml", b"version: 1\nsystem: S\nelements: []\n", True),
        ("model.YML", b"\xef\xbb\xbfelements:\n  - {}\nversion: 1\n", True),
        ("m.yaml", b"'version': 1\n\"elements\": []\n", True),
        ("m.yaml", b"version: 1\nsystem: S\n", False),
        ("m.yaml", b"otmVersion: 0.2.0\nproject: {}\n", False),
        ("m.yaml", b"meta:\n  version: 1\n  elements: []\n", False),
        ("m.json", b"version: 1\nelements: []\n", False),
        ("m.tm7", b"<ThreatModel/>", False),
    ],
)
def test_sniff(path: str, data: bytes, expected: bool) -> None:
    assert native.sniff(path, data) is expected


def test_fixture_is_sniffed() -> None:
    assert native.sniff(PATH, (FIXTURES / "infusion_pump.yaml").read_bytes())
    assert native.name == "native"


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = native.schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert native.schema() == schema
    assert native.schema() is not schema


def test_schema_enums_follow_the_type_tree() -> None:
    defs = native.schema()["$defs"]
    element_kinds = {k for kinds in ELEMENT_KINDS.values() for k in kinds}
    assert set(defs["element"]["properties"]["kind"]["enum"]) == element_kinds
    assert defs["element"]["properties"]["type"]["enum"] == list(ELEMENT_KINDS)
    assert defs["boundary"]["properties"]["kind"]["enum"] == list(BOUNDARY_KINDS)
    assert defs["flow"]["properties"]["protocol"]["examples"] == list(PROTOCOLS)
    assert defs["control"]["properties"]["status"]["enum"] == list(CONTROL_STATUSES)
    assert defs["disposition"]["properties"]["status"]["enum"] == list(DISPOSITION_STATUSES)


def _object_schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict) and node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _object_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _object_schemas(value)


def test_every_field_has_a_title_and_a_description() -> None:
    schema = native.schema()
    objects = list(_object_schemas(schema))
    assert len(objects) >= 10
    for obj in objects:
        assert obj.get("title") and obj.get("description")
        for field_name, field in obj["properties"].items():
            assert field.get("title"), field_name
            assert field.get("description"), field_name
        if obj.get("additionalProperties") is not False:
            # Only properties maps (and the threats map) are open; they constrain their keys.
            assert "propertyNames" in obj


def test_contract_properties_are_typed_boolean() -> None:
    defs = native.schema()["$defs"]
    contract = {
        "flowProperties": [
            "authenticated",
            "encrypted",
            "integrity_protected",
            "carries_firmware",
            "signed",
            "debug_interface",
            "broadcast",
            "rate_limited",
        ],
        "processProperties": [
            "sanitizes_input",
            "runs_privileged",
            "secure_boot",
            "debug_interface",
            "watchdog",
            "tamper_resistant",
        ],
        "dataStoreProperties": [
            "stores_logs",
            "stores_credentials",
            "encrypted",
            "tamper_protected",
            "backed_up",
        ],
        "externalEntityProperties": ["authenticated"],
    }
    for def_name, names in contract.items():
        assert sorted(defs[def_name]["properties"]) == sorted(names)
        for prop in names:
            assert defs[def_name]["properties"][prop]["type"] == "boolean"


def test_fixture_validates_against_the_published_schema() -> None:
    from threatdelta.yaml_loader import load_yaml

    doc = load_yaml((FIXTURES / "infusion_pump.yaml").read_bytes(), PATH)
    assert list(Draft202012Validator(native.schema()).iter_errors(doc.data)) == []


def test_one_message_per_value() -> None:
    # An empty contract property fails the typed and the generic property schema; an id of
    # spaces is both too long and malformed: each value still gets one sentence.
    long_bad = "a b" * 70
    text = HEAD + (
        "elements:\n"
        "  - {id: p, type: process, properties: {sanitizes_input: }}\n"  # line 4
        f"  - {{id: '{long_bad}', type: process}}\n"  # line 5
    )
    assert problems(text) == [
        (
            *at(text, 4, "}}"),
            "process 'p': properties.sanitizes_input is empty; write true or false or remove it",
        ),
        (
            *at(text, 5, "'a b"),
            f"process '{long_bad}': id is longer than 200 characters; shorten it",
        ),
    ]


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(
        ["a", "b", "x@y", "", "process", "data-store", "external-entity", "person", "can",
         "open", "mitigated", "2027-06-30", "2027-02-30", "yes", "a b"]
    ),
)  # fmt: skip
_KEYS = st.sampled_from(
    ["id", "name", "type", "kind", "boundary", "parent", "from", "to", "protocol", "status",
     "properties", "controls", "evidence", "expires", "approved_on", "bidirectional", "zz", "1"]
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=12,
)
_SECTIONS = st.sampled_from(
    ["version", "system", "boundaries", "elements", "flows", "controls", "threats", "other"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_SECTIONS, _VALUES, max_size=7))
def test_any_document_is_read_or_rejected_with_located_errors(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document)
    try:
        read(text)
    except InputErrors as err:
        assert err.errors
        for e in err.errors:
            assert e.location is not None and e.location.line is not None
    except InputError as err:
        assert err.location is not None and err.location.line is not None


def test_no_sample_of_another_format_is_sniffed_as_native(samples_dir: Path) -> None:
    files = [p for p in sorted(samples_dir.rglob("*")) if p.is_file()]
    assert files
    for sample in files:
        assert not native.sniff(sample.name, sample.read_bytes()), sample.name


def test_an_unknown_protocol_is_read_as_a_generic_transport_with_a_located_warning() -> None:
    text = HEAD + (
        "elements: [{id: a, type: process}, {id: b, type: process}]\n"
        "flows:\n"
        "  - {id: f, from: a, to: b, protocol: htps}\n"  # line 5
        "  - {id: g, from: a, to: b, protocol: profinet}\n"  # line 6
        "  - {id: h, from: a, to: b, protocol: HTTPS}\n"
    )
    parsed = native.read(text.encode(), "m.yaml")
    assert [f.protocol for f in parsed.model.flows] == ["htps", "profinet", "HTTPS"]
    assert len(parsed.warnings) == 2
    first, second = parsed.warnings
    assert first.startswith("m.yaml:5:39: flow 'f': protocol 'htps' is not one threatdelta knows")
    assert "(did you mean 'https'?)" in first
    assert second.startswith("m.yaml:6:39: flow 'g': protocol 'profinet'")
    for known in ("https", "uart", "zigbee", "lorawan", "modbus", "dicom", "ldap", "smb"):
        assert f" {known}," in second or f" {known})" in second


# --- safety and data assets ----------------------------------------------------------------


SAFETY_MODEL = HEAD + (
    "assets:\n"
    "  - {id: glucose, name: Glucose readings, classification: phi}\n"  # line 4
    "  - {id: dose, classification: therapy-command, confidentiality: medium}\n"
    "elements:\n"
    "  - {id: app, type: process, kind: mobile-app, data: [glucose]}\n"
    "  - {id: pump, type: process, kind: control-unit, hazards: [HAZ-3, HAZ-7],\n"
    "     essential_performance: true}\n"
    "flows:\n"
    "  - {id: cmd, from: app, to: pump, protocol: ble, data: [dose], hazards: [HAZ-3],\n"
    "     essential_performance: true}\n"
    "threats:\n"
    "  fieldbus-spoofing@cmd:\n"
    "    status: open\n"
    "    exploitability: low\n"
    "    severity: critical\n"
    "    rationale: Needs a paired phone within a few metres.\n"
    "    cvss: CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H\n"
)


def test_assets_hazards_and_essential_performance_are_read() -> None:
    m = native.read(SAFETY_MODEL.encode(), "m.yaml").model
    assert [(a.id, a.name, a.classification) for a in m.assets] == [
        ("dose", "dose", "therapy-command"),
        ("glucose", "Glucose readings", "phi"),
    ]
    by_id = {a.id: a for a in m.assets}
    assert (by_id["glucose"].confidentiality, by_id["glucose"].integrity) == ("high", "medium")
    assert (by_id["dose"].confidentiality, by_id["dose"].integrity, by_id["dose"].availability) == (
        "medium",
        "high",
        "high",
    )
    pump = m.element("pump")
    assert pump is not None and pump.hazards == ("HAZ-3", "HAZ-7") and pump.essential_performance
    cmd = m.flow("cmd")
    assert cmd is not None and cmd.data == ("dose",) and cmd.essential_performance
    disposition = m.dispositions["fieldbus-spoofing@cmd"]
    assert (disposition.exploitability, disposition.severity) == ("low", "critical")
    assert disposition.rationale.startswith("Needs a paired phone")
    assert disposition.cvss.startswith("CVSS:3.1/AV:A")


def test_data_must_name_a_declared_asset() -> None:
    text = HEAD + (
        "assets: [{id: glucose, classification: phi}]\n"
        "elements: [{id: db, type: data-store, data: [glucoze]}]\n"  # line 4
    )
    assert problems(text) == [
        (
            *at(text, 4, "glucoze"),
            "data store 'db' carries 'glucoze', but no asset has that id (did you mean 'glucose'?)",
        ),
    ]


def test_a_bad_cvss_vector_and_an_override_without_rationale_are_located() -> None:
    text = HEAD + (
        "elements: [{id: a, type: process}]\n"
        "threats:\n"
        "  k@a:\n"
        "    status: open\n"
        "    cvss: CVSS:3.1/AV:N/AC:L\n"  # line 7
        "    severity: high\n"  # line 8
    )
    found = problems(text)
    assert (7, 11) == found[0][:2] and "base metrics PR, UI, S, C, I, A are missing" in found[0][2]
    assert found[1] == (
        8,
        15,
        "threat 'k@a': severity differs from the rule's; add a rationale that says why",
    )


def test_many_bad_references_are_capped_through_the_collector() -> None:
    from threatdelta.diagnostics import MAX_REPORTED

    flows = "".join(
        f"  - {{id: f{n:03}, from: a, to: ghost{n:03}}}\n" for n in range(MAX_REPORTED + 10)
    )
    text = HEAD + "elements:\n  - {id: a, type: process}\nflows:\n" + flows
    found = problems(text)
    assert len(found) == MAX_REPORTED + 1
    lines = [line for line, _, _ in found[:-1]]
    assert lines == sorted(lines) and lines[0] == 6  # the first flows, top to bottom
    assert "'ghost000'" in found[0][2]
    assert found[-1] == (None, None, "and 10 more errors")


def test_unknown_protocols_are_warned_at_their_place_in_file_order() -> None:
    text = HEAD + (
        "elements:\n  - {id: a, type: process}\n  - {id: b, type: process}\n"
        "flows:\n  - {id: f2, from: b, to: a, protocol: smoke}\n"
        "  - {id: f1, from: a, to: b, protocol: pigeon}\n"
    )
    warnings = native.read(text.encode(), PATH).warnings
    assert [w.split(": ")[0] for w in warnings] == [f"{PATH}:7:40", f"{PATH}:8:40"]
    assert "smoke" in warnings[0] and "pigeon" in warnings[1]


def test_items_with_equal_properties_or_types_share_them() -> None:
    m = read(
        HEAD
        + "elements:\n"
        + "".join(
            f"  - {{id: e{i}, type: process, kind: firmware, properties: {{encrypted: true}}}}\n"
            for i in range(3)
        )
        + "flows:\n"
        + "".join(
            f"  - {{id: f{i}, from: e0, to: e1, protocol: can, properties: {{tier: {b}}}}}\n"
            for i, b in enumerate(["true", "true", "1", "1.0"])
        )
    )
    first, second, third = m.elements
    assert first.properties is second.properties is third.properties
    assert first.type_chain is third.type_chain
    assert dict(first.properties) == {"encrypted": True}
    flows = m.flows
    assert flows[0].properties is flows[1].properties
    assert flows[0].type_chain is flows[3].type_chain
    assert [repr(f.properties["tier"]) for f in flows] == ["True", "True", "1", "1.0"]
    assert flows[0].source is m.elements[0].id  # the reader keeps one copy of each text


def test_building_with_release_gives_the_same_model_and_drops_the_items() -> None:
    from threatdelta.yaml_loader import load_yaml

    text = (
        HEAD
        + "boundaries:\n  - {id: z, name: Zone}\n  - {id: w, name: Wire, line: true}\n"
        + "elements:\n  - {id: a, type: process, boundary: z}\n  - {id: b, type: process}\n"
        + "flows:\n  - {id: f, from: a, to: b, crosses: [w]}\n  - {id: g, from: b, to: a}\n"
    )
    kept = native.build_model(load_yaml(text.encode(), PATH))
    doc = load_yaml(text.encode(), PATH)
    released = native.build_model(doc, release=True)
    assert released == kept
    assert [f.crosses for f in released.flows] == [("w", "z"), None]
    assert all(doc.data[s] == [None, None] for s in ("boundaries", "elements", "flows"))
    assert read(text) == kept


_MEANING_BASE = """\
version: 1
system: Pump
assets:
  - {id: dose, name: Dose}
boundaries:
  - {id: b1, name: One}
  - {id: b2, name: Two, parent: b1}
  - {id: wire, name: Wire, line: true}
elements:
  - {id: e1, type: process, kind: firmware, boundary: b2, data: [dose]}
  - {id: e2, type: data-store, boundary: b1}
  - {id: e3, type: external-entity, kind: person}
  - {id: e4, type: process}
flows:
  - {id: f1, from: e1, to: e2, data: [dose]}
  - {id: f2, from: e3, to: e1}
  - {id: f3, from: e2, to: e3}
controls:
  - {id: c1, name: Keys, status: planned}
threats:
  x@e1: {status: open}
"""
_ID_LIST = ["b1", "b2", "wire", "e1", "e2", "e3", "e4", "f1", "f2", "f3", "c1", "dose", "zz"]
_IDS = st.sampled_from(_ID_LIST)
_EDIT_LIST = [
    ("elements", "boundary"), ("elements", "id"), ("elements", "kind"), ("elements", "type"),
    ("elements", "data"), ("elements", "renamed_from"), ("elements", "implemented_by"),
    ("boundaries", "parent"), ("boundaries", "id"), ("boundaries", "line"),
    ("boundaries", "renamed_from"), ("flows", "from"), ("flows", "to"), ("flows", "id"),
    ("flows", "crosses"), ("flows", "data"), ("controls", "id"), ("assets", "id"),
]  # fmt: skip
_EDITS = st.sampled_from(_EDIT_LIST)
_OTHER_VALUES: list[Any] = ["process", "data-store", "person", "firmware", "device", True, None, 3]
_EDIT_VALUES = st.one_of(_IDS, st.sampled_from(_OTHER_VALUES), st.lists(_IDS, max_size=2))


def _meaning_outcomes(doc: Any) -> list[str]:
    """The semantic errors of ``doc``, after checking that they are those of every check and
    that a model said to need no checks has none."""
    from unittest import mock

    with mock.patch.object(native, "_surely_meaningful", return_value=False):
        every = [str(e) for e in native.semantic_errors(doc)]
    if native._surely_meaningful(doc.data):
        assert every == []
    assert [str(e) for e in native.semantic_errors(doc)] == every
    return every


def test_semantic_checks_skip_no_model_with_one_wrong_value() -> None:
    from threatdelta.yaml_loader import load_yaml

    found = 0
    values = [*_ID_LIST, *_OTHER_VALUES, ["dose"], ["zz"], ["b1"], {"encrypted": "c1"}]
    for section, key in _EDIT_LIST:
        for index in range(4):
            for value in values:
                doc = load_yaml(_MEANING_BASE.encode(), PATH)
                items = doc.data[section]
                if index < len(items):
                    items[index][key] = value
                    found += bool(_meaning_outcomes(doc))
    assert found > 100


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_EDITS, st.integers(0, 2), _EDIT_VALUES), max_size=3), st.booleans())
def test_semantic_checks_skip_only_models_they_find_nothing_in(
    edits: list[Any], threat_edit: bool
) -> None:
    from threatdelta.yaml_loader import load_yaml

    doc = load_yaml(_MEANING_BASE.encode(), PATH)
    for (section, key), index, value in edits:
        items = doc.data[section]
        items[index % len(items)][key] = value
    if threat_edit:
        doc.data["threats"]["x@e1"]["severity"] = "high"
    _meaning_outcomes(doc)


def test_a_plain_model_skips_the_semantic_checks() -> None:
    from threatdelta.yaml_loader import load_yaml

    assert native._surely_meaningful(load_yaml(_MEANING_BASE.encode(), PATH).data)
