"""Fuzz every model reader and the review with hostile inputs.

Usage::

    .venv/bin/python bench/fuzz.py [--count 10000] [--seed 1] [--save DIR]
    for s in $(seq 1 12); do .venv/bin/python bench/fuzz.py --count 10000 --seed $s; done

Inputs are generated with hypothesis from the test fixtures of each format (native YAML,
Threat Modeling Tool .tm7, .tb7 templates, Threat Dragon JSON, Open Threat Model JSON and
YAML): values in the parsed documents are replaced by hostile ones (integers of thousands of
digits, unpaired surrogates, control and bidi characters, deep nesting, long strings, wrong
types, repeated ids), bytes are flipped, cut, repeated, and hostile tokens are spliced in
(byte-order marks, XML declarations with unknown encodings, DTDs, YAML tags and aliases).

Each input must either be read as a model or be refused with an ``InputError`` that names a
location (``path:...``); any other exception is a failure. Every model that is read is also
enumerated, joined with its dispositions, rendered (JSON and text, encoded as UTF-8 as when
written out) and reviewed against the fixture it came from, where the incremental review must
equal a full enumeration and a review of the model against itself must find nothing new.

Failures are printed and, with ``--save``, written to DIR (copy the interesting ones to
``tests/fuzz_corpus/`` so the test suite replays them). Exit code 1 when anything failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from threatdelta.engine import enumerate_threats  # noqa: E402
from threatdelta.errors import InputError, InputErrors  # noqa: E402
from threatdelta.formats.interface import ParsedModel  # noqa: E402
from threatdelta.formats.packs import default_pack, load_rules  # noqa: E402
from threatdelta.formats.registry import read_model  # noqa: E402
from threatdelta.model.graph import facts  # noqa: E402
from threatdelta.register import build_register  # noqa: E402
from threatdelta.render.data import dumps, register_data  # noqa: E402
from threatdelta.render.review_data import review_data  # noqa: E402
from threatdelta.render.text import register_text  # noqa: E402
from threatdelta.review.diff import diff_models  # noqa: E402
from threatdelta.review.impact import impact, incremental_threats  # noqa: E402
from threatdelta.review.review import compare  # noqa: E402

FIXTURES = ROOT / "tests" / "formats" / "fixtures"
TODAY = dt.date(2026, 11, 25)

SEEDS: dict[str, tuple[Path, ...]] = {
    "native": (FIXTURES / "native" / "infusion_pump.yaml", ROOT / "threatmodel.yaml"),
    "otm-yaml": (FIXTURES / "otm" / "pump.otm.yaml",),
    "otm-json": (FIXTURES / "otm" / "pump.otm.yaml",),
    "dragon": (FIXTURES / "dragon" / "pump-v2.json", FIXTURES / "dragon" / "pump-v1.json"),
    "tm7": (FIXTURES / "tm7" / "two_tabs.tm7",),
    "tb7": (FIXTURES / "tm7" / "template.tb7",),
}
"""Seed files of each fuzzed format (OTM JSON is made from the OTM YAML fixture)."""

FILE_NAMES = {
    "native": "threatmodel.yaml",
    "otm-yaml": "model.otm.yaml",
    "otm-json": "model.otm.json",
    "dragon": "model.json",
    "tm7": "model.tm7",
    "tb7": "template.tb7",
}
"""The file name each format's input is read as."""

FORMATS = tuple(SEEDS)

HOSTILE_TOKENS = (
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xed\xa0\x80",
    b"\\ud800",
    b"\\udfff\\ud800",
    b"9" * 5000,
    b"-" + b"1" * 4400,
    b"1e999999",
    b"NaN",
    b"-Infinity",
    b"&a [*a, *a, *a]",
    b"*undefined",
    b"!!python/object:os.system",
    b"!!binary aGk=",
    b"<<: {a: 1}",
    b"? [a, b]\n: c",
    b"---\n",
    b"...\n",
    b"%YAML 1.1\n",
    b"%TAG ! tag:x,2000:\n",
    b'<?xml version="1.0" encoding="x-no-such-encoding"?>',
    b'<?xml version="1.0" encoding="utf-16"?>',
    b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
    b"&a;",
    b"&#xD800;",
    b"<![CDATA[",
    b"]]>",
    b"<a>" * 80,
    b"[" * 200,
    b"{" * 200,
    b'"k": 1, "k": 2',
    b"\xe2\x80\xae",
    b"\x1b[31m",
    b"\r",
    b"\t",
    b"x" * 300_000,
)
"""Byte strings spliced into inputs."""


def hostile_text() -> st.SearchStrategy[str]:
    """Strings a pull request could put in a model."""
    return st.one_of(
        st.text(max_size=20),
        st.sampled_from(
            [
                "\ud800",
                "a\udc00b",
                "\u202egnp.exe",
                "\u200b\u200e\u200f\u061c",
                "\x00\x07\x1b[2J",
                "${{ secrets.TOKEN }}",
                "[click](https://evil.example)",
                "@org/team",
                "<!-- x -->",
                "%%{init: {}}%%",
                "../../../etc/passwd",
                "/dev/zero",
                "p" * 70_000,
                "q" * 300_000,
                "",
                " ",
            ]
        ),
    )


