"""What one code host supplies to the shared review flow, and what the flow hands back to it.

A host (GitHub Actions, GitLab CI, ...) reads its CI environment into a :class:`ChangeRequest`,
and implements :class:`Host`: where the reports go, how annotations are shown, which
:class:`~threatdelta.publish.interface.Publisher` posts the comment. Everything between (settings,
review, verdict, the comment's markdown, the exit code) is :mod:`threatdelta.host.flow`'s, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from threatdelta.action.inputs import ActionInputs
from threatdelta.config import Config
from threatdelta.publish.interface import Annotation, Publisher, PublishResult
from threatdelta.review.revisions import ReviewSet


@dataclass(frozen=True)
class ChangeRequest:
    """A pull or merge request to review: which commits, and how people refer to it."""

    kind: str
    """``pull request`` or ``merge request``: how the host names it."""
    reference: str
    """How people write its number on the host: ``#12`` on GitHub, ``!12`` on GitLab."""
    base_sha: str
    """The commit the change is compared with."""
    head_sha: str
    """The change's head commit (never a merge commit made for testing)."""


@dataclass
class RunState:
    """What one run has learnt so far; the error path uses as much of it as there is."""

    inputs: ActionInputs | None = None
    """The options, once they were read."""
    change: ChangeRequest | None = None
    """The change, once the CI environment named one."""
    config: Config | None = None
    """The settings, once they were read."""


@dataclass(frozen=True)
class Outcome:
    """What a run decided and did, for the host's own reports (job summary, report files)."""

    verdict: Literal["pass", "fail", "error"]
    """The gate's answer, or ``error`` when the input was wrong."""
    result: ReviewSet | None
    """The review, when there was one."""
    report: str
    """The full report (markdown): the review at full detail, or the error."""
    report_path: str | None
    """Where the JSON report was written, when it was."""
    annotations: tuple[Annotation, ...]
    """The findings on the model files' lines."""
    published: PublishResult | None = None
    """What the publisher did (None: nothing was tried yet, or nothing can be, e.g. no token)."""

    @property
    def new(self) -> int:
        """New threats in the change."""
        return sum(len(r.new) for r in self.result.reviews) if self.result else 0

    @property
    def unaddressed(self) -> int:
        """Unaddressed threats in the changed scope."""
        return sum(len(r.unaddressed) for r in self.result.reviews) if self.result else 0

    @property
    def comment_url(self) -> str:
        """The comment that holds the report, or empty."""
        return (self.published.comment_url or "") if self.published is not None else ""

    @property
    def notes(self) -> tuple[str, ...]:
        """What could not be published, and why."""
        return self.published.messages if self.published is not None else ()


class Host(Protocol):
    """One code host's CI environment, as the shared flow needs it."""

    @property
    def name(self) -> str:
        """The host's name as people write it (``GitHub``)."""

    @property
    def comment_limit(self) -> int:
        """The most characters the rendered comment may have (the host's limit less the
        publisher's hidden markers)."""

    @property
    def full_report_at(self) -> str:
        """Where the full report is, said in words (``the job summary``)."""

    def checkout_help(self, change: ChangeRequest | None) -> str:
        """How to make the base and head commits available in the checkout."""

    def report_path(self, comment_name: str) -> Path:
        """Where the JSON report goes."""

    def publisher(self) -> Publisher | None:
        """The publisher for the change, or None (after saying why) when nothing can be posted."""

    def show_annotations(self, annotations: tuple[Annotation, ...]) -> None:
        """Show the findings on the model files' lines as the host can."""

    def deliver(self, outcome: Outcome) -> None:
        """Write the host's own reports (job summary, outputs, report files) for ``outcome``.

        The flow calls this before anything is published, so that however publishing goes (a
        host that hangs, answers nonsense, or a crash) the verdict is already on record."""

    def record_publication(self, published: PublishResult) -> None:
        """Add to the reports :meth:`deliver` wrote what publishing did: the comment's address,
        and what could not be published and why."""
