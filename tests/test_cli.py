"""The command line imports only what the chosen command needs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, GitRepo, model

from threatdelta.cli import chosen_command, main
from threatdelta.commands import COMMANDS, Command

HEAVY = ("github", "networkx", "jsonschema", "jinja2", "deepdiff", "requests", "yaml")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "infusion-pump" / "threatmodel.yaml"


def loaded_after(code: str) -> set[str]:
    """Top-level modules of interest present in ``sys.modules`` after running ``code``."""
    script = (
        "import sys, io, contextlib\n"
        f"{code}\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(','.join(m for m in sys.modules if m.startswith('threatdelta.commands.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return {name for line in out[-2:] for name in line.split(",") if name}


def test_importing_the_cli_loads_no_heavy_library_and_no_command() -> None:
    assert loaded_after("import threatdelta.cli") == set()


def test_help_lists_every_command_without_importing_any() -> None:
    code = (
        "from threatdelta.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert loaded_after(code) == set()


@pytest.mark.parametrize("output", ["json", "text"])
def test_check_of_a_valid_model_imports_no_schema_walker_graph_diff_template_yaml_or_github_library(
    output: str,
) -> None:
    code = (
        "from threatdelta.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['check', {str(EXAMPLE)!r}, '--format', {output!r}, '--fail-on', 'none'])"
    )
    assert loaded_after(code) == {"threatdelta.commands.check", "threatdelta.commands.common"}


def test_help_shows_each_registered_command_with_its_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for command in COMMANDS:
        assert f"{command.name} {' '.join(command.summary.split())}" in out


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_registered_command_has_a_module_with_its_options(
    command: Command, capsys: pytest.CaptureFixture[str]
) -> None:
    name = command.name
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: threatdelta {name}")


def test_the_command_is_the_first_word_that_is_not_an_option() -> None:
    assert chosen_command(["check", "x.yaml"]) == "check"
    assert chosen_command(["--version"]) is None
    assert chosen_command(["-h", "review"]) == "review"
    assert chosen_command(["--", "check"]) is None


EXAMPLES = sorted(EXAMPLE.parents[1].glob("*/threatmodel.yaml"))


@pytest.mark.parametrize("output", ["json", "text", "markdown"])
@pytest.mark.parametrize("model", EXAMPLES, ids=lambda path: path.parent.name)
def test_the_program_ends_after_writing_all_a_check_writes_in_process(
    model: Path, output: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m threatdelta check`` ends its process without freeing what it built: what it
    writes to a pipe, and its exit code, are what the same check writes in process."""
    words = ["check", str(model), "--format", output, "--today", "2026-06-01"]
    code = main(words)
    written = capsys.readouterr()
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    ended = subprocess.run(
        [sys.executable, "-m", "threatdelta", *words],
        env=buffered,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert (ended.stdout, ended.stderr, ended.returncode) == (written.out, written.err, code)
    assert len(ended.stdout) > 20_000  # more than one buffer's worth


def test_a_check_leaves_what_it_built_to_the_end_only_when_the_process_ends_next(
    capsys: pytest.CaptureFixture[str],
) -> None:
    words = ["check", str(EXAMPLE), "--format", "json", "--today", "2026-06-01"]
    ending: list[object] = []
    assert main(words, ending=ending) == main(words)
    assert ending
    capsys.readouterr()


@pytest.mark.parametrize("output", ["json", "text", "markdown"])
def test_the_program_ends_after_writing_all_a_review_writes_in_process(
    output: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m threatdelta review`` ends its process without freeing both models: what it
    writes to a pipe, and its exit code, are what the same review writes in process."""
    repo = GitRepo(tmp_path / "repo")
    base = repo.commit({"threatmodel.yaml": model()}, "base")
    head = repo.commit({"threatmodel.yaml": model(LOG_ELEMENTS, LOG_FLOWS)}, "head")
    words = ["review", "--repo", str(repo.root), "--base", base, "--head", head]
    words += ["--format", output, "--no-cache", "--today", "2026-06-01"]
    ending: list[object] = []
    code = main(words, ending=ending)
    written = capsys.readouterr()
    assert ending  # the review left its result to the process's end
    assert code == 1  # the new threats are unaddressed: the exit code must survive the ending
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    ended = subprocess.run(
        [sys.executable, "-m", "threatdelta", *words],
        env=buffered,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert (ended.stdout, ended.stderr, ended.returncode) == (written.out, written.err, code)
    assert "log-service" in written.out  # the new threats are in what was written
