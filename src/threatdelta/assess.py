"""One model at one revision: parse, enumerate, join with dispositions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from threatdelta.engine import enumerate_threats
from threatdelta.formats.interface import ParsedModel
from threatdelta.formats.packs import default_pack
from threatdelta.formats.registry import read_model
from threatdelta.register import EvidenceCheck, Register, build_register
from threatdelta.rules.pack import RulePack


@dataclass(frozen=True)
class Assessment:
    """A model's register together with what produced it."""

    parsed: ParsedModel
    """The model as read."""
    pack: RulePack
    """The rules it was checked with."""
    register: Register
    """Threats with their treatment."""


def assess(
    parsed: ParsedModel,
    pack: RulePack | None,
    *,
    today: dt.date,
    evidence_exists: EvidenceCheck | None = None,
) -> Assessment:
    """Enumerate ``parsed`` with ``pack`` (or its default pack) and build the register."""
    chosen = pack if pack is not None else default_pack(parsed)
    threats = enumerate_threats(parsed.model, chosen)
    register = build_register(parsed.model, threats, today=today, evidence_exists=evidence_exists)
    return Assessment(parsed, chosen, register)


def assess_bytes(
    data: bytes,
    path: str,
    pack: RulePack | None,
    *,
    today: dt.date,
    evidence_exists: EvidenceCheck | None = None,
    decisions: bytes | None = None,
) -> Assessment:
    """Parse ``data`` read from ``path`` (with its decisions file's content, if any) and assess
    it."""
    parsed = read_model(data, path, decisions=decisions)
    return assess(parsed, pack, today=today, evidence_exists=evidence_exists)
