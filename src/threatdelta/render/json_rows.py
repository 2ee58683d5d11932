"""The rows of ``check --format json`` written as JSON text without making each row first.

A register's rows repeat themselves: every threat of one rule with the same severity,
exploitability, hazards, assets and suggested countermeasures has the same row but for its key,
its title and what it is about (element, flow, its ends, their label, the line). The text of such
a row is cut from a pattern: the row :class:`~threatdelta.render.data.RegisterRows` makes for the
first threat of its kind, encoded once with markers where the threat's own values go. Each later
threat of that kind costs the encoding of its key and title and one formatting of the pattern;
what it is about is encoded once per subject. The same holds for threats designed out by one
property that names no control (the pattern is per rule and cause; the cause's element or flow
is filled in).

Rows the pattern cannot stand for (a threat with a disposition: its status, problems and decision
are its own; a designed-out threat with several causes or with controls behind one) are made by :class:`~threatdelta.render.data.RegisterRows` and encoded whole, as
before. Either way the text is the text of the row ``RegisterRows`` makes; tests hold the two
against each other on random models.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING

import orjson

from threatdelta.render.jsontext import nested, pad
from threatdelta.threat import shares

if TYPE_CHECKING:
    from threatdelta.exclusions import Exclusion
    from threatdelta.register import Entry
    from threatdelta.render.data import RegisterRows
    from threatdelta.threat import Threat

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS

_SHARED = attrgetter(
    "rule_id",
    "stride",
    "scope",
    "severity",
    "exploitability",
    "rule_severity",
    "severity_reasons",
    "hazards",
    "essential_performance",
    "assets",
    "cwe",
    "capec",
    "countermeasures",
    "reference",
)
"""What a threat's row shows of it besides its key, title and subject: threats that agree on
these (and on which subject fields they have) have rows cut from one pattern."""

_PLACE = attrgetter("element", "flow", "source", "target", "location")
"""What a threat is about and where it is written: ``element`` and ``flow`` sort before a row's
``id``; ``line``, ``source``, ``subject`` and ``target`` between ``id`` and ``title``, the last
key of a row without a disposition."""

Pattern = bytes | None
"""A row's text with ``%s`` where its own values go (None: this kind is encoded whole)."""

Subject = tuple[tuple[str, ...], tuple[bytes, ...], tuple[bytes, ...]]
"""The subject fields a row has (sorted), the text of those whose names sort before ``id`` and
of those after it."""


def _marker(token: str, name: str) -> str:
    return f"@{token}:{name}@"


def _cut(text: bytes, token: str, names: Sequence[str]) -> Pattern:
    """``text`` with each marker of ``names`` (quoted, as it was encoded) turned into ``%s``, or
    None unless every marker appears once and in the order of ``names``."""
    pattern = text.replace(b"%", b"%%")
    last = -1
    for name in names:
        quoted = orjson.dumps(_marker(token, name))
        at = pattern.find(quoted)
        if at <= last or pattern.count(quoted) != 1:
            return None
        last = at
        pattern = pattern.replace(quoted, b"%s")
    return pattern


