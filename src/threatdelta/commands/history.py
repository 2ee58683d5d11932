"""``threatdelta history``: how a model's threats and their treatment changed, per revision and
per iteration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from threatdelta.commands.common import add_today, say, today
from threatdelta.context import Overrides, RunContext, context_at, file_source
from threatdelta.errors import EXIT_PASS, InputError
from threatdelta.formats.sidecar import is_decisions_path
from threatdelta.git import Repo, find_repo
from threatdelta.history.build import build_history
from threatdelta.history.cache import CACHE_FILE, HistoryCache, repository_cache
from threatdelta.history.gitlog import resolve_commit
from threatdelta.history.progress import Progress
from threatdelta.history.render import FORMATS, render_history


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "history",
        description="Walk the first-parent history of --until and read the model at every "
        "commit that changed it (following renames). Report, per revision, the model's size and "
        "its threats by status, with what changed; per iteration (tags matching --iterations, "
        "else merges), a retrospective: threats added, closed and still open, time to "
        "disposition, expired justifications, controls without evidence, reopened threats.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="the model file (default: the one file 'models' in .threatdelta.yml matches, "
        "else threatmodel.yaml)",
    )
    parser.add_argument("--since", metavar="REV", help="list only revisions after REV")
    parser.add_argument(
        "--until", metavar="REV", default="HEAD", help="newest revision (default: HEAD)"
    )
    parser.add_argument(
        "--iterations",
        metavar="GLOB",
        help="tags that end iterations (default: history.iterations in .threatdelta.yml, "
        "else 'v*'); when no tag matches, each merge ends one",
    )
    parser.add_argument("--format", choices=FORMATS, default="text")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="FILE",
        help=f"the history cache (default: {CACHE_FILE} inside the repository's git folder)",
    )
    cache.add_argument("--no-cache", action="store_true", help="do not read or write a cache")
    parser.add_argument(
        "--rules",
        metavar="PACK",
        help="a rule pack (.yaml) or TMT template (.tb7) from the file system, used for every "
        "revision",
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


def open_repo(directory: str) -> Repo:
    """The repository containing ``directory``, or a clear error."""
    repo = find_repo(Path(directory))
    if repo is None:
        raise InputError(f"'{directory}' is not inside a git repository")
    return repo


def model_path(repo: Repo, base: str, given: str | None, context: RunContext, rev: str) -> str:
    """The model's repository path: as given (relative to ``base``), else the one configured."""
    if given:
        candidate = (Path(base) / given).resolve()
        root = repo.root.resolve()
        if candidate.is_relative_to(root):
            return candidate.relative_to(root).as_posix()
        raise InputError(f"'{given}' is outside the repository {repo.root}")
    found = [
        p
        for p in repo.matching(resolve_commit(repo, rev), context.models)
        if not is_decisions_path(p)
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(
            f"no model file matches {', '.join(context.models)} at {rev}; name one: "
            "threatdelta history PATH"
        )
    raise InputError(
        f"several model files match at {rev} ({', '.join(found[:10])}); name one: "
        "threatdelta history PATH"
    )


def run_context(repo: Repo, args: argparse.Namespace, rev: str) -> RunContext:
    """What the run uses: the settings and rule pack as they are at ``rev``; ``--config`` and
    ``--rules`` (files on disk) win."""
    overrides = Overrides(
        config=file_source(args.config, what="settings file")
        if getattr(args, "config", None)
        else None,
        rules=file_source(args.rules, what="rule pack") if getattr(args, "rules", None) else None,
    )
    return context_at(repo, resolve_commit(repo, rev), overrides)


def open_cache(repo: Repo, args: argparse.Namespace) -> HistoryCache:
    """The cache the arguments ask for."""
    return repository_cache(repo, args.cache, off=args.no_cache)


def write_output(text: str, output: str | None) -> None:
    """Write ``text`` to ``output`` or standard output."""
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(f"cannot write {output}: {error.strerror}") from error
    else:
        sys.stdout.write(text)


def run(args: argparse.Namespace) -> int:
    """Run ``history``."""
    repo = open_repo(args.repo)
    context = run_context(repo, args, args.until)
    path = model_path(repo, args.repo, args.path, context, args.until)
    cache = open_cache(repo, args)
    try:
        history = build_history(
            repo,
            path,
            until=args.until,
            since=args.since,
            iterations=args.iterations or context.config.iterations,
            pack=context.pack,
            cache=cache,
            today=today(args) if args.today else None,
            progress=Progress("reading model revisions", 0),
        )
    finally:
        cache.close()
    write_output(render_history(history, args.format), args.output)
    for warning in history.warnings:
        say(f"threatdelta: warning: {warning}")
    return EXIT_PASS
