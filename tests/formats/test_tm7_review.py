"""``threatdelta review`` of a Threat Modeling Tool .tm7 file between two git commits.

Each scenario commits a base and a head drawing of the same model (built by
``fixtures/tm7/review_fixtures.py``) and reviews them with the model's own embedded template as
the rule pack, as a team that keeps its .tm7 in git would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.formats.fixtures.tm7.review_fixtures import (
    BASE_THREATS,
    CLOUD,
    CONTROLLER,
    DEVICE,
    DOSE,
    NURSE,
    RECORDS,
    TELEMETRY,
    Drawing,
    Stored,
    key,
    review_tm7,
    stored_as_generated,
)
from tests.review.conftest import GitRepo

from threatdelta.cli import main
from threatdelta.context import Overrides
from threatdelta.formats import tm7
from threatdelta.git import Repo
from threatdelta.review.review import Review
from threatdelta.review.revisions import ReviewSet, review_revisions

MODEL = "models/pump.tm7"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def commit(repo: GitRepo, data: bytes, message: str, path: str = MODEL) -> str:
    target = repo.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return repo.commit(message)


def review_pair(repo: GitRepo, base: bytes, head: bytes) -> tuple[ReviewSet, Review]:
    base_sha = commit(repo, base, "base")
    head_sha = commit(repo, head, "head")
    result = review_revisions(
        Repo(repo.root),
        base_sha,
        head_sha,
        overrides=Overrides(models=(MODEL,), fail_on="unaddressed,regressions"),
        today=TODAY,
    )
    (review,) = result.reviews
    return result, review


def with_states(*changes: Stored) -> tuple[Stored, ...]:
    """The base's stored threats, with the given ones' state replaced."""
    by_key = {s.key: s for s in stored_as_generated()}
    by_key.update({c.key: c for c in changes})
    return tuple(by_key[k] for k in sorted(by_key))


def cli_json(
    repo: GitRepo, base_sha: str, head_sha: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any]]:
    code = main(
        [
            "review",
            "-C",
            str(repo.root),
            "--base",
            base_sha,
            "--head",
            head_sha,
            "--format",
            "json",
            "--today",
            TODAY.isoformat(),
            MODEL,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


# --- the base itself -------------------------------------------------------------------------


def test_the_base_drawing_generates_exactly_its_stored_threats(repo: GitRepo) -> None:
    result, review = review_pair(repo, review_tm7(), review_tm7())
    assert review.head is not None
    assert [e.key for e in review.head.entries] == list(BASE_THREATS)
    assert review.head.orphans == ()
    assert review.empty and review.file_change == "unchanged"
    assert result.warnings == ()


# --- 1. a flow property makes a rule's Exclude true -----------------------------------------


def test_authenticating_a_flow_resolves_spoofing_and_names_the_property(repo: GitRepo) -> None:
    head = Drawing(dose_authenticated="Yes")
    _, review = review_pair(repo, review_tm7(), review_tm7(head))
    assert [(r.entry.key, r.code) for r in review.resolved] == [(key("TV1", DOSE), "excluded")]
    assert "flow.authenticatesSource changed from 'No' to 'Yes'" in review.resolved[0].reason
    assert review.new == () and review.transitions == () and review.regressions == ()
    assert review.diff is not None
    assert [(f.id, f.field, f.old, f.new) for f in review.diff.fields] == [
        (DOSE, "properties.authenticatesSource", "No", "Yes")
    ]


def test_confidentiality_through_the_cli_json(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    base_sha = commit(repo, review_tm7(), "base")
    head_sha = commit(repo, review_tm7(Drawing(dose_confidential="Yes")), "head")
    code, data = cli_json(repo, base_sha, head_sha, capsys)
    assert [(r["threat"]["id"], r["code"]) for r in data["resolved"]] == [
        (key("TV2", DOSE), "excluded")
    ]
    assert (
        "flow.providesConfidentiality changed from 'No' to 'Yes'" in data["resolved"][0]["reason"]
    )
    assert data["resolved"][0]["threat"]["title"] == "Dose entry readable in transit"
    assert data["new"] == [] and data["transitions"] == [] and data["regressions"] == []
    assert data["model_changes"][MODEL]["flows"]["changed"] == [DOSE]
    assert data["model_changes"][MODEL]["file"] == "changed"
    # The other threats of the flow were never triaged, but no rule of theirs reads
    # providesConfidentiality: the change did not touch them, so they are not in front of the
    # gate (only the threats whose conditions a change alters are).
    assert code == 0
    assert data["unaddressed"] == []


# --- 2. triage in the tool: state changes -----------------------------------------------------


def test_triage_states_appear_as_status_transitions(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    head = Drawing(
        threats=with_states(
            Stored("TV2", DOSE, "Mitigated", "TLS 1.3 between the nurse's tablet and the pump."),
            Stored("TV5", DOSE, "NotApplicable", "The controller only accepts signed orders."),
            Stored("TV3", TELEMETRY, "NeedsInvestigation"),
        )
    )
    base_sha = commit(repo, review_tm7(), "base")
    head_sha = commit(repo, review_tm7(head), "triage")
    _, data = cli_json(repo, base_sha, head_sha, capsys)
    transitions = {t["id"]: (t["from"], t["to"], t["addressed"]) for t in data["transitions"]}
    assert transitions == {
        key("TV2", DOSE): ("open", "mitigated", True),
        key("TV5", DOSE): ("open", "not-applicable", True),
        key("TV3", TELEMETRY): ("open", "needs-investigation", False),
    }
    # Only the flagged one is left for the gate: triage touches no other threat.
    assert [t["id"] for t in data["unaddressed"]] == [key("TV3", TELEMETRY)]
    assert data["new"] == [] and data["resolved"] == [] and data["regressions"] == []
    assert data["model_changes"][MODEL]["dispositions"]["changed"] == sorted(
        [key("TV2", DOSE), key("TV5", DOSE), key("TV3", TELEMETRY)]
    )


def test_mitigated_with_a_justification_is_addressed(repo: GitRepo) -> None:
    head = Drawing(threats=with_states(Stored("TV2", DOSE, "Mitigated", "TLS 1.3 to the pump.")))
    _, review = review_pair(repo, review_tm7(), review_tm7(head))
    (transition,) = review.transitions
    assert (transition.before, transition.after) == ("open", "mitigated")
    assert transition.entry.addressed, transition.entry.problems
    assert key("TV2", DOSE) not in {e.key for e in review.unaddressed}


def test_mitigated_back_to_not_started_is_a_regression(repo: GitRepo) -> None:
    base = Drawing(threats=with_states(Stored("TV2", DOSE, "Mitigated", "TLS 1.3 to the pump.")))
    result, review = review_pair(repo, review_tm7(base), review_tm7())
    assert [(r.code, r.key) for r in review.regressions] == [
        ("status-downgraded", key("TV2", DOSE))
    ]
    (transition,) = review.transitions
    assert (transition.before, transition.after, transition.was_addressed) == (
        "mitigated",
        "open",
        True,
    )
    assert not result.verdict.passed


def test_rewording_a_mitigation_is_not_a_regression_but_deleting_it_is(repo: GitRepo) -> None:
    base = Drawing(threats=with_states(Stored("TV2", DOSE, "Mitigated", "TLS 1.2 to the pump.")))
    reworded = Drawing(
        threats=with_states(Stored("TV2", DOSE, "Mitigated", "TLS 1.3 with pinned certificates."))
    )
    _, review = review_pair(repo, review_tm7(base), review_tm7(reworded))
    assert review.regressions == () and review.transitions == ()
    assert review.unaddressed == ()
    assert review.diff is not None
    assert review.diff.items["dispositions"].changed == (key("TV2", DOSE),)
    assert review.head is not None
    (entry,) = [e for e in review.head.entries if e.key == key("TV2", DOSE)]
    assert [c.name for c in entry.controls] == ["TLS 1.3 with pinned certificates."]

    emptied = Drawing(threats=with_states(Stored("TV2", DOSE, "Mitigated")))
    head_sha = commit(repo, review_tm7(emptied), "mitigation text deleted")
    result = review_revisions(
        Repo(repo.root),
        "HEAD~1",
        head_sha,
        overrides=Overrides(models=(MODEL,), fail_on="unaddressed,regressions"),
        today=TODAY,
    )
    (review,) = result.reviews
    assert [(r.code, r.key) for r in review.regressions] == [("control-removed", key("TV2", DOSE))]
    assert [e.key for e in review.unaddressed] == [key("TV2", DOSE)]
    assert not result.verdict.passed


def test_mitigated_to_not_applicable_with_a_reason_is_no_regression(repo: GitRepo) -> None:
    base = Drawing(threats=with_states(Stored("TV5", DOSE, "Mitigated", "Signed orders only.")))
    head = Drawing(
        threats=with_states(Stored("TV5", DOSE, "NotApplicable", "The nurse never reaches it."))
    )
    _, review = review_pair(repo, review_tm7(base), review_tm7(head))
    (transition,) = review.transitions
    assert (transition.before, transition.after) == ("mitigated", "not-applicable")
    assert transition.entry.addressed and review.regressions == ()


def test_a_mitigated_threats_text_becomes_its_control() -> None:
    long_text = "Mutual TLS " + "with pinned certificates " * 10 + "\nSecond line: test T-12."
    base = Drawing(
        threats=with_states(
            Stored("TV2", DOSE, "Mitigated", long_text),
            Stored("TV5", DOSE, "Mitigated"),
            Stored("TV1", DOSE, "NotApplicable", "Badge login."),
        )
    )
    model = tm7.read(review_tm7(base), MODEL).model
    (control,) = model.controls
    assert control.id == "tmt:" + key("TV2", DOSE)
    assert control.status == "implemented" and control.evidence == ()
    assert control.name.startswith("Mutual TLS with pinned") and control.name.endswith("…")
    assert len(control.name) <= 120 and "Second line" not in control.name
    assert control.description == long_text.strip()
    assert model.dispositions[key("TV2", DOSE)].controls == (control.id,)
    # Without text there is nothing to name: the threat stays unaddressed (no-controls).
    assert model.dispositions[key("TV5", DOSE)].controls == ()
    assert model.dispositions[key("TV1", DOSE)].controls == ()


def test_not_applicable_without_a_justification_is_not_addressed(repo: GitRepo) -> None:
    head = Drawing(threats=with_states(Stored("TV5", DOSE, "NotApplicable")))
    _, review = review_pair(repo, review_tm7(), review_tm7(head))
    (transition,) = review.transitions
    assert (transition.before, transition.after) == ("open", "not-applicable")
    assert not transition.entry.addressed
    assert key("TV5", DOSE) in {e.key for e in review.unaddressed}


# --- 3. a new border boundary ---------------------------------------------------------------


def test_a_new_boundary_adds_crossing_threats_for_that_flow_only(repo: GitRepo) -> None:
    _, review = review_pair(repo, review_tm7(), review_tm7(Drawing(log_zone=True)))
    assert {e.threat.flow for e in review.new} == {RECORDS}
    assert {e.key for e in review.new} == {key("TV2", RECORDS), key("TV3", RECORDS)}
    assert review.resolved == () and review.transitions == () and review.regressions == ()
    assert review.diff is not None
    assert [c.flow for c in review.diff.crossings] == [RECORDS]
    assert {e.key for e in review.unaddressed} >= {e.key for e in review.new}


# --- 4. layout and serialisation noise ------------------------------------------------------


MOVED = Drawing(
    moves=((NURSE, -20, 30), (CONTROLLER, 20, 10), (CLOUD, 50, -40), (DEVICE, -10, -10)),
    bend=25,
)


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(MOVED, id="moved-shapes"),
        pytest.param(Drawing(noise=True), id="serialisation-noise"),
        pytest.param(dataclasses.replace(MOVED, noise=True), id="both"),
    ],
)
def test_layout_and_serialisation_changes_give_an_empty_review(
    repo: GitRepo, head: Drawing
) -> None:
    assert review_tm7(head) != review_tm7()
    result, review = review_pair(repo, review_tm7(), review_tm7(head))
    assert review.diff is not None
    assert review.diff.empty, review.diff.summary()
    assert review.empty and review.file_change == "unchanged"
    assert result.verdict.passed


def test_noise_is_really_in_the_file() -> None:
    noisy = review_tm7(Drawing(noise=True)).decode()
    plain = review_tm7().decode()
    assert "<Zoom>0.75</Zoom>" in noisy and "<Zoom>1</Zoom>" in plain
    assert "WORKSTATION" in noisy and "2026-02-03" in noisy
    assert re.findall(r'z:Id="(i\d+)"', noisy) != re.findall(r'z:Id="(i\d+)"', plain)
    assert noisy.index(CLOUD) < noisy.index(NURSE) and plain.index(NURSE) < plain.index(CLOUD)


# --- 5. stale stored threats ----------------------------------------------------------------


def test_a_threat_no_longer_generated_but_still_stored_is_stale_and_explained(
    repo: GitRepo,
) -> None:
    # The nurse is drawn inside the device: Dose entry crosses no boundary any more, but the
    # file still stores the three crossing threats (the tool does not delete them).
    _, review = review_pair(repo, review_tm7(), review_tm7(Drawing(nurse_inside=True)))
    gone = {key("TV1", DOSE), key("TV2", DOSE), key("TV3", DOSE)}
    assert review.head is not None
    assert {o.disposition.key for o in review.head.orphans} == gone
    assert all("stale" in o.message for o in review.head.orphans)
    assert {r.entry.key for r in review.resolved} == gone
    for resolved in review.resolved:
        assert (resolved.code, resolved.reason) == (
            "boundary",
            f"flow 'Dose entry' ({DOSE}) no longer crosses boundary 'Device' ({DEVICE})",
        )
    assert review.new == () and review.regressions == ()


def test_a_stale_mitigated_threat_is_resolved_not_regressed(repo: GitRepo) -> None:
    mitigated = Stored("TV1", DOSE, "Mitigated", "Badge login on the tablet.")
    base = Drawing(threats=with_states(mitigated))
    head = Drawing(dose_authenticated="Yes", threats=with_states(mitigated))
    _, review = review_pair(repo, review_tm7(base), review_tm7(head))
    assert [r.entry.key for r in review.resolved] == [key("TV1", DOSE)]
    assert review.regressions == () and review.transitions == ()
    assert review.head is not None
    assert [o.disposition.key for o in review.head.orphans] == [key("TV1", DOSE)]


# --- 6. renames -----------------------------------------------------------------------------


def test_renaming_an_element_changes_titles_not_keys(repo: GitRepo) -> None:
    result, review = review_pair(
        repo, review_tm7(), review_tm7(Drawing(controller_name="Infusion controller"))
    )
    assert review.new == () and review.resolved == () and review.transitions == ()
    assert review.diff is not None
    assert [(f.id, f.old, f.new) for f in review.diff.renames()] == [
        (CONTROLLER, "Pump controller", "Infusion controller")
    ]
    assert review.head is not None
    titles = {e.key: e.threat.title for e in review.head.entries}
    assert titles[key("TV5", DOSE)] == "Infusion controller trusts Nurse"
    # A rename brings no old, untriaged threats into the gate.
    assert review.unaddressed == ()
    assert result.verdict.passed, result.verdict.reasons


def test_renaming_the_diagram_tab_changes_nothing_that_matters(repo: GitRepo) -> None:
    result, review = review_pair(repo, review_tm7(), review_tm7(Drawing(tab_name="Pump v2")))
    assert review.new == () and review.resolved == () and review.transitions == ()
    assert review.unaddressed == ()
    assert result.verdict.passed, result.verdict.reasons


# --- a real model -----------------------------------------------------------------------------

SAMPLE = "startleft-MTMT_example.tm7"
API_REQUEST = "9840bcdf-c444-437d-8289-d5468f41b0db"
MOBILE = "6183b7fa-eba5-4bf8-a0af-c3e30d144a10"
PUBLIC_API = "5d15323e-3729-4694-87b1-181c90af5045"
PSQL_REQUEST = "eb072144-af37-4b75-b46b-b78111850d3e"
POSTGRES = "53245f54-0656-4ede-a393-357aeaa2e20f"
SHOW_BOUNDARY_THREATS = "23e2b6f4-fcd8-4e76-a04a-c9ff9aff4f59"


def _edit_flow_list_property(text: str, flow: str, attribute: str, index: int) -> str:
    """Select entry ``index`` of a list property of one flow, as the tool saves it."""
    start = text.index(f"<a:Key>{flow}</a:Key>")
    end = text.index("</a:KeyValueOfguidanyType>", start)
    segment = text[start:end]
    pattern = re.compile(
        rf"(<b:Name>{attribute}</b:Name>.*?<b:SelectedIndex>)(\d+)(</b:SelectedIndex>)"
    )
    edited, count = pattern.subn(rf"\g<1>{index}\g<3>", segment, count=1)
    assert count == 1
    return text[:start] + edited + text[end:]


def _mitigate(text: str, threat_key: str, justification: str) -> str:
    """Set one stored threat's state to Mitigated with a justification, as the tool saves it."""
    start = text.index(f"<a:Key>{threat_key}</a:Key>")
    end = text.index("</a:KeyValueOfstringThreatpc_P0_PhOB>", start)
    segment = text[start:end]
    assert "<b:State>AutoGenerated</b:State>" in segment
    segment = segment.replace(
        "<b:State>AutoGenerated</b:State>", "<b:State>Mitigated</b:State>"
    ).replace(
        "</b:Properties>",
        "<a:KeyValueOfstringstring><a:Key>StateInformation</a:Key>"
        f"<a:Value>{justification}</a:Value></a:KeyValueOfstringstring></b:Properties>",
    )
    return text[:start] + segment + text[end:]


