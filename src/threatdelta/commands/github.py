"""``threatdelta github``: what the GitHub Action runs.

On a ``pull_request`` (or ``pull_request_target``) event it reviews the pull request's base
against its head commit, reading both from git objects (never running anything from the pull
request), and then: prints annotations on the model files' lines, publishes one sticky comment (and
a check run when asked), writes the full report to the job summary and a JSON file, sets the step
outputs, and exits with the verdict (0 pass, 1 fail, 2 bad input). On a ``push`` it writes the
model's threat register to the job summary. GitHub being down or a read-only token changes what
is published, never the verdict.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threatdelta.action.annotations import review_annotations
from threatdelta.action.event import (
    PullRequestEvent,
    PushEvent,
    RunnerEnv,
    parse_event,
    read_runner_env,
)
from threatdelta.action.history_hook import PushContext, push_history_report
from threatdelta.action.inputs import INPUTS, ActionInputs, parse_comment_mode, resolve_inputs
from threatdelta.action.log import StepLog
from threatdelta.action.push import registers_at
from threatdelta.action.summary import (
    error_report,
    full_report,
    pull_request_summary,
    push_summary,
)
from threatdelta.commands.common import add_today, read_file, today
from threatdelta.config import CONFIG_FILE, Config, parse_config
from threatdelta.errors import (
    EXIT_BAD_INPUT,
    EXIT_PASS,
    EXIT_POLICY_FAILED,
    InputError,
    InputErrors,
)
from threatdelta.formats.packs import load_rules
from threatdelta.git import GitError, Repo, find_repo
from threatdelta.policy import Policy, parse_policy, review_verdict
from threatdelta.publish.github import publish_pull_request
from threatdelta.publish.interface import Annotation, CommentMode, Publication, PublishResult
from threatdelta.publish.workflow import (
    select_step_annotations,
    workflow_command_annotation,
    write_outputs,
    write_summary,
)
from threatdelta.render.comment import review_comment
from threatdelta.render.data import dumps, register_data
from threatdelta.render.review_data import review_set_data
from threatdelta.review.revisions import review_revisions
from threatdelta.revision import pack_at
from threatdelta.rules.pack import RulePack

WAIT_SCALE_VARIABLE = "THREATDELTA_WAIT_SCALE"
"""Multiplies every wait between GitHub requests and before retries (tests set 0)."""

OUTPUT_NAMES = ("verdict", "new-threats", "unaddressed", "comment-url", "report-path")
"""The step outputs, in the order they are written."""

_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "github",
        help="review a pull request (or a push) inside GitHub Actions and publish the result",
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


@dataclass
class _State:
    """What one run has learnt so far; the error path uses as much of it as there is."""

    env: RunnerEnv
    inputs: ActionInputs | None = None
    event: PullRequestEvent | PushEvent | None = None
    config: Config | None = None


def run_github(args: argparse.Namespace, environ: Mapping[str, str], log: StepLog) -> int:
    """The whole run; ``environ`` is the runner's environment."""
    try:
        env = read_runner_env(environ)
    except InputError as error:
        log.error(str(error))
        return EXIT_BAD_INPUT
    log.add_secret(env.token)
    state = _State(env)
    try:
        state.inputs = resolve_inputs(_flags(args), environ)
        scale = _wait_scale(args, environ)
        state.event = parse_event(
            env.event_name, read_file(Path(env.event_path)), env.event_path, env.repository
        )
        repo = _repository(args, env)
        if isinstance(state.event, PushEvent):
            return _run_push(args, state, state.event, repo, state.inputs, log)
        return _run_pull_request(args, state, state.event, repo, state.inputs, log, scale)
    except InputError as error:
        return _bad_input(args, state, error, log, environ)


# --- pieces shared by both events ------------------------------------------------------------


def _flags(args: argparse.Namespace) -> dict[str, str | None]:
    return {spec.name: getattr(args, spec.name.replace("-", "_"), None) for spec in INPUTS}


