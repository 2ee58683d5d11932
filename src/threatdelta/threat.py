"""A threat: one rule matched on one element, flow or interaction of a model.

An enumeration of a large model gives hundreds of thousands of threats, and most of what they
say is shared: every threat of one rule on alike subjects has the same severity, reasons,
countermeasures and texts. So a :class:`Threat` holds only three references: its key, the
:class:`ThreatPart` it shares with the other threats of its rule on alike subjects, and its
:class:`Place` (the ids and location of what it is about, shared by the threats found there).
A title or description with ``{subject.attr}`` placeholders is kept as a :class:`Text` and
filled when it is read. To every caller a threat is the plain value it always was: the same
attributes, equality, hashing, ``repr`` and :func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from threatdelta.errors import Location
from threatdelta.rules.pack import Exploitability, Scope, Severity, Stride


@dataclass(frozen=True, slots=True)
class Text:
    """A title or description with placeholders, filled from a place's values when read."""

    pattern: str
    """The text with each placeholder as ``{}`` and every other brace doubled."""
    slots: tuple[tuple[int, int, str], ...]
    """Per placeholder: which subject's values (index into :attr:`Place.values`), which value
    of them, and the placeholder as written (kept when the value is unset)."""

    def fill(self, values: tuple[tuple[str | None, ...], ...]) -> str:
        """The text with its placeholders filled from ``values``."""
        filled = []
        for subject, index, written in self.slots:
            value = values[subject][index]
            filled.append(written if value is None else value)
        return self.pattern.format(*filled)


@dataclass(frozen=True, slots=True)
class ThreatPart:
    """What the threats of one rule on alike subjects share (see :class:`Threat`)."""

    rule_id: str
    stride: Stride
    title: str | Text
    scope: Scope
    severity: Severity
    exploitability: Exploitability
    rule_severity: Severity | None
    severity_reasons: tuple[str, ...]
    hazards: tuple[str, ...]
    essential_performance: bool
    assets: tuple[str, ...]
    description: str | Text
    category: str
    cwe: tuple[int, ...]
    capec: tuple[int, ...]
    countermeasures: tuple[str, ...]
    reference: str


@dataclass(frozen=True, slots=True)
class Place:
    """What a threat is about: the ids of its element or flow and ends, where they are declared,
    and the values its texts' placeholders are filled from."""

    element: str | None
    flow: str | None
    source: str | None
    target: str | None
    location: Location | None = field(compare=False)
    values: tuple[tuple[str | None, ...], ...] = ()
    """Per subject (``element``; or ``source``, ``flow``, ``target``), the placeholder values."""


_NO_VALUES: tuple[tuple[str | None, ...], ...] = ()


