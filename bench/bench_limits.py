"""Time and peak memory of ``threatdelta check`` at the input limits and on hostile inputs.

Usage::

    .venv/bin/python bench/bench_limits.py [--repeat 3] [--keep DIR]

Each input is written to a scratch folder and checked by a fresh ``threatdelta check --format
json`` process (so the numbers include start-up); the script prints, per input, the exit code,
the median wall time and the largest peak memory (maximum resident set size) of the runs.
Inputs within the documented limits must be read; the others must be refused (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from threatdelta import limits  # noqa: E402

# GNU time reports the peak memory of the command it runs (a fresh process: the numbers include
# Python's start-up and imports).
_TIME = ["/usr/bin/time", "-f", "MAXRSS %M"]
_ARGS = ["--format", "json", "--fail-on", "none"]


def _native(
    elements: int,
    flows: int,
    boundaries: int,
    depth: int,
    name_chars: int = 12,
    description_chars: int = 0,
) -> str:
    lines = ["version: 1", "system: Limits"]
    if boundaries:
        lines.append("boundaries:")
    for i in range(boundaries):
        parent = f", parent: b{i - 1}" if i % depth else ""
        lines.append(f"  - {{id: b{i}, name: Zone {i}, kind: network{parent}}}")
    lines.append("elements:")
    kinds = ("process, kind: generic", "data-store, kind: generic", "external-entity, kind: person")
    name = "n" * (name_chars - 6)
    about = f", description: {'d' * description_chars}" if description_chars else ""
    for i in range(elements):
        zone = f", boundary: b{(i * 7) % boundaries}" if boundaries else ""
        lines.append(f"  - {{id: e{i}, name: {name}{i:06d}, type: {kinds[i % 3]}{zone}{about}}}")
    if flows:
        lines.append("flows:")
    for i in range(flows):
        source, target = f"e{i % elements}", f"e{(i * 13 + 1) % elements}"
        if source == target:
            target = f"e{(i + 1) % elements}"
        lines.append(f"  - {{id: f{i}, from: {source}, to: {target}, protocol: https}}")
    return "\n".join(lines) + "\n"


def _otm_nested(zones: int) -> str:
    items = [
        {
            "id": f"z{i}",
            "name": "Z",
            "type": "t",
            **({"parent": {"trustZone": f"z{i - 1}"}} if i else {}),
        }
        for i in range(zones)
    ]
    return json.dumps(
        {"otmVersion": "0.2.0", "project": {"name": "P", "id": "p"}, "trustZones": items}
    )


def _dragon_nested(boxes: int) -> str:
    cells: list[dict[str, object]] = [
        {
            "id": f"b{i}",
            "shape": "trust-boundary-box",
            "position": {"x": i, "y": i},
            "size": {"width": 4000 - 2 * i, "height": 4000 - 2 * i},
            "data": {"type": "tm.BoundaryBox", "name": "B"},
        }
        for i in range(boxes)
    ]
    return json.dumps(
        {"summary": {"title": "T"}, "detail": {"diagrams": [{"id": 0, "cells": cells}]}}
    )


def _otm_long_name(chars: int) -> str:
    component = {"id": "c", "name": "n" * chars, "type": "web-service"}
    return json.dumps(
        {"otmVersion": "0.2.0", "project": {"name": "P", "id": "p"}, "components": [component]}
    )


def _otm_yaml_25mb() -> str:
    return (
        "otmVersion: 0.2.0\nproject: {name: P, id: p}\ncomponents:\n" + "  - {id: c}\n" * 2_300_000
    )


CASES: list[tuple[str, str, Callable[[], str], int]] = [
    (
        f"at the limits: {limits.MAX_ELEMENTS:,} elements, {limits.MAX_FLOWS:,} flows, "
        f"{limits.MAX_BOUNDARIES} boundaries nested {limits.MAX_BOUNDARY_DEPTH} deep",
        "threatmodel.yaml",
        lambda: _native(
            limits.MAX_ELEMENTS,
            limits.MAX_FLOWS,
            limits.MAX_BOUNDARIES,
            limits.MAX_BOUNDARY_DEPTH,
        ),
        1,
    ),
    (
        "at the limits, every element named with 200 characters",
        "threatmodel.yaml",
        lambda: _native(
            limits.MAX_ELEMENTS,
            limits.MAX_FLOWS,
            limits.MAX_BOUNDARIES,
            limits.MAX_BOUNDARY_DEPTH,
            name_chars=limits.MAX_NAME_CHARS,
        ),
        1,
    ),
    (
        "60 elements with 250,000-character descriptions (15 MB)",
        "threatmodel.yaml",
        lambda: _native(60, 0, 0, 1, description_chars=250_000),
        1,
    ),
    (
        "2,000 nested boundaries (60 KB YAML)",
        "threatmodel.yaml",
        lambda: _native(1, 0, 2000, 2000),
        2,
    ),
    ("3,000 nested OTM zones", "m.otm.json", lambda: _otm_nested(3000), 2),
    ("1,500 nested Threat Dragon boxes", "m.json", lambda: _dragon_nested(1500), 2),
    ("100,000 processes (3.8 MB YAML)", "threatmodel.yaml", lambda: _native(100_000, 0, 0, 1), 2),
    ("OTM component with a 1 MB name", "m.otm.json", lambda: _otm_long_name(1_000_000), 2),
    ("25 MB OTM YAML", "m.otm.yaml", _otm_yaml_25mb, 2),
]


def _run(path: Path) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak RSS (KiB) of one ``check`` process."""
    started = time.perf_counter()
    proc = subprocess.run(
        [*_TIME, sys.executable, "-m", "threatdelta", "check", str(path), *_ARGS],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=False,
    )
    elapsed = time.perf_counter() - started
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode not in (0, 1, 2) or "Traceback" in err:
        sys.stderr.write(err[-2000:])
    peak = int(err.rsplit("MAXRSS ", 1)[1].split()[0]) if "MAXRSS " in err else 0
    return proc.returncode, elapsed, peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="write the inputs to DIR and keep them")
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="threatdelta-limits-"))
    folder.mkdir(parents=True, exist_ok=True)
    bad = 0
    print("| input | size | exit | wall time | peak memory |")
    print("|---|---|---|---|---|")
    for index, (label, name, make, expected) in enumerate(CASES):
        path = folder / str(index) / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(make(), encoding="utf-8")
        runs = [_run(path) for _ in range(args.repeat)]
        codes = {code for code, _, _ in runs}
        wall = statistics.median(t for _, t, _ in runs)
        peak = max(p for _, _, p in runs)
        size = path.stat().st_size
        print(
            f"| {label} | {size / 1e6:.2f} MB | {','.join(map(str, sorted(codes)))} | "
            f"{wall:.2f} s | {peak / 1024:.0f} MiB |"
        )
        ok = codes == {expected} if expected == 2 else codes <= {0, 1}
        bad += 0 if ok else 1
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
