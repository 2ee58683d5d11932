"""Hostile model files at the command line: each is refused with exit code 2 and a message that
starts with ``path:line:column``, never a traceback, and quickly (the limits are checked before
the work that grows with the input)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threatdelta.cli import main
from threatdelta.limits import MAX_BOUNDARIES, MAX_ELEMENTS, MAX_ITEMS, MAX_NAME_CHARS

FIXTURES = Path(__file__).resolve().parents[1] / "formats" / "fixtures"
TM7 = FIXTURES / "tm7" / "two_tabs.tm7"
TB7 = FIXTURES / "tm7" / "template.tb7"


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the command line, expect exit code 2, and return what it printed to stderr."""
    code = main(list(argv))
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


def otm(**sections: object) -> dict[str, object]:
    return {"otmVersion": "0.2.0", "project": {"name": "P", "id": "p"}, **sections}


def dragon(cells: list[dict[str, object]]) -> dict[str, object]:
    return {"summary": {"title": "T"}, "detail": {"diagrams": [{"id": 0, "cells": cells}]}}


NATIVE_HEAD = "version: 1\nsystem: S\nelements:\n  - {id: p, type: process, kind: generic}\n"
HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "threatmodel.yaml",
            NATIVE_HEAD + f"  - {{id: q, type: process, kind: generic, x: {HUGE}}}\n",
            ":5:",
        ),
        ("m.otm.yaml", f"otmVersion: 0.2.0\nproject: {{name: P, id: p, n: {HUGE}}}\n", ":2:"),
        ("m.otm.json", json.dumps(otm()).replace('"p"}', f'"p", "n": {HUGE}}}'), ":1:"),
        ("m.json", json.dumps(dragon([])).replace('"T"}', f'"T", "n": {HUGE}}}'), ":1:"),
    ],
)
def test_an_integer_of_thousands_of_digits_is_refused(
    capsys, tmp_path: Path, name, text, where
) -> None:
    path = tmp_path / name
    path.write_text(text)
    err = refused(capsys, "check", str(path))
    assert err.startswith(f"{path}{where}") and "a number written with 5000 characters" in err


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        (
            "m.json",
            dragon(
                [{"id": "p", "shape": "process", "data": {"type": "tm.Process", "name": "\ud800"}}]
            ),
        ),
        ("m.otm.json", otm(components=[{"id": "c", "name": "\udc00 x", "type": "web-service"}])),
    ],
)
def test_a_lone_surrogate_in_a_string_is_refused(capsys, tmp_path: Path, name, doc) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(doc))  # json.dumps writes the surrogate as a \ud800 escape
    for fmt in ("text", "json"):
        err = refused(capsys, "check", str(path), "--format", fmt)
        assert err.startswith(f"{path}:1:") and "unpaired UTF-16 surrogate" in err


def test_an_xml_declaration_with_an_unknown_encoding_is_refused(capsys, tmp_path: Path) -> None:
    body = TM7.read_bytes().split(b"?>", 1)[-1]
    model = tmp_path / "m.tm7"
    model.write_bytes(b'<?xml version="1.0" encoding="x-no-such-encoding"?>' + body)
    err = refused(capsys, "check", str(model))
    assert err.startswith(f"{model}:1:1: the XML cannot be decoded (unknown encoding")
    template = tmp_path / "t.tb7"
    template.write_bytes(b'<?xml version="1.0" encoding="x-no-such-encoding"?><KnowledgeBase/>')
    err = refused(capsys, "check", str(TM7), "--rules", str(template))
    assert err.startswith(f"{template}:1:1: the XML cannot be decoded")


@pytest.mark.parametrize("name", ["m.json", "m.otm.json"])
def test_json_duplicate_keys_are_refused_like_yaml_ones(capsys, tmp_path: Path, name) -> None:
    doc = dragon([]) if name == "m.json" else otm()
    text = (
        json.dumps(doc, indent=1)
        .replace('"T"', '"T", "title": "Other"')
        .replace('"name": "P"', '"name": "P", "name": "Q"')
    )
    path = tmp_path / name
    path.write_text(text)
    err = refused(capsys, "check", str(path))
    line = next(
        i
        for i, ln in enumerate(text.splitlines(), 1)
        if ln.count('"title"') + ln.count('"name"') > 1
    )
    assert err.startswith(f"{path}:{line}:") and "duplicate key" in err


def _nested_native(n: int) -> str:
    lines = ["version: 1", "system: S", "boundaries:"]
    for i in range(n):
        parent = f", parent: b{i - 1}" if i else ""
        lines.append(f"  - {{id: b{i}, name: B, kind: network{parent}}}")
    lines += ["elements:", f"  - {{id: p, type: process, kind: generic, boundary: b{n - 1}}}"]
    return "\n".join(lines) + "\n"


