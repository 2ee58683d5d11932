"""The rows of ``check --format json`` written as JSON text without making each row first.

A register's rows repeat themselves: every threat of one rule with the same severity,
exploitability, hazards, assets and suggested countermeasures has the same row but for its key,
its title and what it is about (element, flow, its ends, their label, the line). The text of such
a row is cut from a pattern: the row :class:`~threatdelta.render.data.RegisterRows` makes for the
first threat of its kind, encoded once with markers where the threat's own values go.

What a row says of its place (ids, label, line, and the values its title's placeholders are
filled with) is encoded once per place, into one list. A title with placeholders is part of the
pattern: its fixed words are encoded once with the pattern and the place's values go between
them (JSON escapes text one character at a time, so the text of a filled title is the text of
its pieces end to end); a title without placeholders is put into its rule's pattern once. Each
row then costs the encoding of its key and one formatting of its pattern with the place's list.
The same holds for threats designed out by one property that names no control (the pattern is
per rule and cause; the cause's element or flow is filled in).

Rows the pattern cannot stand for (a threat with a disposition: its status, problems and decision
are its own; a designed-out threat with several causes or with controls behind one; anything the
compiled encoder refuses) are made by :class:`~threatdelta.render.data.RegisterRows` and encoded
whole, as before. Either way the text is the text of the row ``RegisterRows`` makes; tests hold
the two against each other on random models.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, TypeVar

import orjson

from threatdelta.render.jsontext import nested, pad
from threatdelta.threat import Text, shares

if TYPE_CHECKING:
    from threatdelta.exclusions import Exclusion
    from threatdelta.register import Entry
    from threatdelta.render.data import RegisterRows
    from threatdelta.threat import Place, Threat, ThreatPart

_Row = TypeVar("_Row")
"""An entry or a designed-out threat: what a row is made from."""

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_dumps = orjson.dumps

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
these (and on which subject fields they have, and on their title's pattern) have rows cut from
one pattern."""

_BATCH = 1024
"""Rows joined into one piece of text."""

Slots = tuple[tuple[int, int, str], ...]
"""A title's placeholders (see :attr:`~threatdelta.threat.Text.slots`)."""

Texts = list[object]
"""What rows say of a place, made once per place: the key and the cause's item of the row being
written (set for each row: the key without quotes, the item's JSON), the place's layout, the
place itself (held: the caches find places by ``id()``), the JSON of the subject fields (see
:data:`_SUBJECT_FIELDS`), then the text of each placeholder value of each subject, without
quotes (None: unset, not text, or refused by the encoder; a row whose title shows it is
encoded whole)."""

_KEY = 0
_ITEM = 1
_LAYOUT = 2
"""Where a place's texts hold its layout: the subject fields a threat's row has there (sorted)
and how many placeholder values each subject has. Places of one layout have their texts in
the same order (None: the encoder refuses one of the fields; rows there are encoded whole)."""
_PLACE = 3
_FIRST = 4
"""Where the place's own texts start."""


_SUBJECT_FIELDS = {
    (element, flow, line): tuple(
        name
        for name, present in (
            ("element", element),
            ("flow", flow),
            ("line", line),
            ("source", flow),
            ("subject", True),
            ("target", flow),
        )
        if present
    )
    for element in (False, True)
    for flow in (False, True)
    for line in (False, True)
}
"""The subject fields a row has (in the order they sort in; ``id`` sorts after ``element`` and
``flow`` and before the others), by whether its place has an element, a flow and a line."""

_HEAD = ("element", "flow")


class _Cut:
    """The pattern of rows of one kind at places of one layout: the row's text with ``%s``
    where a row's own values go, and which of the place's texts they are."""

    __slots__ = ("layout", "pattern", "pick")

    def __init__(
        self,
        layout: tuple[object, ...] | None,
        pattern: bytes | None = None,
        pick: Callable[[Texts], tuple[object, ...]] = itemgetter(_KEY, _KEY),
    ) -> None:
        self.layout = layout
        """The layout of the places it is for."""
        self.pattern = pattern
        """None: such rows are encoded whole."""
        self.pick = pick


