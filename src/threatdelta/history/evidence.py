"""Does a control's evidence exist at a revision? Answered for many revisions in one git call.

Evidence that names a repository path (``tests/security/test_tls.py``,
``docs/pentest.pdf#F-4``) is looked up in the revision's tree, first from the repository root,
then from the model file's folder, like ``threatdelta review`` does; a folder counts as existing.
Report ids (``PT-2026-03#F-2``) are not paths and are never looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from threatdelta.git import Repo
from threatdelta.history.gitlog import object_ids
from threatdelta.register import EvidenceCheck, is_repository_path


@dataclass(frozen=True)
class EvidenceQuery:
    """The evidence paths to look up at one revision."""

    rev: str
    """Commit SHA."""
    model_path: str
    """The model file's path at that revision (relative lookups start from its folder)."""
    items: tuple[str, ...]
    """Evidence texts as written; only repository paths are looked up."""


def evidence_path(item: str) -> str | None:
    """The repository path an evidence text names (without ``#fragment``), or None."""
    if not is_repository_path(item):
        return None
    path = item.split("#", 1)[0].strip("/")
    return path or None


def _candidates(model_path: str, path: str) -> tuple[str, str]:
    folder = PurePosixPath(model_path).parent
    return path, str(folder / path)


def evidence_status(repo: Repo, queries: Sequence[EvidenceQuery]) -> list[dict[str, bool]]:
    """For each query, ``{path: exists}`` for every repository path among its items."""
    specs: list[str] = []
    wanted: list[list[tuple[str, int, int]]] = []
    for query in queries:
        rows = []
        for path in sorted({p for p in map(evidence_path, query.items) if p is not None}):
            if any(ch in path for ch in "\r\n"):
                continue
            first, second = _candidates(query.model_path, path)
            rows.append((path, len(specs), len(specs) + 1))
            specs.extend((f"{query.rev}:{first}", f"{query.rev}:{second}"))
        wanted.append(rows)
    found = object_ids(repo, specs)
    results: list[dict[str, bool]] = []
    for rows in wanted:
        results.append({path: found[a] is not None or found[b] is not None for path, a, b in rows})
    return results


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
