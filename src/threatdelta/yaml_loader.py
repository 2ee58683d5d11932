"""The one place that parses YAML: bounded, safe, with a position for every node.

Models and rule packs are untrusted. This module reads exactly one YAML document into plain
Python data (dict, list, str, int, float, bool, None) and remembers where each node was written,
so later stages can report ``path:line:column`` for any value they reject.

The parser (PyYAML's safe parser, libyaml when available) only produces events; the tree is built
here, which is where the limits are enforced: input size, nesting depth and the number of nodes
after alias expansion (a "billion laughs" document fails at the alias that crosses the limit).

Plain scalars resolve per the YAML 1.2 core schema, restricted to the forms that YAML 1.1 reads
the same way, so a file means the same thing to every parser. Forms the two versions disagree on
(``yes``, ``on``, ``017``, ``0o17``, ``1_000``, ``1:20``, ``1e3``) stay strings; see
:func:`yaml11_reading` for a sentence that explains such a value to the user.

A block reader (:func:`block_load`) reads the plain block style most models and rule packs are
written in, a line per regular-expression match, and hands anything else to the builders below,
which read PyYAML's parser events (PyYAML is imported only then).
Two builders read the same parser events. The quick one (libyaml only) covers what models are
made of: plain, quoted and block scalars, sequences and mappings, within the limits. It records
positions only for the top two levels (sections and their items, which every model object
carries) and gives up on anything else: an anchor, alias or tag, a second document, a merge key,
a duplicate or non-scalar key, a limit crossed, a syntax error. The strict builder then reads the
text from the start, so every error and its location is the strict builder's. A location deeper
than two levels is found by re-reading the text with the strict builder, once, when first asked.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress, count, repeat
from operator import add, itemgetter
from typing import TYPE_CHECKING, Any

from threatdelta.collector import relaxed_collection
from threatdelta.encoding import decode_text
from threatdelta.errors import InputError, Location
from threatdelta.limits import (
    MAX_FILE_BYTES,
    MAX_ITEMS,
    MAX_NESTING,
    MAX_NODES,
    MAX_NUMBER_CHARS,
    MAX_STRING_CHARS,
    number_problem,
    string_problem,
    too_many_items,
)

if TYPE_CHECKING:
    import yaml
    from yaml import events

__all__ = ["YamlDocument", "block_load", "load_yaml", "quick_load", "yaml11_reading"]


def _pyyaml() -> None:
    """Import PyYAML as this module's ``yaml`` and ``events``: only the builders that read
    parser events need it, and a text the block reader takes is read without it."""
    global yaml, events
    if "events" not in globals():
        import yaml
        from yaml import events


_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_SEQ_TAGS = {None, "!", f"{_TAG}seq"}
_MAP_TAGS = {None, "!", f"{_TAG}map"}

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_DEC_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_HEX_INT = re.compile(r"^0x[0-9a-fA-F]+$")
# A float both YAML 1.1 and 1.2 agree on: digits with a dot, an optional signed exponent.
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")

# Forms YAML 1.1 parsers read as something other than a string, which we keep as strings.
_Y11_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_Y11_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_Y12_OCTAL = re.compile(r"^0o[0-7]+$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_UNDERSCORE_NUM = re.compile(r"^[-+]?(?:0x[0-9a-fA-F_]+|0b[01_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_BARE_EXPONENT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][0-9]+$")
_SIGNED_HEX = re.compile(r"^[-+]0x[0-9a-fA-F]+$")
_BINARY = re.compile(r"^[-+]?0b[01_]+$")


def yaml11_reading(text: str) -> str | None:
    """How a YAML 1.1 parser would read this string, when that differs from YAML 1.2; else None.

    Returns a short phrase such as ``"a boolean"`` or ``"an octal number"``, for messages like
    "'yes' is a string in YAML 1.2, not a boolean: write true or false".
    """
    if _Y11_BOOL.match(text):
        return "a boolean"
    if _Y12_OCTAL.match(text):
        return "an octal number"
    if "_" not in text and _Y11_OCTAL.match(text):
        return "an octal number"
    if _LEADING_ZERO.match(text):
        return "a number with a leading zero"
    if "_" in text and _UNDERSCORE_NUM.match(text):
        return "a number with '_' separators"
    if _SEXAGESIMAL.match(text):
        return "a base-60 number"
    if _BARE_EXPONENT.match(text):
        return "a number with an unsigned exponent"
    if _SIGNED_HEX.match(text) or _BINARY.match(text):
        return "a number"
    return None


# Positions: a scalar is (line, column, None); a sequence (line, column, [child positions]);
# a mapping (line, column, {key: (key_line, key_column, value position)}). Lines and columns
# are 1-based. Aliases reuse the anchored node's children under the alias's own position.
_Pos = tuple[int, int, list[Any] | dict[Any, Any] | None]


@dataclass(frozen=True)
class YamlDocument:
    """One parsed YAML document: plain data plus where each node was written."""

    data: Any
    """The document as plain dicts, lists, strings, ints, floats, bools and None."""
    path: str
    """The file name used in locations."""
    _positions: _Pos | None = field(default=None, repr=False, compare=False)
    """Position tree parallel to ``data`` (internal)."""
    _shallow: _Pos | None = field(default=None, repr=False, compare=False)
    """The position tree's top two levels, when ``_positions`` is not built yet (internal)."""
    _reread: _Reread | None = field(default=None, repr=False, compare=False)
    """How to build ``_positions`` on first need: the text and limits it was read with."""

    def location(self, pointer: Sequence[str | int]) -> Location:
        """Where the node at ``pointer`` (keys and indexes from the root) was written.

        When the exact node is absent (a missing required key, say), the nearest existing
        ancestor's location is returned. ``pointer`` has the form of jsonschema's
        ``error.absolute_path``.
        """
        pos = self._walk(pointer)[0]
        if pos is None:
            return Location(self.path)
        return Location(self.path, pos[0], pos[1])

    def item_locations(self, pointer: Sequence[str | int], count: int) -> list[Location]:
        """``location([*pointer, index])`` for each index below ``count``, in one walk (a
        reader locating every item of a list)."""
        pos, steps = self._walk(pointer) if len(pointer) < _SHALLOW_DEPTH else (None, -1)
        children = pos[2] if pos is not None and steps == len(pointer) else None
        if not isinstance(children, list) or len(children) < count:
            return [self.location([*pointer, index]) for index in range(count)]
        path = self.path
        return [Location(path, line, column) for line, column, _ in children[:count]]

    def key_location(self, pointer: Sequence[str | int]) -> Location:
        """Where the mapping key that ``pointer`` ends with was written (for unknown keys).

        Falls back to :meth:`location` when the last step is not a key of a mapping.
        """
        self._tree(len(pointer))  # the key's entry sits as deep as the pointer reaches
        pos, steps = self._walk(pointer[:-1]) if pointer else (None, 0)
        if pointer and pos is not None and steps == len(pointer) - 1:
            children = pos[2]
            if isinstance(children, dict) and pointer[-1] in children:
                key_line, key_column, _ = children[pointer[-1]]
                return Location(self.path, key_line, key_column)
        return self.location(pointer)

    def _tree(self, depth: int) -> _Pos | None:
        """A position tree good for a walk of ``depth`` steps."""
        if self._positions is None and self._reread is not None:
            if depth <= _SHALLOW_DEPTH:
                return self._shallow
            positions = self._reread.positions()
            object.__setattr__(self, "_positions", positions)
            object.__setattr__(self, "_reread", None)
            object.__setattr__(self, "_shallow", None)
        return self._positions

    def _walk(self, pointer: Sequence[str | int]) -> tuple[_Pos | None, int]:
        pos = self._tree(len(pointer))
        steps = 0
        if pos is None:
            return None, 0
        for step in pointer:
            children = pos[2]
            if isinstance(children, dict):
                try:
                    entry = children.get(step)
                except TypeError:  # an unhashable step cannot be a key
                    entry = None
                if entry is None:
                    break
                pos = entry[2]
            elif (
                isinstance(children, list) and isinstance(step, int) and not isinstance(step, bool)
            ):
                if not 0 <= step < len(children):
                    break
                pos = children[step]
            else:
                break
            steps += 1
        return pos, steps


