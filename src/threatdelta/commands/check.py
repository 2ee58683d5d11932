"""``threatdelta check``: one revision's threat register, from the working tree."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from threatdelta.assess import assess_bytes
from threatdelta.collector import kept_alive
from threatdelta.commands.common import add_today, decisions_beside, model_files, say, today
from threatdelta.context import Overrides, context_in_tree, file_source
from threatdelta.errors import EXIT_PASS, EXIT_POLICY_FAILED
from threatdelta.exclusions import excluded_threats
from threatdelta.git import find_repo
from threatdelta.policy import register_verdict
from threatdelta.register import unexplained_scope
from threatdelta.render.data import register_document


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        description="Enumerate the threats of one or more model files as they are on disk, "
        "join them with their dispositions, and report each threat's status and problems.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="model files (default: 'models' from .threatdelta.yml, else threatmodel.yaml)",
    )
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument(
        "--rules", metavar="PACK", help="a rule pack (.yaml) or TMT template (.tb7)"
    )
    parser.add_argument(
        "--fail-on",
        default="open",
        metavar="CONDITIONS",
        help="exit 1 when: open (any unaddressed threat, the default), severity:LEVEL, or none",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default .threatdelta.yml)")
    add_today(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``check``."""
    cwd = Path.cwd()
    repo = find_repo(cwd)
    root = repo.root if repo is not None else cwd
    context = context_in_tree(
        root,
        Overrides(
            config=file_source(args.config, what="settings file") if args.config else None,
            fail_on=args.fail_on,
            rules=file_source(args.rules, what="rule pack") if args.rules else None,
        ),
    )
    date = today(args)
    results = []
    documents = []
    with kept_alive() as keep:
        for path, data in model_files(args.paths, root, context.models, "check"):
            exists = context.evidence(str(path), None)
            assessment = assess_bytes(
                data,
                str(path),
                context.pack,
                today=date,
                evidence_exists=exists,
                decisions=decisions_beside(path, root),
            )
            results.append(assessment)
            keep()
            model = assessment.register.model
            designed_out = excluded_threats(model, assessment.pack, evidence_exists=exists)
            documents.append(
                register_document(
                    assessment.register,
                    assessment.pack,
                    designed_out,
                    shown=args.format != "json",
                )
            )
            keep()
        write_output(args.format, documents, sys.stdout.write)
    for assessment in results:
        for warning in assessment.parsed.warnings:
            say(f"threatdelta: warning: {warning}")
    entries = [e for a in results for e in a.register.entries]
    unexplained = [f for a in results for f in unexplained_scope(a.register.model)]
    verdict = register_verdict(entries, context.policy, unexplained=unexplained)
    for reason in verdict.reasons:
        say(f"threatdelta: check failed: {reason}")
    ending = getattr(args, "process_ending", None)
    if ending is not None:  # the process ends next: nothing built needs freeing
        ending += [results, documents, entries]
    return EXIT_PASS if verdict.passed else EXIT_POLICY_FAILED


def write_output(
    output: str, documents: list[dict[str, Any]], write: Callable[[str], object]
) -> None:
    """Write the registers (from :func:`~threatdelta.render.data.register_document`) in the
    ``output`` format, making each threat's row as it is written."""
    if output == "json":
        from threatdelta.render.jsontext import write_json

        write_json(write, documents[0] if len(documents) == 1 else {"models": documents})
    elif output == "markdown":
        from threatdelta.render.templates import render_chunks

        _write_joined(write, render_chunks("check.md.j2", models=[{"data": d} for d in documents]))
    else:
        from threatdelta.render.text import register_lines

        def lines() -> Iterator[str]:
            for index, document in enumerate(documents):
                if index:
                    yield ""
                yield from register_lines(document)

        _write_joined(write, map("{}\n".format, lines()))


def _write_joined(write: Callable[[str], object], pieces: Iterable[str]) -> None:
    """Write ``pieces`` with ``write``, :data:`_JOINED` of them at a time (a stream that is not
    buffered makes one system call per write)."""
    pieces = iter(pieces)
    while batch := list(islice(pieces, _JOINED)):
        write("".join(batch))


_JOINED = 1024