@dataclass(frozen=True, init=False)
class Threat:
    """An enumerated threat with a key that survives renames and reordering."""

    __slots__ = ("_part", "_place", "key")

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
    severity: Severity
    """Severity (the harm if it is carried out): the rule's, raised by what the subject carries
    (hazards, essential performance, data assets)."""
    exploitability: Exploitability
    """How easily it is carried out: the rule's, and ``low`` on buses inside one device and on
    debug links, which need physical access."""
    rule_severity: Severity | None
    """The rule's own severity, before what the subject carries raised it (None: not raised)."""
    severity_reasons: tuple[str, ...]
    """Why the severity is above the rule's, in words."""
    hazards: tuple[str, ...]
    """Ids of safety-risk-file hazards linked to what it is about."""
    essential_performance: bool
    """It threatens the integrity or availability of essential performance."""
    assets: tuple[str, ...]
    """Ids of the data assets it exposes."""
    description: str
    """Why it is a threat."""
    category: str
    """Category label from the pack."""
    cwe: tuple[int, ...]
    """CWE ids."""
    capec: tuple[int, ...]
    """CAPEC ids."""
    countermeasures: tuple[str, ...]
    """Suggested countermeasure ids from the pack's catalogue."""
    element: str | None
    """Element id, for element-scope threats."""
    flow: str | None
    """Flow id, for flow and interaction threats."""
    source: str | None
    """Source element id, for flow and interaction threats."""
    target: str | None
    """Target element id, for flow and interaction threats."""
    location: Location | None = field(default=None, compare=False)
    """Where the element or flow it is about is declared in the model file."""
    reference: str = ""
    """A short readable name shown next to a long key: a Threat Modeling Tool threat's type id
    (``TH54``), which the tool's keys start with; '' for threatdelta's own readable keys."""

    if TYPE_CHECKING:  # slots, not fields
        _part: ThreatPart = field(init=False, repr=False, compare=False)
        _place: Place = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        key: str,
        rule_id: str,
        stride: Stride,
        title: str,
        scope: Scope,
        severity: Severity = "medium",
        exploitability: Exploitability = "medium",
        rule_severity: Severity | None = None,
        severity_reasons: tuple[str, ...] = (),
        hazards: tuple[str, ...] = (),
        essential_performance: bool = False,
        assets: tuple[str, ...] = (),
        description: str = "",
        category: str = "",
        cwe: tuple[int, ...] = (),
        capec: tuple[int, ...] = (),
        countermeasures: tuple[str, ...] = (),
        element: str | None = None,
        flow: str | None = None,
        source: str | None = None,
        target: str | None = None,
        location: Location | None = None,
        reference: str = "",
    ) -> None:
        part = ThreatPart(
            rule_id,
            stride,
            title,
            scope,
            severity,
            exploitability,
            rule_severity,
            severity_reasons,
            hazards,
            essential_performance,
            assets,
            description,
            category,
            cwe,
            capec,
            countermeasures,
            reference,
        )
        _set_key(self, key)
        _set_part(self, part)
        _set_place(self, Place(element, flow, source, target, location, _NO_VALUES))

    @classmethod
    def of(cls, key: str, part: ThreatPart, place: Place) -> Threat:
        """The threat with this key, shared part and place (no copying of either)."""
        threat = _new(cls)
        _set_key(threat, key)
        _set_part(threat, part)
        _set_place(threat, place)
        return threat

    @property
    def subject_ids(self) -> tuple[str, ...]:
        """Ids of every element and flow this threat is about."""
        place = self._place
        ids = (place.element, place.source, place.flow, place.target)
        return tuple(i for i in ids if i is not None)

    def __getstate__(self) -> tuple[str, ThreatPart, Place]:
        return (self.key, self._part, self._place)

    def __setstate__(self, state: tuple[str, ThreatPart, Place]) -> None:
        _set_key(self, state[0])
        _set_part(self, state[1])
        _set_place(self, state[2])


_new = object.__new__
_set_key: Any = Threat.__dict__["key"].__set__
_set_part: Any = Threat.__dict__["_part"].__set__
_set_place: Any = Threat.__dict__["_place"].__set__


def _text(name: str) -> property:
    read_part = attrgetter(f"_part.{name}")
    read_values = attrgetter("_place.values")

    def text(self: Threat) -> str:
        found: str | Text = read_part(self)
        if type(found) is str:
            return found
        assert isinstance(found, Text)
        return found.fill(read_values(self))

    return property(text, doc=f"The threat's {name}, its placeholders filled.")


def _attach() -> None:
    """Threat's attributes read through its part and place (C-level getters, no copying)."""
    for name in ThreatPart.__dataclass_fields__:
        if name in ("title", "description"):
            setattr(Threat, name, _text(name))
        else:
            setattr(Threat, name, property(attrgetter(f"_part.{name}")))
    for name in ("element", "flow", "source", "target", "location"):
        setattr(Threat, name, property(attrgetter(f"_place.{name}")))


_attach()


shares: Callable[[Threat], tuple[ThreatPart, Place]] = attrgetter("_part", "_place")
"""A threat's part and place: objects it shares with the other threats of its rule on alike
subjects and with the threats found at its place (the same objects for all of them), so work
done once per kind of threat or per place can be found by them."""