def _wait_scale(args: argparse.Namespace, environ: Mapping[str, str]) -> float:
    value: float | None = getattr(args, "wait_scale", None)
    if value is None:
        raw = environ.get(WAIT_SCALE_VARIABLE, "").strip()
        if not raw:
            return 1.0
        try:
            value = float(raw)
        except ValueError as error:
            raise InputError(f"{WAIT_SCALE_VARIABLE} must be a number, not '{raw[:40]}'") from error
    if not value >= 0:  # also rejects NaN
        raise InputError(f"{WAIT_SCALE_VARIABLE} must not be negative")
    return value


def _repository(args: argparse.Namespace, env: RunnerEnv) -> Repo:
    folder = Path(args.repo or env.workspace or ".")
    repo = find_repo(folder)
    if repo is None:
        raise InputError(
            f"'{folder}' is not a git repository: add an actions/checkout step with "
            "'fetch-depth: 0' before this action"
        )
    return repo


def _require_commit(repo: Repo, sha: str, what: str, hint: str) -> None:
    try:
        repo.resolve(sha)
    except GitError as error:
        raise InputError(
            f"the {what} commit {sha[:12]} is not in the checkout at {repo.root}: check out with "
            f"actions/checkout and 'fetch-depth: 0' so that it is there{hint}"
        ) from error


def _config_at(repo: Repo, rev: str, explicit: str | None) -> Config:
    """Settings from the ``config`` input (a file on disk), else ``.threatdelta.yml`` at ``rev``."""
    if explicit:
        path = Path(explicit)
        if not path.is_absolute():
            path = repo.root / path
        return parse_config(read_file(path), explicit)
    data = repo.read(rev, CONFIG_FILE)
    return parse_config(data, CONFIG_FILE) if data is not None else Config()


def _policy(inputs: ActionInputs, config: Config) -> Policy:
    if inputs.fail_on:
        return parse_policy([inputs.fail_on], where="input 'fail-on'")
    return parse_policy(list(config.policy))


def _rules_override(repo: Repo, inputs: ActionInputs) -> tuple[bytes, str] | None:
    if not inputs.rules:
        return None
    path = Path(inputs.rules)
    if not path.is_absolute():
        path = repo.root / path
    return read_file(path), inputs.rules


def _report_path(args: argparse.Namespace, env: RunnerEnv, repo: Repo | None, name: str) -> Path:
    if args.report:
        return Path(args.report)
    folder = Path(env.runner_temp or env.workspace or (repo.root if repo else "."))
    safe = _FILE_NAME.sub("_", name)[:60] or "default"
    return folder / f"threatdelta-report-{safe}.json"


def _write_report(path: Path, text: str, log: StepLog) -> str | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        log.warning(f"could not write the JSON report to {path}: {error.strerror or error}")
        return None
    return str(path)


def _outputs(
    verdict: str, new: str, unaddressed: str, comment_url: str, report_path: str
) -> dict[str, str]:
    values = (verdict, new, unaddressed, comment_url, report_path)
    return dict(zip(OUTPUT_NAMES, values, strict=True))


def check_name(comment_name: str) -> str:
    """The check run's name: apart from the workflow job's own check, one per comment name."""
    if comment_name == "default":
        return "threatdelta review"
    return f"threatdelta review ({comment_name})"


def _write_outputs(env: RunnerEnv, values: Mapping[str, str], log: StepLog) -> None:
    if env.output is None:
        return
    try:
        write_outputs(env.output, values)
    except OSError as error:
        log.warning(f"could not write the step outputs: {error.strerror or error}")


def _write_summary(env: RunnerEnv, markdown: str, log: StepLog) -> None:
    if env.step_summary is None:
        return
    try:
        if write_summary(env.step_summary, markdown):
            log.info("the job summary was trimmed to GitHub's 1 MiB limit")
    except OSError as error:
        log.warning(f"could not write the job summary: {error.strerror or error}")


def _print_annotations(annotations: tuple[Annotation, ...], log: StepLog) -> None:
    shown = select_step_annotations(annotations)
    for annotation in shown:
        log.command(workflow_command_annotation(annotation))
    if len(shown) < len(annotations):
        log.info(
            f"{len(annotations) - len(shown)} more annotations are not shown here: GitHub shows "
            "at most 10 of each level per step (the check run, with 'check-run: true', has all)"
        )


