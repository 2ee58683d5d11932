"""``threatdelta schema``: print the JSON Schema of the native model format."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from threatdelta.errors import EXIT_PASS
from threatdelta.formats.native import schema


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "schema",
        description="Print the JSON Schema of threatdelta's native YAML model, for editors: "
        "save it and point a '# yaml-language-server: $schema=' comment at it.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``schema``."""
    sys.stdout.write(json.dumps(schema(), indent=2, sort_keys=True) + "\n")
    return EXIT_PASS
