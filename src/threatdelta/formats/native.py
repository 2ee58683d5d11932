"""The native format: a threat model written as one YAML file (``threatmodel.yaml``).

Reading happens in three passes, and every problem of a pass is reported at once:

1. :func:`threatdelta.yaml_loader.load_yaml` parses the file safely and keeps positions;
2. the JSON Schema (``native_schema.json``, also published for editors) checks the shape;
3. semantic checks: ids unique, references resolve, boundary parents form no cycle, an element's
   kind fits its type, dates are real dates.

Each message reads ``path:line:column: what is wrong and how to fix it``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from threatdelta.collector import relaxed_collection
from threatdelta.diagnostics import Diagnostics
from threatdelta.errors import InputError, Location
from threatdelta.formats.interface import ParsedModel
from threatdelta.limits import BOUNDARIES, ELEMENTS, FLOWS, MAX_FILE_BYTES, check_sections
from threatdelta.model.model import (
    CLASSIFICATIONS,
    Asset,
    Boundary,
    Control,
    Disposition,
    Element,
    Flow,
    Model,
    SharedProps,
    frozen_controls,
    new_element,
    new_flow,
    scope_of,
)
from threatdelta.model.types import (
    ELEMENT_KINDS,
    boundary_chain,
    element_chain,
    flow_chain,
)
from threatdelta.risk.cvss import CvssError
from threatdelta.risk.cvss import parse as parse_cvss
from threatdelta.rules.protocols import is_known, unknown_protocol_message
from threatdelta.threat import Threat
from threatdelta.yaml_loader import YamlDocument, load_yaml, yaml11_reading

if TYPE_CHECKING:  # the validators are imported when a model is validated, not at start-up
    import jsonschema_rs
    from jsonschema import Draft202012Validator, ValidationError

name = "native"
"""Format name."""

STORED_RULE_ID = "stored"
"""``Threat.rule_id`` of a threat the model holds itself (``stored_threats:``)."""

_SCHEMA_FILE = "native_schema.json"
_SNIFF_BYTES = MAX_FILE_BYTES  # the whole file: top-level keys may come after long lists
_SNIFF_VERSION = re.compile(rb"""^["']?version["']?[ \t]*:""", re.MULTILINE)
_SNIFF_ELEMENTS = re.compile(rb"""^["']?elements["']?[ \t]*:""", re.MULTILINE)
_ID_SECTIONS = ("boundaries", "elements", "flows")
_SECTION_LABELS = {
    "assets": "asset",
    "boundaries": "boundary",
    "elements": "element",
    "flows": "flow",
    "controls": "control",
}
_TYPE_LABELS = {
    "external-entity": "external entity",
    "process": "process",
    "data-store": "data store",
}
_TYPE_WORDS = {
    "boolean": "true or false",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}
_PATTERN_HINTS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$": (
        "is not a valid id: use letters, digits and _ . : - (starting with a letter or digit), "
        "without spaces, '@' or '>'"
    ),
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "is not a date: write it as YYYY-MM-DD",
    r"^[A-Za-z0-9_][A-Za-z0-9_-]*$": (
        "is not a valid property name: use letters, digits, _ and - only"
    ),
}


