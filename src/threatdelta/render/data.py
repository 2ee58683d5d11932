"""Plain-data views of registers, shared by the JSON, SARIF and template renderers.

Every list is sorted and every mapping is emitted with sorted keys, so the same model gives
byte-identical output whatever the order of its lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threatdelta.errors import Location
from threatdelta.exclusions import Cause, Exclusion
from threatdelta.model.model import Model
from threatdelta.register import Entry, Orphan, Register, unverified
from threatdelta.render.json_rows import RowText
from threatdelta.render.jsontext import Rows
from threatdelta.render.jsontext import dumps as dumps  # JSON text: importable from here too
from threatdelta.rules.pack import STRIDE_NAMES, RulePack
from threatdelta.threat import Place, Threat, shares


def countermeasure_names(ids: tuple[str, ...], pack: RulePack) -> list[dict[str, str]]:
    """Suggested countermeasures as ``{"id", "name"}`` (the id as name when unknown)."""
    result = []
    for cm_id in ids:
        cm = pack.countermeasures.get(cm_id)
        result.append({"id": cm_id, "name": cm.name if cm is not None else cm_id})
    return result


def subject_label(entry: Entry, register: Register) -> str:
    """Human label for what a threat is about: an element name, or ``source → target (flow)``."""
    return threat_subject(entry.threat, register.model)


def threat_subject(threat: Threat, model: Model) -> str:
    """Human label for what ``threat`` is about, in ``model``."""
    return place_subject(shares(threat)[1], _element_name(model), _flow_name(model))


def place_subject(
    place: Place, element_name: Callable[[str], str | None], flow_name: Callable[[str], str | None]
) -> str:
    """Human label for a threat's place (see :func:`threat_subject`): an element's name, or
    ``flow (source → target)``; ``element_name`` and ``flow_name`` give the name of the element
    or flow with an id (None: there is none)."""
    if place.element is not None:
        name = element_name(place.element)
        return name if name is not None else place.element
    shown = flow_name(place.flow) if place.flow is not None else None
    if shown is None:
        shown = place.flow or ""
    source = element_name(place.source) if place.source else None
    target = element_name(place.target) if place.target else None
    if source is not None and target is not None:
        return f"{shown} ({source} → {target})"
    return shown


def _element_name(model: Model) -> Callable[[str], str | None]:
    def name(element_id: str) -> str | None:
        element = model.element(element_id)
        return element.name if element is not None else None

    return name


def _flow_name(model: Model) -> Callable[[str], str | None]:
    def name(flow_id: str) -> str | None:
        flow = model.flow(flow_id)
        return flow.name if flow is not None else None

    return name


def threat_location(threat: Threat, model: Model) -> Location | None:
    """Where what ``threat`` is about is written: the threat's own place when the file stores
    the threat, else where its element or flow is declared in ``model``."""
    if threat.location is not None:
        return threat.location
    if threat.element is not None:
        element = model.element(threat.element)
        return element.location if element is not None else None
    flow = model.flow(threat.flow) if threat.flow is not None else None
    return flow.location if flow is not None else None


def exclusion_data(exclusion: Exclusion, model: Model) -> dict[str, Any]:
    """A threat the design keeps from existing, with what excludes it and what backs that."""
    return _excluded_row(exclusion, threat_subject(exclusion.threat, model))


def _excluded_row(exclusion: Exclusion, subject: str) -> dict[str, Any]:
    threat = exclusion.threat
    return {
        "id": threat.key,
        "rule": threat.rule_id,
        "stride": threat.stride,
        "title": threat.title,
        "severity": threat.severity,
        "subject": subject,
        "excluded_by": exclusion.text.removeprefix("excluded by "),
        "causes": [cause_data(cause) for cause in exclusion.causes],
    }


def cause_data(cause: Cause) -> dict[str, Any]:
    """One reason a threat is designed out, with the controls the model says make it hold."""
    return {
        "condition": cause.condition,
        "item": cause.item,
        "property": cause.name,
        "value": cause.value,
        "implemented_by": [
            {
                "id": impl.control_id,
                "name": impl.control.name if impl.control is not None else None,
                "status": impl.control.status if impl.control is not None else None,
                "evidence": list(impl.control.evidence) if impl.control is not None else [],
                "problems": [{"code": p.code, "message": p.message} for p in impl.problems],
            }
            for impl in cause.implemented_by
        ],
    }


class RegisterRows:
    """Makes the rows of one register's ``check --format json`` document, one at a time.

    What many threats share is worked out once per register, not once per threat: the label of
    each subject (an element's name, ``flow (source → target)``) and each combination of
    suggested countermeasures with their names; rows that share them share the same objects."""

    def __init__(self, register: Register, pack: RulePack) -> None:
        self.register = register
        self.pack = pack
        self._subjects: dict[tuple[str | None, ...], str] = {}
        self._countermeasures: dict[tuple[str, ...], list[dict[str, str]]] = {}
        self._names: tuple[Callable[[str], str | None], Callable[[str], str | None]] | None = None
        """The names of the model's elements and of its flows, by id (made when first read)."""

    def subject(self, threat: Threat) -> str:
        """The threat's subject label (see :func:`threat_subject`)."""
        return self.place_subject(shares(threat)[1])

    def place_subject(self, place: Place) -> str:
        """The subject label of threats at ``place`` (see :func:`place_subject`)."""
        key = (place.element, place.flow, place.source, place.target)
        label = self._subjects.get(key)
        if label is None:
            if self._names is None:
                model = self.register.model
                self._names = (
                    {e.id: e.name for e in model.elements}.get,
                    {f.id: f.name for f in model.flows}.get,
                )
            label = self._subjects[key] = place_subject(place, *self._names)
        return label

    def location(self, threat: Threat) -> Location | None:
        """Where what the threat is about is written (see :func:`threat_location`)."""
        return threat_location(threat, self.register.model)

    def countermeasures(self, ids: tuple[str, ...]) -> list[dict[str, str]]:
        """The suggested countermeasures ``ids`` with their names (see
        :func:`countermeasure_names`)."""
        names = self._countermeasures.get(ids)
        if names is None:
            names = self._countermeasures[ids] = countermeasure_names(ids, self.pack)
        return names

    def threat(self, entry: Entry) -> dict[str, Any]:
        """One threat as in ``check --format json``."""
        threat = entry.threat
        data: dict[str, Any] = {
            "id": threat.key,
            "reference": entry.reference,
            "rule": threat.rule_id,
            "stride": threat.stride,
            "stride_name": STRIDE_NAMES[threat.stride],
            "title": threat.title,
            "severity": entry.severity,
            "exploitability": entry.exploitability,
            "risk": entry.risk,
            "residual_exploitability": entry.residual_exploitability,
            "residual_risk": entry.residual_risk,
            "hazards": list(threat.hazards),
            "essential_performance": threat.essential_performance,
            "assets": list(threat.assets),
            "scope": threat.scope,
            "subject": self.subject(threat),
            "status": entry.status,
            "addressed": entry.addressed,
            "controls": [c.id for c in entry.controls],
            "suggested_countermeasures": self.countermeasures(threat.countermeasures),
            "problems": [{"code": p.code, "message": p.message} for p in entry.problems],
            "cwe": list(threat.cwe),
            "capec": list(threat.capec),
        }
        if threat.element is not None:
            data["element"] = threat.element
        if threat.flow is not None:
            data["flow"] = threat.flow
            data["source"] = threat.source
            data["target"] = threat.target
        if threat.rule_severity is not None:
            data["rule_severity"] = threat.rule_severity
            data["severity_reasons"] = list(threat.severity_reasons)
        if entry.disposition is not None:
            disposition = entry.disposition
            if disposition.rationale:
                data["rationale"] = disposition.rationale
            cvss = entry.cvss
            if cvss is not None:
                data["cvss"] = {
                    "vector": cvss.vector,
                    "version": cvss.version,
                    "base_score": cvss.base_score,
                    "score": cvss.score,
                    "rating": cvss.rating,
                }
            data["justification"] = disposition.justification
            if disposition.approved_by:
                data["approved_by"] = disposition.approved_by
            if disposition.approved_on is not None:
                data["approved_on"] = disposition.approved_on.isoformat()
            if disposition.expires is not None:
                data["expires"] = disposition.expires.isoformat()
            if disposition.transferred_to:
                data["transferred_to"] = disposition.transferred_to
        lacking = unverified(entry)
        if lacking:
            data["unverified"] = lacking
        location = self.location(threat)
        if location is not None and location.line is not None:
            data["line"] = location.line
        return data

    def shown(self, entry: Entry) -> dict[str, Any]:
        """What the text and markdown registers show of a threat: its row (see :meth:`threat`)
        with only ``id``, ``reference``, ``stride``, ``title``, ``severity``, ``subject``,
        ``status``, ``addressed``, ``problems`` and ``unverified`` (when it has one). An open
        threat without a disposition is read straight from it; any other row is made whole."""
        if entry.disposition is not None or entry.status != "open" or entry.problems:
            return self.threat(entry)
        threat = entry.threat
        return {
            "id": threat.key,
            "reference": threat.reference,
            "stride": threat.stride,
            "title": threat.title,
            "severity": threat.severity,
            "subject": self.subject(threat),
            "status": "open",
            "addressed": False,
            "problems": [],
        }

    def excluded(self, exclusion: Exclusion) -> dict[str, Any]:
        """One threat designed out, as in ``check --format json`` (see :func:`exclusion_data`)."""
        return _excluded_row(exclusion, self.subject(exclusion.threat))


def threat_data(entry: Entry, register: Register, pack: RulePack) -> dict[str, Any]:
    """One threat as in ``check --format json`` (for many, use one :class:`RegisterRows`)."""
    return RegisterRows(register, pack).threat(entry)


def status_label(entry: Entry) -> str:
    """The status as a reader should see it: ``mitigated (planned, no evidence)`` when no control
    behind a mitigation is backed by evidence, ``accepted (not addressed)`` when a problem undoes
    a decision."""
    lacking = unverified(entry)
    if lacking:
        return f"{entry.status} ({lacking})"
    if not entry.addressed and entry.status != "open":
        return f"{entry.status} (not addressed)"
    return entry.status


def orphan_data(orphan: Orphan) -> dict[str, Any]:
    """A disposition that matches no enumerated threat, as JSON data."""
    location = orphan.disposition.location
    return {
        "id": orphan.disposition.key,
        "status": orphan.disposition.status,
        "message": orphan.message,
        "line": location.line if location is not None else None,
    }


def register_document(
    register: Register,
    pack: RulePack,
    exclusions: tuple[Exclusion, ...] | None = None,
    *,
    shown: bool = False,
) -> dict[str, Any]:
    """A whole register as in ``check --format json`` (with ``excluded`` when ``exclusions``
    are given), its threats and exclusions as :class:`~threatdelta.render.jsontext.Rows`: made
    one at a time as a renderer reads them, and written as JSON from patterns that many rows
    share (:class:`~threatdelta.render.json_rows.RowText`) without being made. ``shown``: for
    the text and markdown registers, each threat's row holds only what they show (see
    :meth:`RegisterRows.shown`)."""
    rows = RegisterRows(register, pack)
    text = RowText(rows)
    threats = (
        Rows(register.entries, rows.shown)
        if shown
        else Rows(register.entries, rows.threat, text.threats)
    )
    data: dict[str, Any] = {
        "model": register.model.path,
        "format": register.model.format,
        "system": register.model.system,
        "rules": pack.name,
        "threats": threats,
        "orphaned_dispositions": [orphan_data(o) for o in register.orphans],
        "summary": register.counts(),
    }
    if exclusions is not None:
        data["excluded"] = Rows(exclusions, rows.excluded, text.excluded)
    return data


def register_data(
    register: Register, pack: RulePack, exclusions: tuple[Exclusion, ...] | None = None
) -> dict[str, Any]:
    """A whole register as in ``check --format json``, every row made and held (see
    :func:`register_document` for the same, made as it is read)."""
    data = register_document(register, pack, exclusions)
    data["threats"] = list(data["threats"])
    if exclusions is not None:
        data["excluded"] = list(data["excluded"])
    return data
