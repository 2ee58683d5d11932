"""Bounded retries for host API calls: server errors, rate limits and dropped connections.

Each host says, for one failure, how long to wait before trying again (or that trying again is
pointless) and how to describe the failure without the token; :class:`Calls` does the rest the same
way for every host: at most :data:`MAX_ATTEMPTS` tries, all waits together under a cap, one log line
per retry, and no try or wait past the run's publishing deadline
(:class:`~threatdelta.publish.deadline.Deadline`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

from threatdelta.publish.deadline import Deadline

T = TypeVar("T")

MAX_ATTEMPTS = 5
"""Tries per call, the first one included."""


def scaled_sleep(scale: float) -> Callable[[float], None]:
    """A ``sleep`` for the retries that waits ``scale`` times as long (0 in tests: no waiting)."""

    def sleep(seconds: float) -> None:
        if seconds * scale > 0:
            time.sleep(seconds * scale)

    return sleep


class GaveUp(Exception):
    """The host kept failing (or asked us to wait longer than we may) while doing ``what``."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header's wait in seconds (a number or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class Calls:
    """Runs one host's API calls with a bounded retry.

    ``delay(exc, attempt)`` gives the seconds to wait after failure number ``attempt`` (0-based),
    or None when ``exc`` is not worth retrying (it is then raised as it is); ``describe(exc)`` is a
    short, token-free account of it. ``retryable`` names the exception types ``delay`` is asked
    about. With a ``deadline``, no call starts and no wait begins that would end after it.
    """

    def __init__(
        self,
        *,
        retryable: tuple[type[Exception], ...],
        delay: Callable[[Exception, int], float | None],
        describe: Callable[[BaseException], str],
        max_total_wait: float,
        sleep: Callable[[float], None],
        log: Callable[[str], None],
        deadline: Deadline | None = None,
    ) -> None:
        self.retryable = retryable
        self.delay = delay
        self.describe = describe
        self.max_total_wait = max_total_wait
        self.sleep = sleep
        self.log = log
        self.deadline = deadline
        self.waited = 0.0

    def __call__(self, what: str, fn: Callable[[], T]) -> T:
        attempt = 0
        deadline = self.deadline
        while True:
            if deadline is not None and deadline.expired():
                raise GaveUp(what, f"the {deadline.budget:g}s allowed for publishing ran out")
            try:
                return fn()
            except self.retryable as exc:
                delay = self.delay(exc, attempt)
                if delay is None:
                    raise
                attempt += 1
                if attempt >= MAX_ATTEMPTS:
                    raise GaveUp(what, f"{self.describe(exc)}, {attempt} times") from exc
                if self.waited + delay > self.max_total_wait:
                    raise GaveUp(
                        what,
                        f"{self.describe(exc)}; waiting {delay:g}s more would exceed the "
                        f"{self.max_total_wait:g}s allowed for retries",
                    ) from exc
                if deadline is not None and delay >= deadline.remaining():
                    raise GaveUp(
                        what,
                        f"{self.describe(exc)}; waiting {delay:g}s more would pass the "
                        f"{deadline.budget:g}s allowed for publishing",
                    ) from exc
                self.log(f"{what}: {self.describe(exc)}; retrying in {delay:g}s")
                self.sleep(delay)
                self.waited += delay