def hostile_value() -> st.SearchStrategy[Any]:
    """Values that replace part of a parsed document."""
    leaves = st.one_of(
        hostile_text(),
        st.integers(),
        st.integers(4301, 6000).map(lambda digits: 10**digits),
        st.integers(4301, 6000).map(lambda digits: -(10**digits)),
        st.floats(),
        st.booleans(),
        st.none(),
    )
    return st.one_of(
        leaves,
        st.recursive(
            leaves,
            lambda inner: (
                st.lists(inner, max_size=3) | st.dictionaries(hostile_text(), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        st.integers(1, 300).map(_nested),
    )


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@cache
def seed_documents(fmt: str) -> tuple[tuple[bytes, Any], ...]:
    """Each seed's bytes (in the format) and, for YAML and JSON formats, its parsed data."""
    result = []
    for path in SEEDS[fmt]:
        raw = path.read_bytes()
        if fmt in ("tm7", "tb7"):
            result.append((raw, None))
            continue
        data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
        data = json.loads(json.dumps(data, default=str))  # dates as strings, plain data only
        result.append((_serialise(fmt, data, False), data))
    return tuple(result)


def _serialise(fmt: str, data: Any, unicode: bool) -> bytes:
    if fmt in ("otm-json", "dragon"):
        try:
            return json.dumps(data, ensure_ascii=not unicode).encode("utf-8", "surrogatepass")
        except ValueError:  # an integer json will not write: splice its digits in by hand
            return json.dumps(_with_big_ints(data)).encode().replace(b'"@@BIG@@"', b"9" * 5000)
    try:
        text = yaml.safe_dump(data, allow_unicode=unicode, sort_keys=False)
    except (ValueError, yaml.YAMLError):
        text = yaml.safe_dump(_with_big_ints(data), sort_keys=False).replace(
            "'@@BIG@@'", "9" * 5000
        )
    return text.encode("utf-8", "surrogatepass")


def _with_big_ints(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**100:
        return "@@BIG@@"
    if isinstance(value, list):
        return [_with_big_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _with_big_ints(v) for k, v in value.items()}
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _replace(value: Any, path: tuple[Any, ...], new: Any, how: str) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if not rest and how == "delete":
            copy.pop(head, None)
        else:
            copy[head] = _replace(value[head], rest, new, how)
        return copy
    copy_list = list(value)
    if not rest and how == "delete":
        del copy_list[head]
    elif not rest and how == "repeat":
        copy_list.insert(head, copy_list[head])
    else:
        copy_list[head] = _replace(value[head], rest, new, how)
    return copy_list


@st.composite
def structured_input(draw: st.DrawFn, fmt: str) -> bytes:
    """A seed document with parts replaced, deleted or repeated, written in ``fmt``."""
    _, data = draw(st.sampled_from(seed_documents(fmt)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        texts = [p for p in paths if isinstance(_at(data, p), str)]
        if texts and draw(st.booleans()):  # keep the shape: hostile text where text was
            data = _replace(data, draw(st.sampled_from(texts)), draw(hostile_text()), "replace")
            continue
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["replace", "replace", "delete", "repeat"]))
        if how != "replace" and not path:
            continue
        new = draw(hostile_value()) if how == "replace" else None
        data = _replace(data, path, new, how)
    return _serialise(fmt, data, draw(st.booleans()))


@st.composite
def byte_input(draw: st.DrawFn, fmt: str) -> bytes:
    """A seed's bytes flipped, cut, repeated, or with hostile tokens spliced in."""
    raw, _ = draw(st.sampled_from(seed_documents(fmt)))
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            data.extend(draw(st.sampled_from(HOSTILE_TOKENS)))
            continue
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "token", "token", "cut", "repeat", "truncate"]))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "token":
            data[at:at] = draw(st.sampled_from(HOSTILE_TOKENS))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 200))]
        elif op == "repeat":
            piece = data[at : at + draw(st.integers(1, 400))]
            data[at:at] = piece * draw(st.integers(1, 20))
        else:
            del data[at:]
    if draw(st.integers(0, 9)) == 0:
        codec = draw(st.sampled_from(["utf-16", "utf-16-be", "utf-32"]))
        data = bytearray(bytes(data).decode("utf-8", "replace").encode(codec))
    return bytes(data)


def fuzz_input() -> st.SearchStrategy[tuple[str, bytes]]:
    """A format and one input for it."""
    strategies: list[st.SearchStrategy[tuple[str, bytes]]] = []
    for fmt in FORMATS:
        strategies.append(byte_input(fmt).map(lambda b, f=fmt: (f, b)))
        if fmt not in ("tm7", "tb7"):
            strategies.append(structured_input(fmt).map(lambda b, f=fmt: (f, b)))
    return st.one_of(strategies)


# --- what must hold for every input ----------------------------------------------------------


class Failure(Exception):
    """An input broke a property."""


def _check_located(error: InputError, path: str) -> None:
    errors = error.errors if isinstance(error, InputErrors) else [error]
    for item in errors:
        if item.location is None or item.location.path != path:
            raise Failure(f"input error without a location in {path}: {item}")


