"""``threatdelta convert``: rewrite a model in another format (native YAML or OTM JSON).

The reader is picked by sniffing the file (or named with ``--from``); the model's decisions file
(``MODEL.threatdelta.yaml``), when there is one, is read with it, so converting to native YAML
carries its decisions into the model. A .tm7's attributes named by GUID are written under
readable names (``out_of_scope``, ``show_boundary_threats``), which the .tm7's template, used as
a rule pack on the converted model, still finds. What the target format
cannot hold is never dropped silently: each loss is printed on stderr as
``threatdelta: convert: <what> is not kept by <format>``, and the conversion still succeeds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from threatdelta.commands.common import decisions_beside, read_file, say
from threatdelta.errors import EXIT_PASS, InputError, Location
from threatdelta.formats import native_writer, otm_writer
from threatdelta.formats.registry import FORMAT_NAMES, read_model
from threatdelta.formats.writing import Written, with_readable_properties
from threatdelta.model.model import Model

WRITERS: dict[str, Callable[[Model], Written]] = {
    "native": native_writer.write,
    "otm": otm_writer.write,
}
"""Target format name -> writer."""


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "convert",
        description="Read a model (native YAML, TMT .tm7, Threat Dragon JSON or Open Threat "
        "Model) and write it in another format. Everything the target format cannot hold is "
        "listed on stderr.",
    )
    parser.add_argument("path", metavar="IN", help="the model file ('-' reads stdin; needs --from)")
    parser.add_argument("--to", required=True, choices=sorted(WRITERS), help="the format to write")
    parser.add_argument(
        "--from",
        dest="source_format",
        choices=FORMAT_NAMES,
        help="the format of IN (default: recognised from the file)",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="write here (default: stdout)")
    parser.set_defaults(run=run)


def _read_input(path: str, source_format: str | None) -> tuple[bytes, str]:
    if path == "-":
        if source_format is None:
            raise InputError("reading a model from stdin needs --from FORMAT")
        return sys.stdin.buffer.read(), "<stdin>"
    return read_file(Path(path)), path


def run(args: argparse.Namespace) -> int:
    """Run ``convert``."""
    data, path = _read_input(args.path, args.source_format)
    decisions = decisions_beside(Path(path)) if path != "<stdin>" else None
    parsed = read_model(data, path, args.source_format, decisions=decisions)
    for warning in parsed.warnings:
        say(f"threatdelta: convert: warning: {warning}")
    model = parsed.model
    if parsed.pack is not None:
        # A .tm7's attributes named by GUID are written under readable names; the template
        # still finds them (its rule pack knows both names).
        model = with_readable_properties(model, parsed.pack.property_names)
    written = WRITERS[args.to](model)
    if args.output:
        out = Path(args.output)
        try:
            out.write_text(written.text, encoding="utf-8")
        except OSError as error:
            raise InputError(
                f"cannot write the output: {error.strerror or error}", Location(str(out))
            ) from None
    else:
        sys.stdout.write(written.text)
    for note in written.notes:
        say(f"threatdelta: convert: {note.sentence(args.to)}")
    return EXIT_PASS
