"""Arguments and helpers shared by several subcommands."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TextIO

from threatdelta.errors import InputError
from threatdelta.files import normalise_pattern, read_repo_file
from threatdelta.files import read_file as read_file  # re-exported for the commands
from threatdelta.formats.sidecar import decisions_path, is_decisions_path
from threatdelta.git import glob_match
from threatdelta.render.escape import log_text


def say(text: str, stream: TextIO | None = None) -> None:
    """Print a message (a warning, an error) for a person at a terminal or in a CI log.

    Messages quote model text; every control, bidi-override and invisible character in them is
    shown as an escape (``\\u202e``) so it can neither drive the terminal nor hide what it says.
    """
    print(log_text(text), file=stream if stream is not None else sys.stderr)


def add_today(parser: argparse.ArgumentParser) -> None:
    """``--today``: the date expiries are judged against (default: today, UTC)."""
    parser.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help="judge justification expiry as of this date (default: today); "
        "fix it for reproducible output",
    )


def today(args: argparse.Namespace) -> dt.date:
    """The ``--today`` date, or today's UTC date."""
    raw = getattr(args, "today", None)
    if not raw:
        return dt.datetime.now(dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise InputError(f"--today: '{raw}' is not a date in the form YYYY-MM-DD") from error


def decisions_beside(model: Path, root: Path | None = None) -> bytes | None:
    """The content of ``model``'s decisions file in the working tree, or None without one.

    Read like the model: from inside ``root`` (symbolic links may not leave it) when the model
    lies inside it, else as a file named on the command line."""
    sidecar = Path(decisions_path(str(model)))
    if not (sidecar.exists() or sidecar.is_symlink()):
        return None
    if root is not None:
        try:
            name = sidecar.absolute().relative_to(root.absolute()).as_posix()
        except ValueError:
            name = ""
        if name:
            return read_repo_file(root, name, "decisions file")
    return read_file(sidecar, "decisions file")


def model_files(
    paths: list[str], root: Path, patterns: tuple[str, ...], command: str
) -> list[tuple[Path, bytes]]:
    """Each model file with its bytes: the ones named on the command line, else those under
    ``root`` matching ``patterns`` (the settings' ``models``), read only from inside ``root``."""
    if paths:
        return [(Path(p), read_file(Path(p))) for p in paths]
    wanted = tuple(normalise_pattern(p) for p in patterns)
    found = sorted(
        p
        for p in root.rglob("*")
        if ".git" not in p.relative_to(root).parts
        and not is_decisions_path(p.name)
        and any(glob_match(p.relative_to(root).as_posix(), pat) for pat in wanted)
        and (p.is_file() or p.is_symlink())
    )
    if not found:
        raise InputError(
            f"no model file found (looked for {', '.join(patterns)}); "
            f"name one: threatdelta {command} PATH"
        )
    return [(p, read_repo_file(root, p.relative_to(root).as_posix(), "model file")) for p in found]
