"""Time each phase of reading a native model, in one process: python bench/parse_phases.py 5000.

Prints the median CPU time (``time.process_time``, steadier than wall time on a busy machine) of
``--repeat`` runs per phase for the model bench/diagram.py generates (``native_yaml(diagram(n))``),
as YAML and as JSON: the YAML load (quick and strict builder), a deep location (which re-reads
the text), the schema check (compiled validator and the Python walk), the semantic checks, the
whole native reader, and a JSON model's decoding with its limit checks. Nothing here is imported
by the package.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diagram import diagram, native_yaml


def timed(label: str, run: Callable[[], Any], repeat: int) -> Any:
    times = []
    result = None
    for _ in range(repeat):
        start = time.process_time()
        result = run()
        times.append(time.process_time() - start)
    print(f"{label:<44} {statistics.median(times) * 1000:9.1f} ms")
    return result


def phases(n: int, repeat: int) -> None:
    from threatdelta.formats import json_source, native
    from threatdelta.limits import check_data
    from threatdelta.yaml_loader import load_yaml

    text = native_yaml(diagram(n)).encode("utf-8")
    print(f"-- {n} nodes, {len(text) / 1e6:.1f} MB of YAML")
    doc = timed("yaml_loader.load_yaml", lambda: load_yaml(text, "m.yaml"), repeat)
    timed(
        "yaml_loader.load_yaml, strict builder only",
        lambda: load_yaml(text, "m.yaml", _quick=False),
        repeat,
    )
    if importlib.util.find_spec("threatdelta.yaml_fast") is not None:
        from threatdelta.yaml_fast import parse_document

        timed("yaml_fast.parse_document (review floor)", lambda: parse_document(text), repeat)
    last = len(doc.data["flows"]) - 1
    timed(
        "load_yaml + location() of the last flow's 'to'",
        lambda: load_yaml(text, "m.yaml").location(["flows", last, "to"]),
        repeat,
    )
    timed("schema: native.schema_errors", lambda: native.schema_errors(doc), repeat)
    validator = native._validator()
    timed("schema: Python jsonschema walk", lambda: list(validator.iter_errors(doc.data)), 1)
    timed("semantic checks", lambda: native.semantic_errors(doc), repeat)
    timed("native.read (whole reader)", lambda: native.read(text, "m.yaml"), repeat)
    as_json = json.dumps(doc.data).encode("utf-8")
    timed(
        f"json_source.decode_json ({len(as_json) / 1e6:.1f} MB)",
        lambda: json_source.decode_json(as_json, "m.json"),
        repeat,
    )
    parsed = json.loads(as_json)
    timed("limits.check_data of the JSON data", lambda: check_data(parsed, locate), repeat)


def locate(pointer: Any) -> Any:
    raise AssertionError(f"within the limits, nothing is located: {pointer}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        phases(n, args.repeat)


if __name__ == "__main__":
    main()
