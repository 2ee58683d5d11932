"""Bounded retries: no call starts and no wait begins past the publishing deadline."""

from __future__ import annotations

import pytest

from threatdelta.publish.deadline import Deadline
from threatdelta.publish.retry import Calls, GaveUp


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Flaky(Exception):
    pass


def _calls(clock: Clock, deadline: Deadline | None, log: list[str]) -> Calls:
    def sleep(seconds: float) -> None:
        clock.now += seconds

    return Calls(
        retryable=(Flaky,),
        delay=lambda exc, attempt: 2.0,
        describe=lambda exc: "flaky",
        max_total_wait=1000,
        sleep=sleep,
        log=log.append,
        deadline=deadline,
    )


def test_retries_stop_before_a_wait_would_pass_the_deadline() -> None:
    clock = Clock()
    log: list[str] = []
    tries: list[float] = []

    def fail() -> None:
        tries.append(clock.now)
        raise Flaky

    with pytest.raises(GaveUp) as caught:
        _calls(clock, Deadline(5, clock), log)("posting", fail)
    assert tries == [0.0, 2.0, 4.0]  # after the third, a 2 s wait would end at 6 s
    assert "would pass the 5s allowed for publishing" in caught.value.reason


def test_no_call_starts_after_the_deadline() -> None:
    clock = Clock()
    deadline = Deadline(1, clock)
    clock.now = 1.5
    called: list[bool] = []
    with pytest.raises(GaveUp, match="ran out"):
        _calls(clock, deadline, [])("reading", lambda: called.append(True))
    assert called == []


def test_without_a_deadline_only_the_attempt_cap_applies() -> None:
    clock = Clock()

    def fail() -> None:
        raise Flaky

    with pytest.raises(GaveUp, match="5 times"):
        _calls(clock, None, [])("posting", fail)
    assert clock.now == 8.0
