"""Annotations on the model file's lines: what a reviewer should look at, where it is declared.

Unaddressed threats in the changed scope are annotated ``failure`` when high or critical and
``warning`` otherwise; regressions are ``failure`` when the policy fails on them; new threats
that are already addressed are ``notice``. Annotations are plain text (GitHub does not render
markdown in them), made one line and bounded; the workflow-command and check-run writers escape
the rest.
"""

from __future__ import annotations

from threatdelta.publish.interface import Annotation, AnnotationLevel
from threatdelta.register import Entry
from threatdelta.render.data import countermeasure_names
from threatdelta.render.escape import plain
from threatdelta.review.review import Review
from threatdelta.review.revisions import ReviewSet
from threatdelta.rules.pack import STRIDE_NAMES

SEVERE = ("high", "critical")
"""Severities whose unaddressed threats are annotated as failures."""


def _line(entry: Entry) -> int:
    location = entry.threat.location
    return location.line if location is not None and location.line else 1


def _unaddressed(entry: Entry, review: Review) -> Annotation:
    threat = entry.threat
    level: AnnotationLevel = "failure" if entry.severity in SEVERE else "warning"
    suggested = ""
    if review.pack is not None and threat.countermeasures:
        names = [c["name"] for c in countermeasure_names(threat.countermeasures, review.pack)]
        suggested = f" Suggested countermeasures: {'; '.join(names)}."
    problems = "".join(f" {p.message}." for p in entry.problems)
    message = (
        f"{threat.title} ({STRIDE_NAMES.get(threat.stride, threat.stride)}, {entry.severity}). "
        f"Threat '{threat.key}' has no countermeasure and no justification: mitigate it with a "
        f"control or record why the risk is accepted.{problems}{suggested}"
    )
    return Annotation(
        path=review.path,
        start_line=_line(entry),
        end_line=_line(entry),
        level=level,
        title=plain(f"Unaddressed {entry.severity} threat: {threat.title}", 200),
        message=plain(message, 2000),
    )


def _new_addressed(entry: Entry, review: Review) -> Annotation:
    threat = entry.threat
    return Annotation(
        path=review.path,
        start_line=_line(entry),
        end_line=_line(entry),
        level="notice",
        title=plain(f"New threat, {entry.status}: {threat.title}", 200),
        message=plain(
            f"{threat.title} ({STRIDE_NAMES.get(threat.stride, threat.stride)}, "
            f"{entry.severity}). Threat '{threat.key}' is new in this change and already "
            f"{entry.status}.",
            2000,
        ),
    )


def review_annotations(result: ReviewSet) -> tuple[Annotation, ...]:
    """Every annotation for ``result``, in review order (models by path, then severity)."""
    out: list[Annotation] = []
    regression_level: AnnotationLevel = "failure" if result.policy.regressions else "warning"
    for review in result.reviews:
        if review.head is None:  # the model was removed: no lines to point at
            continue
        unaddressed = {e.key for e in review.unaddressed}
        for entry in review.unaddressed:
            out.append(_unaddressed(entry, review))
        for entry in review.new:
            if entry.key not in unaddressed and entry.addressed:
                out.append(_new_addressed(entry, review))
        for regression in review.regressions:
            line = (
                regression.location.line
                if regression.location is not None and regression.location.line
                else 1
            )
            out.append(
                Annotation(
                    path=review.path,
                    start_line=line,
                    end_line=line,
                    level=regression_level,
                    title=plain(f"Regression: {regression.code.replace('-', ' ')}", 200),
                    message=plain(regression.message, 2000),
                )
            )
    return tuple(out)
