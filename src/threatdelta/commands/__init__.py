"""One module per subcommand, each with ``add_parser(subparsers)`` and ``run(args) -> int``.

``add_parser`` must call ``parser.set_defaults(run=run)``. The registry below names each command
and its one-line summary without importing its module, so ``threatdelta --help`` and every
command pay only for the modules they use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Command:
    """A subcommand, known by name before its module is imported."""

    name: str
    """What the user types, also the module's name under ``threatdelta.commands``."""
    summary: str
    """The line ``threatdelta --help`` shows for it."""

    def load(self) -> ModuleType:
        """The command's module (imported now)."""
        return importlib.import_module(f"threatdelta.commands.{self.name}")


COMMANDS: tuple[Command, ...] = (
    Command("check", "list a model's threats with their status and problems"),
    Command(
        "review", "diff the model between two git revisions and report what changed in its threats"
    ),
    Command(
        "github",
        "review a pull request (or a push) inside GitHub Actions and publish the result",
    ),
    Command("gitlab", "review a merge request inside GitLab CI and publish the result"),
    Command(
        "history",
        "walk every revision that changed the model: threat trend and per-iteration retrospectives",
    ),
    Command(
        "report",
        "traceability matrix, residual-risk register and data-flow diagram of one revision",
    ),
    Command("dispositions", "print a disposition skeleton for every open threat of a model"),
    Command("convert", "rewrite a model as native YAML or Open Threat Model JSON"),
    Command("schema", "print the JSON Schema of the native YAML model"),
)
"""In the order ``threatdelta --help`` lists them."""
