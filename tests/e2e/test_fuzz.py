"""The fuzzer's properties, briefly on generated inputs and on every input of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import fuzz

CORPUS = Path(__file__).resolve().parents[1] / "fuzz_corpus"
CASES = sorted(p for p in CORPUS.glob("*/*") if p.is_file())


def test_the_corpus_covers_every_format() -> None:
    assert {p.parent.name for p in CASES} == set(fuzz.FORMATS)


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_input_is_read_or_refused_with_a_location(case: Path) -> None:
    outcome = fuzz.check_input(case.parent.name, case.read_bytes())
    assert outcome in ("read", "refused")


def test_corpus_holds_the_inputs_that_once_raised() -> None:
    refused = {
        f"{p.parent.name}/{p.name}"
        for p in CASES
        if fuzz.check_input(p.parent.name, p.read_bytes()) == "refused"
    }
    for name in (
        "native/integer-of-5000-digits.yaml",
        "otm-json/lone-surrogate-escape.json",
        "dragon/lone-surrogate-escape.json",
        "tm7/unknown-xml-encoding.tm7",
        "tb7/unknown-xml-encoding.tb7",
        "dragon/duplicate-keys.json",
    ):
        assert name in refused


def test_utf16_models_are_read() -> None:
    for name in (
        "native/utf16-with-bom.yaml",
        "native/utf16-without-bom.yaml",
        "otm-yaml/utf16.yaml",
    ):
        assert fuzz.check_input(name.split("/")[0], (CORPUS / name).read_bytes()) == "read"


def test_a_brief_fuzz_run_finds_no_failure() -> None:
    tally = fuzz.run(count=120, seed=7)
    assert tally.inputs == 120
    assert not tally.failures, tally.failures[:3]
    assert set(tally.by_format) == set(fuzz.FORMATS)
    assert tally.reviews > 0


def test_the_properties_catch_an_unlocated_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from threatdelta.errors import InputError

    def unlocated(data: bytes, path: str) -> None:
        raise InputError("no place given")

    monkeypatch.setattr(fuzz, "read_model", unlocated)
    with pytest.raises(fuzz.Failure, match="without a location"):
        fuzz.check_input("native", b"version: 1\n")
