"""``threatdelta dispositions``: the skeleton of a decision for every open threat of a model.

For a first baseline: the output is pasted into the model and completed by the team. Like the
pull-request comment's "Record a decision" block, it cannot pass the gate as printed (every entry
is left ``open``, every acceptance line holds a placeholder); see :mod:`threatdelta.render.skeleton`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from threatdelta.assess import assess_bytes
from threatdelta.commands.common import (
    add_today,
    decisions_beside,
    model_files,
    say,
    today,
)
from threatdelta.context import Overrides, context_in_tree, file_source
from threatdelta.errors import EXIT_PASS, InputError
from threatdelta.formats.sidecar import decisions_view, target_path
from threatdelta.git import find_repo
from threatdelta.render.skeleton import Skeleton, build_skeleton


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dispositions",
        help="print a disposition skeleton for every open threat of a model",
        description="Print, for every threat of a model that has no countermeasure or "
        "justification yet, an entry to paste under 'threats:' (and the controls it names that "
        "the model does not define): in the model itself when it is threatdelta's YAML, else in "
        "its decisions file (MODEL.threatdelta.yaml beside it). Every entry is left open: choosing the status and writing "
        "the justification and approver is the decision; placeholders never pass the gate.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="the model file (default: 'models' from .threatdelta.yml, else threatmodel.yaml)",
    )
    parser.add_argument(
        "--rules", metavar="PACK", help="a rule pack (.yaml) or TMT template (.tb7)"
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default .threatdelta.yml)")
    add_today(parser)
    parser.set_defaults(run=run)


def skeleton_text(skeleton: Skeleton, path: str, open_count: int) -> str:
    """The skeleton as printed: YAML, with comment lines saying where each part goes."""
    if skeleton.empty:
        return f"# {path}: every threat is addressed; nothing to decide.\n"
    parts = [
        f"# {open_count} threat{'s' if open_count != 1 else ''} of {path} "
        f"{'have' if open_count != 1 else 'has'} neither a countermeasure nor a justification.\n"
        "# Every entry below is left open: set status to mitigated (by the controls named) or\n"
        "# accepted (with the justification, approver and dates written out). Placeholders such\n"
        "# as WHO never count as a decision.\n"
    ]
    if skeleton.threats:
        where = "under 'threats:'" if skeleton.threats_section else "at the end of the file"
        parts.append(f"\n# Paste {where}:\n{skeleton.threats}")
    if skeleton.controls:
        where = "under 'controls:'" if skeleton.controls_section else "at the end of the file"
        parts.append(
            f"\n# Controls named above that the model does not define yet; paste {where}:\n"
            f"{skeleton.controls}"
        )
    for item in skeleton.replacements:
        line = f" (line {item.line})" if item.line else ""
        problems = "; ".join(item.problems)
        parts.append(
            f"\n# '{item.key}' already has an entry{line}: {problems}.\n"
            f"# Write this in its place:\n{item.text}"
        )
    return "".join(parts)


def run(args: argparse.Namespace) -> int:
    """Run ``dispositions``."""
    cwd = Path.cwd()
    repo = find_repo(cwd)
    root = repo.root if repo is not None else cwd
    context = context_in_tree(
        root,
        Overrides(
            config=file_source(args.config, what="settings file") if args.config else None,
            rules=file_source(args.rules, what="rule pack") if args.rules else None,
        ),
    )
    files = model_files([args.path] if args.path else [], root, context.models, "dispositions")
    if len(files) > 1:
        raise InputError(
            f"{len(files)} model files match 'models' in the settings; name one: "
            "threatdelta dispositions PATH"
        )
    path, data = files[0]
    assessment = assess_bytes(
        data,
        str(path),
        context.pack,
        today=today(args),
        evidence_exists=context.evidence(str(path), None),
        decisions=decisions_beside(path, root),
    )
    model = assessment.register.model
    # A model in another tool's format keeps threatdelta's decisions in its decisions file.
    target = target_path(model)
    open_entries = sorted(
        (e for e in assessment.register.entries if not e.addressed),
        key=lambda e: (e.threat.subject_ids, e.key),
    )
    model = decisions_view(model)
    skeleton = build_skeleton(open_entries, model, assessment.pack)
    sys.stdout.write(skeleton_text(skeleton, target, len(open_entries)))
    for warning in assessment.parsed.warnings:
        say(f"threatdelta: warning: {warning}")
    return EXIT_PASS
