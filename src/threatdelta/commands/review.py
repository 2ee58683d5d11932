"""``threatdelta review``: what a change did to the threat model, between two revisions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from threatdelta.commands.common import add_today, say, today
from threatdelta.context import Overrides, file_source
from threatdelta.errors import EXIT_PASS, EXIT_POLICY_FAILED, InputError
from threatdelta.git import Repo, find_repo
from threatdelta.render.data import dumps
from threatdelta.render.review_data import review_set_data
from threatdelta.review.revisions import ReviewSet, review_revisions

FORMATS = ("markdown", "json", "text", "sarif", "codequality", "junit")


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "review",
        description="Read every model file at the base and head revisions (from git objects, not "
        "the working tree), re-enumerate threats where the model changed, and report new, "
        "resolved and unaddressed threats, status changes and regressions.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="model files (default: 'models' from .threatdelta.yml, else threatmodel.yaml)",
    )
    parser.add_argument(
        "--base",
        metavar="REV",
        help="base revision (default: merge-base of HEAD with the default branch)",
    )
    parser.add_argument(
        "--head", metavar="REV", default="HEAD", help="head revision (default: HEAD)"
    )
    parser.add_argument("--format", choices=FORMATS, default="markdown")
    parser.add_argument(
        "--rules",
        metavar="PACK",
        help="a rule pack (.yaml) or TMT template (.tb7) from the file system",
    )
    parser.add_argument(
        "--fail-on",
        metavar="CONDITIONS",
        help="unaddressed, any-open, severity:LEVEL, regressions, reconfirm, unverified, max-accepted-severity:LEVEL, approvers:NAME, none (comma-separated; default from .threatdelta.yml, else unaddressed,regressions,reconfirm)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: .threatdelta.yml at the repository root)",
    )
    parser.add_argument(
        "-C",
        "--repo",
        metavar="DIR",
        default=".",
        help="the git repository (default: the current folder)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output"
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="FILE",
        help="the history cache, where each base model's threat index is kept (default: "
        "threatdelta/history.sqlite inside the repository's git folder)",
    )
    cache.add_argument("--no-cache", action="store_true", help="do not read or write a cache")
    add_today(parser)
    parser.set_defaults(run=run)


def default_base(repo: Repo, head: str) -> str:
    """The merge-base of ``head`` with the default branch."""
    branch = repo.default_branch()
    if branch is None:
        raise InputError("no default branch found to compare with: pass --base REV")
    base = repo.merge_base(branch, head)
    if base is None:
        raise InputError(f"'{head}' shares no history with '{branch}': pass --base REV")
    return base


def run_review(args: argparse.Namespace) -> tuple[ReviewSet, Repo]:
    """Run the review the arguments describe."""
    repo = find_repo(Path(args.repo))
    if repo is None:
        raise InputError(f"'{args.repo}' is not inside a git repository")
    head = args.head
    base = args.base or default_base(repo, head)
    overrides = Overrides(
        config=file_source(args.config, what="settings file") if args.config else None,
        fail_on=args.fail_on,
        rules=file_source(args.rules, what="rule pack") if args.rules else None,
        models=tuple(args.paths),
    )
    if args.no_cache:
        # Nothing would keep an index: none is read, and none is built.
        return review_revisions(repo, base, head, today=today(args), overrides=overrides), repo
    from threatdelta.history.cache import repository_cache

    cache = repository_cache(repo, args.cache)
    try:
        result = review_revisions(
            repo, base, head, today=today(args), overrides=overrides, index_store=cache
        )
    finally:
        cache.close()
    return result, repo


def render_review(result: ReviewSet, fmt: str) -> str:
    """The report in one of :data:`FORMATS`."""
    if fmt == "json":
        return dumps(review_set_data(result))
    if fmt == "codequality":
        from threatdelta.action.annotations import review_annotations
        from threatdelta.publish.codequality import code_quality_report

        return json.dumps(code_quality_report(review_annotations(result)), indent=2) + "\n"
    if fmt == "junit":
        from threatdelta.action.annotations import review_annotations
        from threatdelta.publish.junit import junit_report

        return junit_report(review_annotations(result))
    if fmt == "sarif":
        from threatdelta.render.sarif import review_sarif

        return dumps(review_sarif(result))
    if fmt == "text":
        from threatdelta.render.review_text import review_text

        return review_text(result)
    from threatdelta.render.comment import review_comment

    return review_comment(result).body


def run(args: argparse.Namespace) -> int:
    """Run ``review``."""
    result, _ = run_review(args)
    report = render_review(result, args.format)
    if args.output:
        Path(args.output).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    for warning in result.warnings:
        say(f"threatdelta: warning: {warning}")
    ending = getattr(args, "process_ending", None)
    if ending is not None:  # the process ends next: the two models need no freeing
        ending.append(result)
    return EXIT_PASS if result.verdict.passed else EXIT_POLICY_FAILED
