"""YAML rule packs: the built-in STRIDE pack, user packs, and the countermeasure catalogue.

A pack file is one YAML mapping::

    version: 1                      # the pack file format; 1 is the only one so far
    name: Our device rules          # shown in reports
    description: ...                # optional
    extends: builtin                # optional: start from the built-in pack
    countermeasures:                # optional: catalogue entries of this pack
      - {id: cable-seal, name: Sealed connector, description: ...}
    rules:
      - id: flow-sniffing           # stable; the first part of every threat key
        stride: I                   # S T R I D E
        scope: flow                 # element | flow | interaction
        title: "{flow.name} can be read in transit"
        description: ...            # optional, plain words
        include: "flow.crosses_boundary"
        exclude: "flow.encrypted"   # optional
        severity: high              # low | medium | high | critical (default medium)
        cwe: [319]                  # optional
        capec: [157]                # optional
        countermeasures: [tls-in-transit]
        category: ...               # optional; defaults to the STRIDE name

With ``extends: builtin`` the pack's rules are added to the built-in ones, and a rule with the
id of a built-in rule replaces it; likewise for countermeasures. Rules of every pack may name any
countermeasure of the built-in catalogue and of their own ``countermeasures`` list.

Everything is checked, and every problem is reported as ``path:line:column: message``: unknown
keys, bad values, duplicate ids, unknown countermeasures, placeholders the scope does not offer,
and rule expressions, whose syntax errors point at the exact place inside the file.

``python -m threatdelta.rules.packfile --doc`` prints the reference page of the built-in pack
(``docs/rules.md``).
"""

from __future__ import annotations

import argparse
import difflib
import functools
import hashlib
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, get_args

from threatdelta.diagnostics import Diagnostics
from threatdelta.errors import InputError, Location
from threatdelta.rules.lang.parser import compile_rule
from threatdelta.rules.lang.tokens import RuleSyntaxError
from threatdelta.rules.pack import (
    EXPLOITABILITIES,
    FIT_WORDS,
    SEVERITIES,
    STRIDE_LETTERS,
    STRIDE_NAMES,
    Countermeasure,
    Exploitability,
    Rule,
    RulePack,
    Scope,
    Severity,
    Stride,
)
from threatdelta.rules.protocols import PROTOCOLS
from threatdelta.yaml_loader import YamlDocument, load_yaml

__all__ = [
    "BUILTIN",
    "MAX_COUNTERMEASURES",
    "MAX_PACK_BYTES",
    "MAX_RULES",
    "SCOPE_SUBJECTS",
    "builtin_catalogue",
    "builtin_pack",
    "load_catalogue",
    "load_pack",
    "main",
    "render_reference",
]

BUILTIN = "builtin"
"""The value of ``extends`` that names the built-in pack."""
FORMAT_VERSION = 1
"""The only pack file format version so far."""
MAX_RULES = 10_000
"""Most rules one pack may hold (after ``extends``)."""
MAX_COUNTERMEASURES = 10_000
"""Most countermeasures one catalogue may hold."""
MAX_PACK_BYTES = 8 * 1024 * 1024
"""Largest pack or catalogue file accepted."""
MAX_ERRORS = 50
"""Errors collected from one file before the rest are left unreported."""
MAX_ID_LENGTH = 100
MAX_NAME_LENGTH = 200
MAX_TITLE_LENGTH = 500
MAX_TEXT_LENGTH = 10_000
MAX_IDS_PER_LIST = 100
_MAX_CWE_CAPEC = 100_000

SCOPE_SUBJECTS: dict[str, frozenset[str]] = {
    "element": frozenset({"element"}),
    "flow": frozenset({"source", "flow", "target"}),
    "interaction": frozenset({"source", "flow", "target"}),
}
"""The subjects a rule of each scope may name, in expressions and in ``{subject.attr}``."""
_SCOPES: tuple[str, ...] = get_args(Scope)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_-]+)\}")
_BRACE = re.compile(r"[{}]")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

_PACK_KEYS = ("version", "name", "description", "extends", "countermeasures", "rules")
_RULE_KEYS = (
    "id",
    "stride",
    "scope",
    "title",
    "description",
    "include",
    "exclude",
    "severity",
    "exploitability",
    "data_raises_severity",
    "cwe",
    "capec",
    "countermeasures",
    "category",
)
_COUNTERMEASURE_KEYS = ("id", "name", "description", "stride", "fits", "verification")

_Pointer = tuple[str | int, ...]


