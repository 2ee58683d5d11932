"""Wall time and peak resident memory of each phase of ``check --format json``, in one process.

Usage (from the repository root)::

    .venv/bin/python bench/check_phases.py 5000        # bench/diagram.py's model of 5,000 nodes
    .venv/bin/python bench/check_phases.py path/to/threatmodel.yaml

Phases: imports, reading, enumeration, register, designed-out threats, document, writing the
JSON (to /dev/null). Each line gives the phase's seconds and the peak RSS so far (MiB).
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    from threatdelta.collector import kept_alive
    from threatdelta.engine import enumerate_threats
    from threatdelta.exclusions import excluded_threats
    from threatdelta.formats.packs import default_pack
    from threatdelta.formats.registry import read_model
    from threatdelta.register import build_register
    from threatdelta.render.data import register_document
    from threatdelta.render.jsontext import write_json

    last = started

    def phase(name: str, extra: str = "") -> None:
        nonlocal last
        now = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"{name:<10} {now - last:7.3f} s  peak {peak:4d} MiB {extra}")
        last = now

    phase("imports")
    target = argv[0] if argv else "5000"
    if target.isdigit():
        from diagram import diagram, native_yaml

        data, path = native_yaml(diagram(int(target))).encode(), "threatmodel.yaml"
        last = time.perf_counter()  # generating the model is not a phase
    else:
        data, path = Path(target).read_bytes(), target
    with kept_alive() as keep, open("/dev/null", "w", encoding="utf-8") as sink:
        parsed = read_model(data, path)
        phase("read")
        pack = default_pack(parsed)
        threats = enumerate_threats(parsed.model, pack)
        phase("enumerate", f"({len(threats):,} threats)")
        register = build_register(parsed.model, threats, today=dt.date(2026, 6, 1))
        phase("register")
        keep()
        designed_out = excluded_threats(parsed.model, pack, evidence_exists=None)
        phase("excluded", f"({len(designed_out):,} rows)")
        document = register_document(register, pack, designed_out)
        phase("document")
        write_json(sink.write, document)
        phase("write")
    print(f"{'total':<10} {time.perf_counter() - started:7.3f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
