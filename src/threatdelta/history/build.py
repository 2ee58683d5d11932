"""Build the history of one model file: git walk, snapshots (cached), evidence, metrics.

This is the I/O end of the history. It reads every model revision's blob in bulk (``git cat-file
--batch``), parses and enumerates only blobs the cache has not seen (each from the blob read
before it: rules re-run only where the model changed, see
:func:`threatdelta.review.impact.enumerate_after`), looks evidence up for every
revision and iteration end in one ``git cat-file --batch-check``, and hands plain data to the pure
functions of :mod:`threatdelta.history.metrics`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from threatdelta.engine import EnumerationStats
from threatdelta.errors import InputError
from threatdelta.formats.packs import default_pack
from threatdelta.formats.registry import read_model
from threatdelta.formats.sidecar import decisions_path
from threatdelta.git import MAX_BLOB_BYTES, Repo
from threatdelta.history.cache import HistoryCache
from threatdelta.history.gitlog import (
    Commit,
    ModelRevision,
    chain_position,
    first_parent_chain,
    iteration_markers,
    model_revisions,
    object_ids,
    resolve_commit,
)
from threatdelta.history.metrics import (
    IterationEnd,
    Retrospective,
    RevisionInput,
    RevisionMetrics,
    day_of,
    retrospectives,
    revision_metrics,
)
from threatdelta.history.progress import Progress
from threatdelta.history.snapshot import (
    Snapshot,
    pack_key,
    snapshot_data,
    snapshot_from_data,
    snapshot_of,
)
from threatdelta.register import evidence_path
from threatdelta.review.impact import Enumerated, enumerate_after
from threatdelta.revision import EvidenceQuery, evidence_status
from threatdelta.rules.pack import RulePack

READ_CHUNK = 64
"""Most blobs read per ``git cat-file --batch`` call."""
READ_CHUNK_BYTES = 64 * 1024 * 1024
"""Most bytes read per call (bounds memory on long histories of large models)."""


@dataclass
class HistoryStats:
    """How much work a run did (for tests, and for the curious)."""

    revisions: int = 0
    """Model revisions walked."""
    parsed: int = 0
    """Model blobs parsed and enumerated in this run."""
    cached: int = 0
    """Model blobs whose snapshot came from the cache."""
    evidence_lookups: int = 0
    """Commits whose evidence was looked up in git in this run."""
    evidence_cached: int = 0
    """Commits whose evidence look-up came from the cache."""
    evaluations: int = 0
    """Rule evaluations (a blob's rules re-run only where it differs from the blob read before
    it)."""


@dataclass(frozen=True)
class ThreatInfo:
    """How a threat was last described."""

    title: str
    """Title."""
    subject: str
    """What it is about."""
    stride: str
    """STRIDE letter."""
    severity: str
    """Severity."""


@dataclass(frozen=True)
class History:
    """The history of one model file."""

    path: str
    """The model file's path at the newest revision."""
    system: str
    """The system's name at the newest readable revision."""
    until: str
    """SHA of the newest revision looked at."""
    until_date: dt.date
    """Its commit date."""
    since: str | None
    """SHA of ``--since``, when given (revisions after it are listed)."""
    iteration_source: str
    """How iterations were found: ``tags``, ``merges`` or ``none``."""
    iteration_pattern: str
    """The tag pattern used."""
    revisions: tuple[RevisionMetrics, ...]
    """Model revisions listed, oldest first."""
    iterations: tuple[Retrospective, ...]
    """Iterations listed, oldest first."""
    threats: Mapping[str, ThreatInfo]
    """Every threat key seen, with its latest description."""
    pack: str
    """Name of the rule pack (``default`` when each revision used its default pack)."""
    warnings: tuple[str, ...] = ()
    """Things worth knowing (unreadable revisions)."""
    stats: HistoryStats = field(default_factory=HistoryStats, compare=False)
    """Work done by this run."""


def _kind(path: str) -> str:
    return PurePosixPath(path).suffix.lower() or "-"


_Ident = tuple[str, str, str]
"""What a snapshot depends on in git: model blob SHA, file suffix, decisions blob SHA."""


def _ident(rev: ModelRevision) -> _Ident:
    return (rev.blob, _kind(rev.path), rev.decisions)