class _TooManyErrors(Exception):
    """Raised inside a reader once :data:`MAX_ERRORS` have been collected."""


@dataclass
class _Reader:
    """Checks one parsed file and collects its errors."""

    doc: YamlDocument
    source: str
    errors: Diagnostics

    @property
    def path(self) -> str:
        return self.doc.path

    def add(self, message: str, location: Location) -> None:
        self.add_error(InputError(message, location))

    def add_error(self, error: InputError) -> None:
        self.errors.add(error)
        if self.errors.error_count >= MAX_ERRORS:
            raise _TooManyErrors

    def mapping(self, value: Any, pointer: _Pointer, what: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(
            f"{what} must be a mapping of keys to values, not {_kind(value)}",
            self.doc.location(pointer),
        )
        return None

    def sequence(self, value: Any, pointer: _Pointer, what: str) -> list[Any] | None:
        if isinstance(value, list):
            return value
        self.add(f"{what} must be a list, not {_kind(value)}", self.doc.location(pointer))
        return None

    def known_keys(
        self, mapping: Mapping[Any, Any], allowed: Sequence[str], pointer: _Pointer, what: str
    ) -> None:
        for key in mapping:
            if key in allowed:
                continue
            shown = key if isinstance(key, str) else str(key)
            close = difflib.get_close_matches(shown, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(allowed)})"
            self.add(
                f"unknown key '{_short(shown)}' in {what}{hint}",
                self.doc.key_location((*pointer, key)),
            )

    def text(
        self,
        mapping: Mapping[str, Any],
        key: str,
        pointer: _Pointer,
        what: str,
        *,
        required: bool,
        limit: int,
    ) -> str | None:
        where = (*pointer, key)
        if key not in mapping or mapping[key] is None:
            if required:
                self.add(f"{what} needs '{key}'", self.doc.location(pointer))
            return None
        value = mapping[key]
        if not isinstance(value, str):
            self.add(f"'{key}' must be text, not {_kind(value)}", self.doc.location(where))
            return None
        if required and not value.strip():
            self.add(f"'{key}' must not be empty", self.doc.location(where))
            return None
        if len(value) > limit:
            self.add(
                f"'{key}' is {len(value)} characters long, more than {limit}",
                self.doc.location(where),
            )
            return None
        return value

    def identifier(self, mapping: Mapping[str, Any], pointer: _Pointer, what: str) -> str | None:
        value = self.text(mapping, "id", pointer, what, required=True, limit=MAX_ID_LENGTH)
        if value is not None and not _ID.match(value):
            self.add(
                f"id '{_short(value)}' may use only letters, digits, '.', '_' and '-', and must "
                "start with a letter or digit (it becomes part of threat keys)",
                self.doc.location((*pointer, "id")),
            )
            return None
        return value

    def choice(
        self,
        mapping: Mapping[str, Any],
        key: str,
        pointer: _Pointer,
        allowed: Sequence[str],
        *,
        default: str | None,
    ) -> str | None:
        if key not in mapping or mapping[key] is None:
            if default is None:
                self.add(
                    f"the rule needs '{key}' (one of: {', '.join(allowed)})",
                    self.doc.location(pointer),
                )
            return default
        value = mapping[key]
        if value in allowed:
            return str(value)
        self.add(
            f"'{key}' must be one of {', '.join(allowed)}, not {_show(value)}",
            self.doc.location((*pointer, key)),
        )
        return None

    def numbers(self, mapping: Mapping[str, Any], key: str, pointer: _Pointer) -> tuple[int, ...]:
        where = (*pointer, key)
        raw = mapping.get(key)
        if raw is None:
            return ()
        values = self.sequence(raw, where, f"'{key}'")
        if values is None:
            return ()
        if len(values) > MAX_IDS_PER_LIST:
            self.add(f"'{key}' lists more than {MAX_IDS_PER_LIST} ids", self.doc.location(where))
            return ()
        out: list[int] = []
        for index, value in enumerate(values):
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and 0 < value < _MAX_CWE_CAPEC
            ):
                out.append(value)
                continue
            hint = ""
            if isinstance(value, str) and re.fullmatch(r"(?i)(cwe|capec)-\d+", value.strip()):
                hint = f" (write {value.strip().split('-')[1]} instead of {value.strip()})"
            self.add(
                f"{key} ids are positive whole numbers, not {_show(value)}{hint}",
                self.doc.location((*where, index)),
            )
        return tuple(out)

    def names(
        self, mapping: Mapping[str, Any], key: str, pointer: _Pointer
    ) -> list[tuple[str, Location]]:
        where = (*pointer, key)
        raw = mapping.get(key)
        if raw is None:
            return []
        values = self.sequence(raw, where, f"'{key}'")
        if values is None:
            return []
        if len(values) > MAX_IDS_PER_LIST:
            self.add(f"'{key}' lists more than {MAX_IDS_PER_LIST} ids", self.doc.location(where))
            return []
        out: list[tuple[str, Location]] = []
        seen: set[str] = set()
        for index, value in enumerate(values):
            location = self.doc.location((*where, index))
            if not isinstance(value, str) or not _ID.match(value):
                self.add(f"'{key}' holds countermeasure ids, not {_show(value)}", location)
                continue
            if value in seen:
                self.add(f"countermeasure '{_short(value)}' is listed twice", location)
                continue
            seen.add(value)
            out.append((value, location))
        return out

    def words(
        self, mapping: Mapping[str, Any], key: str, pointer: _Pointer, allowed: Sequence[str]
    ) -> tuple[str, ...]:
        """A list of words each from ``allowed``, without repeats."""
        where = (*pointer, key)
        raw = mapping.get(key)
        if raw is None:
            return ()
        values = self.sequence(raw, where, f"'{key}'")
        if values is None:
            return ()
        out: list[str] = []
        for index, value in enumerate(values[:MAX_IDS_PER_LIST]):
            if value in allowed and value not in out:
                out.append(str(value))
                continue
            hint = _did_you_mean_hint(value, allowed)
            self.add(
                f"'{key}' holds words from: {', '.join(allowed)}; not {_show(value)}{hint}",
                self.doc.location((*where, index)),
            )
        return tuple(out)

    def expression(self, text: str, pointer: _Pointer, subjects: frozenset[str]) -> object | None:
        try:
            return compile_rule(text, subjects)
        except RuleSyntaxError as error:
            self.add_error(self.place(error, pointer))
            return None

    def place(self, error: RuleSyntaxError, pointer: _Pointer) -> RuleSyntaxError:
        """The error, located at the exact line and column of the problem inside the file."""
        placed = error.relocated(self.doc.location(pointer))
        exact = self.exact(pointer, error.text, error.offset)
        if exact is not None:
            placed.location = exact
        return placed

    def exact(self, pointer: _Pointer, text: str, offset: int) -> Location | None:
        """Where character ``offset`` of the scalar ``text`` at ``pointer`` is in the file."""
        start = self.doc.location(pointer)
        if start.line is None or start.column is None:
            return None
        found = _position_in_source(self.source, start.line, start.column, text, offset)
        return None if found is None else Location(self.path, found[0], found[1])

    def inside(self, pointer: _Pointer, text: str, offset: int) -> Location:
        """:meth:`exact`, or the start of the scalar when the place cannot be worked out."""
        return self.exact(pointer, text, offset) or self.doc.location(pointer)

    def placeholders(
        self, text: str, pointer: _Pointer, subjects: frozenset[str], scope: str
    ) -> None:
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            self.stray_braces(text, position, match.start(), pointer)
            position = match.end()
            subject = match.group(1)
            if subject not in subjects:
                article = "an" if scope[0] in "aeiou" else "a"
                self.add(
                    f"placeholder '{{{subject}.{_short(match.group(2))}}}' names "
                    f"'{_short(subject)}', which {article} {scope} rule does not have "
                    f"(it can use: {', '.join(sorted(subjects))})",
                    self.inside(pointer, text, match.start()),
                )
        self.stray_braces(text, position, len(text), pointer)

    def stray_braces(self, text: str, start: int, end: int, pointer: _Pointer) -> None:
        brace = _BRACE.search(text, start, end)
        if brace is not None:
            self.add(
                "a '{' or '}' that is not part of a placeholder; placeholders are written "
                "{subject.attribute}, e.g. {flow.name}",
                self.inside(pointer, text, brace.start()),
            )


