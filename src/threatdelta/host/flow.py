"""Review a pull or merge request for a code host: the one flow every host runs.

settings (from the base: a change cannot loosen its own gate) -> review of base against head (git objects only) ->
verdict -> the comment's markdown (one renderer) -> the host's reports -> the host's publisher ->
exit code (0 pass, 1 fail, 2 bad input). The reports are written before anything is published, so
the host being down, slow or answering nonsense, or a token that may not write, changes what is
published, never the verdict or the reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from threatdelta.action.annotations import review_annotations
from threatdelta.action.inputs import ActionInputs, parse_comment_mode
from threatdelta.action.log import StepLog
from threatdelta.action.summary import error_report, full_report
from threatdelta.config import Config
from threatdelta.context import Overrides, file_source, gate_context
from threatdelta.errors import (
    EXIT_BAD_INPUT,
    EXIT_PASS,
    EXIT_POLICY_FAILED,
    InputError,
    InputErrors,
)
from threatdelta.git import GitError, Repo
from threatdelta.host.interface import Host, Outcome, RunState
from threatdelta.publish.interface import (
    Annotation,
    CommentMode,
    Publication,
    PublishResult,
    Verdict,
)
from threatdelta.render.comment import review_comment
from threatdelta.render.data import dumps
from threatdelta.render.review_data import review_set_data
from threatdelta.review.revisions import review_revisions

WAIT_SCALE_VARIABLE = "THREATDELTA_WAIT_SCALE"
"""Multiplies every wait between host requests and before retries (tests set 0)."""


# --- settings --------------------------------------------------------------------------------


def wait_scale(flag: float | None, environ: Mapping[str, str]) -> float:
    """The ``--wait-scale`` flag, else :data:`WAIT_SCALE_VARIABLE`, else 1."""
    value = flag
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


def require_commit(repo: Repo, sha: str, what: str, help_text: str) -> None:
    """An error saying how to fetch ``sha`` when the checkout lacks it."""
    try:
        repo.resolve(sha)
    except GitError as error:
        raise InputError(
            f"the {what} commit {sha[:12]} is not in the checkout at {repo.root}: {help_text}"
        ) from error


def overrides_for(inputs: ActionInputs, repo: Repo, trusted: str) -> Overrides:
    """The options as overrides. The ``config`` and ``rules`` files are read as they are at
    ``trusted`` (the base of a change) when they are in the repository there, so a change cannot
    rewrite what judges it; otherwise from the checkout."""
    return Overrides(
        config=file_source(inputs.config, repo, trusted, "settings file")
        if inputs.config
        else None,
        fail_on=inputs.fail_on,
        fail_on_where="input 'fail-on'",
        rules=file_source(inputs.rules, repo, trusted, "rule pack") if inputs.rules else None,
        models=inputs.models,
    )


def comment_settings(inputs: ActionInputs, config: Config | None) -> tuple[str, CommentMode]:
    """The sticky comment's name and mode: the options, else the settings, else the defaults."""
    name = inputs.comment_name or (config.comment_name if config else "default")
    if inputs.comment_mode is not None:
        return name, inputs.comment_mode
    return name, parse_comment_mode(config.comment_mode if config else "update")


def check_name(comment_name: str) -> str:
    """The check's name: one per comment name."""
    if comment_name == "default":
        return "threatdelta review"
    return f"threatdelta review ({comment_name})"


