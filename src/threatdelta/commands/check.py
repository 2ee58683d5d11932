"""``threatdelta check``: one revision's threat register, from the working tree."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from threatdelta.assess import assess_bytes
from threatdelta.commands.common import (
    add_today,
    decisions_beside,
    load_config_file,
    load_named_pack,
    load_pack_files,
    model_files,
    today,
)
from threatdelta.errors import EXIT_PASS, EXIT_POLICY_FAILED
from threatdelta.files import exists_in_repo
from threatdelta.git import find_repo
from threatdelta.policy import parse_policy, register_verdict
from threatdelta.register import EvidenceCheck
from threatdelta.render.data import dumps, register_data
from threatdelta.render.templates import render
from threatdelta.render.text import register_text


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="list a model's threats with their status and problems",
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


def evidence_checker(model_path: Path) -> EvidenceCheck:
    """Evidence paths are looked up inside the repository, from its root, then from the model's
    folder; a path that leaves the repository (absolute, ``..``, a symbolic link) is missing."""
    folder = model_path.resolve().parent
    repo = find_repo(folder)
    root = repo.root.resolve() if repo is not None else folder
    inner = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else "."

    def exists(relative: str) -> bool:
        return exists_in_repo(root, relative) or exists_in_repo(root, f"{inner}/{relative}")

    return exists


def run(args: argparse.Namespace) -> int:
    """Run ``check``."""
    cwd = Path.cwd()
    repo = find_repo(cwd)
    root = repo.root if repo is not None else cwd
    config = load_config_file(root, args.config)
    policy = parse_policy([args.fail_on])
    pack = load_named_pack(args.rules) if args.rules else load_pack_files(config.rules, root)
    date = today(args)
    results = []
    for path, data in model_files(args.paths, root, config.models, "check"):
        exists = evidence_checker(path)
        results.append(
            assess_bytes(
                data,
                str(path),
                pack,
                today=date,
                evidence_exists=exists,
                decisions=decisions_beside(path, root),
            )
        )
    datas = [register_data(a.register, a.pack) for a in results]
    if args.format == "json":
        if len(datas) == 1:
            sys.stdout.write(dumps(datas[0]))
        else:
            sys.stdout.write(dumps({"models": datas}))
    elif args.format == "markdown":
        sys.stdout.write(render("check.md.j2", models=[{"data": d} for d in datas]))
    else:
        sys.stdout.write("\n".join(register_text(d) for d in datas))
    for assessment in results:
        for warning in assessment.parsed.warnings:
            print(f"threatdelta: warning: {warning}", file=sys.stderr)
    entries = [e for a in results for e in a.register.entries]
    verdict = register_verdict(entries, policy)
    for reason in verdict.reasons:
        print(f"threatdelta: check failed: {reason}", file=sys.stderr)
    return EXIT_PASS if verdict.passed else EXIT_POLICY_FAILED
