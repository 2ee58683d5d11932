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
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from heapq import merge
from typing import Protocol, cast

from threatdelta.engine import (
    EnumerationScope,
    EnumerationStats,
    count_threats,
    enumerate_threats,
)
from threatdelta.model.graph import ModelFacts
from threatdelta.model.model import Model
from threatdelta.model.renames import declared_renames
from threatdelta.register import Entry, EvidenceCheck, Register, build_register
from threatdelta.review.impact import Impact
from threatdelta.rules.pack import RulePack
from threatdelta.threat import Place, Threat, shares


class PartialRegister(Register):
    """A register made of the entries a review looked at plus plain threats (open, with no
    disposition) that it did not need one by one."""

    looked_at: Register
    """The entries the review reads: the changed scope, every disposed or stored threat, and the
    threats of renamed subjects (with the register's orphans)."""
    plain_count: int
    """How many plain threats there are."""

    def __init__(
        self,
        looked_at: Register,
        plain: tuple[Threat, ...] | Callable[[], tuple[Threat, ...]],
        plain_count: int,
        relocate: Model | None = None,
    ) -> None:
        """``plain``: the plain threats, or how to work them out when they are first read;
        ``relocate``: the model whose declarations give the plain threats' locations when their
        entries are made (they were enumerated on another revision of it)."""
        object.__setattr__(self, "model", looked_at.model)
        object.__setattr__(self, "orphans", looked_at.orphans)
        object.__setattr__(self, "today", looked_at.today)
        object.__setattr__(self, "looked_at", looked_at)
        object.__setattr__(self, "plain_count", plain_count)
        object.__setattr__(self, "_plain", plain)
        object.__setattr__(self, "_relocate", relocate)
        object.__setattr__(self, "_entries", None)

    @property
    def plain(self) -> tuple[Threat, ...]:
        """The plain threats, sorted by key (worked out on first use when they were counted)."""
        found = self.__dict__["_plain"]
        if callable(found):
            found = found()
            object.__setattr__(self, "_plain", found)
        return cast(tuple[Threat, ...], found)

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
            counts[name] += self.plain_count
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


_READ, _KEEP, _BY_KEY = 0, 1, 2
"""A place's verdict in :meth:`_Sides.split`: its base threats are read (they are in the
change or gone at head); read and kept at head (a subject is renamed); or read and kept only
when their keys are decided or fresh, else plain."""