def _did_you_mean_hint(value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(allowed), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _kind(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a value of another kind"


def _short(text: str, limit: int = 40) -> str:
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{_short(value)}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, (int, float)):
        return str(value)
    return _kind(value)


def _position_in_source(
    source: str, line: int, column: int, text: str, offset: int
) -> tuple[int, int] | None:
    """Where character ``offset`` of the scalar ``text`` written at ``line``:``column`` sits.

    The scalar may be plain, quoted or a block scalar (``|`` / ``>``), on one line or folded
    over several. Its non-blank characters are matched in order against the file from the
    scalar's start, skipping blanks, line breaks, indentation and quote or escape characters.
    Returns a 1-based (line, column), or None when the text cannot be matched (an escape
    sequence that changed the characters, say).
    """
    lines = _LINE_BREAK.split(source)
    row, col = line - 1, column - 1
    if not 0 <= row < len(lines):
        return None
    indicator = lines[row][col : col + 1]
    if indicator in ("|", ">"):
        row, col = row + 1, 0
    elif indicator in ("'", '"'):
        col += 1
    target = next((i for i in range(offset, len(text)) if not text[i].isspace()), None)
    after = False
    if target is None:  # the problem is at the end: place it just after the last character
        target = next(
            (i for i in range(min(offset, len(text)) - 1, -1, -1) if not text[i].isspace()), None
        )
        after = True
        if target is None:
            return (row + 1, col + 1)
    for index in range(target + 1):
        char = text[index]
        if char.isspace():
            continue
        while True:
            if row >= len(lines):
                return None
            current = lines[row]
            if col >= len(current):
                row, col = row + 1, 0
                continue
            found = current[col]
            if found == char:
                break
            if found.isspace() or found in "'\"\\":
                col += 1
                continue
            return None
        if index == target:
            return (row + 1, col + 1 + (1 if after else 0))
        col += 1
    return None


def _parse(data: bytes | str, path: str) -> tuple[YamlDocument, str]:
    document = load_yaml(data, path, max_bytes=MAX_PACK_BYTES)
    if isinstance(data, bytes):
        raw = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        source = raw.decode("utf-8")
    else:
        source = data[1:] if data.startswith("\ufeff") else data
    return document, source


def _digest(*sources: bytes) -> str:
    hasher = hashlib.sha256()
    for source in sources:
        hasher.update(len(source).to_bytes(8, "big"))
        hasher.update(source)
    return hasher.hexdigest()


def _as_bytes(data: bytes | str) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")


def _read_countermeasures(
    reader: _Reader, raw: Any, pointer: _Pointer
) -> dict[str, Countermeasure]:
    """Catalogue entries of a list, by id; an id may appear only once in the list."""
    entries = reader.sequence(raw, pointer, "the countermeasure catalogue")
    if entries is None:
        return {}
    if len(entries) > MAX_COUNTERMEASURES:
        reader.add(
            f"the catalogue lists {len(entries)} countermeasures, more than the limit of "
            f"{MAX_COUNTERMEASURES}",
            reader.doc.location(pointer),
        )
        return {}
    out: dict[str, Countermeasure] = {}
    first_seen: dict[str, Location] = {}
    for index, raw_entry in enumerate(entries):
        where = (*pointer, index)
        entry = reader.mapping(raw_entry, where, "a countermeasure")
        if entry is None:
            continue
        reader.known_keys(entry, _COUNTERMEASURE_KEYS, where, "a countermeasure")
        cm_id = reader.identifier(entry, where, "a countermeasure")
        name = reader.text(
            entry, "name", where, "a countermeasure", required=True, limit=MAX_NAME_LENGTH
        )
        description = reader.text(
            entry, "description", where, "a countermeasure", required=False, limit=MAX_TEXT_LENGTH
        )
        verification = reader.text(
            entry, "verification", where, "a countermeasure", required=False, limit=MAX_TEXT_LENGTH
        )
        letters = reader.words(entry, "stride", where, STRIDE_LETTERS)
        fits = reader.words(entry, "fits", where, FIT_WORDS)
        if cm_id is None or name is None:
            continue
        if cm_id in first_seen:
            previous = first_seen[cm_id]
            reader.add(
                f"countermeasure id '{cm_id}' is already used at line {previous.line}; "
                "ids must be unique",
                reader.doc.location((*where, "id")),
            )
            continue
        first_seen[cm_id] = reader.doc.location((*where, "id"))
        out[cm_id] = Countermeasure(
            cm_id,
            name.strip(),
            (description or "").strip(),
            stride=tuple(_stride(letter) for letter in letters),
            fits=fits,
            verification=(verification or "").strip(),
        )
    return out


def _read_rule(
    reader: _Reader, raw: Any, pointer: _Pointer, catalogue: Mapping[str, Countermeasure]
) -> Rule | None:
    rule = reader.mapping(raw, pointer, "a rule")
    if rule is None:
        return None
    reader.known_keys(rule, _RULE_KEYS, pointer, "a rule")
    rule_id = reader.identifier(rule, pointer, "the rule")
    stride = reader.choice(rule, "stride", pointer, STRIDE_LETTERS, default=None)
    scope = reader.choice(rule, "scope", pointer, _SCOPES, default=None)
    severity = reader.choice(rule, "severity", pointer, SEVERITIES, default="medium")
    exploitability = reader.choice(
        rule, "exploitability", pointer, EXPLOITABILITIES, default="medium"
    )
    title = reader.text(rule, "title", pointer, "the rule", required=True, limit=MAX_TITLE_LENGTH)
    description = reader.text(
        rule, "description", pointer, "the rule", required=False, limit=MAX_TEXT_LENGTH
    )
    category = reader.text(
        rule, "category", pointer, "the rule", required=False, limit=MAX_NAME_LENGTH
    )
    include_text = reader.text(
        rule, "include", pointer, "the rule", required=True, limit=MAX_TEXT_LENGTH
    )
    exclude_text = reader.text(
        rule, "exclude", pointer, "the rule", required=False, limit=MAX_TEXT_LENGTH
    )
    data_raises = rule.get("data_raises_severity", True)
    if not isinstance(data_raises, bool):
        reader.add(
            f"'data_raises_severity' must be true or false, not {_show(data_raises)}",
            reader.doc.location((*pointer, "data_raises_severity")),
        )
        data_raises = True
    cwe = reader.numbers(rule, "cwe", pointer)
    capec = reader.numbers(rule, "capec", pointer)
    countermeasures: list[str] = []
    for cm_id, location in reader.names(rule, "countermeasures", pointer):
        if cm_id not in catalogue:
            close = difflib.get_close_matches(cm_id, list(catalogue), n=1)
            hint = (
                f"; did you mean '{close[0]}'?"
                if close
                else " (add it to the pack's 'countermeasures' list)"
            )
            reader.add(f"unknown countermeasure '{_short(cm_id)}'{hint}", location)
            continue
        countermeasures.append(cm_id)

    include: object | None = None
    exclude: object | None = None
    if scope is not None:
        subjects = SCOPE_SUBJECTS[scope]
        if include_text is not None:
            include = reader.expression(include_text, (*pointer, "include"), subjects)
        if exclude_text is not None:
            exclude = reader.expression(exclude_text, (*pointer, "exclude"), subjects)
        if title is not None:
            reader.placeholders(title, (*pointer, "title"), subjects, scope)
        if description is not None:
            reader.placeholders(description, (*pointer, "description"), subjects, scope)

    if (
        rule_id is None
        or stride is None
        or scope is None
        or severity is None
        or exploitability is None
        or title is None
        or include is None
        or (exclude_text is not None and exclude is None)
    ):
        return None
    return Rule(
        id=rule_id,
        stride=_stride(stride),
        scope=_scope(scope),
        title=title.strip(),
        include=include,
        include_text=include_text.strip() if include_text else "",
        exclude=exclude,
        exclude_text=exclude_text.strip() if exclude_text else "",
        description=(description or "").strip(),
        severity=_severity(severity),
        exploitability=_exploitability(exploitability),
        data_raises_severity=data_raises,
        cwe=cwe,
        capec=capec,
        countermeasures=tuple(countermeasures),
        category=(category or "").strip() or STRIDE_NAMES[stride],
        location=reader.doc.key_location((*pointer, "id")),
    )


def _stride(value: str) -> Stride:
    for letter in STRIDE_LETTERS:
        if letter == value:
            return letter
    raise AssertionError(value)  # pragma: no cover - checked by the reader


def _scope(value: str) -> Scope:
    if value == "element":
        return "element"
    if value == "flow":
        return "flow"
    return "interaction"


def _severity(value: str) -> Severity:
    for severity in SEVERITIES:
        if severity == value:
            return severity
    raise AssertionError(value)  # pragma: no cover - checked by the reader


def _exploitability(value: str) -> Exploitability:
    for level in EXPLOITABILITIES:
        if level == value:
            return level
    raise AssertionError(value)  # pragma: no cover - checked by the reader


def _load(
    data: bytes | str,
    path: str,
    base: RulePack | None,
    base_catalogue: Mapping[str, Countermeasure],
    allow_extends: bool,
) -> RulePack:
    document, source = _parse(data, path)
    errors = Diagnostics(path, cap=MAX_ERRORS + 1)  # room for the "stopped after" line
    reader = _Reader(document, source, errors)
    rules: list[Rule] = []
    name = ""
    extends_builtin = False
    catalogue: dict[str, Countermeasure] = dict(base_catalogue)
    try:
        top = reader.mapping(document.data, (), "a rule pack")
        if top is None:
            errors.check()
        assert top is not None
        reader.known_keys(top, _PACK_KEYS, (), "a rule pack")
        version = top.get("version")
        if "version" not in top:
            reader.add(
                f"the pack needs 'version: {FORMAT_VERSION}' (the pack file format)",
                reader.doc.location(()),
            )
        elif version != FORMAT_VERSION or isinstance(version, bool):
            reader.add(
                f"'version' must be {FORMAT_VERSION}, not {_show(version)}",
                reader.doc.location(("version",)),
            )
        name = reader.text(top, "name", (), "the pack", required=True, limit=MAX_NAME_LENGTH) or ""
        reader.text(top, "description", (), "the pack", required=False, limit=MAX_TEXT_LENGTH)
        if top.get("extends") is not None:
            if allow_extends and top["extends"] == BUILTIN:
                extends_builtin = True
            elif not allow_extends:
                reader.add(
                    "the built-in pack cannot extend another pack",
                    reader.doc.location(("extends",)),
                )
            else:
                reader.add(
                    f"'extends' can only name '{BUILTIN}', not {_show(top['extends'])}",
                    reader.doc.location(("extends",)),
                )
        if top.get("countermeasures") is not None:
            catalogue.update(
                _read_countermeasures(reader, top["countermeasures"], ("countermeasures",))
            )
        raw_rules = top.get("rules")
        if raw_rules is None:
            reader.add("the pack needs 'rules', a list of rules", reader.doc.location(()))
        else:
            entries = reader.sequence(raw_rules, ("rules",), "'rules'")
            if entries is not None and len(entries) > MAX_RULES:
                reader.add(
                    f"the pack has {len(entries)} rules, more than the limit of {MAX_RULES}",
                    reader.doc.location(("rules",)),
                )
                entries = None
            first_seen: dict[str, Location] = {}
            for index, raw_rule in enumerate(entries or ()):
                rule = _read_rule(reader, raw_rule, ("rules", index), catalogue)
                if rule is None:
                    continue
                if rule.id in first_seen:
                    reader.add(
                        f"rule id '{rule.id}' is already used at line "
                        f"{first_seen[rule.id].line}; rule ids must be unique",
                        reader.doc.location(("rules", index, "id")),
                    )
                    continue
                first_seen[rule.id] = reader.doc.location(("rules", index, "id"))
                rules.append(rule)
    except _TooManyErrors:
        errors.error(f"stopped after {MAX_ERRORS} errors; fix these first", Location(path))
    errors.check()

    sources = [_as_bytes(data)]
    if extends_builtin and base is not None:
        merged = {rule.id: rule for rule in base.rules}
        merged.update({rule.id: rule for rule in rules})
        rules = list(merged.values())
        sources.insert(0, base.digest.encode("ascii"))
        if len(rules) > MAX_RULES:
            raise InputError(
                f"with the built-in rules the pack has {len(rules)} rules, more "
                f"than the limit of {MAX_RULES}",
                Location(path),
            )
    return RulePack(
        name=name.strip(),
        rules=tuple(sorted(rules, key=lambda r: r.id)),
        countermeasures=MappingProxyType(dict(sorted(catalogue.items()))),
        key_style="threatdelta",
        digest=_digest(*sources),
    )


def load_catalogue(data: bytes | str, path: str) -> Mapping[str, Countermeasure]:
    """A countermeasure catalogue file: a YAML list of ``{id, name, description}``, by id."""
    document, source = _parse(data, path)
    errors = Diagnostics(path, cap=MAX_ERRORS + 1)  # room for the "stopped after" line
    reader = _Reader(document, source, errors)
    catalogue: dict[str, Countermeasure] = {}
    try:
        catalogue = _read_countermeasures(reader, document.data, ())
    except _TooManyErrors:
        errors.error(f"stopped after {MAX_ERRORS} errors; fix these first", Location(path))
    errors.check()
    return MappingProxyType(dict(sorted(catalogue.items())))


def load_pack(data: bytes | str, path: str) -> RulePack:
    """A rule pack from a YAML pack file; raises InputError (``path:line:column``) when it is bad.

    The pack's rules may use the built-in catalogue's countermeasures and their own; with
    ``extends: builtin`` the built-in rules are included too (same-id rules replaced).
    """
    base = builtin_pack()
    return _load(data, path, base, base.countermeasures, allow_extends=True)


_PACKAGE = "threatdelta.rules"
_STRIDE_FILE = "builtin/stride.yaml"
_CATALOGUE_FILE = "builtin/countermeasures.yaml"


def _builtin_bytes(name: str) -> bytes:
    return resources.files(_PACKAGE).joinpath(name).read_bytes()


@functools.lru_cache(maxsize=1)
def builtin_catalogue() -> Mapping[str, Countermeasure]:
    """The built-in countermeasure catalogue, by id (read once)."""
    return load_catalogue(_builtin_bytes(_CATALOGUE_FILE), f"threatdelta/rules/{_CATALOGUE_FILE}")


@functools.lru_cache(maxsize=1)
def builtin_pack() -> RulePack:
    """The built-in STRIDE pack with the built-in catalogue (read once)."""
    catalogue_bytes = _builtin_bytes(_CATALOGUE_FILE)
    pack_bytes = _builtin_bytes(_STRIDE_FILE)
    pack = _load(
        pack_bytes,
        f"threatdelta/rules/{_STRIDE_FILE}",
        None,
        builtin_catalogue(),
        allow_extends=False,
    )
    return RulePack(
        name=pack.name,
        rules=pack.rules,
        countermeasures=pack.countermeasures,
        key_style=pack.key_style,
        type_parents=pack.type_parents,
        digest=_digest(pack_bytes, catalogue_bytes),
    )


# ------------------------------------------------------------------ reference page

_SCOPE_TEXT = {
    "element": "element (`element`)",
    "flow": "flow (`source`, `flow`, `target`; key `rule@flow`)",
    "interaction": "interaction (`source`, `flow`, `target`, each direction; "
    "key `rule@source>flow>target`)",
}
_GENERATOR = "python -m threatdelta.rules.packfile --doc > docs/rules.md"
_OWN_PACKS = [
    "## Your own rules",
    "",
    "A pack file is YAML with `version: 1`, a `name`, optional `countermeasures` "
    "(`{id, name, description}`) and `rules` written like the built-in ones: `id`, `stride` "
    "(S, T, R, I, D or E), `scope` (element, flow or interaction), `title`, optional "
    "`description`, `include`, optional `exclude`, `severity` (low, medium, high, critical; "
    "default medium), `exploitability` (low, medium, high; default medium), optional "
    "`data_raises_severity` (default true; false for threats not about the data carried), `cwe`, "
    "`capec`, `countermeasures` and `category`. Countermeasures are `{id, name, description}` "
    "with optional `stride` (letters), `fits` (element kinds, protocol families, `on-device`, "
    "`on-board`) and `verification`. Titles and "
    "descriptions may name `{element.name}`, or `{source.name}`, `{flow.name}` and "
    "`{target.name}`, as the scope allows. Rules may use every countermeasure of the catalogue "
    "below and of their own pack.",
    "",
    "With `extends: builtin` the pack's rules are added to the built-in ones; a rule with the "
    "id of a built-in rule replaces it. Without it, the pack stands alone. Check a pack with "
    "`python -m threatdelta.rules.packfile PACK.yaml`.",
    "",
    "```yaml",
    "version: 1",
    "name: Pump rules",
    "extends: builtin",
    "rules:",
    "  - id: bolus-button-spoofing",
    "    stride: S",
    "    scope: interaction",
    '    title: "{source.name} could fake a bolus request to {target.name}"',
    "    include: \"target is 'process/control-unit' and flow.protocol is 'ble'\"",
    '    exclude: "flow.authenticated"',
    "    severity: high",
    "    countermeasures: [x509-authentication]",
    "```",
    "",
]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _links(kind: str, ids: Sequence[int]) -> str:
    if not ids:
        return "—"
    base = (
        "https://cwe.mitre.org/data/definitions"
        if kind == "CWE"
        else "https://capec.mitre.org/data/definitions"
    )
    return ", ".join(f"[{kind}-{i}]({base}/{i}.html)" for i in ids)


def _protocol_table() -> list[str]:
    out = [
        "## Protocols",
        "",
        "A flow's `protocol` is a fact rules rely on. What a protocol implies holds unless the "
        "flow's properties say otherwise; an unknown name is read as `generic`, with a warning.",
        "",
        "| Protocol | Family | Implies | What it is |",
        "|---|---|---|---|",
    ]
    for proto in PROTOCOLS.values():
        implied = ", ".join(f"`{k}`" for k in proto.implies) or "—"
        out.append(f"| `{proto.name}` | {proto.family} | {implied} | {_cell(proto.summary)} |")
    out.append("")
    return out


def render_reference(pack: RulePack) -> str:
    """The Markdown reference page of ``pack``: every rule, then the countermeasure catalogue."""
    out: list[str] = [
        f"# Built-in rules: {pack.name}",
        "",
        f"<!-- Generated by `{_GENERATOR}`; do not edit by hand. -->",
        "",
        "Each rule names a STRIDE category, the scope it is evaluated on, a default severity, "
        "CWE and CAPEC ids where one fits, and the countermeasures that usually answer it. "
        "A threat exists where `include` holds and `exclude` does not; a property that is not "
        "set counts as not true. Where a specific rule covers a case (a log store, a credential "
        "store, a flow crossing a trust boundary, a field bus), the generic rule with the same "
        "STRIDE letter on the same subject steps aside, so one weakness gives one threat.",
        "",
        f"Pack digest: `{pack.digest}`",
        "",
        "Severity is the harm if a threat is carried out, exploitability how easily it is; "
        "both are defaults that what the model says can raise (hazards, essential performance, "
        "data assets) and a disposition can override (see the README's risk section). "
        "Countermeasures that do not fit a threat's subject (by element kind, protocol family "
        "or place) are left out of its suggestions.",
        "",
        f"{len(pack.rules)} rules, {len(pack.countermeasures)} countermeasures.",
        "",
        "| Rule | STRIDE | Scope | Severity | Exploitability | Title |",
        "|---|---|---|---|---|---|",
    ]
    for rule in pack.rules:
        out.append(
            f"| [`{rule.id}`](#{rule.id}) | {rule.stride} | {rule.scope} | "
            f"{rule.severity} | {rule.exploitability} | {_cell(rule.title)} |"
        )
    out.append("")
    for rule in pack.rules:
        out += [
            f"## {rule.id}",
            "",
            f"**{_cell(rule.title)}**",
            "",
            rule.description or "(no description)",
            "",
            f"- STRIDE: {rule.stride} ({STRIDE_NAMES[rule.stride]})",
            f"- Scope: {_SCOPE_TEXT[rule.scope]}",
            f"- Severity: {rule.severity}; exploitability: {rule.exploitability}"
            + ("" if rule.data_raises_severity else "; the data carried does not raise it"),
            f"- CWE: {_links('CWE', rule.cwe)}",
            f"- CAPEC: {_links('CAPEC', rule.capec)}",
            "- Countermeasures: "
            + (
                ", ".join(
                    f"[{pack.countermeasures[c].name}](#cm-{c})"
                    if c in pack.countermeasures
                    else f"`{c}`"
                    for c in rule.countermeasures
                )
                or "—"
            ),
            f"- Include: `{rule.include_text}`",
            f"- Exclude: `{rule.exclude_text}`" if rule.exclude_text else "- Exclude: —",
            "",
        ]
    out += [*_OWN_PACKS, *_protocol_table(), "## Countermeasure catalogue", ""]
    for cm_id, cm in pack.countermeasures.items():
        used = [r.id for r in pack.rules if cm_id in r.countermeasures]
        out += [
            f'<a id="cm-{cm_id}"></a>',
            f"### {cm.name} (`{cm_id}`)",
            "",
            cm.description,
            "",
            "- STRIDE: " + (", ".join(cm.stride) or "—"),
            "- Fits: " + (", ".join(cm.fits) or "anywhere"),
            "- Verification: " + (cm.verification or "—"),
            "",
            "Answers: " + (", ".join(f"[`{r}`](#{r})" for r in used) or "—"),
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m threatdelta.rules.packfile --doc``: print the built-in pack's reference."""
    parser = argparse.ArgumentParser(
        prog="python -m threatdelta.rules.packfile",
        description="Check a rule pack file, or print the built-in pack's reference page.",
    )
    parser.add_argument(
        "--doc",
        action="store_true",
        help="print the Markdown reference of the built-in pack (docs/rules.md)",
    )
    parser.add_argument("pack", nargs="?", help="a pack file to check")
    args = parser.parse_args(argv)
    if args.doc:
        sys.stdout.write(render_reference(builtin_pack()))
        return 0
    if args.pack is None:
        parser.error("name a pack file to check, or pass --doc")
    try:
        with open(args.pack, "rb") as handle:
            data = handle.read(MAX_PACK_BYTES + 1)
        pack = load_pack(data, args.pack)
    except InputError as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{args.pack}: cannot read the file: {error.strerror}", file=sys.stderr)
        return 2
    print(
        f"{args.pack}: {pack.name}: {len(pack.rules)} rules, "
        f"{len(pack.countermeasures)} countermeasures"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