class _SnapshotReader:
    """Snapshots of model blobs: from the cache, else read in bulk, parsed and enumerated."""

    def __init__(
        self,
        repo: Repo,
        pack: RulePack | None,
        cache: HistoryCache,
        stats: HistoryStats,
        progress: Progress,
    ) -> None:
        self.repo = repo
        self.pack = pack
        self.cache = cache
        self.stats = stats
        self.progress = progress
        self.key = pack_key(pack)
        self.found: dict[_Ident, Snapshot | str] = {}
        self._rows: list[tuple[str, str, str, str, Any]] = []
        self._previous: Enumerated | None = None
        """The last model enumerated: the next one re-runs rules only where it differs."""

    def read(self, revisions: list[ModelRevision]) -> dict[_Ident, Snapshot | str]:
        """Snapshot (or error message) per ``(blob, suffix, decisions blob)``."""
        todo: dict[_Ident, ModelRevision] = {}
        for rev in revisions:
            ident = _ident(rev)
            if ident in self.found or ident in todo:
                continue
            if self._from_cache(ident):
                continue
            todo[ident] = rev
        batch: list[tuple[_Ident, ModelRevision]] = []
        batch_bytes = 0
        for ident, rev in todo.items():
            if rev.size > MAX_BLOB_BYTES:
                self._keep(
                    ident, f"{rev.path}: {rev.size} bytes; at most {MAX_BLOB_BYTES} are read"
                )
                continue
            if rev.decisions_size > MAX_BLOB_BYTES:
                self._keep(
                    ident,
                    f"{decisions_path(rev.path)}: {rev.decisions_size} bytes; at most "
                    f"{MAX_BLOB_BYTES} are read",
                )
                continue
            size = rev.size + rev.decisions_size
            if batch and (len(batch) >= READ_CHUNK or batch_bytes + size > READ_CHUNK_BYTES):
                self._parse(batch)
                batch, batch_bytes = [], 0
            batch.append((ident, rev))
            batch_bytes += size
        if batch:
            self._parse(batch)
        self._flush()
        return self.found

    def _from_cache(self, ident: _Ident) -> bool:
        stored = self.cache.snapshot(ident[0], ident[1], self.key, ident[2])
        if stored is None:
            return False
        try:
            if isinstance(stored, dict) and set(stored) == {"error"}:
                self.found[ident] = str(stored["error"])
            else:
                self.found[ident] = snapshot_from_data(stored)
        except ValueError:
            return False
        self.stats.cached += 1
        self.progress.advance()
        return True

    def _parse(self, batch: list[tuple[_Ident, ModelRevision]]) -> None:
        specs = [(rev.commit.sha, rev.path) for _, rev in batch]
        specs += [(rev.commit.sha, decisions_path(rev.path)) for _, rev in batch if rev.decisions]
        blobs = self.repo.read_many(specs)
        sidecars = iter(blobs[len(batch) :])
        for (ident, rev), data in zip(batch, blobs[: len(batch)], strict=True):
            decisions = next(sidecars) if rev.decisions else None
            result: Snapshot | str
            if data is None or (rev.decisions and decisions is None):
                result = f"{rev.path}: could not be read from git"
            else:
                try:
                    parsed = read_model(data, rev.path, decisions=decisions)
                    pack = self.pack if self.pack is not None else default_pack(parsed)
                    counted = EnumerationStats()
                    self._previous = enumerate_after(
                        self._previous, parsed.model, pack, stats=counted
                    )
                    self.stats.evaluations += counted.evaluations
                    result = snapshot_of(parsed, pack, self._previous.threats)
                except InputError as error:
                    result = str(error)
            self._keep(ident, result)
        self._flush()

    def _keep(self, ident: _Ident, result: Snapshot | str) -> None:
        self.found[ident] = result
        self.stats.parsed += 1
        self.progress.advance()
        data = {"error": result} if isinstance(result, str) else snapshot_data(result)
        self._rows.append((ident[0], ident[1], self.key, ident[2], data))

    def _flush(self) -> None:
        self.cache.put_snapshots(self._rows)
        self._rows = []


def _missing(
    repo: Repo,
    wanted: list[tuple[str, str, Snapshot | None]],
    cache: HistoryCache,
    stats: HistoryStats,
) -> dict[tuple[str, str], frozenset[str]]:
    """Missing evidence paths per ``(commit, model path)``."""
    result: dict[tuple[str, str], frozenset[str]] = {}
    queries: dict[tuple[str, str], EvidenceQuery] = {}
    for commit, path, snapshot in wanted:
        ident = (commit, path)
        if ident in result or ident in queries:
            continue
        items = snapshot.evidence_items() if snapshot is not None else ()
        if not any(evidence_path(i) for i in items):
            result[ident] = frozenset()
            continue
        stored = cache.evidence(commit, path)
        if (
            isinstance(stored, dict)
            and isinstance(stored.get("missing"), list)
            and all(isinstance(p, str) for p in stored["missing"])
        ):
            result[ident] = frozenset(stored["missing"])
            stats.evidence_cached += 1
            continue
        queries[ident] = EvidenceQuery(commit, path, items)
    unique = list(queries.items())
    statuses = evidence_status(repo, [q for _, q in unique])
    rows = []
    for (ident, _), status in zip(unique, statuses, strict=True):
        missing = frozenset(p for p, ok in status.items() if not ok)
        result[ident] = missing
        stats.evidence_lookups += 1
        rows.append((ident[0], ident[1], {"missing": sorted(missing)}))
    cache.put_evidence(rows)
    return result