@dataclass(frozen=True)
class _Sides:
    """What decides, for a base threat, whether the review needs its entry."""

    base: Model
    head: Model
    touched: frozenset[str]
    """Element and flow ids the rules re-ran on at head."""
    decided: frozenset[str]
    """Keys disposed of or stored at either revision."""
    renamed: frozenset[str]
    """Old and new ids of every rename either revision declares."""
    fresh: dict[str, Threat]
    """The head's threats in the impact, by key."""
    head_elements: frozenset[str]
    head_flows: frozenset[str]

    @classmethod
    def of(cls, base: Model, head: Model, change: Impact, fresh: tuple[Threat, ...]) -> _Sides:
        renamed: set[str] = set()
        for model in (base, head):
            for old, new in declared_renames(model).items():
                renamed.update((old, new))
        return cls(
            base,
            head,
            change.scope.elements | change.scope.flows,
            frozenset(_decided_keys(base) | _decided_keys(head)),
            frozenset(renamed),
            {t.key: t for t in fresh},
            frozenset(e.id for e in head.elements),
            frozenset(f.id for f in head.flows),
        )

    def near(self) -> tuple[set[str], set[str]]:
        """The base's elements and flows whose threats :meth:`split` reads whatever their keys
        (their places' verdict is READ or KEEP): those the change reached, renamed or gone at
        head, and the flows from or to one of them."""
        near = set(self.touched) | self.renamed
        elements = {
            e.id for e in self.base.elements if e.id in near or e.id not in self.head_elements
        }
        flows = {
            f.id
            for f in self.base.flows
            if f.id in near or f.source in near or f.target in near or f.id not in self.head_flows
        }
        return elements, flows

    def split(
        self, base_threats: Iterable[Threat]
    ) -> tuple[list[Threat], list[Threat], list[Threat]]:
        """``(seen, kept, plain)``: the base threats the review reads, those of them the head
        keeps (relocated in the head), and the plain ones."""
        seen: list[Threat] = []
        kept: list[Threat] = []
        plain: list[Threat] = []
        by_key = self.decided | self.fresh.keys()
        # What a threat's place decides (the threats found at one place share it): whether the
        # review reads every threat there, only those whose keys it reads, or each of them and
        # the head keeps it.
        verdicts: dict[int, int] = {}
        places: list[Place] = []  # held, so no id is reused while the split runs
        for threat in base_threats:
            place = shares(threat)[1]
            verdict = verdicts.get(id(place))
            if verdict is None:
                verdict = verdicts[id(place)] = self._verdict(place)
                places.append(place)
            if verdict == _READ:
                seen.append(threat)
            elif verdict == _KEEP or threat.key in by_key:
                seen.append(threat)
                kept.append(_relocated(threat, self.head))
            else:
                plain.append(threat)
        return seen, kept, plain

    def _verdict(self, place: Place) -> int:
        """What the review does with the base threats found at ``place`` (see :meth:`split`)."""
        ids = [i for i in (place.element, place.source, place.flow, place.target) if i is not None]
        if any(i in self.touched for i in ids):
            return _READ
        if (place.element is not None and place.element not in self.head_elements) or (
            place.flow is not None and place.flow not in self.head_flows
        ):
            return _READ
        if any(i in self.renamed for i in ids):
            return _KEEP
        return _BY_KEY

    def registers(
        self,
        seen: list[Threat],
        kept: list[Threat],
        plain: tuple[Threat, ...] | Callable[[], tuple[Threat, ...]],
        plain_count: int,
        *,
        today: dt.date,
        base_evidence: EvidenceCheck | None,
        head_evidence: EvidenceCheck | None,
    ) -> tuple[Register, Register]:
        head_threats = {t.key: t for t in kept}
        head_threats.update(self.fresh)
        base_register = build_register(self.base, seen, today=today, evidence_exists=base_evidence)
        head_register = build_register(
            self.head, head_threats.values(), today=today, evidence_exists=head_evidence
        )
        return (
            PartialRegister(base_register, plain, plain_count),
            PartialRegister(head_register, plain, plain_count, relocate=self.head),
        )


def _fresh(
    head: Model,
    pack: RulePack,
    change: Impact,
    head_facts: ModelFacts | None,
    stats: EnumerationStats | None,
) -> tuple[Threat, ...]:
    scope = None if change.full else change.scope
    return enumerate_threats(head, pack, scope, model_facts=head_facts, stats=stats)


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
    fresh = _fresh(head_model, head_pack, change, head_facts, stats)
    if change.full:
        return (
            build_register(base_model, base_threats, today=today, evidence_exists=base_evidence),
            build_register(head_model, fresh, today=today, evidence_exists=head_evidence),
        )
    sides = _Sides.of(base_model, head_model, change, fresh)
    return _split_registers(
        sides, base_threats, today=today, base_evidence=base_evidence, head_evidence=head_evidence
    )


def _split_registers(
    sides: _Sides,
    base_threats: Iterable[Threat],
    *,
    today: dt.date,
    base_evidence: EvidenceCheck | None,
    head_evidence: EvidenceCheck | None,
    every_plain: Callable[[], tuple[Threat, ...]] | None = None,
    others: int = 0,
) -> tuple[Register, Register]:
    """The registers of :meth:`_Sides.registers` from ``base_threats``; ``every_plain``: how
    to work out the plain threats when ``base_threats`` are not every threat of the base, but
    ``others`` plain threats besides."""
    seen, kept, plain = sides.split(base_threats)
    return sides.registers(
        seen,
        kept,
        tuple(plain) if every_plain is None else every_plain,
        len(plain) + others,
        today=today,
        base_evidence=base_evidence,
        head_evidence=head_evidence,
    )


