"""Read every model at two revisions from git and review each one.

This is the I/O end of the review: it reads blobs from git objects (never the working tree),
parses them, and hands plain registers to the pure :func:`threatdelta.review.review.compare`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial

from threatdelta.background import counted_aside
from threatdelta.config import CONFIG_FILE
from threatdelta.context import (
    NO_OVERRIDES,
    Overrides,
    RunContext,
    SettingsChange,
    review_contexts,
    settings_changes,
)
from threatdelta.engine import EnumerationStats, enumerate_threats, keys_apart, threat_total
from threatdelta.errors import InputError, Location
from threatdelta.formats.interface import ParsedModel
from threatdelta.formats.packs import default_pack, gate_pack, template_edited
from threatdelta.formats.registry import read_model
from threatdelta.formats.sidecar import decisions_path, is_decisions_path
from threatdelta.git import Repo
from threatdelta.model.graph import facts
from threatdelta.policy import Policy, Verdict, review_verdict
from threatdelta.register import Register, build_register, unexplained_scope
from threatdelta.review.delta import Regression
from threatdelta.review.diff import diff_models
from threatdelta.review.impact import impact
from threatdelta.review.partial import (
    ThreatIndexStore,
    counted_registers,
    incremental_registers,
    index_data,
    indexed_registers,
    model_digest,
    read_index,
)
from threatdelta.review.reasons import scoped_out_threats
from threatdelta.review.review import Review, compare
from threatdelta.rules.pack import RulePack


@dataclass(frozen=True)
class ReviewSet:
    """The reviews of every model file between two revisions, with the gate's verdict."""

    base_sha: str
    """Full SHA of the base revision."""
    head_sha: str
    """Full SHA of the head revision."""
    reviews: tuple[Review, ...]
    """One per model file, sorted by path."""
    verdict: Verdict
    """The gate's answer."""
    policy: Policy
    """The policy it was judged by."""
    warnings: tuple[str, ...] = ()
    """Things the user should know (a base model that could not be read, reader warnings)."""
    today: dt.date = dt.date(1970, 1, 1)
    """The review date (expiries are judged against it)."""
    settings_changes: tuple[SettingsChange, ...] = ()
    """Gate settings the change edits (they take effect once it is merged)."""