def build_history(
    repo: Repo,
    path: str,
    *,
    until: str = "HEAD",
    since: str | None = None,
    iterations: str = "v*",
    pack: RulePack | None = None,
    cache: HistoryCache | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> History:
    """Walk the model's history and work out every revision's and iteration's numbers.

    ``pack`` is the rule pack for every revision; None means each revision's default pack (the
    built-in one, or a .tm7's embedded template). ``today``, when given, is the date the newest
    iteration's expiries are judged at (otherwise each iteration's end commit date)."""
    stats = HistoryStats()
    own_cache = cache is None
    cache = cache if cache is not None else HistoryCache(None)
    try:
        until_sha = resolve_commit(repo, until)
        path = path.strip("/")
        (head_object,) = object_ids(repo, [f"{until_sha}:{path}"])
        if head_object is None or head_object.type != "blob":
            what = "is a folder, not a model file" if head_object is not None else "does not exist"
            raise InputError(
                f"the model file '{path}' {what} at {until}; name the model path "
                "as it is at that revision"
            )
        walked = model_revisions(repo, path, until_sha)
        stats.revisions = len(walked)
        bar = progress if progress is not None else Progress("reading model revisions", 0)
        bar.total = len({_ident(r) for r in walked})
        snapshots = _SnapshotReader(repo, pack, cache, stats, bar).read(walked)
        bar.finish()

        chain = first_parent_chain(repo, until_sha)
        positions = {c.sha: i for i, c in enumerate(chain)}
        markers, source = iteration_markers(repo, until_sha, iterations, chain)
        rev_positions = [positions[r.commit.sha] for r in walked]

        def snapshot_for(rev: ModelRevision) -> Snapshot | None:
            found = snapshots[_ident(rev)]
            return found if isinstance(found, Snapshot) else None

        ends: list[tuple[str, Commit, int]] = []
        last_count = 0
        for marker in markers:
            position = positions[marker.commit.sha]
            count = sum(1 for p in rev_positions if p <= position)
            if count == 0:
                continue
            if source == "merges" and count == last_count:
                continue
            ends.append((marker.name, marker.commit, count))
            last_count = count
        if walked and (not ends or ends[-1][2] < len(walked)):
            name = f"after {ends[-1][0]}" if ends else "whole history"
            ends.append((name, chain[-1], len(walked)))

        wanted: list[tuple[str, str, Snapshot | None]] = [
            (r.commit.sha, r.path, snapshot_for(r)) for r in walked
        ]
        for _, commit, count in ends:
            rev = walked[count - 1]
            wanted.append((commit.sha, rev.path, snapshot_for(rev)))
        missing = _missing(repo, wanted, cache, stats)

        inputs = []
        warnings = []
        for rev in walked:
            found = snapshots[_ident(rev)]
            if isinstance(found, str):
                warnings.append(f"{rev.commit.sha[:12]}: the model could not be read: {found}")
            inputs.append(
                RevisionInput(
                    rev.commit.sha,
                    rev.commit.timestamp,
                    rev.commit.subject,
                    rev.path,
                    found if isinstance(found, Snapshot) else None,
                    found if isinstance(found, str) else "",
                    missing.get((rev.commit.sha, rev.path), frozenset()),
                )
            )
        iteration_ends = [
            IterationEnd(
                name,
                commit.sha,
                commit.timestamp,
                commit.subject,
                count,
                missing.get((commit.sha, walked[count - 1].path), frozenset()),
                today if index == len(ends) - 1 else None,
            )
            for index, (name, commit, count) in enumerate(ends)
        ]
        metrics = revision_metrics(inputs)
        retros = retrospectives(inputs, metrics, iteration_ends)

        since_sha: str | None = None
        shown_metrics, shown_retros = metrics, retros
        if since is not None:
            since_sha = resolve_commit(repo, since)
            since_position = chain_position(repo, since_sha, until_sha, positions)
            if since_position is None:
                raise InputError(f"--since {since} is not an ancestor of --until {until}")
            shown_metrics = [
                m for m, p in zip(metrics, rev_positions, strict=True) if p > since_position
            ]
            shown_retros = [
                r
                for r, (_, commit, _) in zip(retros, ends, strict=True)
                if positions[commit.sha] > since_position
            ]

        threats: dict[str, ThreatInfo] = {}
        system = ""
        for item in inputs:
            if item.snapshot is not None:
                system = item.snapshot.system
                for t in item.snapshot.threats:
                    threats[t.key] = ThreatInfo(t.title, t.subject, t.stride, t.severity)
        return History(
            path=path,
            system=system,
            until=until_sha,
            until_date=day_of(chain[-1].timestamp),
            since=since_sha,
            iteration_source=source,
            iteration_pattern=iterations,
            revisions=tuple(shown_metrics),
            iterations=tuple(shown_retros),
            threats={k: threats[k] for k in sorted(threats)},
            pack=pack.name if pack is not None else "default",
            warnings=tuple(warnings),
            stats=stats,
        )
    finally:
        if own_cache:
            cache.close()
