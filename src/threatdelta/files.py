"""The one way threatdelta opens a file from disk: bounded, regular files only, inside the
repository when a file names it.

Two kinds of names reach here:

- names written *in* files (``rules:`` and ``models:`` in the settings, a control's evidence):
  a pull request controls them, so they must stay inside the repository. Absolute paths, ``..``
  that leaves it and symbolic links that lead out of it are refused (:func:`repo_path`,
  :func:`read_repo_file`, :func:`exists_in_repo`);
- names given on the command line (``check PATH``, ``--config``, ``--rules``): the person running
  threatdelta chose them, so they may be anywhere (:func:`read_file`).

Either way only regular files are read (never a device, a FIFO or a socket, which could block or
never end), and at most :data:`threatdelta.limits.MAX_FILE_BYTES` + 1 bytes of one, so a file that
grows while it is read is still refused rather than read without limit. Reading from git objects
at a revision goes through :mod:`threatdelta.git`, which uses :func:`repo_path` for the same
rules.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath

from threatdelta.errors import InputError, Location
from threatdelta.limits import MAX_FILE_BYTES, check_size


def repo_path(name: str, what: str = "path") -> str:
    """``name`` as a clean path relative to the repository root (``./a//b`` -> ``a/b``).

    Refuses an empty name, an absolute path (``/etc/passwd``, ``C:\\x``), a backslash, a name
    with control characters and ``..`` that climbs out of the repository, naming the ``what``.
    """
    shown = _shown(name)
    if not name.strip():
        raise InputError(f"the {what} is empty")
    if any(ord(c) < 0x20 or c == "\x7f" for c in name):
        raise InputError(f"the {what} '{shown}' holds control characters")
    if "\\" in name:
        raise InputError(
            f"the {what} '{shown}' uses '\\'; write repository paths with '/' separators"
        )
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InputError(
            f"the {what} '{shown}' is absolute; name files by their path inside the repository"
        )
    parts: list[str] = []
    for part in PurePosixPath(name).parts:
        if part == "..":
            if not parts:
                raise InputError(
                    f"the {what} '{shown}' leads out of the repository ('..'); "
                    "only files inside it are read"
                )
            parts.pop()
        elif part != ".":
            parts.append(part)
    if not parts:
        raise InputError(f"the {what} '{shown}' names the repository itself, not a file")
    return "/".join(parts)


def normalise_pattern(pattern: str) -> str:
    """A glob pattern for repository paths without a leading ``./`` (``./x.yaml`` -> ``x.yaml``)."""
    while pattern.startswith("./"):
        pattern = pattern[2:].lstrip("/")
    return pattern


def read_repo_file(root: Path, name: str, what: str) -> bytes:
    """The bytes of the file ``name`` (a repository path) in the working tree at ``root``.

    A symbolic link is followed only while it stays inside ``root``. Raises :class:`InputError`
    naming the ``what`` (``rule pack``, ``settings file``) when the file is missing, outside the
    repository, not a regular file or too large.
    """
    clean = repo_path(name, f"{what} path")
    top = Path(os.path.realpath(root))
    target = Path(os.path.realpath(top / clean))
    if not target.is_relative_to(top):
        raise InputError(
            f"the {what} '{_shown(name)}' is a symbolic link (or lies behind one) that leads "
            "out of the repository; only files inside it are read",
            Location(name),
        )
    return _read_regular(target, name, what)


def exists_in_repo(root: Path, name: str) -> bool:
    """True when the repository path ``name`` names a file or folder inside ``root`` (after
    following symbolic links that stay inside it). Never raises for a bad name: it is missing."""
    try:
        clean = repo_path(name)
    except InputError:
        return False
    top = Path(os.path.realpath(root))
    target = Path(os.path.realpath(top / clean))
    if not target.is_relative_to(top):
        return False
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def read_file(path: Path, what: str = "model file") -> bytes:
    """The bytes of the regular file ``path`` named on the command line, bounded."""
    return _read_regular(path, str(path), what)


def _read_regular(path: Path, shown: str, what: str) -> bytes:
    where = Location(shown)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError("no such file", where) from None
    except IsADirectoryError:
        raise InputError(f"is a folder, not a {what}", where) from None
    except PermissionError:
        raise InputError("cannot be read (permission denied)", where) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise InputError("is a symbolic link that loops", where) from None
        raise InputError(f"cannot be read ({error.strerror or error})", where) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"is a folder, not a {what}", where)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"is not a regular file ({_kind(info.st_mode)}), so it is not read as a {what}",
                where,
            )
        check_size(info.st_size, shown, what)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1024 * 1024, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        check_size(size, shown, what)
        return b"".join(chunks)
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror or error})", where) from None
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _shown(name: str) -> str:
    """``name`` cut short and with control characters made visible, for messages."""
    text = name[:200] + ("..." if len(name) > 200 else "")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
