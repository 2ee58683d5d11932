"""Partial registers and the threat index: a review that counts the threats outside the change
from a stored index says what a full review says, and an index it did not write itself can
change no verdict."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.review.conftest import GitRepo
from tests.review.test_incremental_review import edited, models

import threatdelta.review.revisions as revisions
from threatdelta.context import Overrides
from threatdelta.engine import enumerate_threats
from threatdelta.formats.registry import read_model
from threatdelta.git import Repo
from threatdelta.register import Register
from threatdelta.render.comment import review_comment
from threatdelta.render.review_data import review_set_data
from threatdelta.review.diff import diff_models
from threatdelta.review.impact import impact
from threatdelta.review.partial import (
    PartialRegister,
    counted_registers,
    incremental_registers,
    looked_at,
    model_digest,
)
from threatdelta.review.revisions import ReviewSet, review_revisions
from threatdelta.rules.pack import RulePack
from threatdelta.rules.packfile import builtin_pack

TODAY = dt.date(2026, 11, 25)


class Store:
    """A threat index store in memory, which a test can read and tamper with."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.reads = 0

    def threat_index(self, model: str, pack: RulePack) -> object | None:
        self.reads += 1
        return self.data.get(model)

    def put_threat_index(self, model: str, pack: RulePack, data: object) -> None:
        self.data[model] = json.loads(json.dumps(data))


def _ring(n: int = 20) -> dict[str, Any]:
    elements: list[dict[str, Any]] = [{"id": f"e{i}", "type": "process"} for i in range(n)]
    elements[3]["renamed_from"] = "old3"
    return {
        "version": 1,
        "system": "S",
        "elements": elements,
        "flows": [
            {"id": f"f{i}", "from": f"e{i}", "to": f"e{(i + 1) % n}", "protocol": "https"}
            for i in range(n)
        ],
        "threats": {
            # Decisions on threats the change does not touch, one under a key from before a
            # rename, and one for a threat that does not exist.
            "process-tampering@e9": {"status": "not-applicable", "justification": "Sealed."},
            "process-tampering@old3": {"status": "not-applicable", "justification": "Sealed."},
            "process-tampering@nowhere": {"status": "not-applicable", "justification": "Gone."},
        },
    }


@pytest.fixture
def change(tmp_path: Path) -> tuple[Repo, str, str]:
    repo = GitRepo(tmp_path / "repo")
    base = _ring()
    repo.write("threatmodel.yaml", yaml.safe_dump(base, sort_keys=False))
    base_sha = repo.commit("base")
    head = json.loads(json.dumps(base))
    head["elements"][5]["properties"] = {"sanitizes_input": True}
    repo.write("threatmodel.yaml", yaml.safe_dump(head, sort_keys=False))
    return Repo(repo.root), base_sha, repo.commit("head")


def _review(
    change: tuple[Repo, str, str],
    store: Store | None,
    policy: str = "unaddressed,regressions",
    incremental: bool = True,
) -> ReviewSet:
    repo, base, head = change
    return review_revisions(
        repo,
        base,
        head,
        today=TODAY,
        overrides=Overrides(fail_on=policy),
        incremental=incremental,
        index_store=store,
    )


def _shown(result: ReviewSet) -> tuple[str, str]:
    return json.dumps(review_set_data(result), sort_keys=True), review_comment(result).body


def _counting_full_enumerations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    enumerate_threats = revisions.enumerate_threats

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return enumerate_threats(*args, **kwargs)

    monkeypatch.setattr(revisions, "enumerate_threats", counted)
    return calls


