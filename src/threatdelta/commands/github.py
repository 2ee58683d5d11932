"""``threatdelta github``: what the GitHub Action runs.

On a ``pull_request`` (or ``pull_request_target``) event it runs the shared review flow
(:mod:`threatdelta.host.flow`) with GitHub Actions as the host: base against head from git objects
(never running anything from the pull request), annotations on the model files' lines, one sticky
comment (and a check run when asked), the full report in the job summary and a JSON file, the step
outputs, and the verdict as the exit code (0 pass, 1 fail, 2 bad input). On a ``push`` it writes
the model's threat register to the job summary. GitHub being down, slow or answering nonsense, or
a read-only token, changes what is published, never the verdict: the outputs and the job summary
are written before GitHub is asked anything, and all GitHub requests share one time budget
(:mod:`threatdelta.publish.deadline`).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from threatdelta.action.event import PullRequestEvent, PushEvent, parse_event, read_runner_env
from threatdelta.action.history_hook import PushContext, push_history_report
from threatdelta.action.inputs import INPUTS, ActionInputs, fallback_inputs, resolve_inputs
from threatdelta.action.log import StepLog
from threatdelta.action.push import registers_at
from threatdelta.action.summary import pull_request_summary, push_summary
from threatdelta.commands.common import add_today, read_file, today
from threatdelta.context import context_at
from threatdelta.errors import EXIT_BAD_INPUT, InputError
from threatdelta.git import Repo, find_repo
from threatdelta.host import flow
from threatdelta.host.github_actions import OUTPUT_NAMES, GitHubActions, change_request, outputs
from threatdelta.host.interface import RunState
from threatdelta.policy import review_verdict
from threatdelta.publish.deadline import limits_from_environment
from threatdelta.render.data import dumps, register_data

__all__ = ["OUTPUT_NAMES", "add_parser", "run", "run_github"]


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "github",
        description="Run inside a GitHub Actions job, as the threatdelta action does. Reads the "
        "event from GITHUB_EVENT_PATH; on pull_request and pull_request_target events reviews "
        "the pull request's base against its head commit (both must be in the checkout: use "
        "actions/checkout with fetch-depth: 0), posts one sticky comment, annotates the model "
        "files, writes the job summary and the step outputs, and exits 0 (pass), 1 (fail) or 2 "
        "(bad input). On push events writes the threat register to the job summary. The token "
        "comes from INPUT_GITHUB_TOKEN or GITHUB_TOKEN, never from the command line. Each "
        "option may also be given as the environment variable named in its help.",
    )
    for spec in INPUTS:
        parser.add_argument(
            f"--{spec.name}",
            dest=spec.name.replace("-", "_"),
            metavar="VALUE",
            help=f"{spec.help} [{spec.env}]",
        )
    parser.add_argument(
        "-C",
        "--repo",
        metavar="DIR",
        help="the checked-out repository (default: GITHUB_WORKSPACE, else the current folder)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="where to write the JSON report (default: a file in RUNNER_TEMP, else in the "
        "repository folder)",
    )
    add_today(parser)
    parser.add_argument("--wait-scale", type=float, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``github``."""
    log = StepLog(sys.stdout, sys.stderr)
    return run_github(args, os.environ, log)


def run_github(args: argparse.Namespace, environ: Mapping[str, str], log: StepLog) -> int:
    """The whole run; ``environ`` is the runner's environment."""
    try:
        env = read_runner_env(environ)
    except InputError as error:
        log.error(str(error))
        return EXIT_BAD_INPUT
    log.add_secret(env.token)
    host = GitHubActions(env, log, report_file=args.report)
    state = RunState()
    try:
        # The event first: once the pull request is known, any later error replaces its comment.
        event = parse_event(
            env.event_name,
            read_file(Path(env.event_path), "GitHub event file"),
            env.event_path,
            env.repository,
        )
        if isinstance(event, PullRequestEvent):
            host.event = event
            state.change = change_request(event)
        host.scale = flow.wait_scale(getattr(args, "wait_scale", None), environ)
        host.limits = limits_from_environment(environ)
        state.inputs = inputs = resolve_inputs(_flags(args), environ)
        repo = _repository(args, host)
        if isinstance(event, PushEvent):
            return _run_push(args, host, state, event, repo, inputs)
        return flow.review_change(host, state, repo, today(args), log, inputs.check_run)
    except InputError as error:
        return _could_not_review(args, environ, host, state, error)
    except Exception as error:  # a head that could not be reviewed must say so everywhere
        log.error("".join(traceback.format_exception(error)))
        internal = InputError(
            f"internal error ({type(error).__name__}): threatdelta could not review this "
            "change; the log above has the details (please report it)"
        )
        return _could_not_review(args, environ, host, state, internal)


def _could_not_review(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    host: GitHubActions,
    state: RunState,
    error: InputError,
) -> int:
    """Report ``error`` wherever the verdict would have gone, the sticky comment included."""
    if state.inputs is None:
        state.inputs = fallback_inputs(_flags(args), environ)
    return flow.bad_input(host, state, error, host.log, state.inputs.check_run)


def _flags(args: argparse.Namespace) -> dict[str, str | None]:
    return {spec.name: getattr(args, spec.name.replace("-", "_"), None) for spec in INPUTS}


def _repository(args: argparse.Namespace, host: GitHubActions) -> Repo:
    folder = Path(args.repo or host.env.workspace or ".")
    repo = find_repo(folder)
    if repo is None:
        raise InputError(
            f"'{folder}' is not a git repository: add an actions/checkout step with "
            "'fetch-depth: 0' before this action"
        )
    host.repo_root = repo.root
    return repo


# --- pushes ----------------------------------------------------------------------------------


def _run_push(
    args: argparse.Namespace,
    host: GitHubActions,
    state: RunState,
    event: PushEvent,
    repo: Repo,
    inputs: ActionInputs,
) -> int:
    log = host.log
    flow.require_commit(repo, event.sha, "pushed", host.checkout_help(None))
    context = context_at(repo, event.sha, flow.overrides_for(inputs, repo, event.sha))
    state.config = config = context.config
    policy = context.policy
    pack = context.pack
    name, _ = flow.comment_settings(inputs, config)
    date = today(args)
    patterns = context.models
    log.info(f"push to {event.ref}: threat register at {event.sha[:12]}")
    assessments = registers_at(repo, event.sha, patterns, pack, date)
    for assessment in assessments:
        for warning in assessment.parsed.warnings:
            log.warning(warning)
    datas = [register_data(a.register, a.pack) for a in assessments]
    entries = [e for a in assessments for e in a.register.entries]
    verdict = review_verdict([], entries, 0, policy)
    history = push_history_report(
        PushContext(
            repo=repo,
            event=event,
            config=config,
            model_paths=tuple(a.register.model.path for a in assessments),
            today=date,
            pack=pack,
        )
    )
    report_path = flow.write_report(
        host.report_path(name),
        dumps({"sha": event.sha, "ref": event.ref, "verdict": verdict.name, "models": datas}),
        log,
    )
    summary = push_summary(datas, event.sha, event.branch, verdict, policy.describe(), history)
    host.write_summary(pull_request_summary(summary, report_path))
    unaddressed = sum(1 for e in entries if not e.addressed)
    host.write_outputs(outputs(verdict.name, "0", str(unaddressed), "", report_path or ""))
    return flow.finish(verdict.passed, verdict.reasons, log)
