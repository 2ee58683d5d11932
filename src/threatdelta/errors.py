"""The one kind of error a user sees: a message with where it happened and how to fix it.

Every stage raises :class:`InputError` (or a subclass) for bad input; the command line catches it
at the top, prints ``path:line:column: message`` and exits with code 2. Nothing else is caught, so
a real bug still shows its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_PASS = 0
EXIT_POLICY_FAILED = 1
EXIT_BAD_INPUT = 2


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a file, for error messages, SARIF results and annotations (every model item
    carries one, so it is kept small: no ``__dict__``)."""

    path: str
    """The file, as the user named it (or as it is named in the repository)."""
    line: int | None = None
    """1-based line, when known."""
    column: int | None = None
    """1-based column, when known."""

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class InputError(Exception):
    """Bad input or a bad invocation: printed without a traceback, exit code 2."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"


class InputErrors(InputError):
    """Several input errors found in one pass, reported together."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__("\n".join(str(e) for e in errors), None)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def report_lines(error: InputError) -> list[str]:
    """The lines to print for ``error``: one per problem, each starting with where it is
    (``path:line:column: ...``), or with ``threatdelta: `` when it has no place."""
    errors = error.errors if isinstance(error, InputErrors) else [error]
    lines: list[str] = []
    for item in errors:
        if isinstance(item, InputErrors):
            lines.extend(report_lines(item))
        elif item.location is None:
            lines.append(f"threatdelta: {item.message}")
        else:
            lines.append(str(item))
    return lines
