"""``threatdelta report``: the traceability matrix, the residual-risk register and the
data-flow diagram of one revision, for a technical file."""

from __future__ import annotations

import argparse
from typing import Any

from threatdelta.commands.common import add_today, say, today
from threatdelta.commands.history import model_path, open_repo, run_context, write_output
from threatdelta.errors import EXIT_PASS
from threatdelta.report.build import build_report
from threatdelta.report.render import FORMATS, render_report


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        description="Read the model at --rev from git and write the traceability matrix "
        "(threat, STRIDE, element or flow, disposition, controls, evidence, status) with every "
        "evidence path checked to exist at that revision, the residual-risk register (accepted "
        "and transferred threats) and the data-flow diagram. HTML output is self-contained and "
        "prints well.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="the model file (default: the one file 'models' in .threatdelta.yml matches, "
        "else threatmodel.yaml)",
    )
    parser.add_argument("--rev", metavar="REV", default="HEAD", help="revision (default: HEAD)")
    parser.add_argument("--format", choices=FORMATS, default="html")
    parser.add_argument(
        "--rules", metavar="PACK", help="a rule pack (.yaml) or TMT template (.tb7)"
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default .threatdelta.yml)")
    parser.add_argument(
        "-C", "--repo", metavar="DIR", default=".", help="the git repository (default: here)"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output"
    )
    add_today(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``report``."""
    repo = open_repo(args.repo)
    context = run_context(repo, args, args.rev)
    path = model_path(repo, args.repo, args.path, context, args.rev)
    report = build_report(
        repo, path, rev=args.rev, pack=context.pack, today=today(args) if args.today else None
    )
    write_output(render_report(report, args.format), args.output)
    for warning in report.warnings:
        say(f"threatdelta: warning: {warning}")
    return EXIT_PASS
