"""What the history keeps of one model blob: counts, threats and controls, as plain data.

A snapshot depends only on the blob's bytes (with its decisions file's, when the model has one),
the rule pack and the tool version, so it is what the
cache stores. Everything that depends on the revision (does the evidence exist there?) or on a
date (has a justification expired?) is worked out later, from the snapshot, in
:mod:`threatdelta.history.metrics`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from threatdelta.engine import enumerate_threats
from threatdelta.formats.interface import ParsedModel
from threatdelta.model.renames import declared_renames
from threatdelta.register import BLOCKING_PROBLEMS, build_register
from threatdelta.render.data import threat_subject
from threatdelta.rules.pack import RulePack
from threatdelta.threat import Threat, shares

_JUDGED_LATER = frozenset({"expired", "expiring", "missing-evidence"})
"""Problem codes that depend on a date or on the revision's files; the snapshot leaves them out."""


@dataclass(frozen=True)
class ThreatState:
    """One threat in one model blob."""

    key: str
    """Stable threat key."""
    title: str
    """Title with names filled in."""
    stride: str
    """STRIDE letter."""
    severity: str
    """low, medium, high or critical."""
    subject: str
    """What it is about, in words (an element name, or ``flow (source → target)``)."""
    status: str
    """The stated status: open, mitigated, accepted, transferred or not-applicable."""
    blocked: bool
    """A problem that leaves it unaddressed whatever the date (no controls, an unknown control,
    no justification)."""
    controls: tuple[str, ...] = ()
    """Ids of the known controls its disposition names."""
    expires: str | None = None
    """Expiry date (ISO) of an acceptance or transfer, if any."""
    approved_by: str = ""
    """Who accepted or received the risk."""
    investigating: bool = False
    """Open, and flagged as needing investigation."""

    def addressed(self, on: dt.date) -> bool:
        """Mitigated or justified on ``on``, with nothing that undoes it."""
        return self.status != "open" and not self.blocked and not self.expired(on)

    def expired(self, on: dt.date) -> bool:
        """An acceptance or transfer whose expiry date is before ``on``."""
        return (
            self.status in ("accepted", "transferred")
            and self.expires is not None
            and dt.date.fromisoformat(self.expires) < on
        )


@dataclass(frozen=True)
class ControlState:
    """One control in one model blob."""

    id: str
    """Control id."""
    name: str
    """What it is."""
    status: str
    """planned, implemented or verified."""
    evidence: tuple[str, ...] = ()
    """Evidence texts as written."""


@dataclass(frozen=True)
class Snapshot:
    """A model blob reduced to what the history needs."""

    system: str
    """The system's name."""
    format: str
    """Which reader read it."""
    elements: int
    """Number of elements."""
    flows: int
    """Number of flows."""
    boundaries: int
    """Number of trust boundaries."""
    threats: tuple[ThreatState, ...]
    """Every threat, sorted by key."""
    controls: tuple[ControlState, ...]
    """Every control, sorted by id."""
    orphans: int = 0
    """Dispositions whose threat is not enumerated."""
    renames: tuple[tuple[str, str], ...] = ()
    """Old id -> new id pairs the model declares (``renamed_from``), sorted."""

    def threat_map(self) -> dict[str, ThreatState]:
        """Threats by key."""
        return {t.key: t for t in self.threats}

    def control_map(self) -> dict[str, ControlState]:
        """Controls by id."""
        return {c.id: c for c in self.controls}

    def evidence_items(self) -> tuple[str, ...]:
        """Every evidence text of every control."""
        return tuple(sorted({item for c in self.controls for item in c.evidence}))


