"""A one-line progress bar on standard error, shown only when standard error is a terminal."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    """Counts work done out of ``total`` and redraws one line; silent when not on a terminal."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty()) if callable(isatty) else False

    def advance(self, count: int = 1) -> None:
        """Record ``count`` more items done."""
        self.done = min(self.total, self.done + count)
        if self.enabled and self.total:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\rthreatdelta: {self.label} [{bar}] {self.done}/{self.total}")
            self.stream.flush()

    def finish(self) -> None:
        """End the line."""
        if self.enabled and self.total:
            self.stream.write("\n")
            self.stream.flush()
