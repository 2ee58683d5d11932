"""How long a publisher may talk to a code host: per-request timeouts and one overall budget.

A host that accepts the connection and then never answers, or answers one byte every few
seconds, must not keep the job running: the verdict is already known, and only publishing it is
at stake. Every request gets a connect and a read timeout, and all of a run's requests together
(retries and waits included) get one budget, :attr:`PublishLimits.total`. When the budget runs out
the publisher stops where it is, says what was not published, and the run ends with its verdict.

Nothing here knows about any particular host: a publisher wraps its whole conversation in
:func:`run_before` and checks :meth:`Deadline.remaining` before each request or wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from threatdelta.errors import InputError

T = TypeVar("T")

DEADLINE_VARIABLE = "THREATDELTA_PUBLISH_DEADLINE"
"""Seconds all requests to the code host may take together (default :data:`DEFAULT_TOTAL`)."""

TIMEOUT_VARIABLE = "THREATDELTA_PUBLISH_TIMEOUT"
"""Whole seconds one request may wait for the connection, and then for each read of the answer
(default :data:`DEFAULT_TIMEOUT`)."""

DEFAULT_TOTAL = 180.0
DEFAULT_TIMEOUT = 20


@dataclass(frozen=True)
class PublishLimits:
    """The time a run may spend publishing."""

    total: float = DEFAULT_TOTAL
    """Seconds for every request, retry and wait together."""
    timeout: int = DEFAULT_TIMEOUT
    """Whole seconds to wait for one connection to open, and again for each read of an answer
    (an answer that trickles in is caught by ``total``)."""


class OutOfTime(Exception):
    """The budget ran out before the work finished."""

    def __init__(self, budget: float) -> None:
        super().__init__(f"the {budget:g}s allowed for publishing ran out")
        self.budget = budget


class Deadline:
    """A point in time ``seconds`` from now, on a monotonic clock."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - self._clock())

    def expired(self) -> bool:
        """Whether no time is left."""
        return self.remaining() <= 0.0


def run_before(deadline: Deadline, work: Callable[[], T]) -> T:
    """``work()``'s result, or :class:`OutOfTime` when ``deadline`` passes first.

    ``work`` runs on a daemon thread; when time runs out it is left behind (blocked on a socket,
    most likely) and the caller goes on. ``work`` should check ``deadline`` itself between
    requests so that it stops soon after; an exception it raises is raised here.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=target, name="threatdelta-publish", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if worker.is_alive():
        raise OutOfTime(deadline.budget)
    if failure:
        raise failure[0]
    return outcome[0]


def _seconds(environ: Mapping[str, str], name: str) -> float | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name} must be a positive number of seconds, not '{raw[:40]}'")
    return value


def limits_from_environment(environ: Mapping[str, str]) -> PublishLimits:
    """The limits set by :data:`DEADLINE_VARIABLE` and :data:`TIMEOUT_VARIABLE`, else defaults
    (a fractional timeout is rounded up to whole seconds)."""
    total = _seconds(environ, DEADLINE_VARIABLE)
    timeout = _seconds(environ, TIMEOUT_VARIABLE)
    return PublishLimits(
        total=total if total is not None else DEFAULT_TOTAL,
        timeout=math.ceil(timeout) if timeout is not None else DEFAULT_TIMEOUT,
    )