class _Pieces:
    """A row's text cut at its markers: the text between them (``%`` not doubled)."""

    __slots__ = ("pieces",)

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def pattern(self, fixed: dict[int, bytes]) -> bytes:
        """The text with ``%s`` at each marker but those in ``fixed`` (by their order), which
        get the text given."""
        parts = [self.pieces[0].replace(b"%", b"%%")]
        for at, piece in enumerate(self.pieces[1:]):
            parts.append(fixed[at].replace(b"%", b"%%") if at in fixed else b"%s")
            parts.append(piece.replace(b"%", b"%%"))
        return b"".join(parts)


def _cut(text: bytes, markers: Sequence[bytes]) -> _Pieces | None:
    """``text`` cut at each of ``markers``, or None unless each appears once and in their
    order."""
    pieces = []
    last = 0
    for marker in markers:
        at = text.find(marker, last)
        if at < 0 or text.count(marker) != 1:
            return None
        pieces.append(text[last:at])
        last = at + len(marker)
    pieces.append(text[last:])
    return _Pieces(pieces)


class _Markers:
    """Markers put into a row where its own values go: unlike any text of the model (a random
    token) and written by the encoder as they are (no character in them is escaped)."""

    def __init__(self) -> None:
        self.token = os.urandom(8).hex()

    def text(self, name: str) -> str:
        """The marker, as a value or as part of one."""
        return f"@{self.token}:{name}@"

    def quoted(self, name: str) -> bytes:
        """Where the marker stands for a whole value: its text as the encoder writes it."""
        return _dumps(self.text(name))

    def bare(self, name: str) -> bytes:
        """Where it stands inside a string: the marker alone, the quotes left in the row."""
        return self.text(name).encode()

    def title(self, row: dict[str, object], title: str | Text) -> list[bytes]:
        """Put markers into the row's title (one for each placeholder of a title with
        placeholders, else one for the whole title's text); what to cut at."""
        if isinstance(title, Text) and title.slots:
            names = [f"t{i}" for i in range(len(title.slots))]
            row["title"] = title.pattern.format(*map(self.text, names))
            return [self.bare(name) for name in names]
        row["title"] = self.text("title")
        return [self.bare("title")]


