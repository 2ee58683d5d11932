"""Two-commit scenarios, written as a new user would make them."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import pytest
from tests.review.conftest import BASE_MODEL

from threatdelta.background import ONE_PROCESS
from threatdelta.cli import main
from threatdelta.context import Overrides
from threatdelta.engine import threat_total
from threatdelta.git import Repo
from threatdelta.review import revisions
from threatdelta.review.revisions import ReviewSet, review_revisions

TODAY = dt.date(2026, 11, 25)


def run(repo, base: str, head: str, policy: str = "unaddressed,regressions") -> ReviewSet:
    return review_revisions(
        Repo(repo.root),
        base,
        head,
        overrides=Overrides(fail_on=policy),
        today=TODAY,
    )


def test_added_flow_across_boundary_gives_threats_for_that_flow_only(two_commits) -> None:
    head = BASE_MODEL.replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    )
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    (review,) = run(repo, base_sha, head_sha).reviews
    assert review.new, "a new boundary-crossing flow must bring threats"
    assert {e.threat.flow for e in review.new} == {"phone"}
    keys = {e.key for e in review.new}
    assert "crossing-sniffing@nurse>phone>ctrl" in keys
    assert not review.resolved and not review.regressions


def test_encrypting_a_flow_resolves_its_disclosure_threat_and_names_the_property(
    two_commits,
) -> None:
    head = BASE_MODEL.replace("encrypted: false", "encrypted: true")
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    (review,) = run(repo, base_sha, head_sha).reviews
    resolved = {r.entry.key: r for r in review.resolved}
    assert "crossing-sniffing@nurse>dose>ctrl" in resolved
    reason = resolved["crossing-sniffing@nurse>dose>ctrl"].reason
    assert "flow.encrypted" in reason and "false to true" in reason
    assert not review.new


def test_removing_a_control_turns_its_mitigations_into_regressions(two_commits) -> None:
    head = BASE_MODEL.replace(
        "  - {id: tls, name: Mutual TLS, status: verified, evidence: [evidence/tls.md]}\n", ""
    ).replace("controls:\n", "controls: []\n")
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    result = run(repo, base_sha, head_sha)
    (review,) = result.reviews
    codes = {(r.code, r.key) for r in review.regressions}
    assert ("control-removed", "flow-dos@dose") in codes
    assert [t.entry.key for t in review.transitions] == ["flow-dos@dose"]
    assert not result.verdict.passed
    assert any("regression" in reason for reason in result.verdict.reasons)


def test_dispositions_for_every_new_threat_turn_the_verdict_to_pass(two_commits) -> None:
    head = BASE_MODEL.replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    )
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    first = run(repo, base_sha, head_sha)
    assert not first.verdict.passed
    lines = [
        f"  {e.key}: {{status: accepted, justification: Reviewed., approved_by: lead}}"
        for e in first.reviews[0].unaddressed
    ]
    repo.write("threatmodel.yaml", head + "\n".join(lines) + "\n")
    fixed = repo.commit("dispositions")
    second = run(repo, base_sha, fixed)
    assert second.verdict.passed, second.verdict.reasons
    assert second.reviews[0].unaddressed == ()


def test_review_against_itself_is_empty_and_passes(two_commits) -> None:
    repo, _, head_sha = two_commits(BASE_MODEL, BASE_MODEL.replace("Pump", "Pump v2"))
    result = run(repo, head_sha, head_sha)
    (review,) = result.reviews
    assert review.empty and review.file_change == "unchanged"
    assert result.verdict.passed


def test_rename_of_display_names_is_not_remove_and_add(two_commits) -> None:
    head = BASE_MODEL.replace("name: Controller", "name: Main controller")
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    (review,) = run(repo, base_sha, head_sha).reviews
    assert not review.new and not review.resolved
    assert [f.field for f in review.diff.renames()] == ["name"]


@pytest.mark.parametrize("fmt", ["markdown", "json", "text", "sarif"])
def test_same_inputs_give_byte_identical_output(two_commits, capsys, fmt: str) -> None:
    head = BASE_MODEL.replace("encrypted: false", "encrypted: true").replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    )
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    args = [
        "review",
        "-C",
        str(repo.root),
        "--base",
        base_sha,
        "--head",
        head_sha,
        "--today",
        "2026-11-25",
        "--format",
        fmt,
    ]
    outputs = []
    for _ in range(2):
        code = main(args)
        outputs.append(capsys.readouterr().out)
        assert code == 1
    assert outputs[0] == outputs[1] and outputs[0]


def test_json_contract(two_commits, capsys) -> None:
    head = BASE_MODEL.replace("encrypted: false", "encrypted: true")
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    main(
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
            "2026-11-25",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {
        "verdict",
        "reasons",
        "base",
        "head",
        "new",
        "resolved",
        "transitions",
        "regressions",
        "unaddressed",
        "model_changes",
    }
    assert data["base"] == base_sha and data["head"] == head_sha
    assert data["resolved"][0]["threat"]["id"] == "crossing-sniffing@nurse>dose>ctrl"
    assert data["model_changes"]["threatmodel.yaml"]["flows"]["changed"] == ["dose"]


def test_added_model_makes_every_threat_new(git_repo) -> None:
    git_repo.write("README.md", "x\n")
    base_sha = git_repo.commit("empty")
    git_repo.write("evidence/tls.md", "ok\n")
    git_repo.write("threatmodel.yaml", BASE_MODEL)
    head_sha = git_repo.commit("model")
    (review,) = run(git_repo, base_sha, head_sha).reviews
    assert review.file_change == "added"
    assert len(review.new) == len(review.head.entries) > 5


def test_deleted_model_is_reported(git_repo) -> None:
    git_repo.write("threatmodel.yaml", BASE_MODEL)
    base_sha = git_repo.commit("model")
    git_repo.git("rm", "-q", "threatmodel.yaml")
    head_sha = git_repo.commit("gone")
    (review,) = run(git_repo, base_sha, head_sha).reviews
    assert review.file_change == "removed" and review.head is None


def test_renamed_model_is_followed(git_repo) -> None:
    git_repo.write("evidence/tls.md", "ok\n")
    git_repo.write("models/pump.yaml", BASE_MODEL)
    git_repo.write(".threatdelta.yml", "models: ['models/*.yaml']\n")
    base_sha = git_repo.commit("model")
    git_repo.git("mv", "models/pump.yaml", "models/infusion-pump.yaml")
    head_sha = git_repo.commit("rename")
    result = review_revisions(
        Repo(git_repo.root),
        base_sha,
        head_sha,
        overrides=Overrides(models=("models/*.yaml",), fail_on="unaddressed"),
        today=TODAY,
    )
    (review,) = result.reviews
    assert review.file_change == "renamed" and review.base_path == "models/pump.yaml"
    assert not review.new and not review.resolved


def test_bad_head_model_exits_2_with_location(two_commits, capsys) -> None:
    head = BASE_MODEL.replace("to: ctrl, protocol: https", "to: ctlr, protocol: https")
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    code = main(["review", "-C", str(repo.root), "--base", base_sha, "--head", head_sha])
    err = capsys.readouterr().err
    assert code == 2
    line = next(i for i, text in enumerate(head.splitlines(), 1) if "ctlr" in text)
    assert f"threatmodel.yaml:{line}:" in err and "ctlr" in err


def test_unknown_revision_exits_2(two_commits, capsys) -> None:
    repo, _, head_sha = two_commits(BASE_MODEL, BASE_MODEL)
    assert main(["review", "-C", str(repo.root), "--base", "nope", "--head", head_sha]) == 2
    assert "unknown revision 'nope'" in capsys.readouterr().err


def test_evidence_deleted_at_head_is_a_regression(two_commits) -> None:
    repo, base_sha, _ = two_commits(BASE_MODEL, BASE_MODEL)
    repo.git("rm", "-q", "evidence/tls.md")
    head_sha = repo.commit("drop evidence")
    (review,) = run(repo, base_sha, head_sha).reviews
    assert [r.code for r in review.regressions] == ["evidence-missing"]


@pytest.mark.parametrize("named", ["./threatmodel.yaml", ".//threatmodel.yaml"])
def test_a_model_named_with_a_leading_dot_slash_is_found(two_commits, capsys, named) -> None:
    repo, base_sha, head_sha = two_commits(BASE_MODEL, BASE_MODEL)
    argv = ["review", "-C", str(repo.root), "--base", base_sha, "--head", head_sha]
    code = main([*argv, "--format", "json", named])
    assert code == 0, capsys.readouterr().err
    assert [m["path"] for m in json.loads(capsys.readouterr().out)["models"]] == [
        "threatmodel.yaml"
    ]


def test_a_committed_symlink_out_of_the_repository_is_not_evidence(two_commits, tmp_path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("looks verified\n")
    head = BASE_MODEL.replace("evidence: [evidence/tls.md]", "evidence: [evidence/link.md]")
    repo, base_sha, _ = two_commits(BASE_MODEL, BASE_MODEL)
    (repo.root / "evidence" / "link.md").symlink_to(outside)
    repo.write("threatmodel.yaml", head)
    head_sha = repo.commit("evidence through a link")
    (review,) = run(repo, base_sha, head_sha).reviews
    assert review.head is not None
    problems = [p.message for e in review.head.entries for p in e.problems]
    assert "evidence 'evidence/link.md' of control 'tls' does not exist" in problems


def test_evidence_climbing_out_of_the_repository_is_a_problem_of_that_control(two_commits) -> None:
    head = BASE_MODEL.replace("evidence: [evidence/tls.md]", "evidence: [../secrets/tls.md]")
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    (review,) = run(repo, base_sha, head_sha).reviews
    assert review.head is not None
    problems = {p.message for e in review.head.entries for p in e.problems}
    assert (
        "evidence '../secrets/tls.md' of control 'tls' leads out of the repository; "
        "only files inside it count as evidence"
    ) in problems


def test_counting_the_base_in_a_second_process_changes_nothing_in_the_review(
    two_commits, capsys, monkeypatch
) -> None:
    head = BASE_MODEL.replace("encrypted: false", "encrypted: true").replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    )
    repo, base_sha, head_sha = two_commits(BASE_MODEL, head)
    args = ["review", "-C", str(repo.root), "--base", base_sha, "--head", head_sha]
    args += ["--today", "2026-11-25", "--format", "json", "--no-cache"]
    forks: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        forks.append(pid)
        return pid

    counted_here: list[int] = []

    def total(*args: object, **kwargs: object) -> int:
        counted_here.append(1)
        return threat_total(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "fork", fork)
    monkeypatch.setattr(revisions, "threat_total", total)
    outputs = []
    for one_process in ("1", ""):
        monkeypatch.setenv(ONE_PROCESS, one_process)
        forks.clear()
        counted_here.clear()
        assert main(args) == 1
        outputs.append(capsys.readouterr().out)
        forked = not one_process and sys.platform.startswith("linux")
        assert bool(forks) == forked
        # The review takes the whole base's count (made here, or in the child) for its totals.
        assert len(counted_here) == (0 if forked else 1)
    assert outputs[0] == outputs[1]
    counts = json.loads(outputs[1])["models"][0]["counts"]
    assert counts["base"]["total"] > 0


def test_an_unreadable_base_is_said_after_what_is_said_of_the_head(two_commits) -> None:
    head = BASE_MODEL.replace("protocol: ipc", "protocol: carrier-pigeon")
    repo, base_sha, head_sha = two_commits("elements: [unclosed\n", head)
    result = run(repo, base_sha, head_sha)
    assert len(result.warnings) == 2
    assert "carrier-pigeon" in result.warnings[0]
    assert "the model at the base revision could not be read" in result.warnings[1]
