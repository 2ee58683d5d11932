"""The ``threatdelta`` command line: wires subcommands together, nothing more.

Each module under ``threatdelta.commands`` exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Only the chosen command's module is imported; the others appear in
``--help`` from the registry alone. User-facing errors
(:class:`~threatdelta.errors.InputError`) are caught here, printed without a traceback and turned
into exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from threatdelta import __version__
from threatdelta.commands import COMMANDS
from threatdelta.errors import EXIT_BAD_INPUT, InputError, report_lines


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (its first word that is not an option), if any."""
    for word in argv:
        if not word.startswith("-"):
            return word
        if word == "--":
            return None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser, with full options for ``command`` only (the others by name)."""
    parser = argparse.ArgumentParser(
        prog="threatdelta",
        description="Review data-flow-diagram threat models: enumerate STRIDE threats, "
        "diff them between revisions, and gate merges on unaddressed threats.",
    )
    parser.add_argument("--version", action="version", version=f"threatdelta {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for entry in COMMANDS:
        if entry.name == command:
            entry.load().add_parser(subparsers)
        else:
            subparsers.add_parser(entry.name, help=entry.summary)
    return parser


def main(argv: Sequence[str] | None = None, *, ending: list[object] | None = None) -> int:
    """Run the command line; returns the exit code.

    ``ending``: given when the process ends once this returns (see :func:`run`). A command may
    then leave in it what it built and kept to the end, instead of having it freed; without it
    (a caller running commands in its own process) everything is freed as usual."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(chosen_command(words))
    args = parser.parse_args(words)
    args.process_ending = ending
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        code: int = args.run(args)
    except InputError as error:
        from threatdelta.commands.common import say

        for line in report_lines(error):
            say(line)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    return code


def run() -> int:
    """The ``threatdelta`` program (the installed command and ``python -m threatdelta``):
    :func:`main` on the process's arguments; returns the exit code.

    When the command left what it built in :func:`main`'s ``ending`` (``check``: the models,
    registers and written rows; ``review``: both revisions' models and registers; tens of
    thousands of objects for a large model), the process ends as soon as standard output and
    error are flushed, with ``os._exit``: freeing those objects one at a time, and the
    interpreter's last collection walking them, take a tenth of a second or more at 5,000 nodes
    and change nothing outside the process. Such a command has nothing
    else to finish (no temporary files, threads or exit handlers of its own). When a flush
    fails (a closed pipe), the interpreter ends the process as it always does and reports it.
    """
    ending: list[object] = []
    code = main(ending=ending)
    if ending:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # the interpreter's own ending reports it, as without this
            return code
        os._exit(code)
    return code