_SHALLOW_DEPTH = 2
"""Levels of positions the quick builder records: a model's sections and their items."""
_EVERY_LEVEL = 1 << 30
"""Levels of positions a re-read for positions records: all."""


@dataclass(frozen=True)
class _Reread:
    """What re-reading a document with the strict builder takes, to find its positions: the
    data as the caller gave it (which the caller holds anyway; the decoded text is not kept)."""

    data: bytes | str
    path: str
    max_bytes: int
    max_depth: int
    max_nodes: int
    max_items: int

    def positions(self) -> _Pos | None:
        text = _decode(self.data, self.path, self.max_bytes)
        limits = (self.max_depth, self.max_nodes, self.max_items)
        block = block_load(text, *limits, _everywhere=True)
        if block is not None:
            return block[1]
        return _strict_load(text, self.path, *limits, False)._positions


@dataclass
class _Node:
    """A finished node while the tree is being built."""

    value: Any
    pos: _Pos
    size: int
    height: int
    is_scalar: bool
    merge_key: bool = False


@dataclass
class _Open:
    """A sequence or mapping whose end event has not arrived yet."""

    value: Any
    pos: _Pos
    anchor: str | None
    is_map: bool
    size: int = 1
    height: int = 0
    key: _Node | None = None


def _parser_class(pure: bool) -> type[Any]:
    if not pure and getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader
    return yaml.SafeLoader


def load_yaml(
    data: bytes | str,
    path: str,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_depth: int = MAX_NESTING,
    max_nodes: int = MAX_NODES,
    max_items: int = MAX_ITEMS,
    _pure: bool = False,
    _quick: bool = True,
) -> YamlDocument:
    """Parse exactly one YAML document from ``data``; raise InputError on anything unsafe or bad.

    ``data`` is UTF-8 (or UTF-16/32, see :mod:`threatdelta.encoding`). Limits: ``max_bytes`` of input,
    ``max_depth`` nested sequences/mappings, ``max_nodes`` nodes counting every alias expansion,
    ``max_items`` entries in one sequence or mapping; every string and number is held to
    :func:`threatdelta.limits.string_problem` and :func:`threatdelta.limits.number_problem`.
    """
    text = _decode(data, path, max_bytes)
    if not _pure and _quick:
        with relaxed_collection():  # all it builds is kept: no garbage for the collector to find
            quick = block_load(text, max_depth, max_nodes, max_items)
            if quick is None:
                _pyyaml()
                if getattr(yaml, "__with_libyaml__", False):
                    quick = quick_load(text, max_depth, max_nodes, max_items)
        if quick is not None:
            reread = _Reread(data, path, max_bytes, max_depth, max_nodes, max_items)
            return YamlDocument(quick[0], path, _shallow=quick[1], _reread=reread)
    return _strict_load(text, path, max_depth, max_nodes, max_items, _pure)


def _strict_load(
    text: str, path: str, max_depth: int, max_nodes: int, max_items: int, pure: bool
) -> YamlDocument:
    _pyyaml()
    builder = _Builder(path, max_depth, max_nodes, max_items)
    parser_class = _parser_class(pure)
    parser: Any = None
    try:
        try:
            parser = parser_class(text)
            while True:
                event = parser.get_event()
                if event is None or builder.feed(event):
                    break
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, path) from None
        except yaml.reader.ReaderError as exc:
            raise _reader_error(exc, text, path, parser_class is not yaml.SafeLoader) from None
        except yaml.YAMLError as exc:
            raise InputError(f"cannot parse YAML: {exc}", Location(path)) from None
    finally:
        if parser is not None:
            parser.dispose()
    return YamlDocument(builder.root_value(), path, builder.root_pos())


def _decode(data: bytes | str, path: str, max_bytes: int) -> str:
    if isinstance(data, str):
        size = len(data)
        if size <= max_bytes:
            try:
                size = len(data.encode("utf-8"))
            except UnicodeEncodeError as exc:
                before = data[: exc.start]
                raise InputError(
                    "the text holds a character that cannot be written as UTF-8; remove it",
                    Location(path, before.count("\n") + 1, exc.start - before.rfind("\n")),
                ) from None
        text = data
    else:
        size = len(data)
        text = ""
    if size > max_bytes:
        raise InputError(
            f"the file is {size} bytes, more than the limit of {max_bytes}; make the file smaller",
            Location(path),
        )
    if isinstance(data, bytes):
        text = decode_text(data, path)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _line_column(mark: Any) -> tuple[int, int]:
    if mark is None:
        return 1, 1
    return int(mark.line) + 1, int(mark.column) + 1