def test_a_review_counts_the_untouched_threats_from_the_index_it_wrote(
    change: tuple[Repo, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    full = _shown(_review(change, None, incremental=False))
    store = Store()
    assert _shown(_review(change, store)) == full  # writes the base's index
    assert store.data
    calls = _counting_full_enumerations(monkeypatch)
    warm = _review(change, store)
    assert _shown(warm) == full
    assert calls == []  # the base was enumerated only around the change and the decisions
    head = warm.reviews[0].head
    assert isinstance(head, PartialRegister)
    assert len(looked_at(head).entries) < head.counts()["total"] // 4
    decided = {e.key for e in looked_at(head).entries if e.disposition is not None}
    assert {"process-tampering@e9", "process-tampering@e3"} <= decided


def test_a_review_under_any_open_never_reads_the_index(change: tuple[Repo, str, str]) -> None:
    store = Store()
    _review(change, store)
    reads = store.reads
    for key in store.data:
        store.data[key] = {"elements": {}, "flows": {}}  # "there are no threats"
    result = _review(change, store, policy="any-open")
    assert store.reads == reads
    assert _shown(result) == _shown(_review(change, None, policy="any-open", incremental=False))
    assert not result.verdict.passed


def _tampered(change: tuple[Repo, str, str], edit: Any) -> tuple[ReviewSet, ReviewSet]:
    store = Store()
    _review(change, store)
    for key, data in store.data.items():
        store.data[key] = edit(data)
    return _review(change, store), _review(change, None, incremental=False)


def _drop(key: str) -> Any:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        for group in data["elements"].values():
            if key in group:
                group.remove(key)
        return data

    return edit


def _move(key: str, to: str) -> Any:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        data = _drop(key)(data)
        data["elements"].setdefault(to, []).append(key)
        return data

    return edit


def _unwritten(data: dict[str, Any]) -> dict[str, Any]:
    data["elements"]["e9"] = ["process-tampering@nowhere"]
    return data


@pytest.mark.parametrize(
    "edit",
    [
        _drop("process-tampering@e9"),  # a decided threat missing from the index
        _move("process-tampering@e9", "e12"),  # ... or put on another element
        _unwritten,  # an orphaned decision's threat claimed to exist
        lambda data: [1, 2, 3],
        lambda data: {"elements": {"e1": [1]}, "flows": {}},
        lambda data: {"elements": {}},
    ],
)
def test_an_index_that_does_not_hold_up_is_set_aside(
    change: tuple[Repo, str, str], edit: Any
) -> None:
    tampered, full = _tampered(change, edit)
    assert _shown(tampered) == _shown(full)


def test_an_index_that_hides_untouched_threats_changes_only_the_totals(
    change: tuple[Repo, str, str],
) -> None:
    def hide(data: dict[str, Any]) -> dict[str, Any]:
        # Only the decided threats are left (an index without them is set aside).
        kept = {"process-tampering@e9", "process-tampering@e3"}
        return {
            "elements": {e: [k for k in keys if k in kept] for e, keys in data["elements"].items()},
            "flows": {},
        }

    tampered, full = _tampered(change, hide)
    shown, expected = review_set_data(tampered), review_set_data(full)
    assert shown["models"][0]["counts"] != expected["models"][0]["counts"]
    for data in (shown, expected):
        for model in data["models"]:
            del model["counts"]
    assert shown == expected
    assert tampered.verdict == full.verdict


def test_an_index_is_kept_per_path_content_and_decisions() -> None:
    digests = {
        model_digest("threatmodel.yaml", b"x", None),
        model_digest("threatmodel.json", b"x", None),  # another reader
        model_digest("threatmodel.yaml", b"y", None),
        model_digest("threatmodel.yaml", b"x", b""),
        model_digest("threatmodel.yaml", b"x", b"threats: {}"),
    }
    assert len(digests) == 5


# -- counting the base outside the change -----------------------------------------------------


def _parsed(model: dict[str, Any]) -> Any:
    return read_model(yaml.safe_dump(model, sort_keys=False).encode(), "threatmodel.yaml")


def _register_state(register: Register) -> tuple[object, ...]:
    return (
        [(e.threat, e.threat.location, e.status, e.problems) for e in register.entries],
        register.counts(),
        register.orphans,
    )


def _both_ways(base: dict[str, Any], head: dict[str, Any]) -> tuple[Any, Any]:
    """The registers of a review with the base enumerated in full, and with it counted
    outside the change."""
    base_model, head_model = _parsed(base).model, _parsed(head).model
    pack = builtin_pack()
    change = impact(base_model, head_model, diff_models(base_model, head_model), same_pack=True)
    full = incremental_registers(
        base_model,
        enumerate_threats(base_model, pack),
        head_model,
        pack,
        change,
        today=TODAY,
        base_evidence=None,
        head_evidence=None,
    )
    counted = counted_registers(
        base_model, head_model, pack, change, today=TODAY, base_evidence=None, head_evidence=None
    )
    return full, counted


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_counting_the_base_outside_the_change_gives_the_registers_of_the_whole_base(
    data: st.DataObject,
) -> None:
    base = data.draw(models())
    head = data.draw(edited(base))
    full, counted = _both_ways(base, head)
    for whole, part in zip(full, counted, strict=True):
        # What the review reads one by one, then the whole register (the plain entries are
        # made when read).
        assert _register_state(looked_at(part)) == _register_state(looked_at(whole))
        assert part.counts() == whole.counts()
        if isinstance(whole, PartialRegister):
            assert isinstance(part, PartialRegister)
            assert part.plain_count == whole.plain_count
            assert part.plain == whole.plain
        assert _register_state(part) == _register_state(whole)
