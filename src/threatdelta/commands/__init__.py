"""One module per subcommand, each with ``add_parser(subparsers)`` and ``run(args) -> int``.

``add_parser`` must call ``parser.set_defaults(run=run)``.
"""

from __future__ import annotations

from types import ModuleType

from threatdelta.commands import (
    check,
    convert,
    dispositions,
    github,
    gitlab,
    history,
    report,
    review,
    schema,
)

COMMANDS: tuple[ModuleType, ...] = (
    check,
    review,
    github,
    gitlab,
    history,
    report,
    dispositions,
    convert,
    schema,
)
"""In the order ``threatdelta --help`` lists them."""
