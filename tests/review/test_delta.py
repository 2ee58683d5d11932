"""The one delta: review and history give the same answer on the same commits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.history.gitrepo import GitRepo

from threatdelta.context import Overrides
from threatdelta.engine import enumerate_threats
from threatdelta.formats.packs import default_pack
from threatdelta.formats.registry import read_model
from threatdelta.git import Repo
from threatdelta.history.build import History, build_history
from threatdelta.history.metrics import RevisionMetrics
from threatdelta.review.delta import Standing, State, delta
from threatdelta.review.review import Review
from threatdelta.review.revisions import review_revisions

DAY = "2026-01-10"
TODAY = dt.date(2026, 1, 10)


def review_of(repo: GitRepo, base: str, head: str) -> Review:
    result = review_revisions(
        Repo(repo.root),
        base,
        head,
        overrides=Overrides(models=("model.yaml",), fail_on="unaddressed,regressions"),
        today=TODAY,
    )
    (review,) = result.reviews
    return review


def history_of(repo: GitRepo) -> History:
    return build_history(Repo(repo.root), "model.yaml", today=TODAY)


def keys(review: Review) -> dict[str, list[Any]]:
    return {
        "new": sorted(e.key for e in review.new),
        "resolved": sorted(r.entry.key for r in review.resolved),
        "transitions": sorted(t.entry.key for t in review.transitions),
        "regressions": sorted((r.code, r.key) for r in review.regressions),
    }


def history_keys(revision: RevisionMetrics) -> dict[str, list[Any]]:
    return {
        "new": sorted(revision.new),
        "resolved": sorted(revision.resolved),
        "transitions": sorted(t.key for t in revision.transitions),
        "regressions": sorted((r.code, r.key) for r in revision.regressions),
    }


def model(
    *,
    controls: list[dict[str, Any]],
    threats: dict[str, Any],
    encrypted: bool = False,
    extra_flow: bool = False,
) -> dict[str, Any]:
    flows: list[dict[str, Any]] = [
        {
            "id": "dose",
            "name": "Dose",
            "from": "nurse",
            "to": "ctrl",
            "protocol": "https",
            "properties": {"encrypted": encrypted},
        }
    ]
    if extra_flow:
        flows.append({"id": "logs", "name": "Logs", "from": "ctrl", "to": "log", "protocol": "ipc"})
    return {
        "version": 1,
        "system": "Pump",
        "boundaries": [{"id": "device", "name": "Device", "kind": "device"}],
        "elements": [
            {"id": "nurse", "name": "Nurse", "type": "external-entity", "kind": "person"},
            {"id": "ctrl", "name": "Controller", "type": "process", "boundary": "device"},
            {"id": "log", "name": "Log", "type": "data-store", "boundary": "device"},
        ],
        "flows": flows,
        "controls": controls,
        "threats": threats,
    }


def threat_keys(document: dict[str, Any]) -> list[str]:
    parsed = read_model(yaml.safe_dump(document).encode(), "model.yaml")
    return sorted(t.key for t in enumerate_threats(parsed.model, default_pack(parsed)))


TLS = {"id": "tls", "name": "TLS", "status": "verified", "evidence": ["evidence/tls.md"]}


def test_control_removed_while_its_threats_are_re_decided_is_no_regression(
    tmp_path: Path,
) -> None:
    """Review and history used to disagree (3 regressions against none). The threats were
    re-decided in the same change, with a written, approved acceptance: that is a decision, shown
    as a status change, not something that got worse behind the team's back."""
    repo = GitRepo(tmp_path / "repo")
    base_doc = model(controls=[TLS], threats={})
    chosen = threat_keys(base_doc)[:3]
    repo.write("evidence/tls.md", "tested\n")
    repo.write_model(
        "model.yaml",
        model(
            controls=[TLS],
            threats={k: {"status": "mitigated", "controls": ["tls"]} for k in chosen},
        ),
    )
    base = repo.commit("mitigated by TLS", DAY)
    accepted = {
        "status": "accepted",
        "justification": "The link is inside the sealed housing.",
        "approved_by": "Safety lead",
        "expires": "2027-01-01",
    }
    repo.write_model("model.yaml", model(controls=[], threats={k: accepted for k in chosen}))
    head = repo.commit("drop TLS, accept instead", DAY)
    review = review_of(repo, base, head)
    (_, revision) = history_of(repo).revisions
    assert review.regressions == ()
    assert revision.regressions == ()
    assert sorted((t.entry.key, t.before, t.after) for t in review.transitions) == [
        (k, "mitigated", "accepted") for k in chosen
    ]
    assert keys(review) == history_keys(revision)


