"""The git side of the history: which revisions changed the model, and where iterations end.

The walk follows the *first-parent* chain of the newest revision (``--until``): on a default
branch that is the sequence of commits and merges as they landed. A merge counts as one revision
whose change is its diff against its first parent, so the commits inside a merged branch are not
listed one by one. Renames are followed: when the model file was added by a commit that renamed
another file, the walk continues under the old name. The walk stops at the commit that created
the file (a deletion further back starts a separate, older life of the file that is not listed).

A model in another tool's format may have a decisions file beside it
(:func:`threatdelta.formats.sidecar.decisions_path`); its decisions are part of the model, so a
commit that changes only the decisions file is a revision of the model too, and each revision
names the decisions blob it was read with.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from threatdelta.errors import InputError
from threatdelta.formats.sidecar import decisions_path
from threatdelta.git import GitError, ObjectInfo, Repo


@dataclass(frozen=True)
class Commit:
    """A commit on the first-parent chain."""

    sha: str
    """Full SHA."""
    timestamp: int
    """Committer date, seconds since the epoch (UTC)."""
    subject: str
    """First line of the commit message."""
    parents: tuple[str, ...] = ()
    """Parent SHAs; more than one for a merge."""


@dataclass(frozen=True)
class ModelRevision:
    """A commit that changed the model file."""

    commit: Commit
    """The commit."""
    path: str
    """The model file's path at this commit (it changes when the file was renamed)."""
    blob: str
    """SHA of the model file's blob at this commit."""
    size: int = 0
    """Size of the blob in bytes."""
    decisions: str = ""
    """SHA of the model's decisions file blob at this commit; empty when there is none."""
    decisions_size: int = 0
    """Size of the decisions blob in bytes."""


@dataclass(frozen=True)
class Marker:
    """The end of an iteration: a tag (or a merge into the default branch) on the chain."""

    name: str
    """Tag names (joined with ', ' when several tags mark the same commit), or a merge label."""
    commit: Commit
    """The first-parent commit where the iteration ends (where a tag's commit was merged)."""


def _log(repo: Repo, rev: str, *paths: str) -> list[Commit]:
    args = ["log", "--first-parent", "-z", "--format=%H%x1f%P%x1f%ct%x1f%s", rev]
    if paths:
        args += ["--", *paths]
    out = repo.run(*args).decode("utf-8", "replace")
    commits = []
    for record in out.split("\0"):
        record = record.strip("\n")
        if not record:
            continue
        sha, parents, timestamp, subject = record.split("\x1f", 3)
        commits.append(Commit(sha, int(timestamp), subject, tuple(parents.split())))
    return commits


def first_parent_chain(repo: Repo, until: str) -> list[Commit]:
    """Every commit on the first-parent chain of ``until``, oldest first."""
    return list(reversed(_log(repo, until)))


def object_ids(repo: Repo, specs: Sequence[str]) -> list[ObjectInfo | None]:
    """Type, SHA and size of each ``rev:path`` spec, or None when absent (one git process);
    paths are looked up as :meth:`threatdelta.git.Repo.objects` does."""
    pairs: list[tuple[str, str]] = []
    for spec in specs:
        rev, _, path = spec.partition(":")
        pairs.append((rev, path))
    return repo.objects(pairs)


def model_revisions(repo: Repo, path: str, until: str) -> list[ModelRevision]:
    """Every first-parent commit up to ``until`` that changed the model or its decisions file,
    oldest first."""
    path = path.strip("/")
    found: list[ModelRevision] = []
    rev: str | None = until
    current = path
    seen_paths: set[tuple[str, str]] = set()
    while rev is not None and (rev, current) not in seen_paths:
        seen_paths.add((rev, current))
        sidecar = decisions_path(current)
        commits = _log(repo, rev, current, sidecar)
        if not commits:
            break
        objects = object_ids(repo, [f"{c.sha}:{p}" for c in commits for p in (current, sidecar)])
        added: Commit | None = None
        for index, commit in enumerate(commits):
            blob, decisions = objects[2 * index], objects[2 * index + 1]
            if blob is None or blob.type != "blob":
                # Deleted here (or not yet added): everything older belongs to an earlier life
                # of the file.
                break
            if decisions is not None and decisions.type != "blob":
                decisions = None
            found.append(
                ModelRevision(
                    commit,
                    current,
                    blob.sha,
                    blob.size,
                    decisions.sha if decisions is not None else "",
                    decisions.size if decisions is not None else 0,
                )
            )
            added = commit
        rev = None
        if added is not None and added.parents:
            parent = added.parents[0]
            old = repo.renamed_from(parent, added.sha, current)
            if old is not None and old != current:
                current, rev = old, parent
    found.reverse()
    return found


def peeled_tags(repo: Repo, until: str, pattern: str) -> list[tuple[str, str]]:
    """``(tag, commit SHA)`` for tags matching ``pattern`` that ``until`` contains, sorted."""
    out = repo.run(
        "for-each-ref",
        f"--merged={until}",
        "--format=%(refname:short)%1f%(objectname)%1f%(*objectname)%1f%(*objecttype)%1f%(objecttype)",
        "refs/tags/",
    )
    tags = []
    for line in out.decode("utf-8", "replace").splitlines():
        name, sha, peeled, peeled_type, own_type = (line.split("\x1f") + [""] * 5)[:5]
        commit = peeled if peeled else sha
        kind = peeled_type if peeled else own_type
        if kind != "commit" or not fnmatch.fnmatchcase(name, pattern):
            continue
        tags.append((name, commit))
    return sorted(tags)


def chain_position(repo: Repo, commit: str, until: str, positions: dict[str, int]) -> int | None:
    """Index in the first-parent chain where ``commit`` landed (itself, or the merge that
    brought it in), or None when ``until`` does not contain it."""
    if commit in positions:
        return positions[commit]
    out = repo.run(
        "rev-list",
        "--first-parent",
        "--ancestry-path",
        "--reverse",
        f"{commit}..{until}",
        check=False,
    )
    for sha in out.decode().split():
        if sha in positions:
            return positions[sha]
    return None


def iteration_markers(
    repo: Repo, until: str, pattern: str, chain: Sequence[Commit]
) -> tuple[list[Marker], str]:
    """Where iterations end, and how they were found (``tags`` or ``merges`` or ``none``).

    Tags matching ``pattern`` mark iterations; when none does, each merge commit on the
    first-parent chain does."""
    positions = {c.sha: i for i, c in enumerate(chain)}
    by_position: dict[int, list[str]] = {}
    for name, sha in peeled_tags(repo, until, pattern):
        position = chain_position(repo, sha, until, positions)
        if position is not None:
            by_position.setdefault(position, []).append(name)
    if by_position:
        markers = [
            Marker(", ".join(sorted(names)), chain[pos])
            for pos, names in sorted(by_position.items())
        ]
        return markers, "tags"
    merges = [c for c in chain if len(c.parents) > 1]
    if merges:
        return [Marker(f"merge {c.sha[:7]}", c) for c in merges], "merges"
    return [], "none"


def resolve_commit(repo: Repo, rev: str) -> str:
    """The full SHA of ``rev``, with a message that names the option on failure."""
    try:
        return repo.resolve(rev)
    except GitError as error:
        raise InputError(f"{error.message}: name a commit, branch or tag") from error


def git_dir(repo: Repo) -> Path:
    """The repository's common git directory (shared by all its worktrees)."""
    out = repo.run("rev-parse", "--git-common-dir").decode().strip()
    path = Path(out)
    return path if path.is_absolute() else (repo.root / path)
