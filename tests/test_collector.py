"""Relaxed collection: settings restored, frozen objects returned, cycles still freed."""

from __future__ import annotations

import gc
import weakref

import pytest

from threatdelta.collector import (
    KEPT_THRESHOLD,
    RELAXED_THRESHOLD,
    kept_alive,
    relaxed_collection,
)


class _Node:
    def __init__(self) -> None:
        self.other: object = self


def test_thresholds_and_frozen_objects_are_restored() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with relaxed_collection():
        assert gc.get_threshold()[0] == max(before[0], RELAXED_THRESHOLD)
        assert gc.get_freeze_count() > 0  # what existed before is out of the collector's sight
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_caller_that_froze_objects_keeps_them_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with relaxed_collection():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_cycles_made_inside_are_still_collected() -> None:
    with relaxed_collection():
        node = _Node()
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None


def test_what_a_stage_keeps_alive_is_handed_back_to_the_collector_at_the_end() -> None:
    before = gc.get_freeze_count()
    with kept_alive() as keep:
        kept = [object() for _ in range(100)]
        keep()
        assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_freeze_count() == 0


def test_a_stage_that_keeps_what_it_builds_collects_rarely_and_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with kept_alive():
        assert gc.get_threshold() == (KEPT_THRESHOLD, *before[1:])
        assert gc.isenabled()  # rarer, never off
        with relaxed_collection():  # a relaxed stage inside does not lower it
            assert gc.get_threshold()[0] == KEPT_THRESHOLD
        assert gc.get_threshold()[0] == KEPT_THRESHOLD
        # cycles are still freed by a pass
        node = _Node()  # refers to itself
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None
    assert gc.get_threshold() == before


def test_a_nested_stage_does_not_count_the_frozen_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    # Counting walks every frozen object: inside a stage that is everything alive, so a history
    # that reads hundreds of revisions (each read is a stage within a stage) would walk its
    # whole heap once per revision.
    counted: list[int] = []
    count = gc.get_freeze_count

    def counting() -> int:
        counted.append(1)
        return count()

    monkeypatch.setattr(gc, "get_freeze_count", counting)
    with relaxed_collection():
        frozen = count()
        with relaxed_collection():
            assert count() == frozen  # nothing frozen or unfrozen by the inner stage
        assert count() == frozen
    assert counted == [1]
    with kept_alive() as keep:
        keep()
        frozen = count()
        with relaxed_collection():
            pass
        assert count() == frozen  # the caller's frozen objects stay frozen
    assert counted == [1]
    assert count() == 0
