"""A whole number worked out in a second process while this one goes on.

A review with no threat index counts every threat of the base revision, which takes about as
long as everything else the review does after reading the two models (diffing them, finding
the change's reach, enumerating it). Where a child process can be forked safely, the count is
made in one while the review goes on, and read when it is needed.

The number is the same either way: the child works it out from the same objects (a fork copies
the process) and writes it to a pipe as decimal digits. When no child can be forked (not
Linux; another thread running, since a fork copies locks in whatever state other threads left
them; ``THREATDELTA_ONE_PROCESS`` set; the system refuses),
or the child fails or gives anything but a number, the number is worked out in this process
when it is asked for, so an error is raised here, where it would have been without a child.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ONE_PROCESS = "THREATDELTA_ONE_PROCESS"
"""Set (to anything but an empty text) to make every count in this process."""

_LONGEST = 64
"""More digits than any count has: a child's answer longer than this is not taken."""


def can_fork() -> bool:
    """Whether a child forked now would be safe to run Python code in."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and not os.environ.get(ONE_PROCESS)
        and threading.active_count() == 1
    )


class _Child:
    """A forked child working out ``work()``; :meth:`result` reads its answer."""

    def __init__(self, work: Callable[[], int]) -> None:
        self.work = work
        self.pid = 0
        self.pipe = -1
        if not can_fork():
            return
        try:
            readable, writable = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(readable)
            os.close(writable)
            return
        if pid == 0:  # the child: answer, then end without running anything of the parent's
            code = 1
            try:
                os.close(readable)
                text = b"%d" % work()
                while text:
                    text = text[os.write(writable, text) :]
                code = 0
            finally:
                os._exit(code)
        os.close(writable)
        self.pid, self.pipe = pid, readable

    def result(self) -> int:
        """The child's answer, or ``work()`` worked out here when there is none."""
        answer = self._answer()
        return self.work() if answer is None else answer

    def _answer(self) -> int | None:
        if not self.pid:
            return None
        text = b""
        try:
            while len(text) <= _LONGEST:
                piece = os.read(self.pipe, 4096)
                if not piece:
                    break
                text += piece
        finally:
            os.close(self.pipe)
        pid, self.pid = self.pid, 0
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): no exit status
            return None
        if os.waitstatus_to_exitcode(status) != 0 or not text.isdigit() or len(text) > _LONGEST:
            return None
        return int(text)

    def stop(self) -> None:
        """End a child whose answer was not read."""
        if self.pid:
            pid, self.pid = self.pid, 0
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.close(self.pipe)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # reaped by someone else already
                pass


@contextmanager
def counted_aside(work: Callable[[], int]) -> Iterator[Callable[[], int]]:
    """Start ``work`` in a child process where one can be forked safely; the function yielded
    gives its number (worked out in this process if there is no child or no answer from it).
    A child still running when the ``with`` block ends is stopped."""
    child = _Child(work)
    try:
        yield child.result
    finally:
        child.stop()