def counted_registers(
    base_model: Model,
    head_model: Model,
    pack: RulePack,
    change: Impact,
    *,
    today: dt.date,
    base_evidence: EvidenceCheck | None,
    head_evidence: EvidenceCheck | None,
    base_facts: ModelFacts | None = None,
    head_facts: ModelFacts | None = None,
    stats: EnumerationStats | None = None,
    base_total: Callable[[], int] | None = None,
) -> tuple[Register, Register]:
    """What :func:`incremental_registers` gives for every threat of ``base_model``, with the
    base enumerated one by one only where the review reads it: the places :meth:`_Sides.near`
    names, and the subjects named by every key decided at either revision or found at head in
    the impact (a key that names no place of the base stays unmatched, as it is when the base
    is enumerated in full). The plain threats elsewhere are counted, not made (see
    :func:`threatdelta.engine.count_threats`), and enumerated only if their entries are read.

    ``base_total``: gives how many threats the whole base has (see
    :func:`threatdelta.engine.threat_total`), when that is counted elsewhere.

    The base is enumerated in full when the change reaches the whole model or when counting
    cannot tell how many distinct threats there are."""
    if change.full:
        return incremental_registers(
            base_model,
            enumerate_threats(base_model, pack, model_facts=base_facts),
            head_model,
            pack,
            change,
            today=today,
            base_evidence=base_evidence,
            head_evidence=head_evidence,
            head_facts=head_facts,
            stats=stats,
        )
    fresh = _fresh(head_model, pack, change, head_facts, stats)
    sides = _Sides.of(base_model, head_model, change, fresh)
    elements, flows = sides.near()
    for key in sides.decided | sides.fresh.keys():
        named = _key_subjects(key, pack)
        if named is not None:
            # An element or flow id, or a flow direction's ends and flow: enumerating a few
            # more places than the key's own only reads more threats one by one.
            elements.update(named)
            flows.update(named)
    scope = EnumerationScope(frozenset(elements), frozenset(flows))
    counted = count_threats(base_model, pack, scope, model_facts=base_facts, total=base_total)
    if counted is None:
        return _split_registers(
            sides,
            enumerate_threats(base_model, pack, model_facts=base_facts),
            today=today,
            base_evidence=base_evidence,
            head_evidence=head_evidence,
        )

    def every_plain() -> tuple[Threat, ...]:
        base_threats = enumerate_threats(base_model, pack, model_facts=base_facts)
        return tuple(sides.split(base_threats)[2])

    return _split_registers(
        sides,
        counted.threats,
        today=today,
        base_evidence=base_evidence,
        head_evidence=head_evidence,
        every_plain=every_plain,
        others=counted.others,
    )


# -- the threat index ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreatIndex:
    """Every threat key of a model, by the element or flow the threat is about."""

    elements: dict[str, list[str]]
    """Element id -> keys of the element's threats."""
    flows: dict[str, list[str]]
    """Flow id -> keys of the threats of the flow (flow and interaction threats)."""

    def subjects(self) -> dict[str, tuple[str, str]]:
        """Key -> ``("element", id)`` or ``("flow", id)``."""
        found: dict[str, tuple[str, str]] = {}
        for kind, groups in (("element", self.elements), ("flow", self.flows)):
            for subject, keys in groups.items():
                for key in keys:
                    found[key] = (kind, subject)
        return found


class ThreatIndexStore(Protocol):
    """Where the threat index of a model blob is kept between runs (the history cache)."""

    def threat_index(self, model: str, pack: RulePack) -> object | None:
        """The stored index of the model with digest ``model`` under ``pack``, or None."""

    def put_threat_index(self, model: str, pack: RulePack, data: object) -> None:
        """Store an index (a JSON value)."""


