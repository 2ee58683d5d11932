"""GitHub Actions as a host: the runner's files (job summary, step outputs), workflow-command
annotations, and the GitHub publisher."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from threatdelta.action.event import PullRequestEvent, RunnerEnv
from threatdelta.action.log import StepLog
from threatdelta.action.summary import publication_notes, pull_request_summary
from threatdelta.host.interface import ChangeRequest, Outcome
from threatdelta.publish.deadline import PublishLimits
from threatdelta.publish.github import GitHubPublisher
from threatdelta.publish.interface import Annotation, Publisher, PublishResult
from threatdelta.publish.retry import scaled_sleep
from threatdelta.publish.workflow import (
    select_step_annotations,
    workflow_command_annotation,
    write_outputs,
    write_summary,
)
from threatdelta.render.comment import COMMENT_LIMIT as RENDERED_COMMENT_LIMIT

OUTPUT_NAMES = ("verdict", "new-threats", "unaddressed", "comment-url", "report-path")
"""The step outputs, in the order they are written."""

_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def change_request(event: PullRequestEvent) -> ChangeRequest:
    """The pull request an event names (its gate settings are read at the base, see
    :func:`threatdelta.context.gate_context`)."""
    return ChangeRequest(
        kind="pull request",
        reference=f"#{event.number}",
        base_sha=event.base_sha,
        head_sha=event.head_sha,
    )


def outputs(
    verdict: str, new: str, unaddressed: str, comment_url: str, report_path: str
) -> dict[str, str]:
    """The step outputs by name."""
    values = (verdict, new, unaddressed, comment_url, report_path)
    return dict(zip(OUTPUT_NAMES, values, strict=True))


@dataclass
class GitHubActions:
    """One ``threatdelta github`` run on a pull request (or a push)."""

    env: RunnerEnv
    """The runner's environment."""
    log: StepLog
    """The step's log."""
    event: PullRequestEvent | None = None
    """The pull request, when the event is one."""
    repo_root: Path | None = None
    """The checkout, once found."""
    report_file: str | None = None
    """The ``--report`` option."""
    scale: float = 1.0
    """Multiplies every wait between requests."""
    limits: PublishLimits = field(default_factory=PublishLimits)
    """Timeouts and the overall budget for the GitHub requests."""

    @property
    def name(self) -> str:
        return "GitHub"

    @property
    def comment_limit(self) -> int:
        return RENDERED_COMMENT_LIMIT

    @property
    def full_report_at(self) -> str:
        return "the job summary"

    def checkout_help(self, change: ChangeRequest | None) -> str:
        hint = "check out with actions/checkout and 'fetch-depth: 0' so that it is there"
        event = self.event
        if event is not None and event.event_name == "pull_request_target":
            hint += (
                f"; with pull_request_target, also fetch the head's objects with "
                f"'git fetch --no-tags origin refs/pull/{event.number}/head' (never check it out)"
            )
        return hint

    def report_path(self, comment_name: str) -> Path:
        if self.report_file:
            return Path(self.report_file)
        env = self.env
        folder = Path(env.runner_temp or env.workspace or (self.repo_root or "."))
        safe = _FILE_NAME.sub("_", comment_name)[:60] or "default"
        return folder / f"threatdelta-report-{safe}.json"

    def publisher(self) -> Publisher | None:
        env, event = self.env, self.event
        if event is None:
            return None
        if not env.token:
            self.log.warning(
                "no token (set the github-token input or GITHUB_TOKEN): nothing is posted on the "
                "pull request; the job summary, annotations and exit code still report the verdict"
            )
            return None
        scale = self.scale
        return GitHubPublisher(
            api_url=env.api_url,
            token=env.token,
            repo=event.repository,
            pr_number=event.number,
            log=self.log.info,
            sleep=scaled_sleep(scale),
            seconds_between_requests=0.25 * scale,
            seconds_between_writes=1.0 * scale,
            limits=self.limits,
        )

    def show_annotations(self, annotations: tuple[Annotation, ...]) -> None:
        shown = select_step_annotations(annotations)
        for annotation in shown:
            self.log.command(workflow_command_annotation(annotation))
        if len(shown) < len(annotations):
            self.log.info(
                f"{len(annotations) - len(shown)} more annotations are not shown here: GitHub "
                "shows at most 10 of each level per step (the check run, with 'check-run: true', "
                "has all)"
            )

    def deliver(self, outcome: Outcome) -> None:
        self.write_summary(pull_request_summary(outcome.report, outcome.report_path, outcome.notes))
        if outcome.verdict == "error":
            values = outputs("error", "", "", outcome.comment_url, "")
        else:
            values = outputs(
                outcome.verdict,
                str(outcome.new),
                str(outcome.unaddressed),
                outcome.comment_url,
                outcome.report_path or "",
            )
        self.write_outputs(values)

    def record_publication(self, published: PublishResult) -> None:
        if published.messages:
            self.write_summary(publication_notes(published.messages))
        if published.comment_url:
            # A later line for the same output replaces the earlier one.
            self.write_outputs({"comment-url": published.comment_url})

    # the runner's files ------------------------------------------------------------------

    def write_outputs(self, values: Mapping[str, str]) -> None:
        """Append the step outputs, when the runner gave a file for them."""
        if self.env.output is None:
            return
        values = {name: self.log.redact(value) for name, value in values.items()}
        try:
            write_outputs(self.env.output, values)
        except OSError as error:
            self.log.warning(f"could not write the step outputs: {error.strerror or error}")

    def write_summary(self, markdown: str) -> None:
        """Append to the job summary, when the runner gave a file for it."""
        if self.env.step_summary is None:
            return
        try:
            if write_summary(self.env.step_summary, self.log.redact(markdown)):
                self.log.info("the job summary was trimmed to GitHub's 1 MiB limit")
        except OSError as error:
            self.log.warning(f"could not write the job summary: {error.strerror or error}")