def test_control_removed_while_threats_still_claim_it_is_a_regression_in_both(
    tmp_path: Path,
) -> None:
    repo = GitRepo(tmp_path / "repo")
    chosen = threat_keys(model(controls=[TLS], threats={}))[:2]
    mitigated = {k: {"status": "mitigated", "controls": ["tls"]} for k in chosen}
    repo.write("evidence/tls.md", "tested\n")
    repo.write_model("model.yaml", model(controls=[TLS], threats=mitigated))
    base = repo.commit("mitigated by TLS", DAY)
    repo.write_model("model.yaml", model(controls=[], threats=mitigated))
    head = repo.commit("drop TLS", DAY)
    review = review_of(repo, base, head)
    (_, revision) = history_of(repo).revisions
    assert sorted((r.code, r.key) for r in review.regressions) == [
        ("control-removed", k) for k in chosen
    ]
    assert keys(review) == history_keys(revision)


def test_an_already_expired_justification_plus_an_unrelated_edit_is_no_regression(
    tmp_path: Path,
) -> None:
    """Review used to call this a regression and history nothing. The justification had expired
    before the change; the change did not make it worse. The threat stays unaddressed (and fails
    ``any-open``), but it is not charged to an unrelated edit."""
    repo = GitRepo(tmp_path / "repo")
    chosen = threat_keys(model(controls=[], threats={}))[0]
    expired = {
        chosen: {
            "status": "accepted",
            "justification": "Low exposure.",
            "approved_by": "Safety lead",
            "expires": "2025-06-01",
        }
    }
    repo.write_model("model.yaml", model(controls=[], threats=expired))
    base = repo.commit("accepted", DAY)
    repo.write_model("model.yaml", model(controls=[], threats=expired, extra_flow=True))
    head = repo.commit("unrelated edit", DAY)
    review = review_of(repo, base, head)
    (_, revision) = history_of(repo).revisions
    assert all(r.code != "expired" for r in review.regressions)
    assert revision.regressions == ()
    assert keys(review) == history_keys(revision)
    entry = review.head.entry(chosen) if review.head is not None else None
    assert entry is not None and not entry.addressed


def test_a_justification_that_expires_between_two_states_is_a_regression() -> None:
    before = State({"a": Standing("a", "accepted", True, expires="2026-01-01")})
    after = State({"a": Standing("a", "accepted", False, expired=True, expires="2026-01-01")})
    (regression,) = delta(before, after).regressions
    assert (regression.code, regression.key) == ("expired", "a")
    assert "2026-01-01" in regression.message


STATUSES = ("open", "mitigated", "accepted", "not-applicable", "transferred")


@st.composite
def disposition(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(st.sampled_from(STATUSES))
    entry: dict[str, Any] = {"status": status}
    if status == "open":
        if draw(st.booleans()):
            entry["needs_investigation"] = True
        return entry
    if status == "mitigated":
        entry["controls"] = draw(
            st.lists(st.sampled_from(["tls", "auth", "ghost"]), min_size=1, max_size=2, unique=True)
        )
        return entry
    if draw(st.booleans()):
        entry["justification"] = "Written down."
    if status in ("accepted", "transferred"):
        entry["approved_by"] = "Lead"
        if status == "transferred":
            entry["transferred_to"] = "Vendor"
        if draw(st.booleans()):
            entry["expires"] = draw(st.sampled_from(["2025-01-01", "2027-01-01"]))
    return entry


@st.composite
def revision(draw: st.DrawFn, pool: list[str]) -> tuple[dict[str, Any], bool]:
    controls = []
    for cid in ("tls", "auth"):
        if draw(st.booleans()):
            controls.append(
                {
                    "id": cid,
                    "name": cid.upper(),
                    "status": draw(st.sampled_from(["planned", "implemented", "verified"])),
                    "evidence": draw(
                        st.lists(
                            st.sampled_from(["evidence/tls.md", "evidence/auth.md", "PT-1#F-2"]),
                            unique=True,
                            max_size=2,
                        )
                    ),
                }
            )
    chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=6))
    threats = {key: draw(disposition()) for key in chosen}
    document = model(
        controls=controls,
        threats=threats,
        encrypted=draw(st.booleans()),
        extra_flow=draw(st.booleans()),
    )
    return document, draw(st.booleans())


POOL = sorted(
    set(threat_keys(model(controls=[], threats={}, extra_flow=True)))
    | set(threat_keys(model(controls=[], threats={})))
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(revision(POOL), min_size=2, max_size=4))
def test_history_of_each_revision_equals_review_of_its_first_parent(
    tmp_path_factory: Any, steps: list[tuple[dict[str, Any], bool]]
) -> None:
    repo = GitRepo(tmp_path_factory.mktemp("prop") / "repo")
    shas = []
    for number, (document, evidence) in enumerate(steps):
        document = {**document, "system": f"Pump {number}"}  # every commit changes the model
        repo.write_model("model.yaml", document)
        target = repo.root / "evidence" / "tls.md"
        if evidence:
            repo.write("evidence/tls.md", f"run {number}\n")
        elif target.exists():
            target.unlink()
        shas.append(repo.commit(f"step {number}", DAY))
    history = history_of(repo)
    assert [r.sha for r in history.revisions] == shas
    for parent, child, revision_metrics in zip(shas, shas[1:], history.revisions[1:], strict=False):
        assert history_keys(revision_metrics) == keys(review_of(repo, parent, child))