def test_real_model_edited_in_two_places_is_reviewed_exactly(
    repo: GitRepo, samples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = (samples_dir / "tm7" / SAMPLE).read_bytes()
    text = base.decode("utf-8")
    # "Show Boundary Threats" of the API Request flow: Select -> No (the template's Exclude
    # for its two boundary threats reads it).
    text = _edit_flow_list_property(text, API_REQUEST, SHOW_BOUNDARY_THREATS, 2)
    mitigated = "TH155" + PUBLIC_API + PSQL_REQUEST + POSTGRES
    text = _mitigate(text, mitigated, "Azure AD authentication only; TLS enforced.")
    head = text.encode("utf-8")

    result, review = review_pair(repo, base, head)
    assert result.warnings == ()
    boundary_threats = {rule + MOBILE + API_REQUEST + PUBLIC_API for rule in ("TH116", "TH117")}
    assert {r.entry.key for r in review.resolved} == boundary_threats
    for resolved in review.resolved:
        assert resolved.code == "excluded"
        assert f"flow.{SHOW_BOUNDARY_THREATS} changed from 'Select' to 'No'" in resolved.reason
    assert review.new == ()
    assert [(t.entry.key, t.before, t.after) for t in review.transitions] == [
        (mitigated, "open", "mitigated")
    ]
    assert review.transitions[0].entry.addressed
    assert review.regressions == ()
    assert review.head is not None
    # The file still stores the two excluded threats: the tool would drop them on its next save.
    assert {o.disposition.key for o in review.head.orphans} == boundary_threats
    assert review.diff is not None
    assert [(f.kind, f.id, f.field) for f in review.diff.fields] == [
        ("dispositions", mitigated, "controls"),
        ("dispositions", mitigated, "justification"),
        ("dispositions", mitigated, "status"),
        ("flows", API_REQUEST, f"properties.{SHOW_BOUNDARY_THREATS}"),
    ]
    assert review.diff.items["controls"].added == ("tmt:" + mitigated,)
    assert review.diff.crossings == ()
    # The property change touches only the threats whose filters read it (both resolved), and
    # the triaged one is addressed: nothing unaddressed is in front of the gate.
    assert review.unaddressed == ()

    code, data = cli_json(repo, result.base_sha, result.head_sha, capsys)
    assert code == 0
    assert {r["threat"]["id"] for r in data["resolved"]} == boundary_threats
    assert [(t["id"], t["from"], t["to"]) for t in data["transitions"]] == [
        (mitigated, "open", "mitigated")
    ]
