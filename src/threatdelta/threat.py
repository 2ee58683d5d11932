"""A threat: one rule matched on one element, flow or interaction of a model."""

from __future__ import annotations

from dataclasses import dataclass, field

from threatdelta.errors import Location
from threatdelta.rules.pack import Exploitability, Scope, Severity, Stride


@dataclass(frozen=True, slots=True)
class Threat:
    """An enumerated threat with a key that survives renames and reordering."""

    key: str
    """Stable key: ``rule@element``, ``rule@flow``, ``rule@source>flow>target``, or TMT's own."""
    rule_id: str
    """The rule that produced it."""
    stride: Stride
    """STRIDE category letter."""
    title: str
    """Title with the names of what it is about filled in."""
    scope: Scope
    """element, flow or interaction."""
    severity: Severity = "medium"
    """Severity (the harm if it is carried out): the rule's, raised by what the subject carries
    (hazards, essential performance, data assets)."""
    exploitability: Exploitability = "medium"
    """How easily it is carried out: the rule's, and ``low`` on buses inside one device and on
    debug links, which need physical access."""
    rule_severity: Severity | None = None
    """The rule's own severity, before what the subject carries raised it (None: not raised)."""
    severity_reasons: tuple[str, ...] = ()
    """Why the severity is above the rule's, in words."""
    hazards: tuple[str, ...] = ()
    """Ids of safety-risk-file hazards linked to what it is about."""
    essential_performance: bool = False
    """It threatens the integrity or availability of essential performance."""
    assets: tuple[str, ...] = ()
    """Ids of the data assets it exposes."""
    description: str = ""
    """Why it is a threat."""
    category: str = ""
    """Category label from the pack."""
    cwe: tuple[int, ...] = ()
    """CWE ids."""
    capec: tuple[int, ...] = ()
    """CAPEC ids."""
    countermeasures: tuple[str, ...] = ()
    """Suggested countermeasure ids from the pack's catalogue."""
    element: str | None = None
    """Element id, for element-scope threats."""
    flow: str | None = None
    """Flow id, for flow and interaction threats."""
    source: str | None = None
    """Source element id, for flow and interaction threats."""
    target: str | None = None
    """Target element id, for flow and interaction threats."""
    location: Location | None = field(default=None, compare=False)
    """Where the element or flow it is about is declared in the model file."""
    reference: str = ""
    """A short readable name shown next to a long key: a Threat Modeling Tool threat's type id
    (``TH54``), which the tool's keys start with; '' for threatdelta's own readable keys."""

    @property
    def subject_ids(self) -> tuple[str, ...]:
        """Ids of every element and flow this threat is about."""
        ids = (self.element, self.source, self.flow, self.target)
        return tuple(i for i in ids if i is not None)
