"""How much input threatdelta accepts, in one place, and the checks every reader makes.

Models, rule packs and settings come from pull requests, so anything in them may be hostile. The
limits below are far above what a real threat model needs and low enough that a file within them
is read, enumerated and reviewed in seconds (the element and flow caps are the largest size the
benchmarks in BENCHMARKS.md run at). Each is checked before the work that grows
with it: the file size before reading or parsing; nesting, value count, string length and
number length while or right after the text is parsed (before any model is built); element,
flow and boundary counts and boundary nesting before the model's structure is worked out.

README.md ("Limits") lists the same numbers for users.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from threatdelta.errors import InputError, Location

MAX_FILE_BYTES = 16 * 1024 * 1024
"""Largest model, rule-pack or settings file read (16 MiB); only this much + 1 byte is read."""
MAX_NESTING = 64
"""Deepest nesting of lists and mappings (YAML, JSON) or of XML elements."""
MAX_NODES = 2_000_000
"""Most values (scalars, lists, mappings) in one YAML or JSON file, aliases expanded: twice what
a model at the element and flow limits below holds."""
MAX_XML_TAGS = 1_000_000
"""Most XML elements in one .tm7 or .tb7 file."""
MAX_STRING_CHARS = 256 * 1024
"""Longest single string (a name, a description, a template's embedded image): 256 Ki characters."""
MAX_NAME_CHARS = 200
"""Longest id or name of an element, flow, boundary or control, or system name: they are
repeated in every threat about them, in titles, keys and reports."""
MAX_NUMBER_CHARS = 100
"""Longest number written in a file, in characters."""
MAX_ITEMS = 40_000
"""Most items in one list or mapping (or children of one XML element)."""
MAX_ELEMENTS = 20_000
"""Most elements (external entities, processes, data stores) in one model."""
MAX_FLOWS = 40_000
"""Most data flows in one model."""
MAX_BOUNDARIES = 2_000
"""Most trust boundaries in one model."""
MAX_BOUNDARY_DEPTH = 32
"""Most trust boundaries nested inside one another."""

_SURROGATE = re.compile("[\ud800-\udfff]")

Pointer = tuple[str | int, ...]
Locate = Callable[[Sequence[str | int]], Location]


def check_size(size: int, path: str, what: str = "file") -> None:
    """Refuse a file of ``size`` bytes when it is over :data:`MAX_FILE_BYTES`."""
    if size > MAX_FILE_BYTES:
        shown = "more than" if size == MAX_FILE_BYTES + 1 else f"{size} bytes,"
        raise InputError(
            f"the {what} is {shown} {MAX_FILE_BYTES} bytes ({MAX_FILE_BYTES // (1024 * 1024)} MiB), "
            "the most threatdelta reads; split it or make it smaller",
            Location(path),
        )


def string_problem(text: str) -> str | None:
    """Why ``text`` cannot be accepted as a string of a model, or None."""
    if len(text) > MAX_STRING_CHARS:
        return (
            f"a text of {len(text)} characters; at most {MAX_STRING_CHARS} are accepted "
            "in one string"
        )
    if _SURROGATE.search(text) is not None:
        return (
            "a text with an unpaired UTF-16 surrogate (an escape such as \\ud800 on its own), "
            "which is not a character; remove it"
        )
    return None


def number_problem(text: str) -> str | None:
    """Why the written number ``text`` cannot be accepted, or None."""
    if len(text) > MAX_NUMBER_CHARS:
        return (
            f"a number written with {len(text)} characters; at most {MAX_NUMBER_CHARS} are accepted"
        )
    return None


def check_data(data: Any, locate: Locate) -> None:
    """Walk parsed JSON/YAML ``data`` once (without recursion) and refuse it when it is nested
    deeper than :data:`MAX_NESTING`, holds more than :data:`MAX_NODES` values, or a string
    (key or value) that :func:`string_problem` refuses. ``locate`` turns a pointer into a
    location for the message."""
    if _within_limits(data):
        return
    stack: list[tuple[Any, Pointer]] = [(data, ())]
    nodes = 0
    while stack:
        value, pointer = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise InputError(
                f"the file holds more than {MAX_NODES} values, more than a model can sensibly "
                "hold; it is refused",
                locate(pointer),
            )
        if isinstance(value, str):
            problem = string_problem(value)
            if problem is not None:
                raise InputError(f"this value is {problem}", locate(pointer))
            continue
        if not isinstance(value, (dict, list)):
            continue
        if len(pointer) >= MAX_NESTING:
            raise InputError(
                f"nesting is deeper than {MAX_NESTING} levels; flatten the document",
                locate(pointer),
            )
        if len(value) > MAX_ITEMS:
            raise InputError(too_many_items(len(value)), locate(pointer))
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    problem = string_problem(key)
                    if problem is not None:
                        raise InputError(f"this key is {problem}", locate(pointer))
                stack.append((item, (*pointer, key)))
        else:
            stack.extend((item, (*pointer, index)) for index, item in enumerate(value))


def _within_limits(data: Any) -> bool:
    """True when :func:`check_data` has nothing to say about ``data``: the same checks, without
    building a pointer per value (which only a message needs), so the common case is cheap."""
    if isinstance(data, str):
        return string_problem(data) is None
    if not isinstance(data, (dict, list)):
        return True
    search = _SURROGATE.search
    nodes = 1
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= MAX_NESTING or len(value) > MAX_ITEMS:
            return False
        nodes += len(value)
        if nodes > MAX_NODES:
            return False
        if isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and (
                    len(key) > MAX_STRING_CHARS or (not key.isascii() and search(key) is not None)
                ):
                    return False
            items: Any = value.values()
        else:
            items = value
        for item in items:
            if isinstance(item, str):
                if len(item) > MAX_STRING_CHARS or (
                    not item.isascii() and search(item) is not None
                ):
                    return False
            elif isinstance(item, (dict, list)):
                stack.append((item, depth + 1))
    return True


def too_many_items(count: int, what: str = "this list or mapping") -> str:
    """The message for ``what`` holding ``count`` items, over :data:`MAX_ITEMS`."""
    return f"{what} holds {count} items; at most {MAX_ITEMS} are accepted in one (split the model)"


def check_count(what: str, count: int, limit: int, location: Location) -> None:
    """Refuse a model with more than ``limit`` ``what`` (``"elements"``, ``"data flows"``, ...)."""
    if count > limit:
        raise InputError(
            f"the model has {count} {what}; at most {limit} are accepted in one model "
            "(split it into several models)",
            location,
        )


def check_name(what: str, text: str, location: Location) -> None:
    """Refuse an id or name (``what`` says which) longer than :data:`MAX_NAME_CHARS`."""
    if len(text) > MAX_NAME_CHARS:
        raise InputError(
            f"{what} is {len(text)} characters long; at most {MAX_NAME_CHARS} are accepted "
            "(put long text in a description)",
            location,
        )


def check_model_counts(elements: int, flows: int, boundaries: int, location: Location) -> None:
    """Refuse a model whose element, flow or boundary count is over its limit."""
    check_count("elements", elements, MAX_ELEMENTS, location)
    check_count("data flows", flows, MAX_FLOWS, location)
    check_count("trust boundaries", boundaries, MAX_BOUNDARIES, location)


ELEMENTS = ("elements", MAX_ELEMENTS)
"""What :func:`check_sections` counts for a list of elements, and its limit."""
FLOWS = ("data flows", MAX_FLOWS)
"""What :func:`check_sections` counts for a list of flows, and its limit."""
BOUNDARIES = ("trust boundaries", MAX_BOUNDARIES)
"""What :func:`check_sections` counts for a list of boundaries, and its limit."""


def check_sections(data: Any, sections: Mapping[str, tuple[str, int]], locate: Locate) -> None:
    """Refuse parsed ``data`` whose top-level list ``key`` holds more items than its limit, for
    each ``key -> (what, limit)`` of ``sections``; called before a reader looks at the items."""
    if not isinstance(data, Mapping):
        return
    for key, (what, limit) in sections.items():
        items = data.get(key)
        if isinstance(items, list):
            check_count(what, len(items), limit, locate((key,)))
