"""The Threat Modeling Tool's own semantics: Out Of Scope flows, custom generic boundary types,
stale stored threats and readable threat names (fixtures: ``fixtures/tm7/fidelity_fixtures.py``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.formats.fixtures.tm7.fidelity_fixtures import (
    FLOW_1,
    FLOW_2,
    Connector,
    StoredEntry,
    Z,
    fidelity_tm7,
    key,
)
from tests.review.conftest import GitRepo

from threatdelta.context import Overrides
from threatdelta.engine import enumerate_threats
from threatdelta.formats import tm7
from threatdelta.formats.interface import ParsedModel
from threatdelta.git import Repo
from threatdelta.register import build_register
from threatdelta.render.comment import review_comment
from threatdelta.render.review_data import review_set_data
from threatdelta.render.review_text import review_text
from threatdelta.review.revisions import ReviewSet, review_revisions
from threatdelta.rules.packfile import builtin_pack

MODEL = "ward.tm7"
TODAY = dt.date(2026, 11, 25)


def read(data: bytes) -> ParsedModel:
    return tm7.read(data, MODEL)


def threats(data: bytes) -> list[tuple[str, str | None]]:
    parsed = read(data)
    assert parsed.pack is not None
    return sorted((t.rule_id, t.flow) for t in enumerate_threats(parsed.model, parsed.pack))


# --- 1. Out Of Scope -------------------------------------------------------------------------


def test_a_flow_marked_out_of_scope_has_no_threats() -> None:
    data = fidelity_tm7(
        (
            Connector(FLOW_1, "Request", out_of_scope=True, reason="Bench only"),
            Connector(FLOW_2, "Reply"),
        )
    )
    assert threats(data) == [("SC1", FLOW_2)]
    flow = read(data).model.flow(FLOW_1)
    assert flow is not None and flow.out_of_scope and flow.out_of_scope_reason == "Bench only"


def test_out_of_scope_on_an_element_keeps_the_threats_of_its_flows() -> None:
    data = fidelity_tm7(entity_out_of_scope=True, entity_reason="Not ours")
    assert threats(data) == [("SC1", FLOW_1)]


def test_out_of_scope_without_a_reason_is_warned_about() -> None:
    parsed = read(fidelity_tm7((Connector(FLOW_1, "Request", out_of_scope=True),)))
    assert any(
        "'Request'" in w and "Out Of Scope without a reason" in w for w in parsed.warnings
    ), parsed.warnings


def review(repo: GitRepo, base: bytes, head: bytes) -> ReviewSet:
    shas = []
    for data in (base, head):
        (repo.root / MODEL).write_bytes(data)
        shas.append(repo.commit("model"))
    return review_revisions(
        Repo(repo.root),
        shas[0],
        shas[1],
        overrides=Overrides(models=(MODEL,), fail_on="unaddressed,regressions"),
        today=TODAY,
    )


def test_marking_a_flow_out_of_scope_is_a_decision_with_its_reason(tmp_path: Path) -> None:
    both = (Connector(FLOW_1, "Request"), Connector(FLOW_2, "Reply"))
    scoped = (
        Connector(FLOW_1, "Request", out_of_scope=True, reason="Service port, bench use only"),
        Connector(FLOW_2, "Reply"),
    )
    stored = (StoredEntry("SC1", FLOW_1), StoredEntry("SC1", FLOW_2))
    result = review(
        GitRepo(tmp_path / "repo"),
        fidelity_tm7(both, stored=stored),
        fidelity_tm7(scoped, stored=stored[1:]),
    )
    (model_review,) = result.reviews
    (resolved,) = model_review.resolved
    assert resolved.entry.key == key("SC1", FLOW_1)
    assert resolved.code == "out-of-scope"
    assert resolved.reason == (
        f"flow 'Request' ({FLOW_1}) was marked out of scope: Service port, bench use only"
    )
    assert model_review.unaddressed == () and model_review.regressions == ()

    comment = review_comment(result).body
    status_changes = comment[comment.index("Status changes") :]
    assert "| open | out of scope: Service port, bench use only |" in status_changes
    assert "Resolved threats" not in comment
    assert "-> out of scope" in review_text(result)
    (data,) = review_set_data(result)["resolved"]
    assert (data["code"], data["decision"]) == ("out-of-scope", True)


def test_bringing_a_flow_back_into_scope_makes_its_threats_new(tmp_path: Path) -> None:
    scoped = (Connector(FLOW_1, "Request", out_of_scope=True, reason="Bench only"),)
    result = review(
        GitRepo(tmp_path / "repo"),
        fidelity_tm7(scoped),
        fidelity_tm7((Connector(FLOW_1, "Request"),)),
    )
    (model_review,) = result.reviews
    assert [e.key for e in model_review.new] == [key("SC1", FLOW_1)]
    assert [e.key for e in model_review.unaddressed] == [key("SC1", FLOW_1)]


# --- 2. custom generic boundary types ------------------------------------------------------


def test_a_box_of_a_custom_generic_boundary_type_is_not_ge_tb_b() -> None:
    found = threats(fidelity_tm7(box=Z))
    assert ("XZ1", FLOW_1) in found
    assert ("XB1", FLOW_1) not in found
    ward = read(fidelity_tm7(box=Z)).model.boundaries[0]
    assert "GE.TB.B" not in ward.type_chain and not ward.is_line


def test_the_same_box_drawn_as_ge_tb_b_is() -> None:
    found = threats(fidelity_tm7(box="GE.TB.B"))
    assert ("XB1", FLOW_1) in found
    assert ("XZ1", FLOW_1) not in found


def test_the_builtin_pack_still_sees_a_custom_box_as_a_boundary() -> None:
    model = read(fidelity_tm7(box=Z)).model
    rules = {t.rule_id for t in enumerate_threats(model, builtin_pack())}
    assert {"crossing-spoofing", "flow-dos", "entity-spoofing", "process-spoofing"} <= rules
    assert "flow-tampering" not in rules  # only for flows that cross nothing


# --- 3. stale stored threats ---------------------------------------------------------------


def _orphans(data: bytes) -> dict[str, str]:
    parsed = read(data)
    assert parsed.pack is not None
    found = enumerate_threats(parsed.model, parsed.pack)
    register = build_register(parsed.model, found, today=TODAY)
    counted = {e.key for e in register.entries}
    orphans = {o.disposition.key: o.message for o in register.orphans}
    assert not counted & set(orphans)
    return orphans


def test_the_tools_deleted_marker_is_named_as_the_evidence() -> None:
    gone = "f5000000-0000-4000-8000-0000000000ff"
    data = fidelity_tm7(
        stored=(
            StoredEntry("SC1", FLOW_1),
            StoredEntry("SC1", gone, state="Mitigated", justification="x", interaction="Deleted"),
        )
    )
    orphans = _orphans(data)
    assert orphans == {
        key("SC1", gone): f"stored threat '{key('SC1', gone)}' (#2 SC1) is stale: the Threat "
        "Modeling Tool marks its interaction as Deleted"
    }


def test_a_stored_threat_whose_ends_are_not_the_flows_ends_is_stale() -> None:
    other = "f4000000-0000-4000-8000-0000000000ee"
    data = fidelity_tm7(stored=(StoredEntry("SC1", FLOW_1, source=other),))
    (message,) = _orphans(data).values()
    assert message.endswith(
        f"is stale: its flow 'Request' now runs from 'Nurse' to 'Pump', not from {other} "
        "(no longer in the model) to 'Pump'"
    )


def test_a_triaged_threat_whose_filter_no_longer_holds_is_stale() -> None:
    data = fidelity_tm7(
        box=Z, stored=(StoredEntry("XB1", FLOW_1, state="NotApplicable", justification="n/a"),)
    )
    (message,) = _orphans(data).values()
    assert message.endswith(
        "(#1 XB1) is stale: it was triaged (not-applicable) but its threat type's filter no "
        "longer holds for this interaction"
    )


def test_a_hand_added_threat_on_a_deleted_interaction_is_not_counted() -> None:
    data = fidelity_tm7(
        stored=(
            StoredEntry(
                "HAND1", FLOW_1, state="Mitigated", justification="ok", interaction="Deleted"
            ),
        )
    )
    parsed = read(data)
    assert parsed.model.stored_threats == ()
    assert key("HAND1", FLOW_1) in _orphans(data)


@pytest.mark.parametrize("out_of_scope", [True, False])
def test_a_stored_threat_on_an_out_of_scope_flow_is_stale(out_of_scope: bool) -> None:
    data = fidelity_tm7(
        (Connector(FLOW_1, "Request", out_of_scope=out_of_scope, reason="Bench"),),
        stored=(StoredEntry("SC1", FLOW_1),),
    )
    orphans = _orphans(data)
    if out_of_scope:
        assert list(orphans.values()) == [
            f"stored threat '{key('SC1', FLOW_1)}' (#1 SC1) is stale: its flow 'Request' is "
            "marked out of scope"
        ]
    else:
        assert orphans == {}
