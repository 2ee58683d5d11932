"""A number worked out in a forked child, or here when there is no child or no answer."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from threatdelta.background import ONE_PROCESS, can_fork, counted_aside

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks only on Linux")


@pytest.fixture(autouse=True)
def _forking_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ONE_PROCESS, raising=False)


@linux
def test_the_number_is_worked_out_in_a_child_process() -> None:
    here = os.getpid()
    with counted_aside(os.getpid) as result:
        answer = result()
    assert answer != here


@linux
def test_the_child_works_on_what_this_process_had_when_it_started() -> None:
    items = list(range(1000))
    with counted_aside(lambda: sum(items)) as result:
        items.clear()  # after the fork: the child still has every item
        assert result() == sum(range(1000))


def test_with_the_variable_set_the_number_is_worked_out_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ONE_PROCESS, "1")
    assert not can_fork()
    with counted_aside(os.getpid) as result:
        assert result() == os.getpid()


def test_no_child_is_forked_while_another_thread_runs() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        with counted_aside(os.getpid) as result:
            assert result() == os.getpid()
    finally:
        stop.set()
        other.join()


@linux
def test_a_child_that_fails_leaves_the_work_to_this_process() -> None:
    here = os.getpid()

    def work() -> int:
        if os.getpid() != here:
            raise RuntimeError("only in the child")
        return 7

    with counted_aside(work) as result:
        assert result() == 7


@linux
def test_an_answer_that_is_not_a_whole_number_is_not_taken() -> None:
    here = os.getpid()
    with counted_aside(lambda: 7 if os.getpid() == here else -3) as result:
        assert result() == 7


def test_an_error_of_the_work_is_raised_in_this_process() -> None:
    def work() -> int:
        raise ValueError("bad model")

    with counted_aside(work) as result, pytest.raises(ValueError, match="bad model"):
        result()


@linux
def test_a_child_whose_answer_is_not_read_is_stopped(tmp_path: Path) -> None:
    started = tmp_path / "child"

    def work() -> int:
        started.write_text(str(os.getpid()))
        time.sleep(60)
        return 1

    with counted_aside(work):
        for _ in range(500):  # until the child has written its pid
            if started.exists() and started.read_text():
                break
            time.sleep(0.01)
    pid = int(started.read_text())
    assert pid != os.getpid()
    assert not Path(f"/proc/{pid}").exists()  # killed and reaped, not left running


@linux
def test_a_child_reaped_by_someone_else_leaves_the_work_to_this_process() -> None:
    # With SIGCHLD ignored, the system reaps children itself: there is no exit status to read.
    here = os.getpid()
    before = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        with counted_aside(lambda: 7 if os.getpid() == here else 8) as result:
            assert result() == 7
        with counted_aside(lambda: time.sleep(0.2) or 1):
            pass  # stopped unread: no error either
    finally:
        signal.signal(signal.SIGCHLD, before)