def _mark_location(path: str, mark: Any) -> Location:
    if mark is None:
        return Location(path)
    return Location(path, int(mark.line) + 1, int(mark.column) + 1)


def _syntax_error(exc: yaml.MarkedYAMLError, path: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem and exc.context_mark is not None:
        message += f" ({exc.context} started at line {exc.context_mark.line + 1})"
    return InputError(message, _mark_location(path, mark))


def _reader_error(
    exc: yaml.reader.ReaderError, text: str, path: str, bytes_offset: bool
) -> InputError:
    position = int(exc.position)
    if bytes_offset:  # libyaml counts bytes of the UTF-8 encoding
        prefix = text.encode("utf-8", "surrogatepass")[:position].decode("utf-8", "replace")
    else:
        prefix = text[:position]
    line = prefix.count("\n") + 1
    column = len(prefix) - (prefix.rfind("\n") + 1) + 1
    character = exc.character
    shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
    return InputError(
        f"the file contains a character YAML does not allow ({shown}); remove it",
        Location(path, line, column),
    )


class _Builder:
    """Turns parser events into plain data and positions, enforcing the limits."""

    def __init__(self, path: str, max_depth: int, max_nodes: int, max_items: int) -> None:
        self.path = path
        self.max_items = max_items
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0
        self.stack: list[_Open] = []
        self.anchors: dict[str, _Node] = {}
        self.root: _Node | None = None
        self.documents = 0
        self.aliases = 0

    def root_value(self) -> Any:
        return None if self.root is None else self.root.value

    def root_pos(self) -> _Pos | None:
        return None if self.root is None else self.root.pos

    def error(self, message: str, mark: Any) -> InputError:
        return InputError(message, _mark_location(self.path, mark))

    def feed(self, event: events.Event) -> bool:
        """Handle one event; True when the stream has ended."""
        if isinstance(event, events.StreamEndEvent):
            if self.documents == 0:
                raise InputError(
                    "the file is empty; it must hold one YAML document", Location(self.path, 1, 1)
                )
            return True
        if isinstance(event, events.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.error(
                    "a second YAML document starts here; the file must hold exactly one "
                    "(remove the '---' separator or split the file)",
                    event.start_mark,
                )
            self.anchors = {}
        elif isinstance(event, events.ScalarEvent):
            self.count(1, event.start_mark)
            node = self.scalar(event)
            self.finish(node, event.anchor, event.start_mark)
        elif isinstance(event, (events.SequenceStartEvent, events.MappingStartEvent)):
            self.open(event)
        elif isinstance(event, (events.SequenceEndEvent, events.MappingEndEvent)):
            top = self.stack.pop()
            node = _Node(top.value, top.pos, top.size, top.height, is_scalar=False)
            self.finish(node, top.anchor, None)
        elif isinstance(event, events.AliasEvent):
            self.alias(event)
        return False

    def count(self, amount: int, mark: Any) -> None:
        self.nodes += amount
        if self.nodes > self.max_nodes:
            if not self.aliases:
                raise self.error(
                    f"the file holds more than {self.max_nodes} values, more than it can "
                    "sensibly hold; it is refused",
                    mark,
                )
            raise self.error(
                f"too many nodes / aliases: the document expands to more than {self.max_nodes} "
                "nodes; remove the aliases that repeat large parts of it",
                mark,
            )

    def open(self, event: events.CollectionStartEvent) -> None:
        is_map = isinstance(event, events.MappingStartEvent)
        allowed = _MAP_TAGS if is_map else _SEQ_TAGS
        if event.tag not in allowed:
            raise self.error(_tag_message(event.tag), event.start_mark)
        if len(self.stack) + 1 > self.max_depth:
            raise self.error(
                f"nesting is deeper than {self.max_depth} levels; flatten the document",
                event.start_mark,
            )
        self.count(1, event.start_mark)
        line, column = _line_column(event.start_mark)
        if is_map:
            children: dict[Any, Any] | list[Any] = {}
            value: Any = {}
        else:
            children = []
            value = []
        self.check_key_position(is_scalar=False, mark=event.start_mark)
        self.stack.append(_Open(value, (line, column, children), event.anchor, is_map))

    def alias(self, event: events.AliasEvent) -> None:
        self.aliases += 1
        name = event.anchor
        target = self.anchors.get(name) if name is not None else None
        if target is None:
            if any(frame.anchor == name for frame in self.stack):
                raise self.error(
                    f"alias '*{name}' refers to a node that contains it; recursive data is "
                    "not allowed",
                    event.start_mark,
                )
            raise self.error(
                f"alias '*{name}' refers to no anchor defined before it", event.start_mark
            )
        self.count(target.size, event.start_mark)
        if len(self.stack) + target.height > self.max_depth:
            raise self.error(
                f"nesting is deeper than {self.max_depth} levels once alias '*{name}' is "
                "expanded; flatten the document",
                event.start_mark,
            )
        line, column = _line_column(event.start_mark)
        node = _Node(
            target.value,
            (line, column, target.pos[2]),
            target.size,
            target.height,
            target.is_scalar,
        )
        self.finish(node, None, event.start_mark)

    def scalar(self, event: events.ScalarEvent) -> _Node:
        line, column = _line_column(event.start_mark)
        text = event.value
        tag = event.tag
        plain = bool(event.implicit[0]) and tag is None
        problem = string_problem(text)
        if problem is None and (plain or tag in _SCALAR_TAGS) and _is_number(text):
            problem = number_problem(text)
        if problem is not None:
            raise self.error(f"this value is {problem}", event.start_mark)
        merge = plain and text == "<<"
        if tag is None:
            value = _resolve_plain(text) if plain else text
        elif tag == "!" or tag == f"{_TAG}str":
            value = text
        elif tag in _SCALAR_TAGS:
            value = _resolve_plain(text)
            expected = tag[len(_TAG) :]
            kinds = {"int": (int,), "float": (float, int), "bool": (bool,), "null": (type(None),)}
            ok = isinstance(value, kinds[expected]) and not (
                expected in ("int", "float") and isinstance(value, bool)
            )
            if not ok:
                raise self.error(
                    f"'{text}' is not a valid !!{expected} value; remove the tag or fix the value",
                    event.start_mark,
                )
            if expected == "float":
                value = float(value)
        else:
            raise self.error(_tag_message(tag), event.start_mark)
        return _Node(value, (line, column, None), 1, 0, is_scalar=True, merge_key=merge)

    def check_key_position(self, *, is_scalar: bool, mark: Any) -> None:
        if not is_scalar and self.stack:
            top = self.stack[-1]
            if top.is_map and top.key is None:
                raise self.error(
                    "a mapping key must be a plain value (a string or number), "
                    "not a list or mapping",
                    mark,
                )

    def finish(self, node: _Node, anchor: str | None, mark: Any) -> None:
        if anchor is not None:
            self.anchors[anchor] = node
        if not self.stack:
            self.root = node
            return
        top = self.stack[-1]
        top.size += node.size
        top.height = max(top.height, node.height + 1)
        if len(top.value) >= self.max_items and (not top.is_map or top.key is None):
            raise InputError(
                too_many_items(len(top.value) + 1), Location(self.path, top.pos[0], top.pos[1])
            )
        if not top.is_map:
            top.value.append(node.value)
            children = top.pos[2]
            assert isinstance(children, list)
            children.append(node.pos)
            return
        if top.key is None:
            self.check_key_position(is_scalar=node.is_scalar, mark=mark)
            key_mark = (node.pos[0], node.pos[1])
            if node.merge_key:
                raise InputError(
                    "merge keys ('<<') are not supported; write the keys out in full",
                    Location(self.path, *key_mark),
                )
            try:
                duplicate = node.value in top.value
            except TypeError:  # pragma: no cover - keys are scalars, always hashable
                duplicate = False
            if duplicate:
                raise InputError(
                    f"duplicate key {_show(node.value)} in this mapping; each key may appear "
                    "only once",
                    Location(self.path, *key_mark),
                )
            top.key = node
            return
        key = top.key
        top.key = None
        top.value[key.value] = node.value
        children = top.pos[2]
        assert isinstance(children, dict)
        children[key.value] = (key.pos[0], key.pos[1], node.pos)


# --- the quick builder ---------------------------------------------------------------------

_NO_KEY = object()
"""A mapping waiting for its next key (None is a valid key)."""
_NOT_ONLY_TEXT = frozenset("0123456789+-.~nNtTfF")
"""First characters of the plain scalars that may resolve to something other than a string."""
_NOT_TEXT = _NOT_ONLY_TEXT | frozenset("'\"{[")
"""First characters of the scalars and flow collections written as more than a plain string."""


class _GiveUp(Exception):
    """The quick builder met something it leaves to the strict one."""


def quick_load(
    text: str,
    max_depth: int = MAX_NESTING,
    max_nodes: int = MAX_NODES,
    max_items: int = MAX_ITEMS,
) -> tuple[Any, _Pos | None] | None:
    """The plain data of ``text`` and its positions two levels deep, or None to say "read it
    with the strict builder" (it holds an anchor, alias or tag, several documents or none, a
    merge key, a duplicate or non-scalar key, crosses a limit, or does not parse). Needs libyaml.

    When it returns data, that data is exactly what the strict builder returns for ``text``.
    """
    _pyyaml()
    try:
        return _quick(text, max_depth, max_nodes, max_items)
    except (_GiveUp, yaml.YAMLError, ValueError):
        return None


def _quick(  # one loop over the events, kept in one frame for speed
    text: str, max_depth: int, max_nodes: int, max_items: int
) -> tuple[Any, _Pos | None]:
    scalar_event = events.ScalarEvent
    mapping_start = events.MappingStartEvent
    sequence_start = events.SequenceStartEvent
    ends = (events.MappingEndEvent, events.SequenceEndEvent)
    document_start = events.DocumentStartEvent
    resolved: dict[str, Any] = {}
    # One string object per distinct text: keys, kinds, protocols and ids named again and again
    # (a flow's ends, an element's boundary) share the first one read.
    texts: dict[str, str] = {}
    parser = yaml.CSafeLoader(text)
    get_event = parser.get_event
    # The open collection: its value, whether it is a mapping, the key waiting for its value
    # (with the key's line and column) and where its children's positions go (None below the
    # recorded levels); the enclosing ones on the stack.
    stack: list[tuple[Any, bool, Any, int, int, Any]] = []
    current: Any = None
    is_map = False
    key: Any = _NO_KEY
    key_line = key_column = 0
    children: Any = None
    root: Any = _NO_KEY
    root_pos: _Pos | None = None
    nodes = 0
    documents = 0
    try:
        while True:
            event: Any = get_event()
            kind = type(event)
            if kind is scalar_event:
                if event.anchor is not None or event.tag is not None:
                    raise _GiveUp
                nodes += 1
                value = event.value
                if len(value) > MAX_STRING_CHARS or nodes > max_nodes:
                    raise _GiveUp
                if event.implicit[0]:
                    if not value:
                        value = None
                    elif value[0] in _NOT_ONLY_TEXT:
                        if value in resolved:
                            value = resolved[value]
                        else:
                            if len(value) > MAX_NUMBER_CHARS and _is_number(value):
                                raise _GiveUp
                            plain = value
                            value = _resolve_plain(plain)
                            if type(value) is str:
                                value = texts.setdefault(value, value)
                            resolved[plain] = value
                    elif value == "<<" and is_map and key is _NO_KEY:
                        raise _GiveUp
                    else:
                        value = texts.setdefault(value, value)
                else:
                    if event.style == '"' and string_problem(value) is not None:  # escapes
                        raise _GiveUp
                    value = texts.setdefault(value, value)
                if children is not None or current is None:
                    mark = event.start_mark
                    pos: Any = (mark.line + 1, mark.column + 1, None)
                if current is None:
                    root, root_pos = value, pos
                elif not is_map:
                    current.append(value)
                    if children is not None:
                        children.append(pos)
                elif key is _NO_KEY:
                    if value in current:
                        raise _GiveUp
                    key = value
                    if children is not None:
                        key_line, key_column = pos[0], pos[1]
                else:
                    current[key] = value
                    if children is not None:
                        children[key] = (key_line, key_column, pos)
                    key = _NO_KEY
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or event.tag is not None:
                    raise _GiveUp
                nodes += 1
                depth = len(stack) + (current is not None)
                if depth + 1 > max_depth or nodes > max_nodes:
                    raise _GiveUp
                value = {} if kind is mapping_start else []
                pos = None
                inner: Any = None
                if children is not None or current is None:
                    mark = event.start_mark
                    if depth < _SHALLOW_DEPTH:
                        inner = {} if kind is mapping_start else []
                    pos = (mark.line + 1, mark.column + 1, inner)
                if current is None:
                    root, root_pos = value, pos
                elif not is_map:
                    current.append(value)
                    if children is not None:
                        children.append(pos)
                elif key is _NO_KEY:
                    raise _GiveUp  # a list or mapping as a key
                else:
                    current[key] = value
                    if children is not None:
                        children[key] = (key_line, key_column, pos)
                    key = _NO_KEY
                if current is not None:
                    stack.append((current, is_map, key, key_line, key_column, children))
                current, is_map, key, children = value, kind is mapping_start, _NO_KEY, inner
            elif kind in ends:
                if len(current) > max_items:
                    raise _GiveUp
                if stack:
                    current, is_map, key, key_line, key_column, children = stack.pop()
                else:
                    current, children = None, None
            elif kind is document_start:
                documents += 1
                if documents > 1:
                    raise _GiveUp
            elif event is None or kind is events.StreamEndEvent:
                break
            elif kind is events.AliasEvent:
                raise _GiveUp
    finally:
        parser.dispose()
    if documents == 0 or root is _NO_KEY:
        raise _GiveUp
    return root, root_pos


# --- the block reader ----------------------------------------------------------------------
#
# Most models are written in a small part of YAML: block mappings and sequences, one entry a
# line, with plain or simply quoted scalars, one-line flow mappings and lists of such scalars,
# and folded text (``key: >-`` and plain lines below it, see :func:`_unfolded`). The block
# reader reads exactly that part, a line per match of one regular expression, and gives up
# (the quick builder then reads the text) on anything else: an anchor, alias, tag, other
# block scalar, comment after a value, escape, multi-line scalar, document marker, directive,
# tab, a character libyaml refuses or reads as a line break, a duplicate key, a limit crossed,
# an empty value within the recorded levels. What it accepts it reads as the strict builder
# does: the same data, the same positions (two levels of them, or all of them when a document
# is read again for positions, see :class:`_Reread`).

# Characters outside libyaml's printable set, and those it reads as more than one character
# (tab, carriage return, NEL, the Unicode line and paragraph separators, a byte-order mark).
_BLOCK_UNSAFE = (
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
"""Pattern of the characters above; compiled (a few milliseconds) on the first text that is not
all ASCII, see :func:`_block_unsafe`."""
_KEY_CHARS = r"[A-Za-z0-9_.~/+@>=-]"
_PLAIN_KEY = rf"(?:[A-Za-z0-9_~/]|\.(?!\.)|[-+](?=[A-Za-z0-9_.~])){_KEY_CHARS}*(?::{_KEY_CHARS}+)*"
_SINGLE = r"'[^'\n]*'"
_DOUBLE = r'"[^"\\\n]*"'
_BLOCK_PLAIN = (
    r"(?:[^\s\-?:,\[\]{}#&*!|>'\"%@`]|-(?=[A-Za-z0-9.]))[^\s:]*(?:(?::| +)[^\s:#][^\s:]*)*"
)
_FLOW_PLAIN = r"[-+]?[A-Za-z0-9_.~][A-Za-z0-9_.~/+@>=#-]*"
_FLOW_SCALAR = rf"(?:{_FLOW_PLAIN}|{_SINGLE}|{_DOUBLE})"
_FLOW_MAP = (
    rf"\{{ *(?:{_FLOW_SCALAR}: +{_FLOW_SCALAR} *(?:, *{_FLOW_SCALAR}: +{_FLOW_SCALAR} *)*)?\}}"
)
_FLOW_SEQ = rf"\[ *(?:{_FLOW_SCALAR} *(?:, *{_FLOW_SCALAR} *)*)?\]"
_VALUE = rf"(?:{_BLOCK_PLAIN}|{_SINGLE}|{_DOUBLE}|{_FLOW_MAP}|{_FLOW_SEQ})"
_LINE_BODY = (
    rf"(?:#[^\n]*)?|(- +)?({_PLAIN_KEY}|{_SINGLE}|{_DOUBLE}):(?:( +)({_VALUE}))? *"
    rf"|(- +)({_VALUE}) *|([^\n]+)"
)
_BLOCK_LINE = re.compile(rf"( *)(?:{_LINE_BODY})\n")
"""One line: indent; a comment or nothing; or an entry ``[- ]key: [value]`` (dash, key, spaces,
value); or a list item ``- value`` (dash, value); or anything else (the reader gives up)."""
_ITEM_ENTRY = r"[A-Za-z_][A-Za-z0-9_]*: +[^\n]*[^ \n] *\n"
"""A line ``name: value`` of a list item's mapping (the value not checked yet)."""
_FLAT_ITEM = rf"- {_ITEM_ENTRY}(?:\1  {_ITEM_ENTRY})*"
"""A flat list item: ``- name: value`` and the lines ``name: value`` below it, two columns in."""
_BLOCK_MATCH = re.compile(rf"( *)(?:({_FLAT_ITEM}(?:\1{_FLAT_ITEM})*)|(?:{_LINE_BODY})\n)")
"""Flat list items one after the other, all at one indent (indent, the items from the first
dash), or else one line as :data:`_BLOCK_LINE` reads it."""
_ITEM_PAIR = re.compile(r" *(- )?([A-Za-z_][A-Za-z0-9_]*): +([^\n]*[^ \n]) *\n")
"""One line of flat items: the dash that starts an item, the key and the value as written."""
_VALUES = re.compile(rf"(?:{_VALUE}\n)*")
"""Values as written, one a line, each as :data:`_BLOCK_LINE` accepts a value."""
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
"""The ASCII characters :data:`_BLOCK_UNSAFE` lets through."""
_FLOW_PAIR = re.compile(rf"({_FLOW_SCALAR}): +({_FLOW_SCALAR})")
_FLOW_ITEM = re.compile(_FLOW_SCALAR)
_FOLDED_HEAD = re.compile(
    rf"^( *)((?:- +)?)({_PLAIN_KEY}|{_SINGLE}|{_DOUBLE}):( +)>-\n", re.MULTILINE
)
"""A line ``[- ]key: >-``: a folded block scalar, its text on the lines below."""
_FOLDED_LINE = re.compile(r"( *)([^\n]*)\n")
"""A line: its indent and the rest."""
_WORDS = {"null": None, "Null": None, "NULL": None, **_BOOL}
"""The plain scalars starting with a letter that are not strings."""
_CHUNK = 1 << 16
"""Characters matched into lines at a time (a file's lines are never all held at once)."""


def block_load(
    text: str,
    max_depth: int = MAX_NESTING,
    max_nodes: int = MAX_NODES,
    max_items: int = MAX_ITEMS,
    *,
    _whole_items: bool = True,
    _everywhere: bool = False,
) -> tuple[Any, _Pos | None] | None:
    """Like :func:`quick_load`, for the block-style part of YAML that models are written in;
    None when ``text`` holds anything else (then :func:`quick_load` reads it). Needs no libyaml.

    When it returns data, that data and its positions are what the strict builder gives.
    ``_whole_items=False`` reads flat list items line by line too (the tests' reference).
    ``_everywhere``: positions of every node, as the strict builder records them.
    """
    if text.isascii():  # the common case, checked faster than by the expression
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return None
    elif _block_unsafe().search(text) is not None:
        return None
    unfolded = _unfolded(text)
    if unfolded is None:
        return None
    text = unfolded
    try:
        recorded = _EVERY_LEVEL if _everywhere else 0
        return _Block(max_depth, max_items, _whole_items, recorded).read(text, max_nodes)
    except (_GiveUp, ValueError):
        return None


@functools.cache
def _block_unsafe() -> re.Pattern[str]:
    """:data:`_BLOCK_UNSAFE` compiled."""
    return re.compile(_BLOCK_UNSAFE)


def _unfolded(text: str) -> str | None:
    """``text`` with each folded block scalar (``key: >-`` and its lines below it) written as
    the one quoted scalar it reads as, on the key's line, and its lines left blank, so that
    every line keeps its number and the value its column; None when a block scalar is written
    in a way this does not read exactly as YAML does (the block reader then hands it over).

    Taken: one or more lines of text, all at one indent deeper than the key, without trailing
    spaces, followed by the end or by a line no deeper than the key (blank lines between are
    dropped, as ``-`` says). The lines are joined by spaces."""
    if ">" not in text or ">-\n" not in text:  # (one character is found far faster)
        return text
    if not text.endswith("\n"):
        text += "\n"  # (as the block reader reads the last line)
    pieces: list[str] = []
    done = 0  # how much of ``text`` is in ``pieces``
    size = len(text)
    for head in _FOLDED_HEAD.finditer(text):
        if head.start() < done:
            continue  # a line of the text of the scalar before
        key_column = len(head[1]) + len(head[2])
        lines: list[str] = []
        indent = -1
        at = head.end()
        while at < size:
            line = _FOLDED_LINE.match(text, at)
            assert line is not None  # (every line ends with a line break)
            spaces, written = len(line[1]), line[2]
            if not written:
                if spaces:
                    return None  # a line of spaces only
                at = line.end()
                indent = -2  # only a line no deeper than the key may follow (none first)
                continue
            if spaces <= key_column:
                break
            if indent == -1:
                indent = spaces
            if spaces != indent or written[-1] == " ":
                return None  # a deeper line (kept as it is), text after a blank line, or
                # trailing spaces (kept)
            lines.append(written)
            at = line.end()
        if not lines:
            return None
        value = " ".join(lines)
        if '"' not in value and "\\" not in value:
            quoted = f'"{value}"'
        elif "'" not in value:
            quoted = f"'{value}'"
        else:
            return None
        pieces.append(text[done : head.start()])
        pieces.append(f"{head[1]}{head[2]}{head[3]}:{head[4]}{quoted}\n")
        pieces.append("\n" * text.count("\n", head.end(), at))
        done = at
    pieces.append(text[done:])
    return "".join(pieces)


def _chunks(text: str) -> Iterator[str]:
    """``text`` in pieces of whole lines, each ending with a line break."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + _CHUNK)
        if end < 0:
            yield text[start:] if text.endswith("\n") else text[start:] + "\n"
            return
        yield text[start : end + 1]
        start = end + 1


class _Block:
    """The block reader's state: what it has read, and the values met before."""

    def __init__(
        self, max_depth: int, max_items: int, whole_items: bool = True, recorded: int = 0
    ) -> None:
        self.max_depth = max_depth
        self.max_items = max_items
        self.recorded = recorded or _SHALLOW_DEPTH
        """Levels whose positions are recorded: the sections and their items (the default),
        or every level (a re-read for positions)."""
        self.whole_items = whole_items and self.recorded <= _SHALLOW_DEPTH
        """Read runs of flat list items at once (see :meth:`items`), not line by line."""
        self.nodes = 0
        self.known: dict[str, Any] = {}
        """Scalars as written -> their values (a plain string is its own value, so this also
        keeps one string object per text)."""
        self.values: dict[str, Any] = {}
        """Values of flat list items as written (checked as values) -> their values, the
        same objects as in :attr:`known` and :attr:`flows`."""
        self.flows: dict[str, Any] = {}
        """One-line flow collections as written -> the one object they all read as (like the
        nodes an alias repeats)."""
        self.flow_nodes: dict[str, int] = {}
        """One-line flow collections as written -> the nodes they hold."""

    def read(self, text: str, max_nodes: int) -> tuple[Any, _Pos | None]:  # one loop, one frame
        known_get = self.known.get
        scalar = self.scalar
        max_items = self.max_items
        recorded = self.recorded
        # Open block collections, innermost last: column, value, is it a mapping, its
        # children's positions (None below the recorded levels), levels below the root.
        stack: list[tuple[int, Any, bool, Any, int]] = []
        # The innermost one: column, value when a mapping, children's positions, level.
        indent_of, mapping, children, depth = -1, None, None, 0
        root: Any = _NO_KEY
        root_pos: _Pos | None = None
        # ``key:`` alone, the value on the lines below: (mapping frame, key, line, column).
        pending: tuple[tuple[int, Any, bool, Any, int], Any, int, int] | None = None
        # The mapping a list item ``- key: value`` opened last (below the recorded levels), and
        # the column of its dash. While it is the innermost collection, the flat items that
        # follow it in its list are read all at once (see :meth:`items`).
        item_frame: tuple[int, Any, bool, Any, int] | None = None
        item_indent = -1
        nodes = 0
        number = 0
        for chunk in _chunks(text):
            if len(chunk) > MAX_STRING_CHARS:
                raise _GiveUp  # a line that long may hold a string over the limit
            for (
                lead,
                run,
                line_dash,
                line_written,
                line_gap,
                line_rest,
                line_item_dash,
                line_item,
                line_other,
            ) in _BLOCK_MATCH.findall(chunk):
                if run and (not self.whole_items or type(root) is not dict):
                    lines = _BLOCK_LINE.findall(lead + run)  # (a list at the root: line by line)
                    run = ""
                elif run:
                    pairs = _ITEM_PAIR.findall(run)
                    starts = list(compress(count(), map(itemgetter(0), pairs)))
                    if (
                        item_frame is not None
                        and pending is None
                        and stack[-1] is item_frame
                        and len(lead) == item_indent
                    ):
                        lines = []
                    else:  # the first item line by line, to open its list or find it
                        cut = starts[1] if len(starts) > 1 else len(pairs)
                        end = run.find(f"\n{lead}- ")
                        lines = _BLOCK_LINE.findall(f"{lead}{run[: end + 1] if end >= 0 else run}")
                        pairs = pairs[cut:]
                        starts = [start - cut for start in starts[1:]]
                else:
                    lines = [
                        (
                            lead,
                            line_dash,
                            line_written,
                            line_gap,
                            line_rest,
                            line_item_dash,
                            line_item,
                            line_other,
                        )
                    ]
                for spaces, dash, written, gap, rest, item_dash, item, other in lines:
                    number += 1
                    if (
                        rest
                        and not dash
                        and pending is None
                        and mapping is not None
                        and len(spaces) == indent_of
                    ):
                        # The common line: ``key: value`` in the open mapping.
                        key = known_get(written, _NO_KEY)
                        if key is _NO_KEY:
                            key = scalar(written, 0)
                        value = known_get(rest, _NO_KEY)
                        if value is _NO_KEY:
                            value = scalar(rest, depth + 1)
                        if key in mapping:
                            raise _GiveUp
                        mapping[key] = value
                        nodes += 2
                        if children is not None:
                            column = indent_of + len(written) + len(gap) + 2
                            position = self.shallow(value, number, column, depth + 1, rest)
                            children[key] = (number, indent_of + 1, position)
                        continue
                    if other:
                        raise _GiveUp
                    if not written and not item:
                        continue  # blank or a comment
                    indent = len(spaces)
                    is_dash = bool(dash or item_dash)
                    if root is _NO_KEY:
                        if indent or self.max_depth < 1:
                            raise _GiveUp
                        root = [] if is_dash else {}
                        root_pos = (number, 1, [] if is_dash else {})
                        stack.append((0, root, not is_dash, root_pos[2], 0))
                        nodes += 1
                    elif pending is not None:
                        frame, key, key_line, key_column = pending
                        pending = None
                        nodes += 1  # the value: a block collection or empty
                        if indent > frame[0] or (indent == frame[0] and is_dash):
                            block = self.open(
                                frame, key, key_line, key_column, number, indent, is_dash
                            )
                            stack.append(block)
                        elif frame[3] is not None:
                            raise _GiveUp  # an empty value within the recorded levels
                    nodes += 1
                    while stack[-1][0] > indent or (
                        stack[-1][0] == indent
                        and not is_dash
                        and not stack[-1][2]
                        and len(stack) > 1
                        and stack[-2][0] == indent
                    ):
                        if len(stack.pop()[1]) > max_items:
                            raise _GiveUp
                    top = stack[-1]
                    if top[0] != indent or top[2] == is_dash:
                        raise _GiveUp
                    if dash:  # ``- key: ...``: a mapping as a list item
                        indent += len(dash)
                        level = top[4] + 1
                        if level + 1 > self.max_depth:
                            raise _GiveUp
                        nodes += 1
                        inner: dict[Any, Any] | None = {} if level < recorded else None
                        top[1].append({})
                        if top[3] is not None:
                            top[3].append((number, indent + 1, inner))
                        top = (indent, top[1][-1], True, inner, level)
                        stack.append(top)
                        if inner is None:
                            item_frame, item_indent = top, indent - len(dash)
                    indent_of, mapping, children, depth = (
                        top[0],
                        top[1] if top[2] else None,
                        top[3],
                        top[4],
                    )
                    if item_dash:
                        value = known_get(item, _NO_KEY)
                        if value is _NO_KEY:
                            value = scalar(item, depth + 1)
                        top[1].append(value)
                        if children is not None:
                            column = indent + len(item_dash) + 1
                            children.append(self.shallow(value, number, column, depth + 1, item))
                        continue
                    key = known_get(written, _NO_KEY)
                    if key is _NO_KEY:
                        key = scalar(written, 0)
                    assert mapping is not None
                    if key in mapping:
                        raise _GiveUp
                    if not rest:
                        mapping[key] = None  # keeps the key's place; the value follows
                        pending = (top, key, number, indent + 1)
                        continue
                    nodes += 1
                    value = known_get(rest, _NO_KEY)
                    if value is _NO_KEY:
                        value = scalar(rest, depth + 1)
                    mapping[key] = value
                    if children is not None:
                        column = indent + len(written) + len(gap) + 2
                        children[key] = (
                            number,
                            indent + 1,
                            self.shallow(value, number, column, depth + 1, rest),
                        )
                if run and pairs:
                    if (
                        item_frame is None
                        or pending is not None
                        or stack[-1] is not item_frame
                        or len(lead) != item_indent
                    ):
                        raise _GiveUp  # (the first item, read line by line, is the innermost)
                    if len(item_frame[1]) > max_items:
                        raise _GiveUp
                    level = item_frame[4]
                    entry, count_of = self.items(
                        pairs, starts, stack[-2], number + 1, item_indent + 3, level
                    )
                    number += len(pairs)
                    nodes += count_of
                    item_frame = (item_indent + 2, entry, True, None, level)
                    stack[-1] = item_frame
                    indent_of, mapping = item_indent + 2, entry
        if pending is not None:
            nodes += 1
            if pending[0][3] is not None:
                raise _GiveUp
        for frame in stack:
            if len(frame[1]) > max_items:
                raise _GiveUp
        if root is _NO_KEY or nodes + self.nodes > max_nodes:
            raise _GiveUp
        return root, root_pos

    def open(
        self,
        frame: tuple[int, Any, bool, Any, int],
        key: Any,
        key_line: int,
        key_column: int,
        number: int,
        indent: int,
        is_dash: bool,
    ) -> tuple[int, Any, bool, Any, int]:
        """The block collection that is the value of a pending key."""
        depth = frame[4] + 1
        if depth + 1 > self.max_depth:
            raise _GiveUp
        value: Any = [] if is_dash else {}
        inner: Any = None
        if depth < self.recorded:
            inner = [] if is_dash else {}
        frame[1][key] = value
        if frame[3] is not None:
            frame[3][key] = (key_line, key_column, (number, indent + 1, inner))
        return indent, value, not is_dash, inner, depth

    def shallow(self, value: Any, number: int, column: int, depth: int, written: str) -> _Pos:
        """The recorded position of a value ``written`` on one line at ``column``."""
        if isinstance(value, (dict, list)) and depth < self.recorded:
            if not value:
                return (number, column, {} if isinstance(value, dict) else [])
            if isinstance(value, list):
                return (
                    number,
                    column,
                    [(number, column + m.start(), None) for m in _FLOW_ITEM.finditer(written)],
                )
            return (
                number,
                column,
                {
                    self.scalar(m[1], 0): (
                        number,
                        column + m.start(1),
                        (number, column + m.start(2), None),
                    )
                    for m in _FLOW_PAIR.finditer(written)
                },
            )
        return (number, column, None)

    def scalar(self, written: str, depth: int) -> Any:
        """The value of a scalar or one-line flow collection as written, a node ``depth``
        levels below the root; scalars are remembered (one string object per text)."""
        first = written[0]
        if first == "{" or first == "[":
            return self.flow(written, depth)
        if len(written) > MAX_STRING_CHARS:
            raise _GiveUp
        value: Any
        if first == "'" or first == '"':
            value = written[1:-1]
            plain = self.known.get(value)
            if type(plain) is str:
                value = plain
        elif first in "nNtTfF":
            value = _WORDS.get(written, written)
        elif first in _NOT_ONLY_TEXT:
            if len(written) > MAX_NUMBER_CHARS and _is_number(written):
                raise _GiveUp
            value = _resolve_plain(written)
        else:
            value = written
        self.known[written] = value
        return value

    def flow(self, written: str, depth: int) -> Any:
        """A one-line flow mapping or list of scalars, a node ``depth`` levels below the root."""
        if depth + 1 > self.max_depth:
            raise _GiveUp
        value = self.flow_value(written)
        self.nodes += self.flow_nodes[written]
        return value

    def flow_value(self, written: str) -> Any:
        """The one object a one-line flow collection reads as; its nodes are noted in
        :attr:`flow_nodes`."""
        value = self.flows.get(written)
        if value is None:
            if written[0] == "{":
                pairs = _FLOW_PAIR.findall(written)
                value = {self.scalar(k, 0): self.scalar(v, 0) for k, v in pairs}
                if len(value) != len(pairs):
                    raise _GiveUp  # a duplicate key
            else:
                value = [self.scalar(v, 0) for v in _FLOW_ITEM.findall(written)]
            if len(value) > self.max_items:
                raise _GiveUp
            self.flows[written] = value
            self.flow_nodes[written] = len(value) * (2 if isinstance(value, dict) else 1)
        return value

    def items(
        self,
        pairs: list[tuple[str, str, str]],
        starts: list[int],
        parent: tuple[int, Any, bool, Any, int],
        line: int,
        column: int,
        level: int,
    ) -> tuple[dict[Any, Any], int]:
        """Read flat list items at once: ``pairs`` are their lines (the dash that starts an
        item, key and value as written), ``starts`` the indexes of the lines that start items,
        the first one on ``line``; their mappings are ``level`` levels below the root and go
        into the list ``parent``. Returns the last item's mapping and the number of nodes read.

        Every item is read as its lines would be one by one (each value checked as
        :data:`_BLOCK_LINE` checks it): the same values, keys, limits and positions.
        """
        values = self.values
        known = self.known
        texts = list(map(itemgetter(2), pairs))
        fresh = set(texts).difference(values)
        if fresh:
            self.learn(fresh, level + 1)
        names = list(map(itemgetter(1), pairs))
        for name in set(names).difference(known):
            self.scalar(name, 0)
        keys = list(map(known.__getitem__, names))
        read = list(map(values.__getitem__, texts))
        cuts = list(map(slice, starts, [*starts[1:], len(pairs)]))
        entries = list(
            map(dict, map(zip, map(keys.__getitem__, cuts), map(read.__getitem__, cuts)))
        )
        sizes = list(map(len, entries))
        if sum(sizes) != len(pairs):
            raise _GiveUp  # a duplicate key
        if max(sizes) > self.max_items:
            raise _GiveUp
        if level + 2 > self.max_depth and any(map(self.flows.__contains__, texts)):
            raise _GiveUp  # a flow collection one level too deep
        inner = sum(map(self.flow_nodes.get, texts, repeat(0)))
        parent[1].extend(entries)
        if parent[3] is not None:
            parent[3].extend(zip(map(add, starts, repeat(line)), repeat(column), repeat(None)))
        return entries[-1], len(entries) + 2 * len(pairs) + inner

    def learn(self, fresh: set[str], depth: int) -> None:
        """Check and read values written in flat items, met for the first time, ``depth``
        levels below the root."""
        if _VALUES.fullmatch("\n".join(fresh) + "\n") is None:
            raise _GiveUp  # a value the line by line reader refuses
        values = self.values
        remember = self.known.setdefault
        for text in fresh:
            first = text[0]
            if first not in _NOT_TEXT:  # a plain string, its own value
                values[text] = remember(text, text)
            elif first == "{" or first == "[":
                values[text] = self.flow_value(text)
            else:
                values[text] = self.scalar(text, depth)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _tag_message(tag: str | None) -> str:
    shown = f"!!{tag[len(_TAG) :]}" if tag and tag.startswith(_TAG) else tag
    return (
        f"the YAML tag '{shown}' is not supported; a model holds plain data only (remove the tag)"
    )


def _is_number(text: str) -> bool:
    return bool(_DEC_INT.match(text) or _HEX_INT.match(text) or _FLOAT.match(text))


def _resolve_plain(text: str) -> Any:
    """Resolve an untagged plain scalar per the YAML 1.2 core schema (1.1-ambiguous forms: str)."""
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _DEC_INT.match(text):
        return int(text)
    if _HEX_INT.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text
