"""One module per subcommand, each with ``add_parser(subparsers)`` and ``run(args) -> int``.

``add_parser`` must call ``parser.set_defaults(run=run)``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

_NAMES = ("check", "review", "github", "history", "report", "convert", "schema")


def _load() -> tuple[ModuleType, ...]:
    modules = []
    for name in _NAMES:
        try:
            modules.append(importlib.import_module(f"threatdelta.commands.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"threatdelta.commands.{name}":
                raise
    return tuple(modules)


COMMANDS: tuple[ModuleType, ...] = _load()
