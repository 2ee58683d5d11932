"""Read one model at one revision from git and assemble the traceability report.

The I/O end of ``threatdelta report``: it reads the blob from git objects (never the working
tree), looks every evidence path up in the revision's tree in one git call, and hands plain data
to :mod:`threatdelta.report.traceability` and :mod:`threatdelta.report.diagram`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from threatdelta.assess import assess
from threatdelta.errors import InputError, Location
from threatdelta.exclusions import Exclusion, excluded_threats
from threatdelta.formats.registry import read_model
from threatdelta.formats.sidecar import decisions_path
from threatdelta.git import Repo
from threatdelta.history.gitlog import resolve_commit
from threatdelta.history.metrics import day_of
from threatdelta.model.model import Model
from threatdelta.report.diagram import Diagram, layout
from threatdelta.report.traceability import (
    ControlTrace,
    ResidualRisk,
    TraceRow,
    control_traces,
    residual_risks,
    trace_rows,
)
from threatdelta.revision import EvidenceQuery, checker, evidence_status
from threatdelta.rules.pack import RulePack


@dataclass(frozen=True)
class Report:
    """Everything the traceability report shows about one model at one revision."""

    system: str
    """The system's name."""
    path: str
    """The model file."""
    format: str
    """Which reader read it."""
    revision: str
    """Commit SHA."""
    revision_date: dt.date
    """Commit date (UTC)."""
    revision_subject: str
    """Commit subject."""
    today: dt.date
    """The date expiries were judged on (the commit date unless ``--today`` says otherwise)."""
    pack: str
    """Rule pack name."""
    pack_digest: str
    """Rule pack digest ('' when the pack has none)."""
    counts: dict[str, int]
    """Threats per stated status, plus ``unaddressed`` and ``total``."""
    rows: tuple[TraceRow, ...]
    """The traceability matrix."""
    controls: tuple[ControlTrace, ...]
    """Every control with its evidence."""
    residual: tuple[ResidualRisk, ...]
    """The residual-risk register."""
    orphans: tuple[str, ...]
    """Dispositions whose threat does not exist, in words."""
    model: Model
    """The model (for the diagram's legend and the Mermaid chart)."""
    diagram: Diagram
    """The laid-out data-flow diagram."""
    warnings: tuple[str, ...] = ()
    """What the reader tolerated."""
    excluded: tuple[Exclusion, ...] = ()
    """Threats a property of the design excludes, with the controls that implement it."""

    @property
    def broken_evidence(self) -> int:
        """Evidence paths that do not exist at the revision (broken links)."""
        return sum(len(c.missing) for c in self.controls)


def build_report(
    repo: Repo,
    path: str,
    *,
    rev: str = "HEAD",
    pack: RulePack | None = None,
    today: dt.date | None = None,
) -> Report:
    """The report of ``path`` at ``rev``; ``pack`` None means the model's default pack."""
    sha = resolve_commit(repo, rev)
    path = path.strip("/")
    data = repo.read(sha, path)
    if data is None:
        raise InputError(
            f"does not exist at {rev} ({sha[:12]}); name the model path as it is at that revision",
            Location(path),
        )
    info = repo.run("log", "-1", "--format=%ct%x1f%s", sha).decode("utf-8", "replace").strip()
    timestamp, _, subject = info.partition("\x1f")
    commit_date = day_of(int(timestamp))
    on = today if today is not None else commit_date
    parsed = read_model(data, path, decisions=repo.read(sha, decisions_path(path)))
    items = tuple(item for c in parsed.model.controls for item in c.evidence)
    (exists,) = evidence_status(repo, [EvidenceQuery(sha, path, items)])
    assessment = assess(parsed, pack, today=on, evidence_exists=checker(exists))
    register = assessment.register
    return Report(
        system=parsed.model.system,
        path=path,
        format=parsed.model.format,
        revision=sha,
        revision_date=commit_date,
        revision_subject=subject,
        today=on,
        pack=assessment.pack.name,
        pack_digest=assessment.pack.digest,
        counts=register.counts(),
        rows=trace_rows(register, exists),
        controls=control_traces(register, exists),
        residual=residual_risks(register, on),
        orphans=tuple(o.message for o in register.orphans),
        model=parsed.model,
        diagram=layout(parsed.model),
        warnings=parsed.warnings,
        excluded=excluded_threats(parsed.model, assessment.pack, evidence_exists=checker(exists)),
    )