def write_report(path: Path, text: str, log: StepLog) -> str | None:
    """Write the JSON report; its path, or None (after a warning) when it could not be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        log.warning(f"could not write the JSON report to {path}: {error.strerror or error}")
        return None
    return str(path)


def finish(passed: bool, reasons: tuple[str, ...], log: StepLog) -> int:
    """Log the verdict; the exit code for it."""
    if passed:
        log.info("verdict: pass")
        return EXIT_PASS
    log.info("verdict: fail")
    for reason in reasons:
        log.info(f"  {reason}")
    return EXIT_POLICY_FAILED


def _publish(host: Host, pub: Publication) -> PublishResult | None:
    publisher = host.publisher()
    if publisher is None:
        return None
    published = publisher.publish(pub)
    host.record_publication(published)
    return published


# --- the review ------------------------------------------------------------------------------


def review_change(
    host: Host,
    state: RunState,
    repo: Repo,
    today: dt.date,
    log: StepLog,
    check_run: bool = False,
) -> int:
    """Review ``state.change`` with ``state.inputs``, publish, report; the exit code."""
    change, inputs = state.change, state.inputs
    if change is None or inputs is None:
        raise ValueError("review_change needs the change and the inputs")
    help_text = host.checkout_help(change)
    require_commit(repo, change.base_sha, f"{change.kind}'s base", help_text)
    require_commit(repo, change.head_sha, f"{change.kind}'s head", help_text)
    overrides = overrides_for(inputs, repo, change.base_sha)
    gate, _ = gate_context(repo, change.base_sha, overrides)
    state.config = gate.config
    name, mode = comment_settings(inputs, gate.config)
    log.info(
        f"reviewing {change.kind} {change.reference}: {change.base_sha[:12]} (base) -> "
        f"{change.head_sha[:12]} (head), policy {gate.policy.describe()} (from the base)"
    )
    result = review_revisions(
        repo, change.base_sha, change.head_sha, today=today, overrides=overrides
    )
    for warning in result.warnings:
        log.warning(warning)
    comment = review_comment(
        result, limit=host.comment_limit, host=host.name, full_report_at=host.full_report_at
    )
    if comment.trimmed:
        log.info(
            f"the comment leaves out, to fit {host.name}'s limit: "
            + "; ".join(comment.trimmed)
            + f" ({host.full_report_at} has the full report)"
        )
    report = full_report(result)
    annotations = review_annotations(result)
    report_path = write_report(host.report_path(name), dumps(review_set_data(result)), log)
    host.show_annotations(annotations)
    verdict: Verdict = "pass" if result.verdict.passed else "fail"
    host.deliver(Outcome(verdict, result, report, report_path, annotations))
    published = _publish(
        host,
        Publication(
            config_name=name,
            head_sha=change.head_sha,
            base_sha=change.base_sha,
            comment_body=comment.body,
            summary_markdown=report,
            verdict=verdict,
            annotations=annotations,
            comment_mode=mode,
            check_run=check_run,
            check_name=check_name(name),
        ),
    )
    if published is not None and published.comment_action == "failed":
        log.info("the comment could not be published; the verdict below stands all the same")
    return finish(result.verdict.passed, result.verdict.reasons, log)


# --- bad input -------------------------------------------------------------------------------


def _errors(error: InputError) -> list[InputError]:
    return list(error.errors) if isinstance(error, InputErrors) else [error]


def error_annotations(error: InputError) -> tuple[Annotation, ...]:
    """The errors that name a line of a file in the repository, as annotations."""
    return tuple(
        Annotation(
            e.location.path, e.location.line, e.location.line, "failure", "threatdelta", e.message
        )
        for e in _errors(error)
        if e.location is not None
        and e.location.line is not None
        and not Path(e.location.path).is_absolute()
    )


def bad_input(
    host: Host,
    state: RunState,
    error: InputError,
    log: StepLog,
    check_run: bool = False,
) -> int:
    """Report an input error everywhere the verdict would have gone; exit 2.

    When the change is known, the sticky comment is replaced with the error, so no earlier
    verdict stays on show.
    """
    log.error(str(error))
    annotations = error_annotations(error)
    host.show_annotations(annotations)
    change = state.change
    # The message may quote an input, and so a secret: mask it here as the log does.
    report = error_report(log.redact(str(error)), change.head_sha if change is not None else None)
    host.deliver(Outcome("error", None, report, None, annotations))
    if change is not None and state.inputs is not None:
        try:
            name, mode = comment_settings(state.inputs, state.config)
        except InputError:
            name, mode = state.inputs.comment_name or "default", "update"
        _publish(
            host,
            Publication(
                config_name=name,
                head_sha=change.head_sha,
                base_sha=change.base_sha,
                comment_body=report,
                summary_markdown=report,
                verdict="fail",
                annotations=annotations,
                comment_mode=mode,
                check_run=check_run,
                check_name=check_name(name),
            ),
        )
    return EXIT_BAD_INPUT
