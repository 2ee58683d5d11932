"""Rule packs: rules and the countermeasure catalogue they draw on.

A pack is data. The built-in STRIDE pack is YAML inside the package (``rules/builtin/``); a TMT
template (.tb7, or the KnowledgeBase embedded in a .tm7) is read into the same shape by
``threatdelta.formats.tm7``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from threatdelta.errors import Location

Stride = Literal["S", "T", "R", "I", "D", "E"]
STRIDE_LETTERS: tuple[Stride, ...] = ("S", "T", "R", "I", "D", "E")
STRIDE_NAMES: dict[str, str] = {
    "S": "Spoofing",
    "T": "Tampering",
    "R": "Repudiation",
    "I": "Information disclosure",
    "D": "Denial of service",
    "E": "Elevation of privilege",
}

Scope = Literal["element", "flow", "interaction"]
"""What a rule is evaluated on.

``element``: each element, as subject ``element``.
``flow``: each flow, as ``flow`` with its ``source`` and ``target``; key ``rule@flow``.
``interaction``: each direction of each flow, as ``source``, ``flow``, ``target``;
key ``rule@source>flow>target``.
"""

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")

Exploitability = Literal["low", "medium", "high"]
EXPLOITABILITIES: tuple[Exploitability, ...] = ("low", "medium", "high")
"""How easily the threat can be carried out: ``high`` remotely and with public tools, ``medium``
from a nearby network or radio range or with some skill, ``low`` only with physical access,
special equipment or insider knowledge."""

FIT_WORDS: tuple[str, ...] = (
    # element kinds
    "person",
    "device",
    "system",
    "cloud-service",
    "control-unit",
    "web-service",
    "virtual-machine",
    "mobile-app",
    "firmware",
    "database",
    "file",
    "log",
    "key-store",
    "configuration",
    "cloud-storage",
    # where an element sits
    "on-device",
    # flow families (threatdelta.rules.protocols) and where a flow runs
    "ip",
    "radio",
    "bus",
    "debug",
    "local",
    "user",
    "on-board",
)
"""What a countermeasure can say it fits: element kinds, ``on-device`` (inside a device
boundary), protocol families, ``on-board`` (a bus inside one device)."""

KeyStyle = Literal["threatdelta", "tmt"]
"""``threatdelta``: ``rule@subject`` keys. ``tmt``: the Threat Modeling Tool's own
TypeId + SourceGuid + FlowGuid + TargetGuid concatenation, so stored threats match."""


@dataclass(frozen=True)
class Countermeasure:
    """An entry of the countermeasure catalogue."""

    id: str
    """Stable identifier referenced by rules (``tls-in-transit``)."""
    name: str
    """Short name."""
    description: str
    """What to do, in a sentence or two."""
    stride: tuple[Stride, ...] = ()
    """The STRIDE categories it answers."""
    fits: tuple[str, ...] = ()
    """Where it fits (:data:`FIT_WORDS`); empty: anywhere. Suggestions that do not fit a
    threat's subject are left out (a cloud service is not offered secure boot)."""
    verification: str = ""
    """What evidence shows it is in place and works."""


@dataclass(frozen=True)
class Rule:
    """One threat rule: when ``include`` holds and ``exclude`` does not, the threat exists."""

    id: str
    """Stable identifier; the first part of every threat key it produces."""
    stride: Stride
    """STRIDE category letter."""
    scope: Scope
    """What the rule is evaluated on."""
    title: str
    """Title template; ``{flow.name}``, ``{source.name}``, ``{element.name}`` ... are filled in."""
    include: object
    """Parsed include expression (a ``threatdelta.rules.lang`` AST node)."""
    include_text: str
    """The include expression as written."""
    exclude: object | None = None
    """Parsed exclude expression, if any."""
    exclude_text: str = ""
    """The exclude expression as written."""
    description: str = ""
    """Why this is a threat, in plain words."""
    severity: Severity = "medium"
    """Default severity: the harm if the threat is carried out."""
    exploitability: Exploitability = "medium"
    """Default exploitability: how easily it is carried out."""
    data_raises_severity: bool = True
    """Whether the needs of the data the subject carries raise the severity (false for threats
    that are not about that data, such as tracking a device by its radio address)."""
    cwe: tuple[int, ...] = ()
    """CWE ids."""
    capec: tuple[int, ...] = ()
    """CAPEC ids."""
    countermeasures: tuple[str, ...] = ()
    """Countermeasure ids from the pack's catalogue."""
    category: str = ""
    """Category label as the source pack names it (TMT's category), else the STRIDE name."""
    location: Location | None = field(default=None, compare=False)
    """Where the rule is written."""


@dataclass(frozen=True)
class RulePack:
    """A named set of rules plus the catalogue their countermeasures come from."""

    name: str
    """Display name."""
    rules: tuple[Rule, ...]
    """Rules in a stable order (by id)."""
    countermeasures: Mapping[str, Countermeasure] = field(default_factory=dict)
    """Catalogue by id."""
    key_style: KeyStyle = "threatdelta"
    """How threat keys are built."""
    type_parents: Mapping[str, str] = field(default_factory=dict)
    """Extra type tree (child type id -> parent type id), e.g. a TMT template's stencils."""
    property_names: Mapping[str, str] = field(default_factory=dict)
    """Attribute ids the rules may read (a TMT template's GUID-named attributes) -> the
    readable property name a converted model writes instead (``out_of_scope``); a rule asking
    for either finds the property under the other."""
    digest: str = ""
    """Content hash of the pack source, for caches and reports."""
