"""What the commands print for people: hidden characters in quoted model text are shown, never
sent raw to a terminal or a log."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from threatdelta.cli import main
from threatdelta.commands.common import say

HOSTILE = "proc\x1b[2J\x07\x00\u202eess"


def test_say_shows_control_bidi_and_invisible_characters_as_escapes() -> None:
    out = io.StringIO()
    say(f"warning: {HOSTILE} and \u200b\u200e\u200f\u061c", out)
    assert out.getvalue() == (
        "warning: proc\\x1b[2J\\x07\\x00\\u202eess and \\u200b\\u200e\\u200f\\u061c\n"
    )


def test_an_input_error_quoting_model_text_reaches_the_terminal_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "threatmodel.yaml"
    model.write_text(
        'version: 1\nsystem: S\nelements:\n  - {id: a, name: A, type: "proc\\e[2J\\a\\0\\u202eess"}\n'
        "flows: []\n",
        encoding="utf-8",
    )
    assert main(["check", str(model)]) == 2
    err = capsys.readouterr().err
    assert "proc\\x1b[2J\\x07\\x00\\u202eess" in err
    assert not any(ch in err for ch in "\x1b\x07\x00\u202e")