def snapshot_of(
    parsed: ParsedModel, pack: RulePack, threats: tuple[Threat, ...] | None = None
) -> Snapshot:
    """Enumerate ``parsed`` with ``pack`` and keep what the history needs (``threats``: its
    threats when the caller already has them, e.g. worked out from the revision before)."""
    model = parsed.model
    if threats is None:
        threats = enumerate_threats(model, pack)
    # Judged as of the earliest date, nothing has expired; expiry is worked out per revision.
    register = build_register(model, threats, today=dt.date.min)
    states = []
    labels: dict[int, str] = {}  # by place: the threats found at one place share its label
    for entry in register.entries:
        place = shares(entry.threat)[1]
        label = labels.get(id(place))
        if label is None:
            label = labels[id(place)] = threat_subject(entry.threat, model)
        disposition = entry.disposition
        expires = None
        if disposition is not None and disposition.expires is not None:
            if entry.status in ("accepted", "transferred"):
                expires = disposition.expires.isoformat()
        blocking = {p.code for p in entry.problems} & (BLOCKING_PROBLEMS - _JUDGED_LATER)
        states.append(
            ThreatState(
                key=entry.key,
                title=entry.threat.title,
                stride=entry.threat.stride,
                severity=entry.threat.severity,
                subject=label,
                status=entry.status,
                blocked=bool(blocking),
                controls=tuple(c.id for c in entry.controls),
                expires=expires,
                approved_by=disposition.approved_by if disposition is not None else "",
                investigating=disposition is not None and disposition.needs_investigation,
            )
        )
    controls = tuple(ControlState(c.id, c.name, c.status, c.evidence) for c in model.controls)
    return Snapshot(
        system=model.system,
        format=model.format,
        elements=len(model.elements),
        flows=len(model.flows),
        boundaries=len(model.boundaries),
        threats=tuple(states),
        controls=controls,
        orphans=len(register.orphans),
        renames=tuple(sorted(declared_renames(model).items())),
    )


def snapshot_data(snapshot: Snapshot) -> dict[str, Any]:
    """Plain JSON-able data for the cache."""
    return {
        "system": snapshot.system,
        "format": snapshot.format,
        "elements": snapshot.elements,
        "flows": snapshot.flows,
        "boundaries": snapshot.boundaries,
        "orphans": snapshot.orphans,
        "threats": [
            [
                t.key,
                t.title,
                t.stride,
                t.severity,
                t.subject,
                t.status,
                t.blocked,
                list(t.controls),
                t.expires,
                t.approved_by,
                t.investigating,
            ]
            for t in snapshot.threats
        ],
        "controls": [[c.id, c.name, c.status, list(c.evidence)] for c in snapshot.controls],
        "renames": [list(pair) for pair in snapshot.renames],
    }


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("expected an integer")
    return value


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return tuple(_str(v) for v in value)


def snapshot_from_data(data: Any) -> Snapshot:
    """The snapshot stored by :func:`snapshot_data`; ``ValueError`` when it is not one."""
    if not isinstance(data, dict):
        raise ValueError("expected a mapping")
    try:
        threats = []
        for row in data["threats"]:
            key, title, stride, severity, subject, status, blocked, controls, expires, by, flag = (
                row
            )
            if not isinstance(blocked, bool) or not isinstance(flag, bool):
                raise ValueError("bad threat row")
            if not (expires is None or isinstance(expires, str)):
                raise ValueError("bad threat row")
            if expires is not None:
                dt.date.fromisoformat(expires)
            threats.append(
                ThreatState(
                    _str(key),
                    _str(title),
                    _str(stride),
                    _str(severity),
                    _str(subject),
                    _str(status),
                    blocked,
                    _strs(controls),
                    expires,
                    _str(by),
                    flag,
                )
            )
        controls = []
        for row in data["controls"]:
            cid, name, status, evidence = row
            controls.append(ControlState(_str(cid), _str(name), _str(status), _strs(evidence)))
        return Snapshot(
            system=_str(data["system"]),
            format=_str(data["format"]),
            elements=_int(data["elements"]),
            flows=_int(data["flows"]),
            boundaries=_int(data["boundaries"]),
            threats=tuple(threats),
            controls=tuple(controls),
            orphans=_int(data["orphans"]),
            renames=tuple((_str(old), _str(new)) for old, new in data.get("renames", [])),
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"not a stored snapshot: {error}") from error


def pack_key(pack: RulePack | None) -> str:
    """A digest of the rule pack for cache keys: its own digest, else a hash of its rules.

    ``None`` stands for the default pack (the built-in one, or a .tm7's embedded template, which
    the model blob itself determines)."""
    if pack is None:
        from threatdelta.rules.packfile import builtin_pack

        return "default:" + pack_key(builtin_pack())
    if pack.digest:
        return pack.digest
    payload = {
        "name": pack.name,
        "key_style": pack.key_style,
        "type_parents": sorted(pack.type_parents.items()),
        "countermeasures": sorted(
            (c.id, c.name, c.description) for c in pack.countermeasures.values()
        ),
        "rules": [
            [
                r.id,
                r.stride,
                r.scope,
                r.title,
                r.include_text,
                r.exclude_text,
                r.description,
                r.severity,
                list(r.cwe),
                list(r.capec),
                list(r.countermeasures),
                r.category,
            ]
            for r in pack.rules
        ],
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()
