"""The traceability matrix and the residual-risk register of one revision (pure functions).

The matrix follows each threat (with its severity, exploitability, risk before and after controls,
and the hazards of the safety risk file it is linked to) from its STRIDE category and the element or flow it is about to
the team's disposition, the controls that answer it, each control's evidence (checked to exist
at the revision) and a verdict. The residual-risk register lists what the team chose to live with:
accepted and transferred threats with their justification, approver, dates and expiry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from threatdelta.model.model import Control
from threatdelta.register import Entry, Register, evidence_path
from threatdelta.render.data import subject_label

EXPIRING_WITHIN = dt.timedelta(days=90)

VERDICTS = {
    "open": ("open", "bad", "no disposition yet"),
    "not-addressed": ("not addressed", "bad", "the disposition does not hold"),
    "evidence-missing": (
        "evidence missing",
        "bad",
        "an evidence file does not exist at this revision",
    ),
    "no-evidence": ("no evidence", "warn", "a control names no evidence"),
    "planned": ("control planned", "warn", "a control is only planned"),
    "verified": ("evidenced", "ok", "every control names evidence that exists"),
    "justified": ("justified", "ok", "a written justification that holds"),
}
"""Verdict code -> (label, tone, meaning)."""


@dataclass(frozen=True)
class EvidenceState:
    """One piece of evidence a control names."""

    text: str
    """As written: a repository path (``tests/x.py``, ``docs/pt.pdf#F-4``) or a report id."""
    path: str | None
    """The repository path it names, or None for a report id."""
    exists: bool | None
    """Whether the path exists at the revision; None for report ids (not checked)."""


@dataclass(frozen=True)
class ControlTrace:
    """A control with its evidence, as found at the revision."""

    id: str
    """Control id."""
    name: str
    """Control name ('' for an unknown control)."""
    status: str
    """planned, implemented or verified ('unknown' when the model does not define it)."""
    evidence: tuple[EvidenceState, ...]
    """Its evidence."""
    threats: tuple[str, ...] = ()
    """Keys of the threats it mitigates (in the controls table)."""

    @property
    def missing(self) -> tuple[EvidenceState, ...]:
        """Evidence paths that do not exist: broken links."""
        return tuple(e for e in self.evidence if e.exists is False)


@dataclass(frozen=True)
class TraceRow:
    """One line of the traceability matrix."""

    key: str
    """Threat key."""
    title: str
    """Threat title."""
    stride: str
    """STRIDE letter."""
    severity: str
    """Severity (harm), with the team's override."""
    scope: str
    """element, flow or interaction."""
    subject: str
    """What it is about, in words."""
    subject_ids: tuple[str, ...]
    """Ids of the element or flow (and its ends)."""
    disposition: str
    """Stated status: open, mitigated, accepted, transferred, not-applicable."""
    controls: tuple[ControlTrace, ...]
    """Controls named by a mitigation (unknown ones included, with status 'unknown')."""
    justification: str
    """Justification or reason, for accepted, transferred and not-applicable threats."""
    problems: tuple[str, ...]
    """What an auditor would flag, in words."""
    verdict: str
    """A key of :data:`VERDICTS`."""
    exploitability: str = "medium"
    """Exploitability, with the team's override."""
    risk: str = "medium"
    """Risk before controls (the risk matrix)."""
    residual_risk: str = "medium"
    """Risk after controls (``none`` for a threat that does not apply)."""
    hazards: tuple[str, ...] = ()
    """Linked hazard ids from the safety risk file."""
    reference: str = ""
    """The source tool's short name for the threat (``#12 TH54``), shown next to the key."""


@dataclass(frozen=True)
class ResidualRisk:
    """An accepted or transferred threat."""

    key: str
    """Threat key."""
    title: str
    """Threat title."""
    subject: str
    """What it is about."""
    stride: str
    """STRIDE letter."""
    severity: str
    """Severity."""
    status: str
    """accepted or transferred."""
    justification: str
    """Why."""
    approved_by: str
    """Who approved it."""
    approved_on: str
    """When (ISO date, or '')."""
    expires: str
    """Expiry date (ISO, or '')."""
    transferred_to: str
    """Who carries a transferred risk."""
    expiry: str
    """expired, expiring (within 90 days), valid, or none."""
    risk: str = "medium"
    """Risk before controls."""
    residual_risk: str = "medium"
    """Risk after controls."""
    hazards: tuple[str, ...] = ()
    """Linked hazard ids."""


def evidence_states(control: Control, exists: Mapping[str, bool]) -> tuple[EvidenceState, ...]:
    """The control's evidence, each path looked up in ``exists``."""
    states = []
    for item in control.evidence:
        path = evidence_path(item)
        states.append(EvidenceState(item, path, None if path is None else exists.get(path, False)))
    return tuple(states)


def _verdict(entry: Entry, controls: tuple[ControlTrace, ...]) -> str:
    if entry.status == "open":
        return "open"
    if not entry.addressed:
        return "not-addressed"
    if entry.status != "mitigated":
        return "justified"
    if any(c.missing for c in controls):
        return "evidence-missing"
    if any(not c.evidence for c in controls):
        return "no-evidence"
    if any(c.status == "planned" for c in controls):
        return "planned"
    return "verified"


def trace_rows(register: Register, exists: Mapping[str, bool]) -> tuple[TraceRow, ...]:
    """One matrix row per threat, sorted by key."""
    rows = []
    model = register.model
    for entry in register.entries:
        disposition = entry.disposition
        controls: list[ControlTrace] = []
        if disposition is not None and entry.status == "mitigated":
            for control_id in disposition.controls:
                control = model.control(control_id)
                if control is None:
                    controls.append(ControlTrace(control_id, "", "unknown", ()))
                else:
                    controls.append(
                        ControlTrace(
                            control.id,
                            control.name,
                            control.status,
                            evidence_states(control, exists),
                        )
                    )
        justification = ""
        if disposition is not None and entry.status != "mitigated":
            justification = disposition.justification
        traced = tuple(controls)
        rows.append(
            TraceRow(
                key=entry.key,
                reference=entry.reference,
                title=entry.threat.title,
                stride=entry.threat.stride,
                severity=entry.severity,
                scope=entry.threat.scope,
                exploitability=entry.exploitability,
                risk=entry.risk,
                residual_risk=entry.residual_risk,
                hazards=entry.threat.hazards,
                subject=subject_label(entry, register),
                subject_ids=entry.threat.subject_ids,
                disposition=entry.status,
                controls=traced,
                justification=justification,
                problems=tuple(p.message for p in entry.problems),
                verdict=_verdict(entry, traced),
            )
        )
    return tuple(rows)


def control_traces(register: Register, exists: Mapping[str, bool]) -> tuple[ControlTrace, ...]:
    """Every control of the model with its evidence and the threats it mitigates."""
    users: dict[str, list[str]] = {}
    for entry in register.entries:
        if entry.status == "mitigated" and entry.disposition is not None:
            for control_id in entry.disposition.controls:
                users.setdefault(control_id, []).append(entry.key)
    return tuple(
        ControlTrace(
            c.id, c.name, c.status, evidence_states(c, exists), tuple(sorted(users.get(c.id, [])))
        )
        for c in register.model.controls
    )


def residual_risks(register: Register, on: dt.date) -> tuple[ResidualRisk, ...]:
    """Accepted and transferred threats, sorted by key; expiry judged on ``on``."""
    risks = []
    for entry in register.entries:
        disposition = entry.disposition
        if disposition is None or entry.status not in ("accepted", "transferred"):
            continue
        expiry = "none"
        if disposition.expires is not None:
            if disposition.expires < on:
                expiry = "expired"
            elif disposition.expires <= on + EXPIRING_WITHIN:
                expiry = "expiring"
            else:
                expiry = "valid"
        risks.append(
            ResidualRisk(
                key=entry.key,
                title=entry.threat.title,
                subject=subject_label(entry, register),
                stride=entry.threat.stride,
                severity=entry.severity,
                status=entry.status,
                risk=entry.risk,
                residual_risk=entry.residual_risk,
                hazards=entry.threat.hazards,
                justification=disposition.justification,
                approved_by=disposition.approved_by,
                approved_on=disposition.approved_on.isoformat() if disposition.approved_on else "",
                expires=disposition.expires.isoformat() if disposition.expires else "",
                transferred_to=disposition.transferred_to,
                expiry=expiry,
            )
        )
    return tuple(risks)
