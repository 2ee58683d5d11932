"""The step's log: plain lines that can never be read as workflow commands, and never hold a
secret.

The runner treats any output line that starts with ``::`` (after leading blanks) as a workflow
command. Log lines can quote untrusted text (model names in error messages, file paths from the
pull request), so every line written through :meth:`StepLog.info` and :meth:`StepLog.error`
starts with ``threatdelta:``; only :meth:`StepLog.command` writes a command, and its text is built
by the escaping helpers in :mod:`threatdelta.publish.workflow`. Control characters (NUL, BEL, ESC),
bidirectional overrides and invisible characters in a line are shown as escapes
(:func:`threatdelta.render.escape.log_text`), never written raw.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TextIO

from threatdelta.render.escape import log_text

PREFIX = "threatdelta:"
REDACTED = "***"


class StepLog:
    """Writes log lines and workflow commands; replaces every known secret with ``***``."""

    def __init__(self, out: TextIO, err: TextIO, secrets: Iterable[str] = ()) -> None:
        self._out = out
        self._err = err
        self._secrets: list[str] = [s for s in secrets if s]
        self._lock = threading.Lock()

    def add_secret(self, secret: str) -> None:
        """Redact ``secret`` from every later line."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced (longest first, so no part of one survives)."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _write(self, stream: TextIO, label: str, text: str) -> None:
        # Secrets out, then every control, bidi and invisible character shown as an escape.
        lines = log_text(self.redact(text).replace("\r\n", "\n").replace("\r", "\n")).split("\n")
        with self._lock:
            for line in lines:
                stream.write(f"{PREFIX} {label}{line}\n" if line else f"{PREFIX}\n")
            stream.flush()

    def info(self, text: str) -> None:
        """A log line on standard output."""
        self._write(self._out, "", text)

    def warning(self, text: str) -> None:
        """A warning on standard error."""
        self._write(self._err, "warning: ", text)

    def error(self, text: str) -> None:
        """An error on standard error."""
        self._write(self._err, "error: ", text)

    def command(self, line: str) -> None:
        """A workflow command (``::error ...``), already escaped, on standard output."""
        if "\n" in line or "\r" in line or not line.startswith("::"):
            raise ValueError("a workflow command is one escaped line starting with '::'")
        with self._lock:
            self._out.write(self.redact(line) + "\n")
            self._out.flush()