class RowText:
    """Writes the rows of one register (see :class:`~threatdelta.render.data.RegisterRows`,
    whose rows these are the text of) from patterns shared by many rows."""

    def __init__(self, rows: RegisterRows) -> None:
        self.rows = rows
        self._token = os.urandom(8).hex()
        self._held: list[object] = []
        """What the caches below find by ``id()``: held, so no id is another object's."""
        self._subjects: dict[tuple[object, ...], Subject] = {}
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._ids: dict[str | None, bytes | None] = {}
        self._by_place: dict[int, Subject] = {}
        self._by_part: dict[int, dict[tuple[int, int], Pattern]] = {}
        self._excluded_by_part: dict[int, dict[tuple[object, ...], Pattern]] = {}
        self._place_labels: dict[int, bytes | None] = {}
        self._threats: dict[tuple[object, ...], Pattern] = {}
        self._excluded: dict[tuple[object, ...], Pattern] = {}
        self._labels: dict[tuple[str | None, ...], bytes | None] = {}

    def _subject(self, threat: Threat) -> Subject:
        """The subject fields of ``threat``'s row that it has (sorted; empty when the encoder
        refuses one of them) and their values' text, those before ``id`` and those after."""
        element, flow, source, target, location = _PLACE(threat)
        key = (element, flow, source, target, id(location))
        found = self._subjects.get(key)
        if found is not None:
            return found
        ids = self._id_text
        names: list[str] = []
        before: list[bytes | None] = []
        after: list[bytes | None] = []
        if element is not None:  # the names in the order they sort in
            names.append("element")
            before.append(ids(element))
        if flow is not None:
            names.append("flow")
            before.append(ids(flow))
        place = location if location is not None else self.rows.location(threat)
        if place is not None and place.line is not None:
            names.append("line")
            after.append(_kept(place.line))
        if flow is not None:
            names.append("source")
            after.append(ids(source))
        names.append("subject")
        after.append(_kept(self.rows.subject(threat)))
        if flow is not None:
            names.append("target")
            after.append(ids(target))
        first, then = _every(before), _every(after)
        if first is None or then is None:  # the row is written as the standard library does
            found = ((), (), ())
        else:
            shape = tuple(names)
            found = (self._names.setdefault(shape, shape), first, then)
        self._subjects[key] = found
        self._held.append(location)  # its id is part of the key
        return found

    def _id_text(self, item: str | None) -> bytes | None:
        """The text of an element's or flow's id (or null), once per id."""
        found = self._ids.get(item, b"")
        if found == b"":
            found = self._ids[item] = _kept(item)
        return found

    def threats(self, entries: Sequence[Entry], depth: int) -> Iterator[bytes]:
        """The text of each entry's row, ``depth`` levels deep."""
        by_place = self._by_place
        by_part = self._by_part.setdefault(depth, {})
        held = self._held
        subject = self._subject
        pattern_of = self._threat_pattern
        whole = self._whole_threat
        for entry in entries:
            threat = entry.threat
            if (
                entry.disposition is not None
                or entry.status != "open"
                or entry.problems
                or entry.controls
            ):
                yield whole(entry, depth)
                continue
            part, place = shares(threat)
            found = by_place.get(id(place))
            if found is None:
                found = by_place[id(place)] = subject(threat)
                held.append(place)
            names, before, after = found
            kind = (id(part), id(names))
            pattern = by_part.get(kind, b"")
            if pattern == b"":
                pattern = by_part[kind] = pattern_of(entry, names, depth)
                held.append(part)
            key = _json(threat.key)
            title = _json(threat.title)
            if pattern is None or key is None or title is None:
                yield whole(entry, depth)
            else:
                yield pattern % (*before, key, *after, title)

    def _whole_threat(self, entry: Entry, depth: int) -> bytes:
        return nested(self.rows.threat(entry), depth)

    def _threat_pattern(self, entry: Entry, names: tuple[str, ...], depth: int) -> Pattern:
        """The pattern of rows like ``entry``'s, found by what the row shows of the threat."""
        if not names:
            return None
        kind = (_SHARED(entry.threat), names, depth)
        found = self._threats.get(kind, b"")
        if found == b"":
            found = self._threats[kind] = self._new_threat_pattern(entry, names, depth)
        return found

    def _new_threat_pattern(self, entry: Entry, names: tuple[str, ...], depth: int) -> Pattern:
        row = self.rows.threat(entry)
        token = self._token
        own = (*names, "id", "title")
        if not all(name in row for name in own):
            return None
        for name in own:
            row[name] = _marker(token, name)
        text = _whole(row, depth)
        return None if text is None else _cut(text, token, sorted(own))

    def excluded(self, exclusions: Sequence[Exclusion], depth: int) -> Iterator[bytes]:
        """The text of each designed-out threat's row, ``depth`` levels deep. A row with one
        cause that names no control is cut from the pattern of its rule's part and its cause's
        condition and property; any other is made and encoded whole."""
        by_kind = self._excluded_by_part.setdefault(depth, {})
        labels = self._place_labels
        held = self._held
        ids = self._id_text
        for exclusion in exclusions:
            causes = exclusion.causes
            cause = causes[0] if len(causes) == 1 else None
            if cause is None or cause.implemented_by or type(cause.value) not in _PLAIN:
                yield nested(self.rows.excluded(exclusion), depth)
                continue
            threat = exclusion.threat
            part, place = shares(threat)
            kind = (id(part), cause.condition, cause.name, type(cause.value), cause.value)
            pattern = by_kind.get(kind, b"")
            if pattern == b"":
                pattern = by_kind[kind] = self._excluded_pattern(exclusion, depth)
                held.append(part)
            label = labels.get(id(place), b"")
            if label == b"":
                label = labels[id(place)] = self._label(threat)
                held.append(place)
            item = ids(cause.item)
            key = _json(threat.key)
            title = _json(threat.title)
            if pattern is None or None in (item, key, title, label):
                yield nested(self.rows.excluded(exclusion), depth)
            else:
                yield pattern % (item, key, label, title)

    def _label(self, threat: Threat) -> bytes | None:
        """The text of the threat's subject label (see ``RegisterRows.subject``), once per
        subject."""
        key = (threat.element, threat.flow, threat.source, threat.target)
        found = self._labels.get(key, b"")
        if found == b"":
            found = self._labels[key] = _kept(self.rows.subject(threat))
        return found

    def _excluded_pattern(self, exclusion: Exclusion, depth: int) -> Pattern:
        """The pattern of designed-out rows like ``exclusion``'s (one cause, no control)."""
        threat = exclusion.threat
        (cause,) = exclusion.causes
        kind = (
            threat.rule_id,
            threat.stride,
            threat.severity,
            cause.condition,
            cause.name,
            type(cause.value),
            cause.value,
            depth,
        )
        found = self._excluded.get(kind, b"")
        if found == b"":
            found = self._excluded[kind] = self._new_excluded_pattern(exclusion, depth)
        return found

    def _new_excluded_pattern(self, exclusion: Exclusion, depth: int) -> Pattern:
        row = self.rows.excluded(exclusion)
        token = self._token
        (cause,) = row["causes"]
        cause["item"] = _marker(token, "item")
        own = ("id", "subject", "title")
        for name in own:
            row[name] = _marker(token, name)
        text = _whole(row, depth)
        return None if text is None else _cut(text, token, ("item", *own))


_PLAIN = (str, int, bool, float, type(None))


def _json(value: object) -> bytes | None:
    """A value's JSON text, or None when the compiled encoder refuses it (text that is not
    valid Unicode, an integer beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None


def _every(texts: list[bytes | None]) -> tuple[bytes, ...] | None:
    """``texts``, unless the encoder refused one of them."""
    return None if None in texts else tuple(text for text in texts if text is not None)


def _kept(value: object) -> bytes | None:
    """:func:`_json`, for text that is kept: the encoder's result takes kilobytes whatever its
    length, a copy only its length."""
    text = _json(value)
    return None if text is None else bytes(memoryview(text))


def _whole(value: object, depth: int) -> bytes | None:
    """The indented text of ``value`` ``depth`` levels deep, or None when the compiled encoder
    refuses something in it (the row is then written as the standard library writes it)."""
    try:
        text = orjson.dumps(value, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    return text.replace(b"\n", pad(depth)) if depth else text
