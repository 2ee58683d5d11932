"""What one revision of the repository holds besides the model: evidence files, rule packs.

Evidence that names a repository path (``tests/security/test_tls.py``,
``docs/pentest.pdf#F-4``) is looked up in the revision's tree, first from the repository root,
then from the model file's folder; a folder counts as existing. Report ids (``PT-2026-03#F-2``)
are not paths and are never looked up. A path that leaves the repository (``../x``, a symbolic
link pointing out of the tree) names nothing, so it is missing evidence, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from threatdelta.git import Repo
from threatdelta.model.model import Model
from threatdelta.register import EvidenceCheck, evidence_path


@dataclass(frozen=True)
class EvidenceQuery:
    """The evidence paths to look up at one revision."""

    rev: str
    """Commit SHA."""
    model_path: str
    """The model file's path at that revision (relative lookups start from its folder)."""
    items: tuple[str, ...]
    """Evidence texts as written; only repository paths are looked up."""


def evidence_status(repo: Repo, queries: Sequence[EvidenceQuery]) -> list[dict[str, bool]]:
    """For each query, ``{path: exists}`` for every repository path among its items, looked up
    with one git process for all of them."""
    specs: list[tuple[str, str]] = []
    wanted: list[list[tuple[str, int, int]]] = []
    for query in queries:
        rows = []
        folder = PurePosixPath(query.model_path).parent
        for path in sorted({p for p in map(evidence_path, query.items) if p is not None}):
            rows.append((path, len(specs), len(specs) + 1))
            specs.extend(((query.rev, path), (query.rev, str(folder / path))))
        wanted.append(rows)
    found = repo.objects(specs)
    return [
        {path: found[a] is not None or found[b] is not None for path, a, b in rows}
        for rows in wanted
    ]


def checker(status: Mapping[str, bool]) -> EvidenceCheck:
    """An :data:`EvidenceCheck` answering from looked-up results (unknown paths: missing)."""

    def exists(path: str) -> bool:
        return status.get(path.strip("/"), False)

    return exists


def evidence_exists_at(
    repo: Repo, rev: str, model_path: str, items: Iterable[str]
) -> EvidenceCheck:
    """An :data:`EvidenceCheck` for one revision, looked up in one git call."""
    (status,) = evidence_status(repo, [EvidenceQuery(rev, model_path, tuple(items))])
    return checker(status)


def model_evidence(model: Model) -> tuple[str, ...]:
    """Every evidence text the model's controls name."""
    return tuple(item for control in model.controls for item in control.evidence)


def evidence_at(repo: Repo, rev: str, model_path: str, model: Model) -> EvidenceCheck:
    """An :data:`EvidenceCheck` for ``model``'s evidence at ``rev`` (one git call)."""
    return evidence_exists_at(repo, rev, model_path, model_evidence(model))
