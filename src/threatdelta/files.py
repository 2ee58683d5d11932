"""Reading a file the user named on disk: bounded, with an error that says what is wrong."""

from __future__ import annotations

from pathlib import Path

from threatdelta.errors import InputError, Location

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest file read."""


def read_file(path: Path) -> bytes:
    """A file's bytes, bounded; a clear error when it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"the file is {size} bytes; at most {MAX_FILE_BYTES} are read", Location(str(path))
            )
        return path.read_bytes()
    except FileNotFoundError as error:
        raise InputError("no such file", Location(str(path))) from error
    except IsADirectoryError as error:
        raise InputError("is a folder, not a model file", Location(str(path))) from error
    except PermissionError as error:
        raise InputError("cannot be read (permission denied)", Location(str(path))) from error