def _publish(
    env: RunnerEnv,
    event: PullRequestEvent,
    pub: Publication,
    log: StepLog,
    scale: float,
) -> PublishResult | None:
    if not env.token:
        log.warning(
            "no token (set the github-token input or GITHUB_TOKEN): nothing is posted on the "
            "pull request; the job summary, annotations and exit code still report the verdict"
        )
        return None

    def sleep(seconds: float) -> None:
        if seconds * scale > 0:
            time.sleep(seconds * scale)

    return publish_pull_request(
        env.api_url,
        env.token,
        event.repository,
        event.number,
        pub,
        log=log.info,
        sleep=sleep,
        seconds_between_requests=0.25 * scale,
        seconds_between_writes=1.0 * scale,
    )


# --- pull requests ---------------------------------------------------------------------------


def _pull_request_hint(event: PullRequestEvent) -> str:
    if event.event_name != "pull_request_target":
        return ""
    return (
        f"; with pull_request_target, also fetch the head's objects with "
        f"'git fetch --no-tags origin refs/pull/{event.number}/head' (never check it out)"
    )


def _comment_settings(inputs: ActionInputs, config: Config | None) -> tuple[str, CommentMode]:
    name = inputs.comment_name or (config.comment_name if config else "default")
    if inputs.comment_mode is not None:
        return name, inputs.comment_mode
    return name, parse_comment_mode(config.comment_mode if config else "update")


def _run_pull_request(
    args: argparse.Namespace,
    state: _State,
    event: PullRequestEvent,
    repo: Repo,
    inputs: ActionInputs,
    log: StepLog,
    scale: float,
) -> int:
    env = state.env
    hint = _pull_request_hint(event)
    _require_commit(repo, event.base_sha, "pull request's base", hint)
    _require_commit(repo, event.head_sha, "pull request's head", hint)
    # The settings come from the side the workflow file comes from: the pull request's head for
    # pull_request, the base branch for pull_request_target.
    config_rev = event.base_sha if event.event_name == "pull_request_target" else event.head_sha
    state.config = config = _config_at(repo, config_rev, inputs.config)
    name, mode = _comment_settings(inputs, config)
    policy = _policy(inputs, config)
    log.info(
        f"reviewing pull request #{event.number}: {event.base_sha[:12]} (base) -> "
        f"{event.head_sha[:12]} (head), policy {policy.describe()}"
    )
    result = review_revisions(
        repo,
        event.base_sha,
        event.head_sha,
        paths=inputs.models,
        config=config,
        policy=policy,
        today=today(args),
        rules_override=_rules_override(repo, inputs),
    )
    for warning in result.warnings:
        log.warning(warning)
    comment = review_comment(result)
    if comment.trimmed:
        log.info(
            "the comment leaves out, to fit GitHub's limit: "
            + "; ".join(comment.trimmed)
            + " (the job summary has the full report)"
        )
    report = full_report(result)
    annotations = review_annotations(result)
    report_path = _write_report(
        _report_path(args, env, repo, name), dumps(review_set_data(result)), log
    )
    _print_annotations(annotations, log)
    pub = Publication(
        config_name=name,
        head_sha=event.head_sha,
        base_sha=event.base_sha,
        comment_body=comment.body,
        summary_markdown=report,
        verdict="pass" if result.verdict.passed else "fail",
        annotations=annotations,
        comment_mode=mode,
        check_run=inputs.check_run,
        check_name=check_name(name),
    )
    published = _publish(env, event, pub, log, scale)
    notes = published.messages if published is not None else ()
    _write_summary(env, pull_request_summary(report, report_path, notes), log)
    _write_outputs(
        env,
        _outputs(
            result.verdict.name,
            str(sum(len(r.new) for r in result.reviews)),
            str(sum(len(r.unaddressed) for r in result.reviews)),
            (published.comment_url or "") if published is not None else "",
            report_path or "",
        ),
        log,
    )
    if published is not None and published.comment_action == "failed":
        log.info("the comment could not be published; the verdict below stands all the same")
    return _finish(result.verdict.passed, result.verdict.reasons, log)


