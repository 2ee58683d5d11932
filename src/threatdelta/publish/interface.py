"""What the publishers take and give back: a finished report, and what became of it.

The review pipeline renders everything (comment markdown, job summary, annotations, verdict)
before a publisher sees it; a publisher only decides where each piece goes and reports the outcome.
Every host (GitHub, GitLab, ...) has one module in this package with a :class:`Publisher`: the
sticky-comment rules it follows live in :mod:`threatdelta.publish.sticky`, the retries in
:mod:`threatdelta.publish.retry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

AnnotationLevel = Literal["notice", "warning", "failure"]
"""GitHub's check-run annotation levels, least severe first."""

CommentMode = Literal["update", "new", "hide-and-new", "delete-and-new", "off"]
"""How the pull-request (or merge-request) comment is published on a rerun."""

CommentAction = Literal[
    "created", "updated", "unchanged", "skipped-newer", "skipped-readonly", "failed", "off"
]
"""What happened to the pull-request comment."""

Verdict = Literal["pass", "fail"]

ANNOTATION_LEVELS: tuple[AnnotationLevel, ...] = ("notice", "warning", "failure")
COMMENT_MODES: tuple[CommentMode, ...] = ("update", "new", "hide-and-new", "delete-and-new", "off")
VERDICTS: tuple[Verdict, ...] = ("pass", "fail")


@dataclass(frozen=True)
class Annotation:
    """One finding attached to a line range of a file in the repository."""

    path: str
    """The file, relative to the repository root, with forward slashes."""
    start_line: int
    """First line (1-based)."""
    end_line: int
    """Last line (1-based, not before ``start_line``)."""
    level: AnnotationLevel
    """``notice``, ``warning`` or ``failure`` (shown as an error in workflow logs)."""
    title: str
    """A short headline; may be empty."""
    message: str
    """The finding itself, plain text."""

    def __post_init__(self) -> None:
        if self.level not in ANNOTATION_LEVELS:
            raise ValueError(
                f"annotation level must be one of {ANNOTATION_LEVELS}, not {self.level!r}"
            )


@dataclass(frozen=True)
class Publication:
    """Everything one run publishes on a pull request, already rendered and escaped."""

    config_name: str
    """The identity of the sticky comment, so two workflows (or two model sets) keep one comment
    each and never overwrite each other's."""
    head_sha: str
    """The pull request's head commit that was reviewed; checks and statuses target it."""
    base_sha: str
    """The base commit the head was compared with."""
    comment_body: str
    """The finished comment markdown; untrusted text in it is already escaped."""
    summary_markdown: str
    """The job-summary markdown (also the check run's summary)."""
    verdict: Verdict
    """``pass`` or ``fail``; the check run's conclusion follows it."""
    annotations: tuple[Annotation, ...]
    """Findings to attach to files (check-run annotations and workflow-command annotations)."""
    comment_mode: CommentMode = "update"
    """``update`` edits the sticky comment in place, ``new`` always posts another one,
    ``hide-and-new`` minimises the previous one as outdated and posts a new one,
    ``delete-and-new`` deletes the previous ones and posts a new one, ``off`` posts nothing."""
    check_run: bool = False
    """Whether to create a check run on ``head_sha`` as well."""
    check_name: str = "threatdelta"
    """The check run's name."""
    outputs: Mapping[str, str] = field(default_factory=dict)
    """Step outputs for the Actions runner (written to ``GITHUB_OUTPUT``)."""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")
        if self.comment_mode not in COMMENT_MODES:
            raise ValueError(
                f"comment_mode must be one of {COMMENT_MODES}, not {self.comment_mode!r}"
            )
        if not self.check_name.strip():
            raise ValueError("check_name must not be empty")


@dataclass(frozen=True)
class PublishResult:
    """What a publisher did with a :class:`Publication`."""

    comment_url: str | None
    """The web address of the comment that now holds the report, when there is one."""
    comment_action: CommentAction
    """What happened to the comment: ``created``, ``updated``, ``unchanged`` (nothing written),
    ``skipped-newer`` (the comment already reports a newer head), ``skipped-readonly`` (the token
    cannot write, e.g. on a fork pull request), ``failed`` (GitHub errors) or ``off``."""
    check_run_url: str | None
    """The web address of the check run, when one was created."""
    messages: tuple[str, ...]
    """One line per notable outcome, in particular what could not be published and why."""


class Publisher(Protocol):
    """Publishes finished reviews on one host's pull (or merge) requests.

    ``publish`` never raises for the host's answers or the network: every outcome comes back in the
    :class:`PublishResult`, and the token appears in none of it.
    """

    @property
    def host(self) -> str:
        """The host's name as people write it (``GitHub``, ``GitLab``), for messages."""

    @property
    def comment_limit(self) -> int:
        """The most characters the host accepts in one comment, hidden markers included."""

    def publish(self, pub: Publication) -> PublishResult:
        """Publish ``pub`` and say what became of it."""
