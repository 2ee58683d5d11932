"""Risk decisions in plain sight, and the policy conditions that judge them, on real git
histories."""

from __future__ import annotations

import datetime as dt

from tests.review.conftest import BASE_MODEL, GitRepo

from threatdelta.context import Overrides
from threatdelta.git import Repo
from threatdelta.render.comment import review_comment
from threatdelta.render.review_data import review_set_data
from threatdelta.review.revisions import ReviewSet, review_revisions

ACCEPTED = (
    "  flow-dos@dose:\n"
    "    status: accepted\n"
    "    justification: The ward network is segmented; flooding needs physical access.\n"
    "    approved_by: ward-developer\n"
    "    approved_on: 2026-11-20\n"
    "    expires: 2027-11-20\n"
)
PLANNED = "  - {id: mac, name: Message authentication, status: planned}\n"


def _review(git_repo: GitRepo, head: str, *conditions: str) -> ReviewSet:
    git_repo.write("evidence/tls.md", "TLS verified.\n")
    git_repo.write("threatmodel.yaml", BASE_MODEL)
    base = git_repo.commit("base")
    git_repo.write("threatmodel.yaml", head)
    head_sha = git_repo.commit("head")
    return review_revisions(
        Repo(git_repo.root),
        base,
        head_sha,
        overrides=Overrides(fail_on=",".join(["unaddressed,regressions", *conditions])),
        today=dt.date(2026, 11, 25),
    )


def _downgraded() -> str:
    return BASE_MODEL.replace("  flow-dos@dose: {status: mitigated, controls: [tls]}\n", ACCEPTED)


def test_a_downgrade_to_an_acceptance_is_listed_outside_any_collapsed_block(
    git_repo: GitRepo,
) -> None:
    result = _review(git_repo, _downgraded())
    assert result.verdict.passed  # the default policy lets a written, approved acceptance pass
    body = review_comment(result).body
    visible = body.split("<details>", 1)[0]
    assert "**Risk decisions in this change** (1)" in visible
    row = next(line for line in visible.splitlines() if "flow-dos@dose" in line)
    for text in (
        "**accepted**",
        "downgrade: was mitigated",
        "The ward network is segmented",
        "ward-developer",
        "2026-11-20",
        "2027-11-20",
        "medium",
    ):
        assert text in row, text
    (decision,) = review_set_data(result)["decisions"]
    assert decision["id"] == "flow-dos@dose" and decision["downgrade"] is True
    assert decision["before"] == "mitigated" and decision["approved_on"] == "2026-11-20"


def test_max_accepted_severity_and_approvers_fail_the_gate(git_repo: GitRepo) -> None:
    result = _review(
        git_repo,
        _downgraded(),
        "max-accepted-severity:medium",
        "approvers:security-lead",
    )
    assert not result.verdict.passed
    reasons = " ".join(result.verdict.reasons)
    assert "1 acceptance of a threat of severity medium or higher" in reasons
    assert "not one of the approvers (security-lead)" in reasons
    body = review_comment(result).body
    assert "The merge is blocked because" in body
    row = next(
        line for line in body.splitlines() if line.startswith("| ") and "flow-dos@dose" in line
    )
    assert "❌ not one of the approvers" in row
    assert "❌ severity medium or higher may not be accepted" in row


def test_an_unchanged_acceptance_is_not_a_decision_of_this_change(git_repo: GitRepo) -> None:
    git_repo.write("evidence/tls.md", "TLS verified.\n")
    git_repo.write("threatmodel.yaml", _downgraded())
    base = git_repo.commit("base with the acceptance")
    git_repo.write("threatmodel.yaml", _downgraded().replace("system: Pump", "system: Pump v2"))
    head = git_repo.commit("unrelated edit")
    result = review_revisions(
        Repo(git_repo.root),
        base,
        head,
        overrides=Overrides(fail_on=",".join(["unaddressed", "max-accepted-severity:low"])),
        today=dt.date(2026, 11, 25),
    )
    assert result.verdict.passed and result.reviews[0].decisions == ()


def _planned_mitigation() -> str:
    return BASE_MODEL.replace("\nthreats:\n", "\n" + PLANNED + "threats:\n").replace(
        "  flow-dos@dose: {status: mitigated, controls: [tls]}\n",
        "  flow-dos@dose: {status: mitigated, controls: [tls]}\n"
        "  flow-tampering@records: {status: mitigated, controls: [mac]}\n",
    )


def test_a_mitigation_by_a_planned_control_shows_and_fails_only_under_unverified(
    git_repo: GitRepo,
) -> None:
    result = _review(git_repo, _planned_mitigation())
    assert result.verdict.passed
    body = review_comment(result).body
    visible = body.split("<details>", 1)[0]
    assert "**Mitigated, not yet verified** (1)" in visible
    assert "mitigated (planned, no evidence)" in visible
    assert review_set_data(result)["unverified"][0]["lacking"] == "planned, no evidence"


def test_unverified_fails_the_gate(tmp_path) -> None:
    result = _review(GitRepo(tmp_path / "again"), _planned_mitigation(), "unverified")
    assert not result.verdict.passed
    assert "mitigated only by controls that are planned or lack evidence" in " ".join(
        result.verdict.reasons
    )


def test_the_terminal_review_lists_the_decision_and_the_unverified_mitigation(
    git_repo: GitRepo,
) -> None:
    from threatdelta.render.review_text import review_text

    head = _planned_mitigation().replace(
        "  flow-dos@dose: {status: mitigated, controls: [tls]}\n", ACCEPTED
    )
    text = review_text(_review(git_repo, head))
    assert "DECISION accepted (DOWNGRADE: was mitigated) [medium]" in text
    assert "approved by ward-developer on 2026-11-20; expires 2027-11-20" in text
    assert "UNVERIFIED mitigated (planned, no evidence)" in text