def model_digest(path: str, data: bytes, decisions: bytes | None) -> str:
    """What a threat index is stored under: a digest of the model's path (which picks its
    reader), its bytes and its decisions file's bytes."""
    digest = hashlib.sha256(path.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(data)
    digest.update(b"\0decisions\0" if decisions is not None else b"\0none\0")
    digest.update(decisions or b"")
    return digest.hexdigest()


def index_data(threats: Iterable[Threat]) -> dict[str, dict[str, list[str]]]:
    """The threat index of a model (every threat it has), as a JSON value."""
    elements: dict[str, list[str]] = {}
    flows: dict[str, list[str]] = {}
    for threat in threats:
        if threat.element is not None:
            elements.setdefault(threat.element, []).append(threat.key)
        elif threat.flow is not None:
            flows.setdefault(threat.flow, []).append(threat.key)
    return {"elements": elements, "flows": flows}


def read_index(data: object) -> ThreatIndex | None:
    """The stored index ``data`` holds, or None when it is not one (it is never trusted to be
    well formed)."""
    if not isinstance(data, dict):
        return None
    groups: list[dict[str, list[str]]] = []
    for name in ("elements", "flows"):
        group = data.get(name)
        if not isinstance(group, dict):
            return None
        for keys in group.values():
            if not isinstance(keys, list):
                return None
            try:
                "".join(keys)  # raises on anything but strings
            except TypeError:
                return None
        groups.append(group)
    return ThreatIndex(groups[0], groups[1])


def _key_subjects(key: str, pack: RulePack) -> tuple[str, ...] | None:
    """The ids a native threat key names (``rule@a`` or ``rule@a>b>c``), for a rule of
    ``pack``; None when ``key`` is not one."""
    if pack.key_style == "tmt":
        return None
    for rule in pack.rules:
        prefix = rule.id + "@"
        if key.startswith(prefix):
            return tuple(key[len(prefix) :].split(">"))
    return None


class _Placer:
    """Where the index puts a key. A native key names its subject, so it is looked for there
    only (an index that puts it elsewhere is wrong about it, and the checks of
    :func:`indexed_registers` treat it as absent); other keys are looked up in the whole index
    (built on first need)."""

    def __init__(self, index: ThreatIndex, pack: RulePack) -> None:
        self.index = index
        self.pack = pack
        self._all: dict[str, tuple[str, str]] | None = None

    def place(self, key: str) -> tuple[str, str] | None:
        named = _key_subjects(key, self.pack)
        if named is not None and len(named) in (1, 3):
            subject = named[0] if len(named) == 1 else named[1]
            if key in self.index.elements.get(subject, ()):
                return ("element", subject)
            if key in self.index.flows.get(subject, ()):
                return ("flow", subject)
            return None
        if self._all is None:
            self._all = self.index.subjects()
        return self._all.get(key)


def indexed_registers(
    base_model: Model,
    index: ThreatIndex,
    head_model: Model,
    pack: RulePack,
    change: Impact,
    *,
    today: dt.date,
    base_evidence: EvidenceCheck | None,
    head_evidence: EvidenceCheck | None,
    base_facts: ModelFacts | None = None,
    head_facts: ModelFacts | None = None,
    stats: EnumerationStats | None = None,
) -> tuple[Register, Register] | None:
    """What :func:`incremental_registers` gives, with the base enumerated only where the review
    reads its threats one by one; the others are counted from ``index`` (the base's threat
    index, see :func:`index_data`) and worked out only if their entries are read.

    The index is not trusted with anything the gate judges: every threat the review reads is
    enumerated, and every key disposed of or stored at either revision is checked against the
    enumeration (in the index exactly when the base has it). When that check fails, or a key
    cannot be placed, this returns None and the caller enumerates the base in full. What the
    index alone decides is how many plain threats the totals count."""
    if change.full:
        return None
    fresh = _fresh(head_model, pack, change, head_facts, stats)
    sides = _Sides.of(base_model, head_model, change, fresh)
    placed = _Placer(index, pack)
    elements, flows = sides.near()
    for key in sides.decided | sides.fresh.keys():
        place = placed.place(key)
        if place is not None:
            (elements if place[0] == "element" else flows).add(place[1])
        elif key in sides.decided:
            named = _key_subjects(key, pack)
            if named is None:
                return None
            elements.update(named)
            flows.update(named)
    scope = EnumerationScope(frozenset(elements), frozenset(flows))
    scoped = enumerate_threats(base_model, pack, scope, model_facts=base_facts)
    found = {t.key for t in scoped}
    if any((placed.place(key) is not None) != (key in found) for key in sides.decided):
        return None
    if any(placed.place(key) is not None and key not in found for key in sides.fresh):
        return None
    seen, kept, plain = sides.split(scoped)
    elsewhere = sum(len(keys) for e, keys in index.elements.items() if e not in elements) + sum(
        len(keys) for f, keys in index.flows.items() if f not in flows
    )

    def every_plain() -> tuple[Threat, ...]:
        base_threats = enumerate_threats(base_model, pack, model_facts=base_facts)
        return tuple(sides.split(base_threats)[2])

    return sides.registers(
        seen,
        kept,
        every_plain,
        len(plain) + elsewhere,
        today=today,
        base_evidence=base_evidence,
        head_evidence=head_evidence,
    )