class RowText:
    """Writes the rows of one register (see :class:`~threatdelta.render.data.RegisterRows`,
    whose rows these are the text of) from patterns shared by many rows."""

    def __init__(self, rows: RegisterRows) -> None:
        self.rows = rows
        self._markers = _Markers()
        self._held: list[object] = []
        """Rule parts the caches below find by ``id()``: held, so no id is another object's."""
        self._at: dict[int, Texts] = {}
        self._layouts: dict[tuple[object, ...], tuple[object, ...]] = {}
        self._ids: dict[str | None, bytes | None] = {}
        self._last: dict[int, dict[int, _Cut]] = {}
        """Per depth, per rule part, the cut used last for a threat's row (most threats of
        one part are at places of one layout)."""
        self._cuts: dict[tuple[object, ...], _Cut] = {}
        self._pieces: dict[tuple[object, ...], _Pieces | None] = {}

    # What rows say of a place.

    def _place(self, threat: Threat, place: Place) -> Texts:
        """The place's texts (made once per place)."""
        ids = self._ids
        element, flow = place.element, place.flow
        location = place.location if place.location is not None else self.rows.location(threat)
        line = location.line if location is not None else None
        texts: Texts = [None, None, None, place]
        self._at[id(place)] = texts
        if element is not None:
            texts.append(ids[element] if element in ids else self._id_text(element))
        if flow is not None:
            texts.append(ids[flow] if flow in ids else self._id_text(flow))
        if line is not None:
            texts.append(b"%d" % line if type(line) is int else _kept(line))
        if flow is not None:
            texts.append(self._id_text(place.source))
        texts.append(_kept(self.rows.place_subject(place)))
        if flow is not None:
            texts.append(self._id_text(place.target))
        if None in texts[_FIRST:]:
            return texts
        values = place.values
        layout = (
            _SUBJECT_FIELDS[element is not None, flow is not None, line is not None],
            *map(len, values),
        )
        texts[_LAYOUT] = self._layouts.setdefault(layout, layout)
        for subject in values:
            for value in subject:
                texts.append(_value_text(value) if type(value) is str else None)
        return texts

    def _id_text(self, item: str | None) -> bytes | None:
        """The text of an element's or flow's id (or null), once per id."""
        found = self._ids.get(item, b"")
        if found == b"":
            found = self._ids[item] = _kept(item)
        return found

    # Threats.

    def threats(self, entries: Sequence[Entry], depth: int) -> Iterator[bytes]:
        """The text of the entries' rows, ``depth`` levels deep, joined by the text between
        rows (in pieces of many rows)."""
        last = self._last.setdefault(depth, {})
        places = self._at
        whole = self._whole_threat
        between = b"," + pad(depth)
        batch: list[bytes] = []
        for rows in _batches(entries):
            append = batch.append
            for entry, threat, key, (part, place) in rows:
                if (
                    entry.disposition is not None
                    or entry.problems
                    or entry.controls
                    or entry.status != "open"
                ):
                    append(whole(entry, depth))
                    continue
                texts = places.get(id(place))
                if texts is None:
                    texts = self._place(threat, place)
                cut = last.get(id(part))
                if cut is None or cut.layout is not texts[_LAYOUT]:
                    cut = last[id(part)] = self._threat_cut(entry, texts, depth)
                texts[_KEY] = key
                try:
                    append(cut.pattern % cut.pick(texts))  # type: ignore[operator]
                except TypeError:  # no pattern, a key the encoder refuses, a value not text
                    append(whole(entry, depth))
            yield between.join(batch)
            batch = [b""]  # the next piece starts with the text between rows

    def _whole_threat(self, entry: Entry, depth: int) -> bytes:
        return nested(self.rows.threat(entry), depth)

    def _threat_cut(self, entry: Entry, texts: Texts, depth: int) -> _Cut:
        """The cut of rows like ``entry``'s at places like the one of ``texts`` (made once per
        rule part and layout of place; the pieces once per kind of row)."""
        threat = entry.threat
        part = shares(threat)[0]
        layout = _layout(texts)
        kind = ("threat", id(part), id(layout), depth)
        cut = self._cuts.get(kind)
        if cut is not None:
            return cut
        self._held.append(part)
        cut = self._cuts[kind] = _Cut(layout)
        if layout is None:
            return cut
        fields = layout[0]
        assert isinstance(fields, tuple)
        title = part.title
        slots = title.slots if isinstance(title, Text) else ()
        shared = (_SHARED(threat), fields, title if slots else None, depth)
        pieces = self._pieces.get(shared, _NO_PIECES)
        if pieces is _NO_PIECES:
            pieces = self._pieces[shared] = self._threat_pieces(entry, fields, title, depth)
        values = _positions(layout, slots)
        shown = b'""' if slots else _kept(title if isinstance(title, str) else title.fill(()))
        if pieces is None or values is None or shown is None:
            return cut
        head = sum(name in _HEAD for name in fields)
        before = range(_FIRST, _FIRST + head)
        after = range(_FIRST + head, _FIRST + len(fields))
        fixed = {} if slots else {len(fields) + 1: shown[1:-1]}
        cut.pattern = pieces.pattern(fixed)
        cut.pick = itemgetter(*[*before, _KEY, *after, *values])
        return cut

    def _threat_pieces(
        self, entry: Entry, fields: tuple[str, ...], title: str | Text, depth: int
    ) -> _Pieces | None:
        """The text of ``entry``'s row cut where the place's fields before ``id``, the key
        (inside its quotes), the place's fields after it, and the title's text (inside its
        quotes: the whole title, or each placeholder's value) go."""
        row = self.rows.threat(entry)
        markers = self._markers
        if not all(name in row for name in (*fields, "id", "title")):
            return None
        for name in fields:
            row[name] = markers.text(name)
        row["id"] = markers.text("id")
        inner = markers.title(row, title)
        text = _whole(row, depth)
        if text is None:
            return None
        return _cut(
            text,
            [
                *(markers.quoted(name) for name in fields if name in _HEAD),
                markers.bare("id"),
                *(markers.quoted(name) for name in fields if name not in _HEAD),
                *inner,
            ],
        )

    # Designed-out threats.

    def excluded(self, exclusions: Sequence[Exclusion], depth: int) -> Iterator[bytes]:
        """The text of each designed-out threat's row, ``depth`` levels deep, joined by the text
        between rows (in pieces of many rows). A row with one cause that names no control is
        cut from the pattern of its rule's part and its cause's condition and property; any
        other is made and encoded whole."""
        cuts = self._cuts
        places = self._at
        whole = self._whole_excluded
        ids = self._ids
        between = b"," + pad(depth)
        batch: list[bytes] = []
        for rows in _batches(exclusions):
            append = batch.append
            for exclusion, threat, key, (part, place) in rows:
                causes = exclusion.causes
                cause = causes[0] if len(causes) == 1 else None
                value = cause.value if cause is not None else None
                if cause is None or cause.implemented_by or type(value) not in _PLAIN:
                    append(whole(exclusion, depth))
                    continue
                texts = places.get(id(place))
                if texts is None:
                    texts = self._place(threat, place)
                kind = (
                    id(part),
                    id(texts[_LAYOUT]),
                    cause.condition,
                    cause.name,
                    type(value),
                    value,
                    depth,
                )
                cut = cuts.get(kind)
                if cut is None:
                    cut = self._excluded_cut(exclusion, texts, depth, kind)
                item = cause.item
                texts[_ITEM] = ids[item] if item in ids else self._id_text(item)
                texts[_KEY] = key
                try:
                    append(cut.pattern % cut.pick(texts))  # type: ignore[operator]
                except TypeError:  # no pattern, an id or key the encoder refuses, a value not text
                    append(whole(exclusion, depth))
            yield between.join(batch)
            batch = [b""]

    def _whole_excluded(self, exclusion: Exclusion, depth: int) -> bytes:
        return nested(self.rows.excluded(exclusion), depth)

    def _excluded_cut(
        self, exclusion: Exclusion, texts: Texts, depth: int, kind: tuple[object, ...]
    ) -> _Cut:
        """The cut of designed-out rows like ``exclusion``'s (one cause, no control) at places
        like the one of ``texts``, found by ``kind`` (made once per rule part, cause, layout of place and
        depth; the pieces once per kind of row)."""
        threat = exclusion.threat
        part = shares(threat)[0]
        self._held.append(part)
        layout = _layout(texts)
        cut = self._cuts[kind] = _Cut(layout)
        if layout is None:
            return cut
        fields = layout[0]
        assert isinstance(fields, tuple)
        title = part.title
        slots = title.slots if isinstance(title, Text) else ()
        (cause,) = exclusion.causes
        shared = (
            threat.rule_id,
            threat.stride,
            threat.severity,
            cause.condition,
            cause.name,
            type(cause.value),
            cause.value,
            title if slots else None,
            depth,
        )
        pieces = self._pieces.get(shared, _NO_PIECES)
        if pieces is _NO_PIECES:
            pieces = self._pieces[shared] = self._excluded_pieces(exclusion, title, depth)
        values = _positions(layout, slots)
        shown = b'""' if slots else _kept(title if isinstance(title, str) else title.fill(()))
        if pieces is None or values is None or shown is None:
            return cut
        fixed = {} if slots else {3: shown[1:-1]}
        cut.pattern = pieces.pattern(fixed)
        cut.pick = itemgetter(*[_ITEM, _KEY, _FIRST + fields.index("subject"), *values])
        return cut

    def _excluded_pieces(
        self, exclusion: Exclusion, title: str | Text, depth: int
    ) -> _Pieces | None:
        """The text of ``exclusion``'s row cut where its cause's item, its key (inside its
        quotes), its subject label and its title's text (inside its quotes) go."""
        row = self.rows.excluded(exclusion)
        markers = self._markers
        (cause,) = row["causes"]
        cause["item"] = markers.text("item")
        row["id"] = markers.text("id")
        row["subject"] = markers.text("subject")
        inner = markers.title(row, title)
        text = _whole(row, depth)
        if text is None:
            return None
        return _cut(
            text, [markers.quoted("item"), markers.bare("id"), markers.quoted("subject"), *inner]
        )


