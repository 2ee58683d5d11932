"""The publishing budget: a deadline on a clock, work abandoned when it passes, limits from the
environment."""

from __future__ import annotations

import threading

import pytest

from threatdelta.errors import InputError
from threatdelta.publish.deadline import (
    DEADLINE_VARIABLE,
    DEFAULT_TIMEOUT,
    DEFAULT_TOTAL,
    TIMEOUT_VARIABLE,
    Deadline,
    OutOfTime,
    PublishLimits,
    limits_from_environment,
    run_before,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_counts_down_on_its_clock() -> None:
    clock = Clock()
    deadline = Deadline(10, clock)
    assert deadline.remaining() == 10 and not deadline.expired()
    clock.now += 7.5
    assert deadline.remaining() == 2.5
    clock.now += 5
    assert deadline.remaining() == 0 and deadline.expired()


def test_run_before_returns_the_result_or_raises_the_works_error() -> None:
    assert run_before(Deadline(5), lambda: 42) == 42

    def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        run_before(Deadline(5), fail)


def test_run_before_leaves_hanging_work_behind_when_time_runs_out() -> None:
    release = threading.Event()
    with pytest.raises(OutOfTime) as caught:
        run_before(Deadline(0.2), release.wait)
    assert "0.2s allowed for publishing" in str(caught.value)
    release.set()


def test_limits_default_and_from_the_environment() -> None:
    assert limits_from_environment({}) == PublishLimits(DEFAULT_TOTAL, DEFAULT_TIMEOUT)
    assert limits_from_environment({DEADLINE_VARIABLE: "2.5", TIMEOUT_VARIABLE: "0.3"}) == (
        PublishLimits(total=2.5, timeout=1)
    )


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_limits_refuse_what_is_not_a_positive_number(value: str) -> None:
    with pytest.raises(InputError, match=DEADLINE_VARIABLE):
        limits_from_environment({DEADLINE_VARIABLE: value})
    with pytest.raises(InputError, match=TIMEOUT_VARIABLE):
        limits_from_environment({TIMEOUT_VARIABLE: value})