def schema() -> dict[str, Any]:
    """The JSON Schema of the native model (draft 2020-12), as shipped in the package."""
    text = resources.files("threatdelta.formats").joinpath(_SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


DECISION_SECTIONS = ("version", "controls", "threats")
"""The top-level keys of a decisions file (see :mod:`threatdelta.formats.sidecar`)."""


def decisions_schema() -> dict[str, Any]:
    """The JSON Schema of a decisions file: the native model's ``controls`` and ``threats``."""
    full = schema()
    return {
        **full,
        "$id": "urn:threatdelta:schema:decisions:1",
        "title": "threatdelta decisions",
        "description": "Controls and threat dispositions for a model kept in another tool's "
        "format (Threat Dragon, Open Threat Model, Threat Modeling Tool), written beside it.",
        "required": [],
        "properties": {k: full["properties"][k] for k in DECISION_SECTIONS},
    }


@functools.lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


@functools.lru_cache(maxsize=1)
def _decisions_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(decisions_schema())


@functools.lru_cache(maxsize=2)
def _fast_validator(decisions: bool) -> jsonschema_rs.Draft202012Validator:
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(
        decisions_schema() if decisions else schema(), validate_formats=False, offline=True
    )


def fast_valid(data: Any, *, decisions: bool = False) -> bool:
    """True when the compiled validator finds ``data`` valid against the published schema.

    False means "not known to be valid": the data breaks the schema, or the compiled validator
    cannot take it (a mapping key that is not a string, a number it cannot represent); the
    Python walk then decides and explains. Only the verdict is used, never its messages.
    """
    try:
        return bool(_fast_validator(decisions).is_valid(data))
    except (ValueError, TypeError, OverflowError, RecursionError):
        return False


def sniff(path: str, data: bytes) -> bool:
    """True for a .yaml/.yml file whose top level has ``version`` and ``elements`` keys."""
    if PurePosixPath(path).suffix.lower() not in (".yaml", ".yml"):
        return False
    head = data[:_SNIFF_BYTES]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return bool(_SNIFF_VERSION.search(head) and _SNIFF_ELEMENTS.search(head))


def read(data: bytes, path: str) -> ParsedModel:
    """Parse a native model; raise InputError (or InputErrors) listing every problem found."""
    with relaxed_collection():  # everything built while reading is kept: no garbage to find
        return _read(data, path)


def _read(data: bytes, path: str) -> ParsedModel:
    doc = load_yaml(data, path)
    check_sections(
        doc.data,
        {"elements": ELEMENTS, "flows": FLOWS, "boundaries": BOUNDARIES},
        doc.location,
    )
    diagnostics = Diagnostics(path)
    diagnostics.extend(schema_errors(doc))
    diagnostics.extend(semantic_errors(doc))
    diagnostics.check()
    model_warnings(doc, diagnostics)
    return ParsedModel(model=build_model(doc, release=True), warnings=diagnostics.warnings())


def model_warnings(doc: YamlDocument, diagnostics: Diagnostics) -> None:
    """What the reader accepts but the user should hear about: protocols it does not know."""
    for index, item in _items(doc.data, "flows"):
        protocol = item.get("protocol")
        if isinstance(protocol, str) and not is_known(protocol):
            diagnostics.warn(
                f"{_label('flows', item)}: {unknown_protocol_message(protocol)}",
                doc.location(["flows", index, "protocol"]),
            )


# --- pass 2: the schema ----------------------------------------------------------------------


def schema_errors(doc: YamlDocument, *, decisions: bool = False) -> list[InputError]:
    """Every schema violation of ``doc``, as located, readable errors (``decisions``: check it
    as a decisions file, which holds only ``controls`` and ``threats``)."""
    if not isinstance(doc.data, dict):
        keys = (
            "controls and threats"
            if decisions
            else "version, system, boundaries, elements, flows, controls and threats"
        )
        what = "a decisions file" if decisions else "the model"
        return [
            InputError(
                f"{what} must be a YAML mapping with the keys {keys}; this file holds "
                f"{_show(doc.data)}",
                doc.location([]),
            )
        ]
    if fast_valid(doc.data, decisions=decisions):
        return []
    found: list[InputError] = []
    validator = _decisions_validator() if decisions else _validator()
    for error in _one_per_value(validator.iter_errors(doc.data)):
        found.extend(_explain(error, doc))
    return found


_VALUE_KINDS = ("type", "const", "enum", "minLength", "maxLength", "pattern")
"""Checks of a single value, in the order their messages are preferred."""


def _one_per_value(errors: Iterable[ValidationError]) -> list[ValidationError]:
    """Keep one error per value: the most specific schema's, then the clearest kind.

    A value can fail several checks at once (an empty id is too short and does not match the
    id pattern; an empty ``sanitizes_input`` fails both the generic and the typed property
    schema); one sentence about it is enough.
    """
    kept: list[ValidationError] = []
    best: dict[tuple[Any, ...], ValidationError] = {}
    for error in errors:
        kind = str(error.validator)
        if kind not in _VALUE_KINDS or "propertyNames" in error.relative_schema_path:
            kept.append(error)
            continue
        where = tuple(error.absolute_path)
        current = best.get(where)
        if current is None or _preference(error) < _preference(current):
            best[where] = error
    return kept + list(best.values())


def _preference(error: ValidationError) -> tuple[int, int]:
    return (-len(error.relative_schema_path), _VALUE_KINDS.index(str(error.validator)))


def _explain(error: ValidationError, doc: YamlDocument) -> Iterator[InputError]:
    path = list(error.absolute_path)
    owner, rel = _owner(path, doc.data)
    subject = _join(rel)
    instance: Any = error.instance
    kind = str(error.validator)
    rule: Any = error.validator_value
    rule_schema: Any = error.schema
    if "propertyNames" in error.relative_schema_path:
        location = doc.key_location([*path, instance])
        yield InputError(_property_name_message(instance, kind, rule, owner, subject), location)
        return
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(rule_schema.get("properties", {}))
        for key in instance:
            if key in allowed:
                continue
            where = f"in {owner}" if not subject else f"in {subject} of {owner}"
            text = f"unknown key {_show(key)} {where}; expected one of {', '.join(allowed)}"
            yield InputError(text + _did_you_mean(key, allowed), doc.key_location([*path, key]))
        return
    location = doc.location(path)
    if kind == "required":
        missing = (
            [str(key) for key in rule if key not in instance] if isinstance(instance, dict) else []
        )
        for key in missing:
            if f"{key!r} is a required" in error.message:
                yield InputError(
                    f"{owner} has no '{key}'; add it{_required_hint(key, path)}", location
                )
        return
    if not subject:  # the item itself is wrong, e.g. not a mapping
        yield InputError(
            _value_message(kind, rule, error.message, instance, path, doc.data, owner), location
        )
        return
    message = _value_message(kind, rule, error.message, instance, path, doc.data, subject)
    yield InputError(f"{owner}: {message}" if owner != "the model" else message, location)


def _value_message(
    kind: str, rule: Any, raw: str, instance: Any, path: list[Any], data: Any, field: str
) -> str:
    field = field or "the value"
    if kind == "const":
        return _const_message(field, instance, rule)
    if kind == "enum":
        choices = [str(c) for c in rule]
        if path and path[-1] == "kind" and len(path) >= 2 and path[0] == "elements":
            element_type = _item(data, path[:-1]).get("type")
            choices = (
                list(ELEMENT_KINDS.get(element_type, choices))
                if isinstance(element_type, str)
                else choices
            )
        if isinstance(instance, str):
            return f"{field} {_show(instance)} is not one of: {', '.join(choices)}" + _did_you_mean(
                instance, choices
            )
        return f"{field} must be one of: {', '.join(choices)}; not {_show(instance)}"
    if kind == "type":
        return _type_message(field, instance, rule)
    if kind == "pattern":
        hint = _PATTERN_HINTS.get(str(rule), "has the wrong form")
        return f"{field} {_show(instance)} {hint}"
    if kind == "maxLength":
        return f"{field} is longer than {rule} characters; shorten it"
    if kind == "minLength":
        return f"{field} is empty; write a value"
    return f"{field}: {raw}"


def _const_message(field: str, instance: Any, expected: Any) -> str:
    if isinstance(instance, str):
        reading = yaml11_reading(instance)
        if reading is not None:
            return (
                f"{field} {_show(instance)} is a string in YAML 1.2 (YAML 1.1 reads it as "
                f"{reading}): write {_show(expected)}"
            )
        return f"{field} must be the number {_show(expected)}, not the string {_show(instance)}"
    if field == "version":
        return (
            f"version {_show(instance)} is not supported; this threatdelta reads version "
            f"{_show(expected)} models"
        )
    return f"{field} must be {_show(expected)}, not {_show(instance)}"


def _type_message(field: str, instance: Any, expected: Any) -> str:
    wanted = [expected] if isinstance(expected, str) else list(expected)
    named = [_TYPE_WORDS.get(w, w) for w in wanted]
    words = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    if isinstance(instance, str):
        reading = yaml11_reading(instance)
        if "boolean" in wanted and reading == "a boolean":
            return (
                f"{field} {_show(instance)} is a string in YAML 1.2, not a boolean: "
                "write true or false"
            )
        if ("number" in wanted or "integer" in wanted) and reading is not None:
            return (
                f"{field} {_show(instance)} is a string in YAML 1.2, not a number (YAML 1.1 "
                f"reads it as {reading}): write a plain decimal number"
            )
    if instance is None:
        return f"{field} is empty; write {words} or remove it"
    if wanted == ["string"] and isinstance(instance, (bool, int, float)):
        return f"{field} must be a string, not {_show(instance)}; put it in quotes"
    return f"{field} must be {words}, not {_show(instance)}"


def _property_name_message(key: Any, kind: str, rule: Any, owner: str, subject: str) -> str:
    where = owner if not subject else subject if owner == "the model" else f"{subject} of {owner}"
    if not isinstance(key, str):
        return f"key {_show(key)} in {where} must be a string; put it in quotes"
    if kind == "pattern":
        return (
            f"key {_show(key)} in {where} is not a valid property name: "
            "use letters, digits, _ and - only"
        )
    if kind == "maxLength":
        return f"a key in {where} is longer than {rule} characters; shorten it"
    if kind == "minLength":
        return f"a key in {where} is empty; name it"
    return f"key {_show(key)} in {where} is not allowed"


def _required_hint(key: str, path: list[Any]) -> str:
    if key == "type":
        return ": external-entity, process or data-store"
    if key == "status":
        section = path[0] if path else ""
        if section == "controls":
            return ": planned, implemented or verified"
        return ": open, mitigated, accepted, transferred or not-applicable"
    if key == "version":
        return ": version: 1"
    return ""


# --- pass 3: meaning -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Declared:
    """An id declared in one of the sections that share the id namespace."""

    section: str
    """boundaries, elements or flows."""
    index: int
    """Position in its list."""


def semantic_errors(doc: YamlDocument) -> list[InputError]:
    """Problems of meaning: duplicate ids, dangling references, cycles, kinds, dates."""
    data = doc.data
    if not isinstance(data, dict) or _surely_meaningful(data):
        return []
    errors: list[InputError] = []
    declared: dict[str, _Declared] = {}
    for section in _ID_SECTIONS:
        for index, item in _items(data, section):
            item_id = item.get("id")
            if not isinstance(item_id, str):
                continue
            first = declared.get(item_id)
            if first is not None:  # locations only for errors: finding one may re-read the file
                first_line = doc.location([first.section, first.index, "id"]).line
                errors.append(
                    InputError(
                        f"id '{item_id}' is already used by the {_SECTION_LABELS[first.section]} "
                        f"at line {first_line}; elements, flows and boundaries share one "
                        "set of ids (threat keys are built from them): rename one",
                        doc.location([section, index, "id"]),
                    )
                )
            else:
                declared[item_id] = _Declared(section, index)
    errors.extend(_unique_ids(doc, "controls", "control")[0])
    errors.extend(_asset_errors(doc))
    errors.extend(_disposition_errors(doc))
    errors.extend(_reference_errors(doc, declared))
    errors.extend(_rename_errors(doc, declared))
    errors.extend(_line_and_stored_errors(doc, declared))
    errors.extend(_cycle_errors(doc))
    errors.extend(_kind_errors(doc))
    errors.extend(_date_errors(doc))
    errors.extend(_implemented_by_errors(doc))
    return errors


def _surely_meaningful(data: dict[str, Any]) -> bool:
    """True when none of the checks of :func:`semantic_errors` can find a problem, decided in
    one pass over each section; False ("maybe not") sends the model through every check, which
    finds the problems and explains them. Anything these checks treat specially (renames,
    crossings, line boundaries as homes, stored threats, ``implemented_by``, dates, CVSS vectors,
    overridden ratings) or an item of an unexpected shape counts as "maybe not"."""
    lists: dict[str, list[Any]] = {}
    for section in ("boundaries", "elements", "flows", "controls", "assets"):
        items = data.get(section, [])
        if not isinstance(items, list) or not all(type(item) is dict for item in items):
            return False
        lists[section] = items
    if data.get("stored_threats"):
        return False
    threats = data.get("threats") or {}
    if not isinstance(threats, dict):
        return False
    special = {"cvss", "exploitability", "severity", "approved_on", "expires"}
    for entry in threats.values():
        if not isinstance(entry, dict) or not special.isdisjoint(entry):
            return False
    for section in ("controls", "assets"):
        ids = [item.get("id") for item in lists[section]]
        if not all(type(i) is str for i in ids) or len(set(ids)) != len(ids):
            return False
    assets = {item["id"] for item in lists["assets"]}
    boundaries: set[str] = set()
    lines: set[str] = set()
    for item in lists["boundaries"]:
        item_id = item.get("id")
        if type(item_id) is not str or item_id in boundaries or "renamed_from" in item:
            return False
        boundaries.add(item_id)
        if item.get("line") is True:
            lines.add(item_id)
    homes = boundaries - lines
    for item in lists["boundaries"]:
        if "parent" in item and not _str_in(item["parent"], homes):
            return False
    elements: set[str] = set()
    for item in lists["elements"]:
        item_id = item.get("id")
        if type(item_id) is not str or item_id in elements or item_id in boundaries:
            return False
        elements.add(item_id)
        if "renamed_from" in item or "implemented_by" in item:
            return False
        if "boundary" in item and not _str_in(item["boundary"], homes):
            return False
        element_type = item.get("type")
        if type(element_type) is not str:
            return False
        if "kind" in item and item["kind"] not in ELEMENT_KINDS.get(element_type, ()):
            return False
        if "data" in item and not _known_assets(item["data"], assets):
            return False
    flows: set[str] = set()
    for item in lists["flows"]:
        item_id = item.get("id")
        if type(item_id) is not str or item_id in flows:
            return False
        flows.add(item_id)
        if "renamed_from" in item or "implemented_by" in item or "crosses" in item:
            return False
        if not _str_in(item.get("from"), elements) or not _str_in(item.get("to"), elements):
            return False
        if "data" in item and not _known_assets(item["data"], assets):
            return False
    if not flows.isdisjoint(boundaries) or not flows.isdisjoint(elements):
        return False
    return not _cycle_errors_found(lists["boundaries"])


def _str_in(value: Any, ids: set[str]) -> bool:
    return type(value) is str and value in ids


def _known_assets(refs: Any, assets: set[str]) -> bool:
    return isinstance(refs, list) and all(type(r) is str and r in assets for r in refs)


def _cycle_errors_found(boundaries: list[dict[str, Any]]) -> bool:
    """True when boundary parents form a cycle (ids unique, parents known)."""
    parents = {b["id"]: b.get("parent") for b in boundaries}
    done: set[str] = set()
    for start in parents:
        path: set[str] = set()
        current: Any = start
        while current is not None and current not in done:
            if current in path:
                return True
            path.add(current)
            current = parents.get(current)
        done |= path
    return False


def _unique_ids(
    doc: YamlDocument, section: str, what: str
) -> tuple[list[InputError], dict[str, int]]:
    """Ids of ``section`` used twice (one error each), and every id with its index."""
    errors: list[InputError] = []
    seen: dict[str, int] = {}
    for index, item in _items(doc.data, section):
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id in seen:
            first_line = doc.location([section, seen[item_id], "id"]).line
            errors.append(
                InputError(
                    f"{what} id '{item_id}' is already used by the {what} at line "
                    f"{first_line}; rename one",
                    doc.location([section, index, "id"]),
                )
            )
        else:
            seen[item_id] = index
    return errors, seen


def _asset_errors(doc: YamlDocument) -> list[InputError]:
    """Asset ids unique; every ``data`` entry names a declared asset."""
    errors, assets = _unique_ids(doc, "assets", "asset")
    known = sorted(assets)
    for section in ("elements", "flows"):
        for index, item in _items(doc.data, section):
            data = item.get("data")
            if not isinstance(data, list):
                continue
            for position, ref in enumerate(data):
                if not isinstance(ref, str) or ref in assets:
                    continue
                hint = _did_you_mean(ref, known) or (
                    f"; declared assets: {', '.join(known)}"
                    if known
                    else "; declare it under assets (id, classification)"
                )
                errors.append(
                    InputError(
                        f"{_label(section, item)} carries '{ref}', but no asset has that id{hint}",
                        doc.location([section, index, "data", position]),
                    )
                )
    return errors


def _disposition_errors(doc: YamlDocument) -> list[InputError]:
    """CVSS vectors parse; an overridden exploitability or severity comes with a rationale."""
    errors: list[InputError] = []
    threats = doc.data.get("threats") if isinstance(doc.data, dict) else None
    if not isinstance(threats, dict):
        return errors
    for key, entry in threats.items():
        if not isinstance(entry, dict):
            continue
        vector = entry.get("cvss")
        if isinstance(vector, str) and vector.startswith("CVSS:"):
            try:
                parse_cvss(vector)
            except CvssError as error:
                errors.append(
                    InputError(
                        f"threat '{key}': cvss '{vector}' is not valid: {error}",
                        doc.location(["threats", key, "cvss"]),
                    )
                )
        overridden = [f for f in ("exploitability", "severity") if f in entry]
        rationale = entry.get("rationale")
        if overridden and not (isinstance(rationale, str) and rationale.strip()):
            errors.append(
                InputError(
                    f"threat '{key}': {' and '.join(overridden)} "
                    f"{'differ' if len(overridden) > 1 else 'differs'} from the rule's; add a "
                    "rationale that says why",
                    doc.location(["threats", key, overridden[0]]),
                )
            )
    return errors


def _ids_in(declared: Mapping[str, _Declared], section: str) -> list[str]:
    return sorted(k for k, v in declared.items() if v.section == section)


def _reference_errors(doc: YamlDocument, declared: Mapping[str, _Declared]) -> list[InputError]:
    errors: list[InputError] = []
    checks: list[tuple[str, str, str, str]] = [
        ("elements", "boundary", "boundaries", "is inside"),
        ("boundaries", "parent", "boundaries", "has parent"),
        ("flows", "from", "elements", "goes from"),
        ("flows", "to", "elements", "goes to"),
    ]
    for section, key, target_section, verb in checks:
        candidates: list[str] | None = None  # sorted only when a reference is wrong
        wanted = _SECTION_LABELS[target_section]
        for index, item in _items(doc.data, section):
            ref = item.get(key)
            if not isinstance(ref, str):
                continue
            target = declared.get(ref)
            if target is not None and target.section == target_section:
                continue
            owner = _label(section, item)
            if candidates is None:
                candidates = _ids_in(declared, target_section)
            if target is not None:
                problem = (
                    f"{owner} {verb} '{ref}', which is {_a(_SECTION_LABELS[target.section])}, "
                    f"not {_a(wanted)}"
                )
            else:
                problem = f"{owner} {verb} '{ref}', but no {wanted} has that id"
            hint = _did_you_mean(ref, candidates)
            if not hint and candidates and len(candidates) <= 12:
                hint = f"; known {target_section}: {', '.join(candidates)}"
            elif not candidates:
                hint = f"; declare it under {target_section}"
            errors.append(InputError(problem + hint, doc.location([section, index, key])))
    return errors


def _rename_errors(doc: YamlDocument, declared: Mapping[str, _Declared]) -> list[InputError]:
    """``renamed_from`` names an id that is no longer in the model, and no two items claim it."""
    errors: list[InputError] = []
    claimed: dict[str, str] = {}
    for section in ("boundaries", "elements", "flows"):
        for index, item in _items(doc.data, section):
            old = item.get("renamed_from")
            if not isinstance(old, str):
                continue
            owner = _label(section, item)
            where: list[str | int] = [section, index, "renamed_from"]
            if old in declared:
                errors.append(
                    InputError(
                        f"{owner} is renamed from '{old}', but '{old}' is still an id in this "
                        "model; renamed_from names the id the item had before",
                        doc.location(where),
                    )
                )
            elif old in claimed:
                errors.append(
                    InputError(
                        f"{owner} is renamed from '{old}', as {claimed[old]} is; one item "
                        "takes over an old id",
                        doc.location(where),
                    )
                )
            else:
                claimed[old] = owner
    return errors


def _line_and_stored_errors(
    doc: YamlDocument, declared: Mapping[str, _Declared]
) -> list[InputError]:
    """``crosses`` names boundaries, a line boundary holds nothing, stored threats name an
    element or flow of the model."""
    errors: list[InputError] = []
    lines = {
        item["id"]
        for _, item in _items(doc.data, "boundaries")
        if item.get("line") is True and isinstance(item.get("id"), str)
    }
    for index, item in _items(doc.data, "flows"):
        crossed = item.get("crosses")
        for position, ref in enumerate(crossed if isinstance(crossed, list) else []):
            found = declared.get(ref) if isinstance(ref, str) else None
            if found is None or found.section != "boundaries":
                errors.append(
                    InputError(
                        f"{_label('flows', item)} crosses '{ref}', but no boundary has that id",
                        doc.location(["flows", index, "crosses", position]),
                    )
                )
    for section, key in (("elements", "boundary"), ("boundaries", "parent")):
        for index, item in _items(doc.data, section):
            if isinstance(item.get(key), str) and item.get(key) in lines:
                errors.append(
                    InputError(
                        f"{_label(section, item)}: '{item.get(key)}' is a line boundary (line: "
                        "true), which holds nothing; flows that cross it list it under crosses",
                        doc.location([section, index, key]),
                    )
                )
    for index, item in _items(doc.data, "stored_threats"):
        for key, wanted in (("element", "elements"), ("flow", "flows")):
            ref = item.get(key)
            found = declared.get(ref) if isinstance(ref, str) else None
            if ref is not None and (found is None or found.section != wanted):
                errors.append(
                    InputError(
                        f"stored threat '{item.get('id')}' is about {key} '{ref}', but no "
                        f"{key} has that id",
                        doc.location(["stored_threats", index, key]),
                    )
                )
    return errors


def _cycle_errors(doc: YamlDocument) -> list[InputError]:
    parents: dict[str, str] = {}
    index_of: dict[str, int] = {}
    for index, item in _items(doc.data, "boundaries"):
        item_id, parent = item.get("id"), item.get("parent")
        if isinstance(item_id, str) and item_id not in index_of:
            index_of[item_id] = index
            if isinstance(parent, str):
                parents[item_id] = parent
    errors: list[InputError] = []
    reported: set[str] = set()
    for start in sorted(parents, key=lambda b: index_of[b]):
        path = [start]
        seen = {start}
        current = start
        while current in parents:
            current = parents[current]
            if current in seen:
                cycle = [*path[path.index(current) :], current]
                members = set(cycle)
                if not members & reported:
                    reported |= members
                    first = min(members, key=lambda b: index_of[b])
                    errors.append(
                        InputError(
                            "boundary parents form a cycle: "
                            + " -> ".join(cycle)
                            + "; a boundary cannot sit inside itself, remove one of these parents",
                            doc.location(["boundaries", index_of[first], "parent"]),
                        )
                    )
                break
            seen.add(current)
            path.append(current)
    return errors


def _kind_errors(doc: YamlDocument) -> list[InputError]:
    errors: list[InputError] = []
    for index, item in _items(doc.data, "elements"):
        element_type, kind = item.get("type"), item.get("kind")
        if not isinstance(element_type, str) or element_type not in ELEMENT_KINDS:
            continue
        allowed = ELEMENT_KINDS[element_type]
        if not isinstance(kind, str) or kind in allowed:
            continue
        if not any(kind in kinds for kinds in ELEMENT_KINDS.values()):
            continue  # not a kind at all: the schema reports it with the allowed kinds
        fits = [t for t, kinds in ELEMENT_KINDS.items() if kind in kinds]
        errors.append(
            InputError(
                f"{_label('elements', item)}: kind '{kind}' does not fit type '{element_type}' "
                f"('{kind}' is a kind of {' or '.join(fits)}); {_a(_TYPE_LABELS[element_type])}'s "
                f"kind is one of: {', '.join(allowed)}",
                doc.location(["elements", index, "kind"]),
            )
        )
    return errors


def _implemented_by_errors(doc: YamlDocument) -> list[InputError]:
    """``implemented_by`` may only name properties the item sets (the schema checks the shape)."""
    errors: list[InputError] = []
    for section in ("elements", "flows"):
        for index, item in _items(doc.data, section):
            implemented = item.get("implemented_by")
            properties = item.get("properties")
            if not isinstance(implemented, dict):
                continue
            known = properties if isinstance(properties, dict) else {}
            for name in implemented:
                if name not in known:
                    errors.append(
                        InputError(
                            f"{_label(section, item)}: implemented_by names property '{name}', "
                            "which is not set under properties; set it (say, "
                            f"{name}: true) or remove it from implemented_by",
                            doc.key_location([section, index, "implemented_by", name]),
                        )
                    )
    return errors


def _control_ids(value: Any) -> dict[str, tuple[str, ...]]:
    """``implemented_by`` as property -> control ids (a single id is a list of one)."""
    if not isinstance(value, dict):
        return {}
    return {k: (v,) if isinstance(v, str) else tuple(v) for k, v in value.items()}


def _date_errors(doc: YamlDocument) -> list[InputError]:
    errors: list[InputError] = []
    threats = doc.data.get("threats") if isinstance(doc.data, dict) else None
    if not isinstance(threats, dict):
        return errors
    for key, entry in threats.items():
        if not isinstance(entry, dict):
            continue
        for field in ("approved_on", "expires"):
            value = entry.get(field)
            if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                if _parse_date(value) is None:
                    errors.append(
                        InputError(
                            f"threat '{key}': {field} '{value}' is not a real date; "
                            "check the month and day",
                            doc.location(["threats", key, field]),
                        )
                    )
    return errors


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


# --- building the model ----------------------------------------------------------------------


def build_model(doc: YamlDocument, *, release: bool = False) -> Model:
    """The Model of a document that passed the schema and the semantic checks.

    ``release``: the caller is done with ``doc.data``; each element, flow and boundary item is
    dropped from it once its model object is built, so that reading a large model does not
    hold the whole document and the whole model at once."""
    data: dict[str, Any] = doc.data
    path = doc.path
    # Items with equal properties or types share one mapping or type chain.
    props = SharedProps()
    chains: dict[tuple[Any, ...], tuple[str, ...]] = {}
    boundaries = []
    for (_, item), location in _located_items(doc, "boundaries", release):
        kind = item.get("kind", "generic")
        line = item.get("line", False)
        chain = chains.get(("boundary", kind, line))
        if chain is None:
            chain = chains[("boundary", kind, line)] = boundary_chain(kind, line=line)
        boundaries.append(
            Boundary(
                id=item["id"],
                name=item.get("name", item["id"]),
                kind=kind,
                parent=item.get("parent"),
                type_chain=chain,
                line=line,
                renamed_from=item.get("renamed_from"),
                # Boundary has no description field; it travels with the properties, where the
                # writers (native, OTM) look for it.
                properties=props(
                    {**(item.get("properties") or {}), "description": item["description"]}
                    if item.get("description")
                    else item.get("properties")
                ),
                location=location,
            )
        )
    elements = []
    for (_, item), location in _located_items(doc, "elements", release):
        element_type = item["type"]
        kind = item.get("kind", "generic")
        chain = chains.get((element_type, kind))
        if chain is None:
            chain = chains[(element_type, kind)] = element_chain(element_type, kind)
        implemented = item.get("implemented_by")
        elements.append(
            new_element(
                item["id"],
                item.get("name", item["id"]),
                element_type,
                kind,
                item.get("boundary"),
                props(item.get("properties")),
                chain,
                tuple(item.get("hazards", ())),
                item.get("essential_performance", False),
                tuple(item.get("data", ())),
                item.get("description", ""),
                location,
                frozen_controls(_control_ids(implemented)) if implemented else _NONE,
                item.get("renamed_from"),
            )
        )
    crossings = _Crossings(boundaries, elements)
    flows = []
    for (_, item), location in _located_items(doc, "flows", release):
        protocol = item.get("protocol", "generic")
        chain = chains.get(("flow", protocol))
        if chain is None:
            chain = chains[("flow", protocol)] = flow_chain(protocol)
        properties = item.get("properties")
        out_of_scope, reason = scope_of(properties)
        implemented = item.get("implemented_by")
        flows.append(
            new_flow(
                item["id"],
                item.get("name", item["id"]),
                item["from"],
                item["to"],
                protocol,
                item.get("bidirectional", False),
                props(properties),
                chain,
                crossings.of(item),
                tuple(item.get("hazards", ())),
                item.get("essential_performance", False),
                tuple(item.get("data", ())),
                item.get("description", ""),
                location,
                frozen_controls(_control_ids(implemented)) if implemented else _NONE,
                item.get("renamed_from"),
                out_of_scope,
                reason,
            )
        )
    controls = build_controls(doc)
    assets = [_asset(item, location) for (_, item), location in _located_items(doc, "assets")]
    ends = {f.id: (f.source, f.target) for f in flows}
    stored = [
        _stored_threat(item, location, ends)
        for (_, item), location in _located_items(doc, "stored_threats")
    ]
    dispositions = build_dispositions(doc)
    return Model(
        system=data["system"],
        elements=tuple(sorted(elements, key=_by_id)),
        flows=tuple(sorted(flows, key=_by_id)),
        boundaries=tuple(sorted(boundaries, key=_by_id)),
        controls=tuple(sorted(controls, key=_by_id)),
        assets=tuple(sorted(assets, key=_by_id)),
        dispositions=dispositions,
        stored_threats=tuple(sorted(stored, key=lambda t: t.key)),
        format=name,
        path=path,
    )


_NONE = frozen_controls(None)
"""The ``implemented_by`` of an item that has none."""


def _by_id(item: Element | Flow | Boundary | Control | Asset) -> str:
    return item.id


def _located_items(
    doc: YamlDocument, section: str, release: bool = False
) -> Iterator[tuple[tuple[int, dict[str, Any]], Location]]:
    """:func:`_items` of a section, each with its item's location (found in one walk);
    ``release``: drop each item from the list once the caller has taken the next one."""
    items = doc.data.get(section) if isinstance(doc.data, dict) else None
    if not isinstance(items, list):
        return
    locations = doc.item_locations([section], len(items))
    for index, item in enumerate(items):
        if isinstance(item, dict):
            yield (index, item), locations[index]
            if release:
                items[index] = None


class _Crossings:
    """Flows' crossings when they list ``crosses``: the ones the nesting gives, plus those
    listed (line boundaries, crossings another tool drew); None (worked out from the nesting
    later) when they list none. The nesting is looked up once, on the first flow that lists
    crossings."""

    def __init__(self, boundaries: Sequence[Boundary], elements: Sequence[Element]) -> None:
        self._boundaries = boundaries
        self._elements = elements
        self._parents: dict[str, str | None] | None = None
        self._homes: dict[str, str | None] = {}

    def of(self, item: Mapping[str, Any]) -> tuple[str, ...] | None:
        listed = item.get("crosses")
        if not listed:
            return None
        if self._parents is None:
            self._parents = {b.id: b.parent for b in self._boundaries if not b.is_line}
            self._homes = {e.id: e.boundary for e in self._elements}
        nested = self._around(item["from"]) ^ self._around(item["to"])
        return tuple(sorted(nested | set(listed)))

    def _around(self, element_id: str) -> set[str]:
        parents = self._parents or {}
        chain: set[str] = set()
        current = self._homes.get(element_id)
        while current is not None and current in parents and current not in chain:
            chain.add(current)
            current = parents[current]
        return chain


def _stored_threat(
    item: Mapping[str, Any], location: Location, ends: Mapping[str, tuple[str, str]]
) -> Threat:
    """A threat the model holds itself (``stored_threats:``)."""
    flow = item.get("flow")
    source, target = ends.get(flow, (None, None)) if flow is not None else (None, None)
    return Threat(
        key=item["id"],
        rule_id=STORED_RULE_ID,
        stride=item.get("stride", "T"),
        title=item["title"],
        scope="element" if item.get("element") is not None else "flow",
        severity=item.get("severity", "medium"),
        description=item.get("description", ""),
        category=item.get("category", ""),
        element=item.get("element"),
        flow=flow,
        source=source,
        target=target,
        location=location,
    )


def build_controls(doc: YamlDocument) -> list[Control]:
    """The ``controls:`` of a checked document (a model or a decisions file)."""
    return [
        Control(
            id=item["id"],
            name=item["name"],
            status=item["status"],
            evidence=tuple(item.get("evidence", ())),
            description=item.get("description", ""),
            location=location,
        )
        for (_, item), location in _located_items(doc, "controls")
    ]


def build_dispositions(doc: YamlDocument) -> dict[str, Disposition]:
    """The ``threats:`` of a checked document (a model or a decisions file), by key."""
    dispositions: dict[str, Disposition] = {}
    threats: dict[str, Any] = doc.data.get("threats") or {}
    for key in sorted(threats):
        entry = threats[key]
        dispositions[key] = Disposition(
            key=key,
            status=entry["status"],
            controls=tuple(entry.get("controls", ())),
            justification=entry.get("justification", ""),
            approved_by=entry.get("approved_by", ""),
            approved_on=_optional_date(entry.get("approved_on")),
            expires=_optional_date(entry.get("expires")),
            transferred_to=entry.get("transferred_to", ""),
            needs_investigation=entry.get("needs_investigation", False),
            exploitability=entry.get("exploitability", ""),
            severity=entry.get("severity", ""),
            rationale=entry.get("rationale", ""),
            cvss=entry.get("cvss", ""),
            location=doc.location(["threats", key]),
        )
    return dispositions


def _asset(item: dict[str, Any], location: Location) -> Asset:
    classification = item.get("classification", "generic")
    confidentiality, integrity, availability = CLASSIFICATIONS[classification]
    return Asset(
        id=item["id"],
        name=item.get("name", item["id"]),
        classification=classification,
        confidentiality=item.get("confidentiality", confidentiality),
        integrity=item.get("integrity", integrity),
        availability=item.get("availability", availability),
        description=item.get("description", ""),
        location=location,
    )


def _optional_date(value: Any) -> dt.date | None:
    return _parse_date(value) if isinstance(value, str) else None


# --- helpers ---------------------------------------------------------------------------------


def _items(data: Any, section: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The mapping items of a top-level list, with their indexes; anything else is skipped."""
    items = data.get(section) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            yield index, item


def _item(data: Any, path: Sequence[Any]) -> dict[str, Any]:
    node = data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


def _label(section: str, item: Mapping[str, Any]) -> str:
    noun = _SECTION_LABELS.get(section, section)
    element_type = item.get("type")
    if section == "elements" and isinstance(element_type, str) and element_type in _TYPE_LABELS:
        noun = _TYPE_LABELS[element_type]
    item_id = item.get("id")
    if isinstance(item_id, str) and item_id:
        return f"{noun} '{item_id}'"
    return f"this {noun}"


def _owner(path: list[Any], data: Any) -> tuple[str, list[Any]]:
    """Who a schema error is about (``flow 'x'``, ``the model``) and the path below it."""
    if len(path) >= 2 and path[0] in _SECTION_LABELS and isinstance(path[1], int):
        item = _item(data, path[:2])
        if item:
            return _label(str(path[0]), item), path[2:]
        return f"{path[0]}[{path[1]}]", path[2:]
    if len(path) >= 2 and path[0] == "threats":
        return f"threat '{path[1]}'", path[2:]
    return "the model", path


def _join(path: Iterable[Any]) -> str:
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
    return text


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _did_you_mean(word: Any, candidates: Sequence[str]) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


__all__ = [
    "build_model",
    "name",
    "read",
    "schema",
    "schema_errors",
    "semantic_errors",
    "sniff",
]
