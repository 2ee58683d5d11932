"""The compiled schema validator only ever says "valid" when the Python walk would find nothing,
so a model's schema errors are always the Python walk's, word for word."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from threatdelta.formats import native
from threatdelta.yaml_loader import YamlDocument, load_yaml

ROOT = Path(__file__).parents[2]
_MODELS = [
    *sorted((ROOT / "tests" / "formats" / "fixtures" / "native").glob("*.yaml")),
    *sorted((ROOT / "examples").glob("*/threatmodel.yaml")),
]
_EXTRA = """\
version: 1
system: Pump
assets:
  - {id: dose, name: Dose record, classification: phi, integrity: high}
boundaries:
  - {id: body, name: Body, kind: physical}
  - {id: net, kind: network, parent: body}
elements:
  - {id: app, type: process, kind: mobile-app, boundary: net, properties: {build: 4, r: 0.5}}
  - {id: st, type: data-store, properties: {stores_credentials: true}, data: [dose]}
  - {id: pt, type: external-entity}
flows:
  - {id: f, from: app, to: st, protocol: ipc, bidirectional: true, crosses: [body]}
controls:
  - {id: ks, name: Key store, status: implemented, evidence: [docs/ks.md]}
stored_threats:
  - {id: old@app, title: Old threat, stride: T, severity: high}
threats:
  store-tampering@st: {status: accepted, justification: Low, approved_by: ciso,
                       approved_on: 2026-01-15, expires: 2027-01-01}
  store-disclosure@st: {status: mitigated, controls: [ks]}
  old@app: {status: open, needs_investigation: true}
"""
_BASES = [
    *(load_yaml(path.read_bytes(), path.name).data for path in _MODELS),
    load_yaml(_EXTRA, "extra.yaml").data,
]
_VALID_BASES = [
    data for data in _BASES if not list(Draft202012Validator(native.schema()).iter_errors(data))
]

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([10**30, -(10**20), 1.0, 0.5, math.inf, -math.inf, math.nan]),
    st.sampled_from(
        ["a", "", "x@y", "a b", "a\n", "process", "data-store", "external-entity", "person",
         "https", "open", "mitigated", "accepted", "implemented", "2027-06-30", "2027-02-30",
         "CVSS:3.1/AV:N", "high", "physical", "yes", "é", "p1", "_x", "-x"]
    ),
    st.text(max_size=4),
)  # fmt: skip
_KEYS = st.one_of(
    st.sampled_from(
        ["id", "name", "type", "kind", "boundary", "parent", "from", "to", "protocol",
         "status", "properties", "controls", "evidence", "expires", "approved_on",
         "approved_by", "justification", "bidirectional", "crosses", "implemented_by",
         "encrypted", "zz", "1", "a b"]
    ),
    st.integers(0, 2),
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3)),
    max_leaves=8,
)


def _pointers(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_pointers(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_pointers(item, (*prefix, index)))
    return found


def _at(data: Any, pointer: tuple[Any, ...]) -> Any:
    for step in pointer:
        data = data[step]
    return data


@st.composite
def _documents(draw: st.DrawFn) -> Any:
    """A valid model with up to three random edits: a value replaced, a key or item removed, a
    key or item added."""
    data = copy.deepcopy(draw(st.sampled_from(_VALID_BASES)))
    for _ in range(draw(st.integers(0, 3))):
        pointer = draw(st.sampled_from(_pointers(data)))
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if not pointer:
            continue
        parent = _at(data, pointer[:-1])
        if action == "replace":
            parent[pointer[-1]] = draw(_VALUES)
        elif action == "remove":
            del parent[pointer[-1]]
        elif isinstance(parent, list):
            parent.insert(pointer[-1], draw(_VALUES))
        else:
            parent[draw(_KEYS)] = draw(_VALUES)
    return data


def _string_keys_only(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _string_keys_only(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_string_keys_only(v) for v in value)
    return True


def _python_only(doc: YamlDocument, *, decisions: bool = False) -> list[str]:
    with mock.patch.object(native, "fast_valid", return_value=False):
        return [str(e) for e in native.schema_errors(doc, decisions=decisions)]


def test_every_fixture_that_is_valid_is_valid_to_both() -> None:
    assert len(_VALID_BASES) == len(_BASES)
    for data in _VALID_BASES:
        assert native.fast_valid(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_both_validators_give_the_same_verdict(data: Any) -> None:
    python_valid = not list(native._validator().iter_errors(data))
    fast = native.fast_valid(data)
    if fast:  # never a miss: what the fast validator passes has no error to report
        assert python_valid
    if _string_keys_only(data) and not _left_to_the_walk(data):
        assert fast == python_valid


def _left_to_the_walk(value: Any) -> bool:
    """Values the compiled validator does not pass, though the schema may allow them, so the
    Python walk decides (as before): a string ending in a newline (Python's ``$`` also matches
    before a final newline, the compiled validator's does not) and a number that is not finite
    (``.inf`` and ``.nan`` are not JSON numbers)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return value.endswith("\n")
    if isinstance(value, dict):
        return any(_left_to_the_walk(k) or _left_to_the_walk(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_left_to_the_walk(v) for v in value)
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents(), st.booleans())
def test_schema_errors_are_the_python_walks_word_for_word(data: Any, decisions: bool) -> None:
    if decisions and isinstance(data, dict):
        data = {k: v for k, v in data.items() if k in native.DECISION_SECTIONS}
    doc = YamlDocument(data, "m.yaml")
    assert [str(e) for e in native.schema_errors(doc, decisions=decisions)] == _python_only(
        doc, decisions=decisions
    )


def test_input_the_compiled_validator_cannot_take_goes_to_the_python_walk() -> None:
    # Integer keys are not JSON: the compiled validator refuses them, the walk explains them.
    data = copy.deepcopy(_VALID_BASES[0])
    data["elements"][0]["properties"] = {1: True}
    assert not native.fast_valid(data)
    doc = YamlDocument(data, "m.yaml")
    assert [str(e) for e in native.schema_errors(doc)] == _python_only(doc)
    assert native.schema_errors(doc)


def test_a_final_newline_in_an_id_is_left_to_the_python_walk() -> None:
    # The compiled validator's '$' does not match before a final newline, Python's does: the
    # walk decides, and accepts the id as it always has.
    data = copy.deepcopy(_BASES[-1])
    data["elements"][2]["id"] = "pt\n"
    assert not native.fast_valid(data)
    assert native.schema_errors(YamlDocument(data, "m.yaml")) == []


def test_a_number_that_is_not_finite_is_left_to_the_python_walk() -> None:
    data = copy.deepcopy(_BASES[-1])
    data["elements"][0]["properties"]["build"] = math.inf
    assert not native.fast_valid(data)
    assert native.schema_errors(YamlDocument(data, "m.yaml")) == []
