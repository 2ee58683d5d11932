"""The rows of ``check --format json`` written as JSON text without making each row first.

A register's rows repeat themselves: every threat of one rule with the same severity,
exploitability, hazards, assets and suggested countermeasures has the same row but for its key,
its title and what it is about (element, flow, its ends, their label, the line). The text of such
a row is cut from a pattern: the row :class:`~threatdelta.render.data.RegisterRows` makes for the
first threat of its kind, encoded once with markers where the threat's own values go. Each later
threat of that kind costs the encoding of its key and title and one formatting of the pattern;
what it is about is encoded once per subject. The same holds for threats designed out (the
pattern is per rule, severity and STRIDE letter; their causes are encoded once per set of causes).

Rows the pattern cannot stand for (a threat with a disposition: its status, problems and decision
are its own) are made by :class:`~threatdelta.render.data.RegisterRows` and encoded whole, as
before. Either way the text is the text of the row ``RegisterRows`` makes; tests hold the two
against each other on random models.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import orjson

from threatdelta.render.jsontext import nested, pad

if TYPE_CHECKING:
    from threatdelta.exclusions import Cause, Exclusion
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

_BEFORE_KEY = ("element", "flow")
"""Subject fields whose names sort before ``id``; ``line``, ``source``, ``subject`` and
``target`` sort between ``id`` and ``title``, the last key of a row without a disposition."""

Pattern = bytes | None
"""A row's text with ``%s`` where its own values go (None: this kind is encoded whole)."""


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
        self._subjects: dict[tuple[object, ...], tuple[tuple[str, ...], Any, Any, object]] = {}
        self._threats: dict[tuple[object, ...], Pattern] = {}
        self._excluded: dict[tuple[object, ...], Pattern] = {}
        self._labels: dict[tuple[str | None, ...], bytes | None] = {}
        self._cause_texts: dict[
            tuple[int, int], tuple[Cause, bytes | None, tuple[bytes, bytes] | None]
        ] = {}
        self._cause_patterns: dict[tuple[object, ...], Pattern] = {}

    def _subject(self, threat: Threat) -> tuple[tuple[str, ...], Any, Any, object]:
        """The subject fields of ``threat``'s row that it has (sorted), their values' text
        before ``id`` and after it (and the location the row's line is from, held so the id
        that finds this stays its own)."""
        location = threat.location
        key = (threat.element, threat.flow, threat.source, threat.target, id(location))
        found = self._subjects.get(key)
        if found is not None:
            return found
        values: dict[str, Any] = {"subject": self.rows.subject(threat)}
        if threat.element is not None:
            values["element"] = threat.element
        if threat.flow is not None:
            values.update(flow=threat.flow, source=threat.source, target=threat.target)
        place = self.rows.location(threat)
        if place is not None and place.line is not None:
            values["line"] = place.line
        names = tuple(sorted(values))
        texts = {name: _kept(value) for name, value in values.items()}
        if None in texts.values():  # the row is written as the standard library writes it
            names = ()
        found = (
            names,
            tuple(texts[n] for n in names if n in _BEFORE_KEY),
            tuple(texts[n] for n in names if n not in _BEFORE_KEY),
            location,
        )
        self._subjects[key] = found
        return found

    def threats(self, entries: Sequence[Entry], depth: int) -> Iterator[bytes]:
        """The text of each entry's row, ``depth`` levels deep."""
        patterns = self._threats
        subject = self._subject
        whole = self._whole_threat
        for entry in entries:
            threat = entry.threat
            if entry.disposition is not None or entry.problems or entry.controls:
                yield whole(entry, depth)
                continue
            names, before, after, _ = subject(threat)
            if not names:
                yield whole(entry, depth)
                continue
            kind = (_SHARED(threat), entry.status, names, depth)
            pattern = patterns.get(kind, b"")
            if pattern == b"":
                pattern = patterns[kind] = self._threat_pattern(entry, names, depth)
            key = _json(threat.key)
            title = _json(threat.title)
            if pattern is None or key is None or title is None:
                yield whole(entry, depth)
            else:
                yield pattern % (*before, key, *after, title)

    def _whole_threat(self, entry: Entry, depth: int) -> bytes:
        return nested(self.rows.threat(entry), depth)

    def _threat_pattern(self, entry: Entry, names: tuple[str, ...], depth: int) -> Pattern:
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
        """The text of each designed-out threat's row, ``depth`` levels deep."""
        patterns = self._excluded
        subject = self._label
        causes_text = self._causes_text
        for exclusion in exclusions:
            threat = exclusion.threat
            kind = (threat.rule_id, threat.stride, threat.severity, depth)
            pattern = patterns.get(kind, b"")
            if pattern == b"":
                pattern = patterns[kind] = self._excluded_pattern(exclusion, depth)
            causes = causes_text(exclusion.causes, depth)
            key = _json(threat.key)
            title = _json(threat.title)
            label = subject(threat)
            if pattern is None or causes is None or key is None or title is None or label is None:
                yield nested(self.rows.excluded(exclusion), depth)
            else:
                yield pattern % (causes[0], causes[1], key, label, title)

    def _label(self, threat: Threat) -> bytes | None:
        """The text of the threat's subject label (see ``RegisterRows.subject``)."""
        key = (threat.element, threat.flow, threat.source, threat.target)
        found = self._labels.get(key, b"")
        if found == b"":
            found = self._labels[key] = _kept(self.rows.subject(threat))
        return found

    def _causes_text(self, causes: tuple[Cause, ...], depth: int) -> tuple[bytes, bytes] | None:
        """The text of a designed-out row's ``causes`` and ``excluded_by``, or None when the
        compiled encoder refuses something in them."""
        if len(causes) == 1:
            return self._cause(causes[0], depth)[1]
        texts = []
        for cause in causes:
            text = self._cause(cause, depth)[0]
            if text is None:
                return None
            texts.append(text)
        excluded_by = _json(" and ".join(cause.text for cause in causes))
        if not texts or excluded_by is None:
            return None
        inner = pad(depth + 2)
        listed = b"[" + inner + (b"," + inner).join(texts) + pad(depth + 1) + b"]"
        return listed, excluded_by

    def _cause(self, cause: Cause, depth: int) -> tuple[bytes | None, tuple[bytes, bytes] | None]:
        """One cause's text as an item of a ``causes`` list, and the text of ``causes`` and
        ``excluded_by`` of a row with only this cause (None where the encoder refuses)."""
        found = self._cause_texts.get((id(cause), depth))
        if found is not None:
            return found[1], found[2]
        text = self._cause_item(cause, depth + 2)
        alone = None
        excluded_by = _kept(cause.text)
        if text is not None and excluded_by is not None:
            alone = (b"[" + pad(depth + 2) + text + pad(depth + 1) + b"]", excluded_by)
        self._cause_texts[(id(cause), depth)] = (cause, text, alone)
        return text, alone

    def _cause_item(self, cause: Cause, depth: int) -> bytes | None:
        """A cause's text, ``depth`` levels deep; its pattern is shared by the causes that
        differ only in the element or flow they are about."""
        value = cause.value
        if cause.implemented_by or type(value) not in _PLAIN:
            return _whole(self.rows.cause(cause), depth)
        kind = (cause.condition, cause.name, type(value), value, depth)
        pattern = self._cause_patterns.get(kind, b"")
        if pattern == b"":
            row = self.rows.cause(cause)
            row["item"] = _marker(self._token, "item")
            text = _whole(row, depth)
            found = None if text is None else _cut(text, self._token, ("item",))
            pattern = self._cause_patterns[kind] = found
        item = _json(cause.item)
        if pattern is None or item is None:
            return _whole(self.rows.cause(cause), depth)
        return pattern % (item,)

    def _excluded_pattern(self, exclusion: Exclusion, depth: int) -> Pattern:
        row = self.rows.excluded(exclusion)
        own = ("causes", "excluded_by", "id", "subject", "title")
        if not all(name in row for name in own):
            return None
        token = self._token
        for name in own:
            row[name] = _marker(token, name)
        text = _whole(row, depth)
        return None if text is None else _cut(text, token, own)


_PLAIN = (str, int, bool, float, type(None))


def _json(value: object) -> bytes | None:
    """A value's JSON text, or None when the compiled encoder refuses it (text that is not
    valid Unicode, an integer beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return None


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
