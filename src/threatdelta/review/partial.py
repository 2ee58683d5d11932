"""Registers that a review reads only where the change reached.

Most threats of a large model are outside a small change: open, with no disposition, on subjects
the change did not touch, and the same at base and at head. A review needs them only as counts
(the register's totals) and, for the ``any-open`` policy, as unaddressed threats. So a
:class:`PartialRegister` holds them as *plain* threats, without an :class:`Entry` each, beside
the register of everything the review reads one by one (:attr:`PartialRegister.looked_at`):
the threats in the changed scope, every threat with a disposition or a stored threat at either
revision, and the threats of renamed subjects.

A :class:`PartialRegister` is a :class:`Register`: its ``entries``, ``by_key()`` and
``counts()`` answer for the whole model (the entries are made on first use), so code that
reads the whole register gets what a full register says. Code that only needs what the review
looked at reads :func:`looked_at` instead and never pays for the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from heapq import merge

from threatdelta.engine import EnumerationStats, enumerate_threats
from threatdelta.model.graph import ModelFacts
from threatdelta.model.model import Model
from threatdelta.model.renames import declared_renames
from threatdelta.register import Entry, EvidenceCheck, Register, build_register
from threatdelta.review.impact import Impact
from threatdelta.rules.pack import RulePack
from threatdelta.threat import Threat


class PartialRegister(Register):
    """A register made of the entries a review looked at plus plain threats (open, with no
    disposition) that it did not need one by one."""

    looked_at: Register
    """The entries the review reads: the changed scope, every disposed or stored threat, and the
    threats of renamed subjects (with the register's orphans)."""
    plain: tuple[Threat, ...]
    """The other threats, sorted by key: each is open, with no disposition."""

    def __init__(
        self, looked_at: Register, plain: tuple[Threat, ...], relocate: Model | None = None
    ) -> None:
        """``relocate``: the model whose declarations give the plain threats' locations when
        their entries are made (they were enumerated on another revision of it)."""
        object.__setattr__(self, "model", looked_at.model)
        object.__setattr__(self, "orphans", looked_at.orphans)
        object.__setattr__(self, "today", looked_at.today)
        object.__setattr__(self, "looked_at", looked_at)
        object.__setattr__(self, "plain", plain)
        object.__setattr__(self, "_relocate", relocate)
        object.__setattr__(self, "_entries", None)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, sorted by key (the plain ones are made on first use)."""
        made: tuple[Entry, ...] | None = self.__dict__["_entries"]
        if made is None:
            model: Model | None = self.__dict__["_relocate"]
            plain = (
                Entry(_relocated(t, model) if model is not None else t, "open", None, (), ())
                for t in self.plain
            )
            made = tuple(merge(self.looked_at.entries, plain, key=lambda e: e.key))
            object.__setattr__(self, "_entries", made)
        return made

    def counts(self) -> dict[str, int]:
        """Number of threats per status, plus ``unaddressed`` and ``total`` (see
        :meth:`Register.counts`), without making the plain entries."""
        counts = self.looked_at.counts()
        for name in ("open", "unaddressed", "total"):
            counts[name] += len(self.plain)
        return counts


def looked_at(register: Register) -> Register:
    """The part of ``register`` a review reads entry by entry: for a :class:`PartialRegister`,
    its :attr:`PartialRegister.looked_at` register; any other register is read whole. Every
    entry with a disposition (and every threat in the changed scope) is in it."""
    return register.looked_at if isinstance(register, PartialRegister) else register


def _relocated(threat: Threat, model: Model) -> Threat:
    """``threat`` located where ``model`` declares its element or flow (line numbers move when
    other parts of the file change)."""
    item = model.element(threat.element) if threat.element else model.flow(threat.flow or "")
    location = item.location if item is not None else threat.location
    if location == threat.location:
        return threat
    return replace(threat, location=location)


def _decided_keys(model: Model) -> set[str]:
    return set(model.dispositions) | {t.key for t in model.stored_threats}


def incremental_registers(
    base_model: Model,
    base_threats: Iterable[Threat],
    head_model: Model,
    head_pack: RulePack,
    change: Impact,
    *,
    today: dt.date,
    base_evidence: EvidenceCheck | None,
    head_evidence: EvidenceCheck | None,
    head_facts: ModelFacts | None = None,
    stats: EnumerationStats | None = None,
) -> tuple[Register, Register]:
    """The base's and the head's registers for a review, the head's threats worked out from the
    base's (``base_threats``: every threat of ``base_model``) and ``change``: the base's outside
    the impact, re-enumerated inside it (as
    :func:`threatdelta.review.impact.incremental_threats` does).

    A base threat outside the impact, whose subjects are all still in the head, that neither
    revision disposes of or stores, and none of whose subjects is renamed at either revision, is
    the same open, undecided threat on both sides: it is kept as a plain threat of both
    registers. Everything else gets an entry."""
    fresh = enumerate_threats(
        head_model,
        head_pack,
        None if change.full else change.scope,
        model_facts=head_facts,
        stats=stats,
    )
    if change.full:
        return (
            build_register(base_model, base_threats, today=today, evidence_exists=base_evidence),
            build_register(head_model, fresh, today=today, evidence_exists=head_evidence),
        )
    touched = change.scope.elements | change.scope.flows
    decided = _decided_keys(base_model) | _decided_keys(head_model)
    renamed: set[str] = set()
    for model in (base_model, head_model):
        for old, new in declared_renames(model).items():
            renamed.update((old, new))
    fresh_keys = {t.key for t in fresh}
    head_elements = {e.id for e in head_model.elements}
    head_flows = {f.id for f in head_model.flows}
    base_seen: list[Threat] = []
    kept: list[Threat] = []
    plain: list[Threat] = []
    for threat in base_threats:
        ids = threat.subject_ids
        if any(i in touched for i in ids):
            base_seen.append(threat)
            continue
        if (threat.element is not None and threat.element not in head_elements) or (
            threat.flow is not None and threat.flow not in head_flows
        ):
            base_seen.append(threat)
            continue
        if threat.key in decided or threat.key in fresh_keys or any(i in renamed for i in ids):
            base_seen.append(threat)
            kept.append(_relocated(threat, head_model))
            continue
        plain.append(threat)
    head_threats = {t.key: t for t in kept}
    head_threats.update({t.key: t for t in fresh})
    base_register = build_register(
        base_model, base_seen, today=today, evidence_exists=base_evidence
    )
    head_register = build_register(
        head_model, head_threats.values(), today=today, evidence_exists=head_evidence
    )
    ordered = tuple(sorted(plain, key=lambda t: t.key))
    return (
        PartialRegister(base_register, ordered),
        PartialRegister(head_register, ordered, relocate=head_model),
    )
