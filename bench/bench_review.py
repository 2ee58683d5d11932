"""How long enumeration and an incremental review take on large generated models.

Usage::

    .venv/bin/python bench/bench_review.py [--elements 2000] [--repeat 3]

Prints one line per measurement: the median wall time of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import boundary, element, flow, model

from threatdelta.engine import EnumerationStats, enumerate_threats
from threatdelta.model.model import Model, frozen_props
from threatdelta.review.diff import diff_models
from threatdelta.review.impact import impact, incremental_threats
from threatdelta.rules.packfile import builtin_pack


def generated(n: int) -> Model:
    """``n`` elements in 10 nested zones, each with two outgoing flows."""
    boundaries = [boundary(f"z{i}", parent=f"z{i - 1}" if i % 3 else None) for i in range(10)]
    kinds = ("process", "data-store", "external-entity")
    elements = [
        element(
            f"e{i}",
            kinds[i % 3],
            boundary=f"z{i % 10}" if i % 7 else None,
            sanitizes_input=bool(i % 2),
        )
        for i in range(n)
    ]
    protocols = ("https", "can", "udp", "ble", "ipc")
    flows = [
        flow(
            f"f{i}-{k}",
            f"e{i}",
            f"e{(i * 7 + k + 1) % n}",
            protocols[(i + k) % 5],
            encrypted=bool(k),
        )
        for i in range(n)
        for k in range(2)
    ]
    return model(elements, flows, boundaries)


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--elements", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pack = builtin_pack()
    base = generated(args.elements)
    target = base.elements[len(base.elements) // 2]
    changed = dataclasses.replace(
        target, properties=frozen_props({**target.properties, "runs_privileged": True})
    )
    head = dataclasses.replace(
        base, elements=tuple(changed if e.id == target.id else e for e in base.elements)
    )
    head = dataclasses.replace(head)  # fresh lookup caches
    base_threats = enumerate_threats(base, pack)
    full = timed(lambda: enumerate_threats(head, pack), args.repeat)

    def incremental() -> tuple[object, ...]:
        change = impact(base, head, diff_models(base, head), same_pack=True)
        return incremental_threats(base, base_threats, head, pack, change)

    inc = timed(incremental, args.repeat)
    diff_only = timed(lambda: diff_models(base, head), args.repeat)
    stats = EnumerationStats()
    change = impact(base, head, diff_models(base, head), same_pack=True)
    incremental_threats(base, base_threats, head, pack, change, stats=stats)
    full_stats = EnumerationStats()
    enumerate_threats(head, pack, stats=full_stats)
    print(
        f"model: {len(base.elements)} elements, {len(base.flows)} flows, {len(base_threats)} threats"
    )
    print(
        f"full enumeration:              {full * 1000:8.1f} ms  ({full_stats.evaluations} rule evaluations)"
    )
    print(
        f"incremental (1 element edited): {inc * 1000:8.1f} ms  ({stats.evaluations} rule evaluations)"
    )
    print(f"  of which model diff:          {diff_only * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