_NO_PIECES = _Pieces([])
_THREAT = attrgetter("threat")
_KEY_OF = attrgetter("key")


def _batches(
    rows: Sequence[_Row],
) -> Iterator[Iterator[tuple[_Row, Threat, bytes | None, tuple[ThreatPart, Place]]]]:
    """The rows (entries or designed-out threats) :data:`_BATCH` at a time, each with its
    threat, the text of its key and its threat's part and place."""
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        threats: list[Threat] = list(map(_THREAT, chunk))
        yield zip(chunk, threats, _keys(threats), map(shares, threats), strict=True)


def _keys(threats: list[Threat]) -> list[bytes | None]:
    """The text of each threat's key, without quotes (None: the encoder refuses it). Encoded
    together: when no key needs an escape, the text of the list holds no backslash and each
    ``","`` in it is between two keys."""
    keys = list(map(_KEY_OF, threats))
    if keys and set(map(type, keys)) == {str}:
        try:
            text = _dumps(keys)
        except TypeError:
            text = b"\\"
        if b"\\" not in text:
            found: list[bytes | None] = list(text[2:-2].split(b'","'))
            if len(found) == len(keys):
                return found
    return [
        text[1:-1] if type(key) is str and text is not None else None
        for key, text in zip(keys, map(_json, keys), strict=True)
    ]


