"""The enumeration (compiled rules, type index, shared threat parts, exclusions found in the
same pass) gives exactly what evaluating every rule on every subject with the interpreter gives,
on the bundled examples and the real-world samples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT, SAMPLES

from threatdelta.engine import (
    Candidate,
    EnumerationStats,
    enumerate_threats,
    interaction_key,
)
from threatdelta.errors import InputError
from threatdelta.exclusions import excluded_threats
from threatdelta.formats.packs import default_pack
from threatdelta.formats.registry import read_model
from threatdelta.model.graph import ModelFacts, facts
from threatdelta.model.model import Model
from threatdelta.rules.lang.ast import Expr
from threatdelta.rules.lang.evaluator import evaluate, true_conditions
from threatdelta.rules.lang.interface import Subject
from threatdelta.rules.pack import RulePack
from threatdelta.subjects import SubjectFactory
from threatdelta.threat import Threat


def _every_candidate(model: Model, pack: RulePack, model_facts: ModelFacts) -> Iterator[Candidate]:
    """Every rule on every subject, no index: the enumeration as first written."""
    factory = SubjectFactory.for_pack(model_facts, pack)
    for element in model.elements:
        subjects: dict[str, Subject] = {"element": factory.element(element)}
        for rule in pack.rules:
            if rule.scope == "element":
                yield Candidate(rule, f"{rule.id}@{element.id}", subjects, element=element)
    for flow in model.flows:
        source, target = model.element(flow.source), model.element(flow.target)
        if flow.out_of_scope or source is None or target is None:
            continue
        forward: dict[str, Subject] = {
            "source": factory.element(source),
            "flow": factory.flow(flow),
            "target": factory.element(target),
        }
        for rule in pack.rules:
            if rule.scope == "flow":
                yield Candidate(
                    rule,
                    f"{rule.id}@{flow.id}",
                    forward,
                    flow=flow,
                    source=source.id,
                    target=target.id,
                )
        directions = [(source.id, target.id, forward)]
        if flow.bidirectional:
            backward: dict[str, Subject] = {
                "source": forward["target"],
                "flow": factory.flow(flow, reverse=True),
                "target": forward["source"],
            }
            directions.append((target.id, source.id, backward))
        for rule in pack.rules:
            if rule.scope != "interaction":
                continue
            for src, dst, subjects in directions:
                key = interaction_key(pack, rule, src, flow.id, dst)
                yield Candidate(rule, key, subjects, flow=flow, source=src, target=dst)


def _reference(model: Model, pack: RulePack) -> tuple[dict[str, Threat], dict[str, Threat]]:
    """Threats and designed-out threats by key, by the interpreter, each built on its own."""
    model_facts = ModelFacts(model)
    threats: dict[str, Threat] = {}
    excluded: dict[str, Threat] = {}
    for candidate in _every_candidate(model, pack, model_facts):
        include: Expr = candidate.rule.include  # type: ignore[assignment]
        exclude: Expr | None = candidate.rule.exclude  # type: ignore[assignment]
        if not evaluate(include, candidate.subjects):
            continue
        if exclude is not None and true_conditions(exclude, candidate.subjects):
            excluded[candidate.key] = candidate.threat(pack, model, model_facts)
        else:
            threats[candidate.key] = candidate.threat(pack, model, model_facts)
    return threats, excluded


def _same(found: tuple[Threat, ...], expected: dict[str, Threat]) -> None:
    assert [t.key for t in found] == sorted(expected)
    for threat in found:
        assert threat == expected[threat.key]
        assert threat.location == expected[threat.key].location


def _models() -> list[Path]:
    paths = sorted((REPO_ROOT / "examples").glob("*/threatmodel.yaml"))
    if SAMPLES.is_dir():
        for folder in ("tm7", "dragon", "otm"):
            paths += sorted(p for p in (SAMPLES / folder).iterdir() if p.suffix != ".md")
    return paths


@pytest.mark.parametrize("path", _models(), ids=lambda p: p.name)
def test_enumeration_and_exclusions_match_the_interpreter(path: Path) -> None:
    try:
        parsed = read_model(path.read_bytes(), str(path))
    except InputError:
        pytest.skip("not a model threatdelta reads")
    pack = default_pack(parsed)
    expected, expected_excluded = _reference(parsed.model, pack)
    stats = EnumerationStats()
    _same(enumerate_threats(parsed.model, pack, stats=stats), expected)
    exclusions = excluded_threats(parsed.model, pack)
    _same(tuple(e.threat for e in exclusions), expected_excluded)
    # Counted as if every rule ran on every subject.
    assert stats.evaluations == sum(
        1 for _ in _every_candidate(parsed.model, pack, facts(parsed.model))
    )


def test_exclusions_without_an_enumeration_first() -> None:
    path = REPO_ROOT / "examples" / "infusion-pump" / "threatmodel.yaml"
    parsed = read_model(path.read_bytes(), str(path))
    pack = default_pack(parsed)
    alone = excluded_threats(parsed.model, pack)
    enumerate_threats(parsed.model, pack)
    again = excluded_threats(parsed.model, pack)
    assert alone and [e.threat for e in alone] == [e.threat for e in again]
    assert [e.causes for e in alone] == [e.causes for e in again]
