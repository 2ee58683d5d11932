"""Garbage-collector settings for the stages that build many objects that all stay alive.

Enumeration creates tens of thousands of threats and candidates at once and keeps every one of
them, so the collector's young-generation passes over them find nothing to free, and each full
pass also re-walks the whole parsed model. :func:`relaxed_collection` makes those passes rarer
while such a stage runs (raising the first threshold, not switching the collector off, so
cycles are still freed and memory stays bounded) and, unless the caller has frozen objects
already, moves what exists before the stage (the loaded model) out of the collector's sight
with ``gc.freeze()`` for its duration. Settings and frozen objects are restored afterwards, so
a caller that enumerates many models in turn (history) still has each one freed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

RELAXED_THRESHOLD = 50_000
"""Allocations between young-generation collections while a stage runs relaxed (default 700)."""
KEPT_THRESHOLD = 1_000_000
"""Allocations between young-generation collections inside :func:`kept_alive`. Each pass walks
every young object, and in a stage that keeps what it builds none of them is garbage: ``check``
of a 20,000-node model made 253 passes (0.48 s of its 4.1 s) that freed 530 objects between
them, all left over from importing. One pass per million net allocations still frees what
cycles there are, so memory stays bounded."""


_open_stages = 0
"""How many :func:`relaxed_collection` and :func:`kept_alive` blocks are running. Inside one,
what the collector sees is already arranged: a nested block neither freezes nor asks how many
objects are frozen (``gc.get_freeze_count()`` walks every frozen object, which inside a stage
is everything alive: a history reading hundreds of revisions would walk its whole heap each
time it reads one)."""


@contextmanager
def relaxed_collection() -> Iterator[None]:
    """Collect less often inside the ``with`` block, and not over what existed before it."""
    global _open_stages
    before = gc.get_threshold()
    freezing = _open_stages == 0 and gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    gc.set_threshold(max(before[0], RELAXED_THRESHOLD), *before[1:])
    _open_stages += 1
    try:
        yield
    finally:
        _open_stages -= 1
        gc.set_threshold(*before)
        if freezing:
            gc.unfreeze()


@contextmanager
def kept_alive() -> Iterator[Callable[[], None]]:
    """For a stage that keeps what it loads until the end (``check`` writing its output): the
    function yielded moves everything alive at that moment out of the collector's sight, so the
    rows made and dropped afterwards do not make it walk the loaded models again and again, and
    young-generation passes are rarer (:data:`KEPT_THRESHOLD`). All of it is handed back to the
    collector, and the thresholds restored, when the ``with`` block ends."""
    global _open_stages
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], KEPT_THRESHOLD), *before[1:])
    _open_stages += 1
    try:
        yield gc.freeze
    finally:
        _open_stages -= 1
        gc.set_threshold(*before)
        gc.unfreeze()