def test_thousands_of_nested_boundaries_are_refused_before_their_chains_are_built(
    capsys, tmp_path: Path
) -> None:
    native = tmp_path / "threatmodel.yaml"
    many = MAX_BOUNDARIES + 1000
    native.write_text(_nested_native(many))
    assert f"{many} trust boundaries; at most {MAX_BOUNDARIES}" in refused(
        capsys, "check", str(native)
    )
    zones = [
        {
            "id": f"z{i}",
            "name": "Z",
            "type": "t",
            **({"parent": {"trustZone": f"z{i - 1}"}} if i else {}),
        }
        for i in range(many)
    ]
    otm_file = tmp_path / "m.otm.json"
    otm_file.write_text(json.dumps(otm(trustZones=zones)))
    err = refused(capsys, "check", str(otm_file))
    assert err.startswith(f"{otm_file}:1:") and f"{many} trust boundaries" in err
    boxes = [
        {
            "id": f"b{i}",
            "shape": "trust-boundary-box",
            "position": {"x": i, "y": i},
            "size": {"width": 4 * many - 2 * i, "height": 4 * many - 2 * i},
            "data": {"type": "tm.BoundaryBox", "name": "B"},
        }
        for i in range(many)
    ]
    dragon_file = tmp_path / "m.json"
    dragon_file.write_text(json.dumps(dragon(boxes)))
    assert f"{many} trust boundaries" in refused(capsys, "check", str(dragon_file))


def test_boundaries_nested_deeper_than_the_limit_are_refused_at_their_line(
    capsys, tmp_path: Path
) -> None:
    native = tmp_path / "threatmodel.yaml"
    native.write_text(_nested_native(60))
    err = refused(capsys, "check", str(native))
    assert err.startswith(f"{native}:36:") and "'b32' sits inside 32 nested boundaries" in err


def test_a_hundred_thousand_processes_are_refused_without_reading_them_all(
    capsys, tmp_path: Path
) -> None:
    path = tmp_path / "threatmodel.yaml"
    path.write_text(
        "version: 1\nsystem: S\nelements:\n"
        + "".join(f"  - {{id: p{i}, type: process, kind: generic}}\n" for i in range(100_000))
    )
    err = refused(capsys, "check", str(path))
    assert err.startswith(f"{path}:4:3: this list or mapping holds {MAX_ITEMS + 1} items")
    few = tmp_path / "few.yaml"
    few.write_text(
        "version: 1\nsystem: S\nelements:\n"
        + "".join(
            f"  - {{id: p{i}, type: process, kind: generic}}\n" for i in range(MAX_ELEMENTS + 1)
        )
    )
    assert f"{MAX_ELEMENTS + 1} elements; at most {MAX_ELEMENTS}" in refused(
        capsys, "check", str(few)
    )


def test_a_megabyte_name_is_refused(capsys, tmp_path: Path) -> None:
    path = tmp_path / "m.otm.json"
    path.write_text(
        json.dumps(otm(components=[{"id": "c", "name": "n" * 1_000_000, "type": "web-service"}]))
    )
    err = refused(capsys, "check", str(path))
    assert err.startswith(f"{path}:1:") and "a text of 1000000 characters" in err


def test_a_25_megabyte_otm_file_is_refused_for_its_size(capsys, tmp_path: Path) -> None:
    path = tmp_path / "m.otm.yaml"
    path.write_bytes(
        b"otmVersion: 0.2.0\nproject: {name: P, id: p}\ncomponents:\n"
        + b"  - {id: c}\n" * 2_300_000
    )
    err = refused(capsys, "check", str(path))
    assert "16 MiB" in err and "alias" not in err


def test_every_problem_of_a_model_gets_its_own_located_line(capsys, tmp_path: Path) -> None:
    path = tmp_path / "threatmodel.yaml"
    path.write_text(
        "version: 1\nsystem: S\nelements:\n"
        "  - {id: a, type: process, kind: generic, colour: red}\n"
        "  - {id: b, type: process, kind: generic, size: big}\n"
    )
    lines = refused(capsys, "check", str(path)).splitlines()
    assert len(lines) >= 2
    assert all(line.startswith(f"{path}:") for line in lines), lines


def test_an_overlong_name_is_refused_before_it_is_repeated_in_every_threat(
    capsys, tmp_path: Path
) -> None:
    path = tmp_path / "threatmodel.yaml"
    path.write_text(
        "version: 1\nsystem: S\nelements:\n"
        f"  - {{id: p, type: process, kind: generic, name: {'n' * (MAX_NAME_CHARS + 1)}}}\n"
    )
    err = refused(capsys, "check", str(path))
    assert err.startswith(f"{path}:4:5: the name of element 'p' is {MAX_NAME_CHARS + 1} characters")
