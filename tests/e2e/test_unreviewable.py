"""A head that could not be reviewed never keeps an earlier ✅: whatever stopped the review (a
refused input, a bug), the sticky comment, the summary and the outputs say so, and the exit code
is 2."""

from __future__ import annotations

import pytest
from tests.e2e.harness import TOKEN, Harness, model

import threatdelta.host.flow as review_flow
from threatdelta.publish.sticky import head_marker


def _passing(h: Harness) -> tuple[str, str]:
    base = h.repo.commit({"threatmodel.yaml": model()}, "base")
    head = h.repo.commit({"threatmodel.yaml": model(description="Reworded.")}, "reword")
    h.open_pull(base, head)
    first = h.run(base, head)
    assert first.code == 0 and "✅" in h.comments()[0].body
    return base, head


def test_a_refused_action_input_replaces_the_passing_comment(harness: Harness) -> None:
    base, _ = _passing(harness)
    head2 = harness.repo.commit({"threatmodel.yaml": model(description="Again.")}, "again")

    result = harness.run(base, head2, env={"INPUT_CHECK_RUN": "perhaps"})

    assert result.code == 2
    assert result.outputs["verdict"] == "error"
    (comment,) = harness.comments()
    assert "✅" not in comment.body
    assert head_marker(head2) in comment.body
    assert "could not review" in comment.body and "check-run" in comment.body


def test_an_internal_error_replaces_the_passing_comment_without_losing_the_outputs(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = _passing(harness)
    head2 = harness.repo.commit({"threatmodel.yaml": model(description="Again.")}, "again")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unexpected state")

    monkeypatch.setattr(review_flow, "review_revisions", broken)
    result = harness.run(base, head2)

    assert result.code == 2
    assert result.outputs["verdict"] == "error"
    (comment,) = harness.comments()
    assert "✅" not in comment.body
    assert "internal error \\(RuntimeError\\)" in comment.body
    assert "internal error \\(RuntimeError\\)" in result.summary
    assert "RuntimeError: unexpected state" in result.stderr  # the details, for a bug report


def test_a_secret_quoted_in_an_input_error_is_masked_in_the_comment_and_summary(
    harness: Harness,
) -> None:
    base, _ = _passing(harness)
    head2 = harness.repo.commit({"threatmodel.yaml": model(description="Again.")}, "again")

    result = harness.run(base, head2, env={"INPUT_FAIL_ON": TOKEN})

    assert result.code == 2
    (comment,) = harness.comments()
    assert "could not review" in comment.body
    assert TOKEN not in comment.body
    assert TOKEN not in result.everything
    assert "\\*\\*\\*" in comment.body  # the masked value, escaped as markdown
