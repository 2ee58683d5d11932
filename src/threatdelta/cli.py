"""The ``threatdelta`` command line: wires subcommands together, nothing more.

Each module under ``threatdelta.commands`` exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Only the chosen command's module is imported; the others appear in
``--help`` from the registry alone. User-facing errors
(:class:`~threatdelta.errors.InputError`) are caught here, printed without a traceback and turned
into exit code 2.
"""

from __future__ import annotations

import argparse
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(chosen_command(words))
    args = parser.parse_args(words)
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