def check_input(fmt: str, data: bytes) -> str:
    """Read ``data`` as ``fmt`` and review what was read; ``"read"`` or ``"refused"``.

    Raises :class:`Failure` (or the unexpected exception) when a property does not hold.
    """
    path = FILE_NAMES[fmt]
    if fmt == "tb7":
        try:
            load_rules(data, path)
        except InputError as error:
            _check_located(error, path)
            return "refused"
        return "read"
    try:
        parsed = read_model(data, path)
    except InputError as error:
        _check_located(error, path)
        return "refused"
    check_review(fmt, path, parsed)
    return "read"


@cache
def _base(fmt: str) -> ParsedModel:
    raw, _ = seed_documents(fmt)[0]
    return read_model(raw, FILE_NAMES[fmt])


def check_review(fmt: str, path: str, parsed: ParsedModel) -> None:
    """Enumerate, render and review a model that was read; the review properties must hold."""
    head = parsed.model
    try:
        pack = default_pack(parsed)
    except InputError as error:  # an embedded template can be refused like any input
        _check_located(error, path)
        return
    head_facts = facts(head)
    full = enumerate_threats(head, pack, model_facts=head_facts)
    head_register = build_register(head, full, today=TODAY, evidence_exists=lambda p: False)
    data = register_data(head_register, pack)
    dumps(data).encode("utf-8")
    register_text(data).encode("utf-8")

    base_parsed = _base(fmt)
    base = base_parsed.model
    base_pack = default_pack(base_parsed)
    base_facts = facts(base)
    base_threats = enumerate_threats(base, base_pack, model_facts=base_facts)
    base_register = build_register(base, base_threats, today=TODAY, evidence_exists=lambda p: False)
    model_diff = diff_models(base, head, base_facts=base_facts, head_facts=head_facts)
    change = impact(
        base,
        head,
        model_diff,
        same_pack=base_pack == pack,
        base_facts=base_facts,
        head_facts=head_facts,
    )
    incremental = incremental_threats(base, base_threats, head, pack, change, head_facts=head_facts)
    if sorted(t.key for t in incremental) != sorted(t.key for t in full):
        raise Failure("the incremental review differs from a full enumeration")
    review = compare(path, path, base_register, head_register, base_pack, pack, change, model_diff)
    dumps(review_data(review)).encode("utf-8")
    same = compare(path, path, head_register, head_register, pack, pack)
    if same.new or same.resolved:
        raise Failure("a review of a model against itself found changes")


# --- the command -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What a run saw."""

    inputs: int = 0
    reviews: int = 0
    by_format: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[tuple[str, bytes, str]] = field(default_factory=list)

    def add(self, fmt: str, outcome: str) -> None:
        self.inputs += 1
        if outcome == "read" and fmt != "tb7":
            self.reviews += 1
        counts = self.by_format.setdefault(fmt, {})
        counts[outcome] = counts.get(outcome, 0) + 1


def run(count: int, seed: int, on_input: Callable[[Tally], None] | None = None) -> Tally:
    """Check ``count`` generated inputs (the same ones for the same ``seed``); failures are
    collected, not raised. Hypothesis keeps state for every input of a run, so for a long fuzz
    run several runs with different seeds rather than one huge one."""
    tally = Tally()

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(fuzz_input())
    def one(case: tuple[str, bytes]) -> None:
        fmt, data = case
        try:
            outcome = check_input(fmt, data)
        except Exception as error:  # every other exception is what the fuzzer looks for
            detail = "".join(traceback.format_exception_only(type(error), error)).strip()
            tally.failures.append((fmt, data, detail[:500]))
            outcome = "failed"
        tally.add(fmt, outcome)
        if on_input is not None:
            on_input(tally)

    one()
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="inputs to generate")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--save", metavar="DIR", help="write failing inputs to DIR")
    args = parser.parse_args(argv)
    started = time.monotonic()

    def progress(tally: Tally) -> None:
        if tally.inputs % 5000 == 0:
            rate = tally.inputs / (time.monotonic() - started)
            print(
                f"{tally.inputs} inputs, {tally.reviews} reviews, "
                f"{len(tally.failures)} failures ({rate:.0f}/s)",
                file=sys.stderr,
                flush=True,
            )

    tally = run(args.count, args.seed, progress)
    elapsed = time.monotonic() - started
    print(
        f"{tally.inputs} inputs ({tally.reviews} read and reviewed), "
        f"{len(tally.failures)} failures, {elapsed:.0f} s"
    )
    for fmt in sorted(tally.by_format):
        counts = ", ".join(f"{k} {v}" for k, v in sorted(tally.by_format[fmt].items()))
        print(f"  {fmt}: {counts}")
    seen: set[str] = set()
    for index, (fmt, data, detail) in enumerate(tally.failures):
        if detail not in seen:
            seen.add(detail)
            print(f"FAIL {fmt}: {detail}")
        if args.save:
            folder = Path(args.save)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{index:05d}-{FILE_NAMES[fmt]}").write_bytes(data)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
