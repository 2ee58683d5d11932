"""The Threat Modeling Tool's own semantics: Out Of Scope flows, custom generic boundary types,
stale stored threats and readable threat names (fixtures: ``fixtures/tm7/fidelity_fixtures.py``).
"""

from __future__ import annotations

import datetime as dt
import json
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

from threatdelta.cli import main
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
    assert model_review.unexplained == () and result.verdict.passed

    # Shown like an acceptance: among the risk decisions, the reason as its justification.
    comment = review_comment(result).body
    decisions = comment[comment.index("Risk decisions in this change") :]
    row = next(line for line in decisions.splitlines() if key("SC1", FLOW_1) in line)
    assert "**out-of-scope**" in row and "Service port, bench use only" in row
    assert "SC1" in row.split("|")[1]  # the threat type next to the long key
    assert "Resolved threats" not in comment
    text = review_text(result)
    assert "DECISION out of scope (was open)" in text
    assert "justification: Service port, bench use only" in text
    data = review_set_data(result)
    (resolved,) = data["resolved"]
    assert (resolved["code"], resolved["decision"]) == ("out-of-scope", True)
    (decision,) = data["decisions"]
    assert (decision["status"], decision["justification"]) == (
        "out-of-scope",
        "Service port, bench use only",
    )
    assert decision["reference"] == "#1 SC1"


@pytest.mark.parametrize("reason", ["", "   ", "TBD"])
def test_marking_a_flow_out_of_scope_without_a_reason_fails_the_gate(
    tmp_path: Path, reason: str
) -> None:
    # a decision without a written justification: the gate treats it as an acceptance without one
    scoped = (Connector(FLOW_1, "Request", out_of_scope=True, reason=reason),)
    result = review(
        GitRepo(tmp_path / "repo"),
        fidelity_tm7((Connector(FLOW_1, "Request"),)),
        fidelity_tm7(scoped),
    )
    (model_review,) = result.reviews
    assert [f.id for f in model_review.unexplained] == [FLOW_1]
    assert [r.code for r in model_review.resolved] == ["out-of-scope"]
    assert not result.verdict.passed
    assert result.verdict.reasons == (
        "1 flow is marked out of scope without a written reason ('Request'): taking threats out "
        "of scope is a decision, so write why",
    )
    assert "marked out of scope without a written reason" in review_comment(result).body


def test_a_flow_already_out_of_scope_without_a_reason_is_not_this_changes_decision(
    tmp_path: Path,
) -> None:
    scoped = (Connector(FLOW_1, "Request", out_of_scope=True),)
    renamed = (Connector(FLOW_1, "Request v2", out_of_scope=True),)
    result = review(GitRepo(tmp_path / "repo"), fidelity_tm7(scoped), fidelity_tm7(renamed))
    (model_review,) = result.reviews
    assert model_review.unexplained == () and result.verdict.passed


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
    # The template's suggested mitigation is shown in whole sentences, never cut.
    row = next(line for line in review_comment(result).body.splitlines() if "SC1" in line)
    assert (
        row.replace("\u2060", "")
        .rstrip(" |")
        .endswith("Validate every request at the process. Refer: https://example.org/v")
    )


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


# --- readable identities ---------------------------------------------------------------------


def test_tmt_threats_carry_the_tools_number_and_type_next_to_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / MODEL
    both = (Connector(FLOW_1, "Request"), Connector(FLOW_2, "Reply"))
    model.write_bytes(fidelity_tm7(both, stored=(StoredEntry("SC1", FLOW_2),)))
    main(["check", str(model), "--format", "json", "--today", TODAY.isoformat()])
    threats = {t["id"]: t for t in json.loads(capsys.readouterr().out)["threats"]}
    assert threats[key("SC1", FLOW_2)]["reference"] == "#1 SC1"  # stored: number and type
    assert threats[key("SC1", FLOW_1)]["reference"] == "SC1"  # regenerated only: its type
    main(["check", str(model), "--today", TODAY.isoformat()])
    assert f"{key('SC1', FLOW_2)} (#1 SC1)" in capsys.readouterr().out


def test_warnings_come_out_located_first_and_each_once() -> None:
    stored = (StoredEntry("SC1", FLOW_1),) * 3  # stored three times: "stored twice" twice
    data = fidelity_tm7((Connector(FLOW_1, "Request", out_of_scope=True),), stored=stored)
    warnings = tm7.read(data, "m.tm7").warnings
    assert len(warnings) == 2
    # the flow's warning is at its <Guid>; the file-level one comes after it, once
    assert warnings[0].startswith("m.tm7:1:") and "without a reason" in warnings[0]
    assert warnings[1].startswith("m.tm7: threat ") and "is stored twice" in warnings[1]
