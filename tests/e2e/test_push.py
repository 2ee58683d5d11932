"""``threatdelta github`` on a push: the register in the job summary, nothing posted."""

from __future__ import annotations

import json

import pytest
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, Harness, model

from threatdelta.action.history_hook import PushContext


def _two_commits(h: Harness) -> tuple[str, str]:
    before = h.repo.commit({"threatmodel.yaml": model()}, "base")
    after = h.repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "merge")
    return before, after


def test_push_writes_the_register_to_the_summary_and_posts_nothing(harness: Harness) -> None:
    before, after = _two_commits(harness)

    result = harness.run_push(before, after)

    assert result.code == 0  # the default policy judges changes; a push has none to judge
    assert harness.fake.requests == []
    assert f"threat register at <code>{after[:12]}</code> on `main`" in result.summary
    assert "### Threat register: Syringe driver" in result.summary
    assert "`process-tampering@log-service`" in result.summary
    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert report["sha"] == after
    threats = report["models"][0]["threats"]
    assert result.outputs == {
        "verdict": "pass",
        "new-threats": "0",
        "unaddressed": str(sum(1 for t in threats if not t["addressed"])),
        "comment-url": "",
        "report-path": str(result.report_path),
    }
    assert int(result.outputs["unaddressed"]) > 0


def test_push_fails_when_the_policy_asks_for_no_open_threat(harness: Harness) -> None:
    before, after = _two_commits(harness)
    result = harness.run_push(before, after, env={"INPUT_FAIL_ON": "any-open"})
    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    assert "not addressed" in result.stdout


def test_push_reads_the_model_at_the_pushed_commit_not_the_work_tree(harness: Harness) -> None:
    before, after = _two_commits(harness)
    (harness.repo.root / "threatmodel.yaml").write_text("not: [a model", encoding="utf-8")
    result = harness.run_push(before, after)
    assert result.code == 0
    assert "`process-tampering@log-service`" in result.summary


def test_the_history_hook_is_called_and_its_section_lands_in_the_summary(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, after = _two_commits(harness)
    seen: list[PushContext] = []

    def history(context: PushContext) -> str:
        seen.append(context)
        return "### History\n\nthree iterations so far\n"

    monkeypatch.setattr("threatdelta.commands.github.push_history_report", history)
    result = harness.run_push(before, after)

    assert [(c.event.sha, c.event.before, c.model_paths) for c in seen] == [
        (after, before, ("threatmodel.yaml",))
    ]
    assert seen[0].event.on_default_branch
    assert "### History\n\nthree iterations so far" in result.summary


def test_push_without_a_model_exits_2(harness: Harness) -> None:
    before = harness.repo.commit({"README.md": "hello\n"}, "base")
    after = harness.repo.commit({"README.md": "hello again\n"}, "more")
    result = harness.run_push(before, after)
    assert result.code == 2
    assert "no model file matches threatmodel.yaml" in result.stderr
    assert result.outputs["verdict"] == "error"


def test_push_summary_carries_the_real_history_trend(harness: Harness) -> None:
    before, after = _two_commits(harness)
    result = harness.run_push(before, after)
    assert result.code == 0
    assert "xychart-beta" in result.summary  # the trend chart of open / mitigated / accepted
    assert after[:7] in result.summary or after[:12] in result.summary
