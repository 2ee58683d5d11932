"""The Actions runner's files and workflow-command annotations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threatdelta.publish.interface import Annotation
from threatdelta.publish.workflow import (
    SUMMARY_TRIMMED_NOTE,
    format_outputs,
    select_step_annotations,
    trim_markdown,
    workflow_command_annotation,
    write_outputs,
    write_summary,
)


def unescape(text: str) -> str:
    """What the runner does to a command's data and property values."""
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = re.fullmatch(r"::(\w+) ([^:]*)::(.*)", line, flags=re.DOTALL)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    return m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))


# --- annotations --------------------------------------------------------------------------


def test_failure_becomes_an_error_command_with_all_properties() -> None:
    a = Annotation("models/pump.yaml", 12, 14, "failure", "Unauthenticated flow", "Add mTLS.")
    assert workflow_command_annotation(a) == (
        "::error file=models/pump.yaml,line=12,endLine=14,title=Unauthenticated flow::Add mTLS."
    )


def test_levels_map_to_commands() -> None:
    levels = {
        lvl: workflow_command_annotation(Annotation("f", 1, 1, lvl, "", "m")).split(" ")[0]
        for lvl in ("notice", "warning", "failure")
    }
    assert levels == {"notice": "::notice", "warning": "::warning", "failure": "::error"}


def test_empty_title_is_left_out() -> None:
    assert "title=" not in workflow_command_annotation(Annotation("f", 1, 1, "warning", "", "m"))


def test_escaping_of_data_and_properties() -> None:
    a = Annotation(
        "dir,x/a:b.yaml", 3, 3, "warning", "100% sure: a, b\nc", "line1\r\nline2 50%: x,y"
    )
    line = workflow_command_annotation(a)
    assert "\n" not in line and "\r" not in line
    assert line == (
        "::warning file=dir%2Cx/a%3Ab.yaml,line=3,endLine=3,title=100%25 sure%3A a%2C b%0Ac"
        "::line1%0D%0Aline2 50%25: x,y"
    )


@given(
    path=st.text(min_size=1, max_size=30),
    title=st.text(max_size=30),
    message=st.text(max_size=60),
)
def test_escaping_round_trips(path: str, title: str, message: str) -> None:
    a = Annotation(path, 5, 7, "notice", title, message)
    command, props, data = parse_command(workflow_command_annotation(a))
    assert command == "notice"
    assert props["file"] == path
    assert props.get("title", "") == title
    assert (props["line"], props["endLine"]) == ("5", "7")
    assert data == message


def test_end_line_is_never_before_start_line() -> None:
    line = workflow_command_annotation(Annotation("f", 9, 2, "warning", "", "m"))
    assert "line=9,endLine=9" in line


def ann(level: str, path: str, line: int) -> Annotation:
    return Annotation(path, line, line, level, f"{level} {path}:{line}", "m")  # type: ignore[arg-type]


def test_selection_keeps_ten_per_level_most_severe_first() -> None:
    items = (
        [ann("notice", "n.yaml", i) for i in range(15)]
        + [ann("warning", "w.yaml", i) for i in range(15)]
        + [ann("failure", "f.yaml", i) for i in range(15)]
    )
    chosen = select_step_annotations(items)
    assert [a.level for a in chosen] == ["failure"] * 10 + ["warning"] * 10 + ["notice"] * 10
    assert [a.start_line for a in chosen[:10]] == list(range(10))


def test_selection_does_not_depend_on_input_order() -> None:
    items = [ann(lvl, p, i) for lvl in ("warning", "failure") for p in "ba" for i in range(8)]
    assert select_step_annotations(items) == select_step_annotations(list(reversed(items)))
    chosen = select_step_annotations(items)
    assert [(a.path, a.start_line) for a in chosen[:10]] == (
        [("a", i) for i in range(8)] + [("b", 0), ("b", 1)]
    )


def test_selection_limit_is_adjustable() -> None:
    items = [ann("warning", "w", i) for i in range(5)]
    assert len(select_step_annotations(items, per_level_limit=2)) == 2
    assert select_step_annotations(items, per_level_limit=0) == ()
    with pytest.raises(ValueError):
        select_step_annotations(items, per_level_limit=-1)


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="annotation level"):
        Annotation("f", 1, 1, "error", "", "m")  # type: ignore[arg-type]


# --- outputs ------------------------------------------------------------------------------


def read_outputs(text: str) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT file the way the runner does."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            out[name] = value
            i += 1
    return out


def test_outputs_single_and_multi_line(tmp_path: Path) -> None:
    path = tmp_path / "output"
    path.write_text("earlier=1\n")
    write_outputs(path, {"verdict": "fail", "report": "line 1\nline 2\n\nline 4", "empty": ""})
    assert read_outputs(path.read_text()) == {
        "earlier": "1",
        "verdict": "fail",
        "report": "line 1\nline 2\n\nline 4",
        "empty": "",
    }
    assert path.read_text().count("verdict=fail\n") == 1


def test_a_value_cannot_end_the_heredoc_and_set_another_output() -> None:
    value = "x\nghadelimiter_0\nverdict=pass\nEOF"
    text = format_outputs({"report": value, "verdict": "fail"})
    assert read_outputs(text) == {"report": value, "verdict": "fail"}


def test_delimiter_is_redrawn_when_it_occurs_in_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["aaaa", "bbbb"])
    monkeypatch.setattr("threatdelta.publish.workflow.secrets.token_hex", lambda n: next(draws))
    text = format_outputs({"report": "ghadelimiter_aaaa\nmore"})
    assert text == "report<<ghadelimiter_bbbb\nghadelimiter_aaaa\nmore\nghadelimiter_bbbb\n"


@pytest.mark.parametrize("name", ["", "a=b", "a\nb", "1st", "has space"])
def test_bad_output_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="output name"):
        format_outputs({name: "v"})


# --- summary ------------------------------------------------------------------------------


def test_summary_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# Earlier step\n")
    assert write_summary(path, "## Threat review\nok") is False
    assert path.read_text() == "# Earlier step\n## Threat review\nok\n"


def test_summary_is_trimmed_under_the_limit_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("x" * 100 + "\n")
    markdown = "".join(f"| threat {i} | open | ü |\n" for i in range(100_000))
    assert write_summary(path, markdown, limit=50_000) is True
    data = path.read_bytes()
    assert len(data) <= 50_000
    text = data.decode("utf-8")
    assert text.rstrip().endswith(SUMMARY_TRIMMED_NOTE)
    kept = text[101:].split("\n\n" + SUMMARY_TRIMMED_NOTE)[0]
    assert all(line.startswith("| threat ") and line.endswith("|") for line in kept.splitlines())


def test_default_summary_limit_is_under_a_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    assert write_summary(path, "y" * 2_000_000) is True
    assert len(path.read_bytes()) <= 1024 * 1024


def test_trimming_closes_an_open_code_fence() -> None:
    text = "intro\n```\n" + "code line\n" * 100
    trimmed, was_trimmed = trim_markdown(text, 300, "NOTE")
    assert was_trimmed and len(trimmed) <= 300
    assert trimmed.count("```") == 2
    assert trimmed.endswith("```\n\nNOTE\n")


def test_trimming_leaves_short_text_alone() -> None:
    assert trim_markdown("short", 10, "NOTE") == ("short", False)
