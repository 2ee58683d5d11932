"""The threats a Threat Dragon file stores on its cells: each becomes a stored threat keyed
``td:<threat id>`` with a disposition from its status; a threat stored as Mitigated with a
mitigation text is mitigated by a control that text describes (see
:mod:`threatdelta.formats.mitigations`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping

from threatdelta.errors import InputError
from threatdelta.formats.dragon_document import Cell, DocumentReader, clean, text_of
from threatdelta.formats.mitigations import described_control
from threatdelta.formats.vocabulary import severity_for, stride_for
from threatdelta.model.model import Control, Disposition, DispositionStatus, Element, Flow
from threatdelta.threat import Threat

MAX_THREATS = 100_000
"""Most stored threats over the whole model."""
RULE_ID = "threat-dragon"
"""``Threat.rule_id`` of threats stored in a Threat Dragon file."""

MITIGATION_PREFIX = "mitigation:"
"""Prefix of the id of the control a Mitigated threat's mitigation text describes."""
_STATUSES: dict[str, DispositionStatus] = {
    "open": "open",
    "mitigated": "mitigated",
    "notapplicable": "not-applicable",
    "not applicable": "not-applicable",
    "not-applicable": "not-applicable",
    "n/a": "not-applicable",
    "na": "not-applicable",
}


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-")
    if slug:
        return slug
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class ThreatsReader(DocumentReader):
    """Reads the threats stored on a cell."""

    def _threats(
        self, cell: Cell, subject: Element | Flow, keys: set[str]
    ) -> Iterator[tuple[Threat, Disposition, Control | None]]:
        raw_threats = cell.data.get("threats")
        if raw_threats is None:
            return
        if not isinstance(raw_threats, list):
            self.diagnostics.warn(
                f"the threats of cell '{cell.id}' are not a list and are skipped",
                self.ids.location((cell.id,)),
            )
            return
        for index, raw in enumerate(raw_threats):
            if len(keys) >= MAX_THREATS:
                raise InputError(f"more than {MAX_THREATS} threats", self.ids.location((cell.id,)))
            if not isinstance(raw, Mapping):
                self.diagnostics.warn(
                    f"threat {index + 1} of cell '{cell.id}' is not an object and is skipped",
                    self.ids.location((cell.id,)),
                )
                continue
            yield self._threat(cell, subject, raw, keys)

    def _threat(
        self,
        cell: Cell,
        subject: Element | Flow,
        raw: Mapping[str, object],
        keys: set[str],
    ) -> tuple[Threat, Disposition, Control | None]:
        title = clean(raw.get("title")) or "Untitled threat"
        threat_id = raw.get("id")
        if isinstance(threat_id, int) and not isinstance(threat_id, bool):
            threat_id = str(threat_id)
        has_id = isinstance(threat_id, str) and bool(threat_id.strip())
        location = self.ids.location((str(threat_id) if has_id else cell.id,))
        base = f"td:{threat_id}" if has_id else f"td:{cell.id}/{_slug(title)}"
        key = base
        number = 1
        while key in keys:
            number += 1
            key = f"{base}-{number}"
        if has_id and key != base:
            self.diagnostics.warn(
                f"threat id '{threat_id}' is used twice; the copy on cell '{cell.id}' is keyed "
                f"'{key}'",
                location,
            )
        keys.add(key)

        category = clean(raw.get("type"))
        stride = stride_for(category) or "I"
        raw_severity = raw.get("severity")
        severity = severity_for(raw_severity) or "medium"
        mitigation = text_of(raw.get("mitigation"))
        raw_status = clean(raw.get("status"))
        status = _STATUSES.get(raw_status.lower())
        if status is None:
            if raw_status:
                self.diagnostics.warn(
                    f"threat '{title}' has the unknown status '{raw_status}'; taken as open",
                    location,
                )
            status = "open"
        description = text_of(raw.get("description"))
        if status == "open" and mitigation:
            description = f"{description}\n\nProposed mitigation: {mitigation}".strip()

        if isinstance(subject, Flow):
            threat = Threat(
                key=key,
                rule_id=RULE_ID,
                stride=stride,
                title=title,
                scope="flow",
                severity=severity,
                description=description,
                category=category,
                flow=subject.id,
                source=subject.source,
                target=subject.target,
                location=location,
            )
        else:
            threat = Threat(
                key=key,
                rule_id=RULE_ID,
                stride=stride,
                title=title,
                scope="element",
                severity=severity,
                description=description,
                category=category,
                element=subject.id,
                location=location,
            )
        control = (
            described_control(MITIGATION_PREFIX + key, mitigation, location)
            if status == "mitigated"
            else None
        )
        disposition = Disposition(
            key=key,
            status=status,
            controls=(control.id,) if control is not None else (),
            justification=mitigation if status != "open" else "",
            title=title,
            location=location,
        )
        return threat, disposition, control
