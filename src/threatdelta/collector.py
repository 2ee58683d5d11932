"""Garbage-collector settings for the stages that build many objects that all stay alive.

Enumeration creates tens of thousands of threats and candidates at once and keeps every one of
them, so the collector's young-generation passes over them find nothing to free, and each full
pass also re-walks the whole parsed model. :func:`relaxed_collection` makes those passes rarer
while such a stage runs (raising the first threshold, not switching the collector off, so
cycles are still freed and memory stays bounded) and restores the settings afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

RELAXED_THRESHOLD = 50_000
"""Allocations between young-generation collections while a stage runs relaxed (default 700)."""


@contextmanager
def relaxed_collection() -> Iterator[None]:
    """Collect less often inside the ``with`` block; the previous thresholds afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], RELAXED_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
