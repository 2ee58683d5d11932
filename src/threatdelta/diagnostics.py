"""The errors and warnings found while reading one file, collected in one place.

Every reader (native models and decisions files, .tm7, Threat Dragon, OTM), the rule pack reader
and the settings loader report what they find here instead of keeping their own lists. What comes
out is the same for all of them:

- **sorted by location** (line, then column; problems that have no line come last), so the
  messages read top to bottom like the file;
- **de-duplicated**: the same message at the same place is reported once, however many checks
  found it;
- **capped**: at most :data:`MAX_REPORTED` errors and as many warnings are kept; the rest are
  counted and reported as one line, ``and K more errors`` (or warnings), so a file with 100,000
  bad values still gives a short, readable answer.

Errors are raised by :meth:`Diagnostics.check` as one :class:`InputError` (or
:class:`InputErrors` for several): exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from threatdelta.errors import InputError, InputErrors, Location

MAX_REPORTED = 50
"""Most errors, and most warnings, reported for one file; the others are counted."""

_Key = tuple[int, int, str]


def _order(location: Location | None, message: str) -> _Key:
    if location is None or location.line is None:
        return (sys.maxsize, 0, message)
    return (location.line, location.column or 0, message)


class _Kept:
    """The first ``cap`` entries in file order out of every distinct one seen."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.seen: set[tuple[str, _Key]] = set()
        self.entries: list[tuple[_Key, int, InputError]] = []

    def add(self, error: InputError) -> None:
        key = _order(error.location, error.message)
        identity = (str(error.location) if error.location is not None else "", key)
        if identity in self.seen:
            return
        self.seen.add(identity)
        self.entries.append((key, len(self.seen), error))
        if len(self.entries) > 2 * self.cap:
            self._trim()

    def _trim(self) -> None:
        self.entries.sort(key=lambda entry: entry[:2])
        del self.entries[self.cap :]

    def first(self) -> list[InputError]:
        self._trim()
        return [error for _, _, error in self.entries]

    @property
    def count(self) -> int:
        return len(self.seen)


class Diagnostics:
    """Errors and warnings about one file (``path``), sorted, de-duplicated and capped."""

    def __init__(self, path: str, cap: int = MAX_REPORTED) -> None:
        self.path = path
        self._errors = _Kept(cap)
        self._warnings = _Kept(cap)

    # ---- collecting ---------------------------------------------------------------------------

    def error(self, message: str, location: Location | None = None) -> None:
        """One problem that makes the file unusable."""
        self._errors.add(InputError(message, location))

    def add(self, error: InputError) -> None:
        """An error raised or built elsewhere (several, for :class:`InputErrors`)."""
        if isinstance(error, InputErrors):
            self.extend(error.errors)
        else:
            self._errors.add(error)

    def extend(self, errors: Iterable[InputError]) -> None:
        for error in errors:
            self.add(error)

    def warn(self, message: str, location: Location | None = None) -> None:
        """Something the reader accepts but the user should hear about (located at the file
        when no finer place is given)."""
        self._warnings.add(InputError(message, location or Location(self.path)))

    # ---- reporting ----------------------------------------------------------------------------

    @property
    def error_count(self) -> int:
        """How many distinct errors were found (reported or not)."""
        return self._errors.count

    def __bool__(self) -> bool:
        """True when there is at least one error."""
        return self._errors.count > 0

    def errors(self) -> list[InputError]:
        """The errors to report, in file order, with a last ``and K more`` when capped."""
        kept = self._errors.first()
        more = self._errors.count - len(kept)
        if more:
            kept.append(
                InputError(f"and {more} more error{'s' if more > 1 else ''}", Location(self.path))
            )
        return kept

    def check(self) -> None:
        """Raise the errors found, if any: one :class:`InputError` or :class:`InputErrors`."""
        errors = self.errors()
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise InputErrors(errors)

    def warnings(self) -> tuple[str, ...]:
        """The warnings as ``path:line:column: message`` lines, in file order, capped."""
        kept = [str(warning) for warning in self._warnings.first()]
        more = self._warnings.count - len(kept)
        if more:
            kept.append(f"{self.path}: and {more} more warning{'s' if more > 1 else ''}")
        return tuple(kept)
