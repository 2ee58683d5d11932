"""The progress bar draws only on a terminal."""

from __future__ import annotations

import io

from threatdelta.history.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    bar = Progress("reading", 3, stream)
    bar.advance()
    bar.finish()
    assert stream.getvalue() == ""


def test_draws_on_a_terminal() -> None:
    stream = _Terminal()
    bar = Progress("reading", 4, stream)
    bar.advance(2)
    bar.advance(5)
    bar.finish()
    text = stream.getvalue()
    assert "\rthreatdelta: reading [" + "#" * 15 + "-" * 15 + "] 2/4" in text
    assert "[" + "#" * 30 + "] 4/4\n" in text
