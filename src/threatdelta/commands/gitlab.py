"""``threatdelta gitlab``: review a merge request inside a GitLab CI job.

Runs the shared review flow (:mod:`threatdelta.host.flow`) with GitLab CI as the host: the merge
request from GitLab's predefined variables, one sticky note on it, a Code Quality report with the
findings on the model files' lines, a dotenv report with the counts, the full report as markdown and
JSON, and the verdict as the exit code (0 pass, 1 fail, 2 bad input). python-gitlab is loaded only
when this command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from threatdelta.action.inputs import INPUTS, variable
from threatdelta.action.log import StepLog
from threatdelta.commands.common import add_today, today

ENV_PREFIX = "THREATDELTA_"
"""Each option may also be given as this prefix plus its name (``THREATDELTA_FAIL_ON``)."""

OPTIONS = tuple(spec for spec in INPUTS if spec.name != "check-run")
"""The ``github`` command's options that GitLab has a use for (no check runs there)."""


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "gitlab",
        help="review a merge request inside GitLab CI and publish the result",
        description="Run in a GitLab CI job of a merge-request pipeline (see "
        "templates/threatdelta.gitlab-ci.yml). Reads the merge request from GitLab's predefined "
        "variables (CI_MERGE_REQUEST_IID, CI_MERGE_REQUEST_DIFF_BASE_SHA, CI_COMMIT_SHA, "
        "CI_PROJECT_ID, CI_API_V4_URL, CI_SERVER_URL), reviews its base against its head (both "
        "must be in the checkout: GIT_DEPTH 0), keeps one sticky note on the merge request, "
        "writes gl-code-quality-report.json, threatdelta-junit.xml, threatdelta.env, "
        "threatdelta-report.md and threatdelta-report.json, and exits 0 (pass), 1 (fail) or 2 "
        "(bad input). The token "
        "comes from THREATDELTA_GITLAB_TOKEN (a project or group access token with the 'api' "
        "scope; CI_JOB_TOKEN cannot write notes), never from the command line. Each option may "
        "also be given as the environment variable named in its help.",
    )
    for spec in OPTIONS:
        parser.add_argument(
            f"--{spec.name}",
            dest=spec.name.replace("-", "_"),
            metavar="VALUE",
            help=f"{spec.help} [{variable(spec, ENV_PREFIX)}]",
        )
    parser.add_argument(
        "-C",
        "--repo",
        metavar="DIR",
        help="the checked-out repository (default: CI_PROJECT_DIR, else the current folder)",
    )
    parser.add_argument(
        "--reports-dir",
        metavar="DIR",
        help="where the report files go (default: the repository folder, where GitLab's "
        "artifacts: can collect them)",
    )
    parser.add_argument("--report", metavar="FILE", help="where to write the JSON report instead")
    add_today(parser)
    parser.add_argument("--wait-scale", type=float, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gitlab``."""
    log = StepLog(sys.stdout, sys.stderr)
    return run_gitlab(args, os.environ, log)


def run_gitlab(args: argparse.Namespace, environ: Mapping[str, str], log: StepLog) -> int:
    """The whole run; ``environ`` is the job's environment."""
    from threatdelta.action.inputs import fallback_inputs, resolve_inputs
    from threatdelta.errors import InputError
    from threatdelta.git import find_repo
    from threatdelta.host import flow
    from threatdelta.host.gitlab_ci import TOKEN_VARIABLE, GitLabCI, change_request, read_gitlab_env
    from threatdelta.host.interface import RunState
    from threatdelta.publish.deadline import limits_from_environment

    for secret in (environ.get(TOKEN_VARIABLE, ""), environ.get("CI_JOB_TOKEN", "")):
        log.add_secret(secret.strip())
    folder = Path(args.repo or environ.get("CI_PROJECT_DIR") or ".")
    host = GitLabCI(None, log, Path(args.reports_dir or folder), report_file=args.report)
    state = RunState()
    flags = {spec.name: getattr(args, spec.name.replace("-", "_"), None) for spec in OPTIONS}
    try:
        # The merge request first: once it is known, any later error replaces its note.
        host.env = env = read_gitlab_env(environ)
        state.change = change_request(env)
        host.scale = flow.wait_scale(args.wait_scale, environ)
        host.limits = limits_from_environment(environ)
        state.inputs = resolve_inputs(flags, environ, ENV_PREFIX)
        repo = find_repo(folder)
        if repo is None:
            raise InputError(
                f"'{folder}' is not a git repository: run the job with GitLab's checkout "
                '(GIT_STRATEGY fetch or clone) and GIT_DEPTH: "0"'
            )
        if not args.reports_dir:
            host.reports_dir = repo.root
        return flow.review_change(host, state, repo, today(args), log)
    except Exception as error:  # a change that could not be reviewed must say so everywhere
        if not isinstance(error, InputError):
            log.error("".join(traceback.format_exception(error)))
            error = InputError(
                f"internal error ({type(error).__name__}): threatdelta could not review this "
                "change; the log above has the details (please report it)"
            )
        if state.inputs is None:
            state.inputs = fallback_inputs(flags, environ, ENV_PREFIX)
        return flow.bad_input(host, state, error, log)