def model_paths(
    repo: Repo, base: str, head: str, patterns: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """Model paths at head and at base that match ``patterns`` (decisions files are read with
    their models, never as models of their own)."""
    return (
        [p for p in repo.matching(head, patterns) if not is_decisions_path(p)],
        [p for p in repo.matching(base, patterns) if not is_decisions_path(p)],
    )


def review_revisions(
    repo: Repo,
    base_rev: str,
    head_rev: str,
    *,
    today: dt.date,
    overrides: Overrides = NO_OVERRIDES,
    stats: EnumerationStats | None = None,
    incremental: bool = True,
    index_store: ThreatIndexStore | None = None,
) -> ReviewSet:
    """Review every model file between ``base_rev`` and ``head_rev``.

    The gate's settings (policy, rule pack, models) are those of the base revision, with
    ``overrides`` winning: the change's own edits to them are reported in
    :attr:`ReviewSet.settings_changes` and take effect once it is merged. The base's rule pack
    scores both sides, so a change cannot make its own threats disappear by editing the pack.

    The head's threats are the base's, with rules re-run only where the change reached
    (:func:`threatdelta.review.impact.impact`); ``incremental=False`` enumerates the head in full
    instead, which gives the same review (the tests hold the two against each other).

    ``index_store`` keeps each base model's threat index between runs (see
    :func:`threatdelta.review.partial.indexed_registers`): with it, a review that does not judge
    ``any-open`` enumerates the base only where it reads threats one by one and counts the rest
    from the index. The index decides only the totals shown, never the verdict."""
    base_sha, head_sha = repo.resolve_all(base_rev, head_rev)
    gate, notes, proposed = review_contexts(repo, base_sha, head_sha, overrides)
    warnings = list(notes)
    patterns = gate.models
    head_paths, base_paths = model_paths(repo, base_sha, head_sha, patterns)
    if not head_paths and not base_paths:
        raise InputError(
            f"no model file matches {', '.join(patterns)} at {head_sha[:12]} or {base_sha[:12]}; "
            "name the model path or set 'models' in .threatdelta.yml"
        )
    pack_file = gate.pack
    pairs: list[tuple[str, str | None]] = []
    claimed: set[str] = set()
    for path in head_paths:
        if path in base_paths:
            pairs.append((path, path))
        else:
            old = repo.renamed_from(base_sha, head_sha, path)
            pairs.append((path, old))
            if old is not None:
                claimed.add(old)
        claimed.add(path)
    removed = [p for p in base_paths if p not in claimed]
    reviews: list[Review] = []
    edited: list[SettingsChange] = []
    specs: list[tuple[str, str]] = []
    for head_path, base_path in pairs:
        specs.append((head_sha, head_path))
        specs.append((base_sha, base_path or head_path))
    for base_path in removed:
        specs.append((base_sha, base_path))
    # Each model's decisions file, at the same revision, in the same batch.
    blobs = repo.read_many(specs + [(rev, decisions_path(path)) for rev, path in specs])
    decisions, blobs = blobs[len(specs) :], blobs[: len(specs)]
    for index, (head_path, base_path) in enumerate(pairs):
        head_data, base_data = blobs[2 * index], blobs[2 * index + 1]
        if head_data is None:
            raise InputError("could not be read from git", Location(head_path))
        # The base is read first, so that counting its threats (see _counting_base) can start
        # while the head is read; what is said of either comes out as if the head came first.
        base_parsed: ParsedModel | None = None
        unread: list[str] = []
        if base_path is not None and base_data is not None:
            try:
                base_parsed = read_model(base_data, base_path, decisions=decisions[2 * index + 1])
            except InputError as error:
                unread.append(
                    f"{base_path}: the model at the base revision could not be read ({error.message}); "
                    "every threat at head is treated as new"
                )
        store = index_store if base_data is not None else None
        counting = _counts_base(gate, incremental, store)
        with _counting_base(base_parsed, pack_file, counting) as base_count:
            head_parsed = read_model(head_data, head_path, decisions=decisions[2 * index])
            warnings.extend(head_parsed.warnings)
            warnings.extend(unread)
            if (
                pack_file is None
                and base_parsed is not None
                and template_edited(base_parsed, head_parsed)
            ):
                edited.append(
                    SettingsChange(
                        "rule pack",
                        f"the template in {base_path} at the base",
                        f"the template in {head_path} as edited",
                        f"the template embedded in {head_path} is edited",
                    )
                )
            elif pack_file is None and base_parsed is None and head_parsed.pack is not None:
                warnings.append(
                    f"{head_path}: a model new in this change; its threats come from the template "
                    f"it carries ('{head_parsed.pack.name}'), which is part of what is reviewed"
                )
            reviews.append(
                _review_one(
                    gate,
                    proposed,
                    head_path,
                    base_path if base_parsed is not None else None,
                    base_parsed,
                    head_parsed,
                    pack_file,
                    today,
                    stats,
                    incremental,
                    store,
                    model_digest(base_path or head_path, base_data, decisions[2 * index + 1])
                    if base_data is not None
                    else "",
                    base_count,
                )
            )
    for offset, base_path in enumerate(removed):
        data = blobs[2 * len(pairs) + offset]
        if data is None:
            continue
        try:
            parsed = read_model(data, base_path, decisions=decisions[2 * len(pairs) + offset])
        except InputError as error:
            warnings.append(f"{base_path}: removed, and unreadable at base ({error.message})")
            continue
        pack = pack_file or default_pack(parsed)
        register = build_register(
            parsed.model,
            enumerate_threats(parsed.model, pack),
            today=today,
            evidence_exists=gate.evidence(base_path, parsed.model),
        )
        gone = Regression(
            "model-removed",
            f"the model {base_path} was deleted in this change; its threats would no longer be "
            "reviewed",
            location=Location(base_path),
        )
        review = compare(base_path, base_path, register, None, pack, None)
        reviews.append(replace(review, regressions=(gone,)))
    if not overrides.models:
        # A model the base reviewed, under its path at head (a renamed file is followed).
        kept = set(repo.matching(head_sha, proposed.models))
        for index, review in enumerate(reviews):
            if review.head is not None and review.base_path is not None and review.path not in kept:
                gone = Regression(
                    "model-dropped",
                    f"the change's 'models' setting no longer matches {review.path}; once merged, "
                    "it would no longer be reviewed",
                    location=Location(CONFIG_FILE),
                )
                reviews[index] = replace(review, regressions=(gone, *review.regressions))
    reviews.sort(key=lambda r: r.path)
    verdict = review_verdict(
        [e for r in reviews for e in r.unaddressed],
        (e for r in reviews if r.head is not None for e in r.head.entries),
        sum(len(r.regressions) for r in reviews),
        gate.policy,
        decided=[d.entry for r in reviews for d in r.decisions],
        touched=[e for r in reviews for e in r.scope],
        stale=sum(len(r.stale) for r in reviews),
        unexplained=[f for r in reviews for f in r.unexplained],
        unexplained_anywhere=[
            f for r in reviews if r.head is not None for f in unexplained_scope(r.head.model)
        ],
        unbacked=sum(1 for r in reviews for item in r.resolved if item.unverified),
    )
    return ReviewSet(
        base_sha,
        head_sha,
        tuple(reviews),
        verdict,
        gate.policy,
        tuple(warnings),
        today,
        settings_changes(gate, proposed) + tuple(edited),
    )


def _review_one(
    gate: RunContext,
    proposed: RunContext,
    head_path: str,
    base_path: str | None,
    base_parsed: ParsedModel | None,
    head_parsed: ParsedModel,
    pack_file: RulePack | None,
    today: dt.date,
    stats: EnumerationStats | None,
    incremental: bool = True,
    index_store: ThreatIndexStore | None = None,
    base_digest: str = "",
    base_count: _BaseCount | None = None,
) -> Review:
    head_pack = pack_file or (
        gate_pack(base_parsed, head_parsed)
        if base_parsed is not None
        else default_pack(head_parsed)
    )
    head_model = head_parsed.model
    head_facts = facts(head_model)
    head_evidence = proposed.evidence(head_path, head_model)
    if base_parsed is None:
        threats = enumerate_threats(head_model, head_pack, model_facts=head_facts, stats=stats)
        head_register = build_register(
            head_model, threats, today=today, evidence_exists=head_evidence
        )
        return compare(
            head_path,
            None,
            None,
            head_register,
            None,
            head_pack,
            scoped_out=scoped_out_threats(None, head_model, head_pack),
        )
    base_pack = head_pack
    base_model = base_parsed.model
    base_facts = facts(base_model)
    base_evidence = gate.evidence(base_path or head_path, base_model)
    # With no index, the review counts the base's threats outside the change: from the count
    # of all of them started before the head was read, if it was made with this pack.
    counting = _counts_base(gate, incremental, index_store)
    base_total = (
        base_count.total if base_count is not None and base_count.pack is base_pack else None
    )
    model_diff = diff_models(base_model, head_model, base_facts=base_facts, head_facts=head_facts)
    same_pack = base_pack == head_pack
    change = impact(
        base_model,
        head_model,
        model_diff,
        same_pack=same_pack,
        base_facts=base_facts,
        head_facts=head_facts,
    )
    registers: tuple[Register, Register] | None = None
    # ``any-open`` judges every threat of the model: the index never stands in for them.
    if incremental and index_store is not None and not gate.policy.any_open:
        index = read_index(index_store.threat_index(base_digest, base_pack))
        if index is not None:
            registers = indexed_registers(
                base_model,
                index,
                head_model,
                head_pack,
                change,
                today=today,
                base_evidence=base_evidence,
                head_evidence=head_evidence,
                base_facts=base_facts,
                head_facts=head_facts,
                stats=stats,
            )
    if registers is None and counting:
        # No index to write: the base is enumerated where the review reads it, counted
        # elsewhere.
        registers = counted_registers(
            base_model,
            head_model,
            head_pack,
            change,
            today=today,
            base_evidence=base_evidence,
            head_evidence=head_evidence,
            base_facts=base_facts,
            head_facts=head_facts,
            stats=stats,
            base_total=base_total,
        )
    if registers is None:
        base_threats = enumerate_threats(base_model, base_pack, model_facts=base_facts)
        if incremental and index_store is not None:
            index_store.put_threat_index(base_digest, base_pack, index_data(base_threats))
        if incremental:
            registers = incremental_registers(
                base_model,
                base_threats,
                head_model,
                head_pack,
                change,
                today=today,
                base_evidence=base_evidence,
                head_evidence=head_evidence,
                head_facts=head_facts,
                stats=stats,
            )
        else:
            head_threats = enumerate_threats(
                head_model, head_pack, model_facts=head_facts, stats=stats
            )
            registers = (
                build_register(
                    base_model, base_threats, today=today, evidence_exists=base_evidence
                ),
                build_register(
                    head_model, head_threats, today=today, evidence_exists=head_evidence
                ),
            )
    base_register, head_register = registers
    return compare(
        head_path,
        base_path,
        base_register,
        head_register,
        base_pack,
        head_pack,
        change,
        model_diff,
        base_evidence=base_evidence,
        head_evidence=head_evidence,
        scoped_out=scoped_out_threats(base_model, head_model, head_pack),
    )


def _counts_base(gate: RunContext, incremental: bool, index_store: ThreatIndexStore | None) -> bool:
    """Whether a review counts the base's threats outside the change instead of making them:
    an incremental review with no index to read or write, whose policy is not ``any-open``
    (which judges every threat of the model)."""
    return incremental and index_store is None and not gate.policy.any_open


@dataclass(frozen=True)
class _BaseCount:
    """How many threats a base model has, being counted (see :func:`_counting_base`)."""

    pack: RulePack
    """The pack counted with: the count stands only for a review with this pack."""
    total: Callable[[], int]
    """Gives the number (waits for it)."""


@contextmanager
def _counting_base(
    base: ParsedModel | None, pack_file: RulePack | None, wanted: bool
) -> Iterator[_BaseCount | None]:
    """When ``wanted`` (a review with no index, see :func:`_review_one`), how many threats the
    base has under the pack a review of it is most likely judged with (the named one, else the
    base's own or the built-in: a head whose template adds types makes another), counted in a
    second process started now where one can be (:mod:`threatdelta.background`). None when
    counting cannot tell how many distinct threats there are
    (:func:`threatdelta.engine.keys_apart`)."""
    if not wanted or base is None:
        yield None
        return
    pack = pack_file or default_pack(base)
    if not keys_apart(base.model, pack):
        yield None
        return
    with counted_aside(partial(threat_total, base.model, pack)) as total:
        yield _BaseCount(pack, total)