def _finish(passed: bool, reasons: tuple[str, ...], log: StepLog) -> int:
    if passed:
        log.info("verdict: pass")
        return EXIT_PASS
    log.info("verdict: fail")
    for reason in reasons:
        log.info(f"  {reason}")
    return EXIT_POLICY_FAILED


# --- pushes ----------------------------------------------------------------------------------


def _run_push(
    args: argparse.Namespace,
    state: _State,
    event: PushEvent,
    repo: Repo,
    inputs: ActionInputs,
    log: StepLog,
) -> int:
    env = state.env
    _require_commit(repo, event.sha, "pushed", "")
    state.config = config = _config_at(repo, event.sha, inputs.config)
    policy = _policy(inputs, config)
    name, _ = _comment_settings(inputs, config)
    override = _rules_override(repo, inputs)
    pack: RulePack | None
    if override is not None:
        pack = load_rules(*override)
    else:
        pack = pack_at(repo, event.sha, config.rules)
    date = today(args)
    patterns = inputs.models or config.models
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
    report_path = _write_report(
        _report_path(args, env, repo, name),
        dumps({"sha": event.sha, "ref": event.ref, "verdict": verdict.name, "models": datas}),
        log,
    )
    summary = push_summary(datas, event.sha, event.branch, verdict, policy.describe(), history)
    _write_summary(env, pull_request_summary(summary, report_path), log)
    unaddressed = sum(1 for e in entries if not e.addressed)
    _write_outputs(env, _outputs(verdict.name, "0", str(unaddressed), "", report_path or ""), log)
    return _finish(verdict.passed, verdict.reasons, log)


# --- bad input -------------------------------------------------------------------------------


def _errors(error: InputError) -> list[InputError]:
    return list(error.errors) if isinstance(error, InputErrors) else [error]


def _bad_input(
    args: argparse.Namespace,
    state: _State,
    error: InputError,
    log: StepLog,
    environ: Mapping[str, str],
) -> int:
    """Report an input error everywhere the verdict would have gone; exit 2."""
    env = state.env
    log.error(str(error))
    annotations = tuple(
        Annotation(
            e.location.path, e.location.line, e.location.line, "failure", "threatdelta", e.message
        )
        for e in _errors(error)
        if e.location is not None
        and e.location.line is not None
        and not Path(e.location.path).is_absolute()
    )
    _print_annotations(annotations, log)
    event = state.event
    head = event.head_sha if isinstance(event, PullRequestEvent) else None
    report = error_report(str(error), head)
    notes: tuple[str, ...] = ()
    comment_url = ""
    if isinstance(event, PullRequestEvent) and state.inputs is not None:
        published = _publish_error(
            state, event, state.inputs, report, annotations, log, environ, args
        )
        if published is not None:
            notes = published.messages
            comment_url = published.comment_url or ""
    _write_summary(env, pull_request_summary(report, None, notes), log)
    _write_outputs(env, _outputs("error", "", "", comment_url, ""), log)
    return EXIT_BAD_INPUT


def _publish_error(
    state: _State,
    event: PullRequestEvent,
    inputs: ActionInputs,
    report: str,
    annotations: tuple[Annotation, ...],
    log: StepLog,
    environ: Mapping[str, str],
    args: argparse.Namespace,
) -> PublishResult | None:
    """Replace the sticky comment with the error, so no earlier verdict stays on show."""
    try:
        name, mode = _comment_settings(inputs, state.config)
        scale = _wait_scale(args, environ)
    except InputError:
        name, mode, scale = inputs.comment_name or "default", "update", 1.0
    pub = Publication(
        config_name=name,
        head_sha=event.head_sha,
        base_sha=event.base_sha,
        comment_body=report,
        summary_markdown=report,
        verdict="fail",
        annotations=annotations,
        comment_mode=mode,
        check_run=inputs.check_run,
        check_name=check_name(name),
    )
    return _publish(state.env, event, pub, log, scale)
