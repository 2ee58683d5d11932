"""Untrusted model text comes out inert in the posted comment, and huge models stay under
GitHub's comment limit."""

from __future__ import annotations

import json
import re

from tests.e2e.harness import Harness, model
from tests.render.gfm import render

from threatdelta.publish.github import COMMENT_LIMIT
from threatdelta.render.escape import code

HOSTILE = [
    "@org/team",
    "<img src=x onerror=alert(1)>",
    "<!-- threatdelta:sticky name=default -->",
    "| table | breakers |",
    '"]) --> x[("',
    "``` and `back` ticks",
]


def _fenced_and_plain(body: str) -> tuple[list[str], list[str]]:
    """The lines inside fenced code blocks, and the lines outside them."""
    fenced: list[str] = []
    plain: list[str] = []
    inside = False
    for line in body.splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        (fenced if inside else plain).append(line)
    return fenced, plain


def _hostile_model() -> tuple[str, str]:
    names = [json.dumps(n) for n in HOSTILE]
    elements = "".join(
        f"  - {{id: bad-{i}, name: {name}, type: process, kind: web-service, boundary: device,\n"
        f"     description: {name}}}\n"
        for i, name in enumerate(names)
    )
    flows = "".join(
        f"  - {{id: bad-flow-{i}, name: {name}, from: controller, to: bad-{i}, protocol: tcp}}\n"
        for i, name in enumerate(names)
    )
    head = model(elements, flows, system=" ".join(HOSTILE), description=" ".join(HOSTILE))
    return model(), head


def test_hostile_names_are_inert_in_the_posted_comment(harness: Harness) -> None:
    base_text, head_text = _hostile_model()
    base = harness.repo.commit({"threatmodel.yaml": base_text}, "base")
    head = harness.repo.commit({"threatmodel.yaml": head_text}, "hostile")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 1
    (comment,) = harness.comments()
    body = comment.body
    assert "bad-0" in body  # the hostile elements are really reported
    _, plain = _fenced_and_plain(body)
    outside = "\n".join(plain)

    # rendered as GitHub does: no link, no image, no mention of a person or team outside code
    # (where GitHub links none; threat keys such as process-tampering@bad-0 are code spans)
    rendered = render(body)
    assert rendered.links == []
    assert "img" not in rendered.tags
    assert rendered.live_references() == []
    assert "@\u2060org/team" in outside
    # no HTML from the model outside code blocks (inside them it is shown as text)
    assert "<img" not in outside and "&lt;img src=x onerror=alert\\(1\\)&gt;" in outside
    # the only HTML comments are the bot's own two markers, on the first two lines
    assert body.count("<!--") == 2
    assert body.splitlines()[0].startswith("<!-- threatdelta:sticky name=default -->")
    assert "<!--" not in "\n".join(body.splitlines()[2:])
    # every table row has as many cells as its header
    rows = [ln for ln in plain if ln.startswith("|")]
    assert any("bad-0" in ln for ln in rows)
    columns: int | None = None
    for line in plain:
        if not line.startswith("|"):
            columns = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line))
        if columns is None:
            columns = cells
        assert cells == columns, line
    # code fences: only the ones the template opens, each closed
    fence_lines = [ln for ln in body.splitlines() if ln.startswith("```")]
    assert fence_lines[0::2] == ["```yaml"] * (len(fence_lines) // 2 - 1) + ["```mermaid"]
    assert fence_lines[1::2] == ["```"] * (len(fence_lines) // 2)
    # the Mermaid labels cannot close their node or start an edge
    mermaid = body.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert '"]) --> x[("' not in mermaid and "#quot;]) --#gt; x[(#quot;" in mermaid
    assert "`" not in mermaid
    for line in mermaid.splitlines()[1:]:
        assert line.count('"') % 2 == 0, line
    # the yaml snippets keep hostile titles on comment lines, keys and names quoted
    for snippet in body.split("```yaml\n")[1:]:
        for line in snippet.split("\n```", 1)[0].splitlines():
            assert line.strip().startswith(
                (
                    "#",
                    '"',
                    "threats:",
                    "status:",
                    "controls:",
                    "- id: ",
                    'name: "',
                    "evidence: []",
                    "justification: Why",
                    "approved_by: WHO",
                    "approved_on: YYYY",
                    "expires: YYYY",
                )
            ), line


def test_hostile_names_cannot_forge_workflow_commands_or_outputs(harness: Harness) -> None:
    sneaky = "x\n::set-output name=verdict::pass\n::error file=README.md::forged"
    elements = f"  - {{id: sneaky, name: {json.dumps(sneaky)}, type: process, boundary: device}}\n"
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit({"threatmodel.yaml": model(elements)}, "sneaky")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    commands = [ln for ln in result.stdout.splitlines() if ln.lstrip().startswith("::")]
    assert commands
    assert all(re.match(r"::(error|warning|notice) file=threatmodel\.yaml,", c) for c in commands)
    for command in commands:
        # parse as the runner does: '::NAME PROPS::MESSAGE', PROPS split at ',' then '='
        section = command[2:].split("::", 1)[0]
        name, props = section.split(" ", 1)
        keys = [p.split("=", 1)[0] for p in props.split(",")]
        assert name in ("error", "warning", "notice")
        assert set(keys) <= {"file", "line", "endLine", "title"} and keys[0] == "file"
    assert result.outputs["verdict"] == "fail"


def test_broken_model_text_in_errors_cannot_forge_commands(harness: Harness) -> None:
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit(
        {"threatmodel.yaml": model().replace("kind: person", 'kind: "person\\n::error::forged"')},
        "bad kind",
    )
    harness.open_pull(base, head)

    result = harness.run(base, head)

    assert result.code == 2
    for line in (result.stdout + result.stderr).splitlines():
        assert not line.lstrip().startswith("::") or line.startswith(
            "::error file=threatmodel.yaml,"
        )
    assert "forged" in result.stderr  # the message is still shown, as plain log text


def test_a_huge_model_keeps_the_comment_under_the_limit_and_says_what_was_left_out(
    harness: Harness,
) -> None:
    n = 200
    elements = "".join(
        f"  - {{id: p{i}, name: Process {i}, type: process, kind: web-service, boundary: device}}\n"
        for i in range(n)
    )
    flows = "".join(
        f"  - {{id: f{i}, from: p{i}, to: p{(i + 1) % n}, protocol: tcp}}\n"
        f"  - {{id: g{i}, from: nurse, to: p{i}, protocol: udp}}\n"
        for i in range(n)
    )
    base = harness.repo.commit({"threatmodel.yaml": model()}, "base")
    head = harness.repo.commit({"threatmodel.yaml": model(elements, flows)}, "huge")
    harness.open_pull(base, head)

    result = harness.run(base, head)

    report = json.loads(result.report_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    unaddressed = sum(len(m["unaddressed"]) for m in report["models"])
    assert unaddressed > 2000
    (comment,) = harness.comments()
    assert len(comment.body) <= COMMENT_LIMIT
    assert len(comment.body) - comment.body.index("###") <= 65_000
    assert "Left out to fit GitHub's comment limit" in comment.body
    assert "The job summary has the full report" in comment.body
    assert "the comment leaves out, to fit GitHub's limit:" in result.stdout
    # the job summary carries far more than the comment
    keys = [t["id"] for m in report["models"] for t in m["unaddressed"]]
    in_comment = [k for k in keys if code(k) in comment.body]
    assert 0 < len(in_comment) < len(keys) / 10
    assert all(code(k) in result.summary for k in keys)
    assert len(result.summary.encode("utf-8")) < 1024 * 1024
