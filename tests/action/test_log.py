"""The step log: no forged workflow commands, no secrets."""

from __future__ import annotations

import io

import pytest

from threatdelta.action.log import StepLog


def _log(*secrets: str) -> tuple[StepLog, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return StepLog(out, err, secrets), out, err


def test_every_line_starts_with_the_prefix_so_none_is_a_command() -> None:
    log, out, err = _log()
    log.info("first\n::set-output name=verdict::pass\r\n  ::error::forged\rlast")
    log.error("::add-mask::x")
    for line in (out.getvalue() + err.getvalue()).splitlines():
        assert line.startswith("threatdelta:")
    assert out.getvalue().splitlines()[1] == "threatdelta: ::set-output name=verdict::pass"
    assert err.getvalue() == "threatdelta: error: ::add-mask::x\n"


def test_secrets_are_redacted_longest_first() -> None:
    log, out, err = _log("ghs_abc")
    log.add_secret("ghs_abcdef")
    log.add_secret("")
    log.info("token ghs_abcdef and ghs_abc")
    log.warning("ghs_abc")
    log.command("::notice file=a,line=1::ghs_abcdef")
    assert "ghs_abc" not in out.getvalue() + err.getvalue()
    assert "token *** and ***" in out.getvalue()
    assert "::notice file=a,line=1::***" in out.getvalue()


def test_commands_must_be_one_escaped_line() -> None:
    log, out, _ = _log()
    log.command("::warning file=a,line=2::text")
    assert out.getvalue() == "::warning file=a,line=2::text\n"
    for bad in ("plain text", "::error::a\n::error::b"):
        with pytest.raises(ValueError):
            log.command(bad)


def test_control_bidi_and_invisible_characters_are_shown_not_written() -> None:
    log, _, err = _log()
    log.warning("reader: name 'a\x00b\x07c\x1b[31md\u202ee\u200bf'")
    text = err.getvalue()
    assert text == "threatdelta: warning: reader: name 'a\\x00b\\x07c\\x1b[31md\\u202ee\\u200bf'\n"
