"""The pull-request comment, from real reviews of real git histories."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.review.conftest import BASE_MODEL, GitRepo

from threatdelta.context import Overrides
from threatdelta.git import Repo
from threatdelta.render.comment import COMMENT_LIMIT, review_comment
from threatdelta.review.revisions import review_revisions

HOSTILE = [
    "@org/team",
    "<img src=x onerror=alert(1)>",
    "<!-- threatdelta:sticky name=default -->",
    "| table | breaker |",
    '"]) --> x[("evil',
    "```\n# heading",
]


def _review(tmp_path: Path, base: str, head: str):
    repo = GitRepo(tmp_path / "r")
    repo.write("evidence/tls.md", "x\n")
    repo.write("threatmodel.yaml", base)
    b = repo.commit()
    repo.write("threatmodel.yaml", head)
    h = repo.commit()
    return review_revisions(
        Repo(repo.root),
        b,
        h,
        overrides=Overrides(fail_on="unaddressed,regressions"),
        today=dt.date(2026, 11, 25),
    )


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def test_hostile_names_come_out_inert(tmp_path: Path) -> None:
    extra = "".join(
        f"  - {{id: h{i}, name: {_yaml_string(name)}, type: process, boundary: device}}\n"
        for i, name in enumerate(HOSTILE)
    )
    flows = "".join(
        f"  - {{id: hf{i}, name: {_yaml_string(name)}, from: nurse, to: h{i}, protocol: tcp}}\n"
        for i, name in enumerate(HOSTILE)
    )
    head = BASE_MODEL.replace("\nflows:\n", "\n" + extra + "flows:\n" + flows)
    body = review_comment(_review(tmp_path, BASE_MODEL, head)).body
    prose = "".join(part for i, part in enumerate(body.split("```")) if i % 2 == 0)
    assert "<img" not in prose  # inside fenced code blocks it is shown as text
    assert "<!--" not in body
    assert "@org" not in prose  # a zero-width joiner separates @ from the name
    for line in body.splitlines():
        if line.startswith("|") and "h" in line:
            # every row keeps the header's column count: no injected pipes
            assert line.count("|") - line.count("\\|") == 6 or line.startswith("|---")
    fences = [line for line in body.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0
    mermaid = body.split("```mermaid", 1)[1].split("```", 1)[0]
    for line in mermaid.splitlines():
        assert line.count('"') % 2 == 0, line


def test_comment_reports_verdict_counts_and_sections(tmp_path: Path) -> None:
    head = BASE_MODEL.replace("encrypted: false", "encrypted: true").replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    )
    body = review_comment(_review(tmp_path, BASE_MODEL, head)).body
    first = body.splitlines()[0]
    assert (
        first.startswith("### ❌ threatdelta:")
        and "need a countermeasure or a justification" in first
    )
    assert "**Needs a decision**" in body
    assert "Resolved threats (1)" in body and "flow.encrypted changed from false to true" in body
    assert '"crossing-sniffing@nurse>phone>ctrl":' in body  # ready-to-paste snippet
    assert "```mermaid" in body


def test_huge_change_stays_under_the_limit_and_says_what_was_trimmed(tmp_path: Path) -> None:
    elements = "".join(
        f"  - {{id: p{i}, name: Process number {i} with a long descriptive name, type: process, boundary: device}}\n"
        for i in range(400)
    )
    flows = "".join(
        f"  - {{id: f{i}, name: Flow number {i} carrying a lot of data, from: nurse, to: p{i}, protocol: udp}}\n"
        for i in range(400)
    )
    head = BASE_MODEL.replace("\nflows:\n", "\n" + elements + "flows:\n" + flows)
    result = _review(tmp_path, BASE_MODEL, head)
    assert sum(len(r.unaddressed) for r in result.reviews) > 2000
    comment = review_comment(result)
    assert len(comment.body) <= COMMENT_LIMIT
    assert comment.trimmed
    assert "Left out to fit GitHub's comment limit" in comment.body
    assert comment.body.splitlines()[0].startswith("### ❌")


def test_passing_review(tmp_path: Path) -> None:
    body = review_comment(
        _review(tmp_path, BASE_MODEL, BASE_MODEL.replace("name: Nurse", "name: Ward nurse"))
    ).body
    assert body.startswith("### ✅ threatdelta:")


def test_sarif_locates_unaddressed_threats_at_model_lines(tmp_path: Path) -> None:
    from threatdelta.render.sarif import review_sarif

    head = BASE_MODEL.replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    )
    log = review_sarif(_review(tmp_path, BASE_MODEL, head))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    line = (
        head.splitlines().index(
            "  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}"
        )
        + 1
    )
    phone = [r for r in run["results"] if "phone" in r["partialFingerprints"]["threatKey"]]
    assert phone and all(r["ruleId"] in rule_ids for r in run["results"])
    for result in phone:
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "threatmodel.yaml"
        assert location["physicalLocation"]["region"]["startLine"] == line


def _block(body: str, intro: str) -> str:
    """The yaml block that follows ``intro`` in the comment."""
    after = body.split(intro, 1)[1]
    return after.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_record_a_decision_block_pasted_as_it_stands_fails_the_gate(tmp_path: Path) -> None:
    head = BASE_MODEL.replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    ).replace(
        "  flow-dos@dose: {status: mitigated, controls: [tls]}",
        "  flow-dos@dose: {status: mitigated, controls: [CONTROL-ID]}",
    )
    repo = GitRepo(tmp_path / "r")
    repo.write("evidence/tls.md", "x\n")
    repo.write("threatmodel.yaml", BASE_MODEL)
    base = repo.commit()
    repo.write("threatmodel.yaml", head)
    first = repo.commit()

    def review(head_sha: str):
        return review_revisions(
            Repo(repo.root),
            base,
            head_sha,
            overrides=Overrides(fail_on="unaddressed,regressions"),
            today=dt.date(2026, 11, 25),
        )

    result = review(first)
    body = review_comment(result).body
    threats = _block(body, "Paste under `threats:`")
    controls = _block(body, "Paste under `controls:`")
    assert '"crossing-sniffing@nurse>phone>ctrl":' in threats
    assert "flow-dos@dose" not in threats  # it already has an entry: shown as a change instead
    assert "`flow-dos@dose` already has an entry (line 16)" in body
    assert "CONTROL-ID" in body  # quoted in the problem, never suggested
    assert "[CONTROL-ID]" not in threats and "- id: x509-authentication" in controls

    pasted = head.replace("\nthreats:\n", "\nthreats:\n" + threats).replace(
        "\ncontrols:\n", "\ncontrols:\n" + controls
    )
    repo.write("threatmodel.yaml", pasted)
    again = review(repo.commit("paste the suggested block"))
    assert not again.verdict.passed
    (model_review,) = again.reviews
    assert {e.key for e in model_review.unaddressed} >= {
        e.key for e in result.reviews[0].unaddressed
    }

    # the comment's acceptance lines pasted as they stand are no decision either (the dates
    # must be written too: YYYY-MM-DD is refused by the reader at its line)
    acceptance = _block(body, "accept the risk instead")
    assert "approved_by: WHO" in acceptance
    undated = "".join(line + "\n" for line in acceptance.splitlines() if "YYYY-MM-DD" not in line)
    accepted = pasted.replace("    status: open\n", undated)
    repo.write("threatmodel.yaml", accepted)
    third = review(repo.commit("accept with the placeholders"))
    assert not third.verdict.passed
    codes = {p.code for e in third.reviews[0].unaddressed for p in e.problems}
    assert "placeholder" in codes


def test_rows_show_risk_and_the_hazards_a_threat_is_linked_to(tmp_path: Path) -> None:
    head = BASE_MODEL.replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp,"
        " hazards: [HAZ-7]}\ncontrols:",
    )
    body = review_comment(_review(tmp_path, BASE_MODEL, head)).body
    assert "(risk " in body
    assert "<br>hazards `HAZ-7`" in body


def test_sarif_levels_follow_a_severity_the_team_set(tmp_path: Path) -> None:
    from threatdelta.render.sarif import review_sarif

    head = BASE_MODEL.replace(
        "\ncontrols:",
        "\n  - {id: phone, name: Phone link, from: nurse, to: ctrl, protocol: tcp}\ncontrols:",
    )
    key = "flow-dos@phone"
    lowered = head.replace(
        "\nthreats:\n",
        f"\nthreats:\n  {key}: {{status: open, severity: low, rationale: Lab network only.}}\n",
    )
    assert lowered != head
    log = review_sarif(_review(tmp_path, BASE_MODEL, lowered))
    (result,) = [
        r for r in log["runs"][0]["results"] if r["partialFingerprints"]["threatKey"] == key
    ]
    assert result["level"] == "note"