_PLAIN = (str, int, bool, float, type(None))


def _value_text(value: str) -> bytes | None:
    """The text of a placeholder's value inside a string (None: the encoder refuses it)."""
    try:
        return _dumps(value)[1:-1]
    except TypeError:
        return None


def _layout(texts: Texts) -> tuple[object, ...] | None:
    layout = texts[_LAYOUT]
    assert layout is None or isinstance(layout, tuple)
    return layout


def _positions(layout: tuple[object, ...], slots: Slots) -> list[int] | None:
    """Where in the texts of places of ``layout`` (see :data:`Texts`) the values of the
    placeholders ``slots`` are (None: a placeholder names a value such places do not have)."""
    fields = layout[0]
    counts = layout[1:]
    assert isinstance(fields, tuple)
    start = _FIRST + len(fields)
    found = []
    for subject, index, _written in slots:
        count = counts[subject] if subject < len(counts) else 0
        assert isinstance(count, int)
        if index >= count:
            return None
        offset = sum(n for n in counts[:subject] if isinstance(n, int))
        found.append(start + offset + index)
    return found


def _json(value: object) -> bytes | None:
    """A value's JSON text, or None when the compiled encoder refuses it (text that is not
    valid Unicode, an integer beyond 64 bits)."""
    try:
        return _dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
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
        text = _dumps(value, option=_OPTIONS)
    except TypeError:
        return None
    return text.replace(b"\n", pad(depth)) if depth else text
