"""Run ``threatdelta github`` the way the runner does: a real git repository, a real event file,
the runner's environment variables, and the fake GitHub server as the API."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.fakegithub import FakeGitHub

from threatdelta.cli import main

REPO = "acme/syringe-driver"
PR = 12
TOKEN = "ghs_e2eS3cretT0kenValue_4242"
BOT = "threatdelta-bot"

BASE_ELEMENTS = """\
  - {id: nurse, name: Nurse, type: external-entity, kind: person}
  - {id: controller, name: Controller, type: process, kind: control-unit, boundary: device,
     properties: {sanitizes_input: true}}
"""
BASE_FLOWS = """\
  - {id: dose, name: Dose command, from: nurse, to: controller, protocol: https,
     properties: {authenticated: true, encrypted: true, integrity_protected: true}}
"""
LOG_ELEMENTS = """\
  - {id: log-service, name: Log service, type: process, kind: firmware, boundary: device,
     properties: {sanitizes_input: true}}
  - {id: dose-log, name: Dose log, type: data-store, kind: log, boundary: device,
     properties: {stores_logs: true}}
"""
LOG_FLOWS = """\
  - {id: log-event, name: Log event, from: controller, to: log-service, protocol: ipc}
  - {id: log-write, name: Log write, from: log-service, to: dose-log, protocol: ipc}
"""


def model(
    elements: str = "",
    flows: str = "",
    threats: str = "",
    controls: str = "",
    description: str = "A syringe driver used on wards.",
    system: str = "Syringe driver",
) -> str:
    """A native model: the base elements and flows plus ``elements`` and ``flows``."""
    text = (
        "version: 1\n"
        f"system: {json.dumps(system)}\n"
        f"description: {json.dumps(description)}\n"
        "boundaries:\n"
        "  - {id: device, name: Device enclosure, kind: device}\n"
        "elements:\n" + BASE_ELEMENTS + elements + "flows:\n" + BASE_FLOWS + flows
    )
    if controls:
        text += "controls:\n" + controls
    if threats:
        text += "threats:\n" + threats
    return text


class GitRepo:
    """A git repository in a temporary folder, with helpers to commit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        result = subprocess.run(
            [
                "git",
                "-C",
                str(self.root),
                "-c",
                "user.name=Test",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
                *args,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def commit(self, files: Mapping[str, str | None], message: str = "change") -> str:
        """Write (or, for None, delete) ``files`` and commit; returns the new SHA."""
        for name, text in files.items():
            path = self.root / name
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def parse_outputs(text: str) -> dict[str, str]:
    """Read a ``GITHUB_OUTPUT`` file as the runner does (``name=value`` and heredocs)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        heredoc = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_-]*)<<(\S+)", line)
        if heredoc:
            name, delimiter = heredoc.groups()
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


@dataclass
class RunResult:
    """What one run left behind."""

    code: int
    stdout: str
    stderr: str
    summary: str
    outputs_text: str
    outputs: dict[str, str]
    report_path: Path | None

    @property
    def everything(self) -> str:
        """Every text the run produced that a person could read."""
        report = ""
        if self.report_path is not None and self.report_path.exists():
            report = self.report_path.read_text(encoding="utf-8")
        return "\n".join((self.stdout, self.stderr, self.summary, self.outputs_text, report))


def pull_request_event(
    base: str,
    head: str,
    *,
    number: int = PR,
    fork: bool = False,
    repository: str = REPO,
) -> dict[str, Any]:
    """A ``pull_request`` payload with the fields GitHub sends that threatdelta reads."""
    head_repo = "contributor/syringe-driver" if fork else repository
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "title": "Add a dose log",
            "base": {"sha": base, "ref": "main", "repo": {"full_name": repository, "fork": False}},
            "head": {
                "sha": head,
                "ref": "dose-log",
                "repo": {"full_name": head_repo, "fork": fork},
            },
        },
        "repository": {"full_name": repository, "default_branch": "main"},
    }


def push_event(before: str, after: str, ref: str = "refs/heads/main") -> dict[str, Any]:
    """A ``push`` payload."""
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": {"full_name": REPO, "default_branch": "main"},
    }


@dataclass
class Harness:
    """One repository, one fake GitHub, and a way to run the action against them."""

    tmp: Path
    fake: FakeGitHub
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    repo: GitRepo = field(init=False)
    runs: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.repo = GitRepo(self.tmp / "checkout")
        self.fake.add_repo(REPO)
        self.fake.set_login(TOKEN, BOT)

    def open_pull(self, base: str, head: str, fork: bool = False) -> None:
        self.fake.add_pull(REPO, PR, head_sha=head, base_sha=base, head_repo_fork=fork)

    def prepare(
        self,
        event_name: str,
        payload: Mapping[str, Any] | bytes,
        *,
        token: str | None = TOKEN,
        env: Mapping[str, str] | None = None,
    ) -> Path:
        """Write the event file and set the runner's variables; returns this run's folder."""
        self.runs += 1
        folder = self.tmp / f"run{self.runs}"
        folder.mkdir()
        event_path = folder / "event.json"
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        event_path.write_bytes(data)
        variables = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": self.fake.url,
            "GITHUB_STEP_SUMMARY": str(folder / "summary.md"),
            "GITHUB_OUTPUT": str(folder / "output.txt"),
            "GITHUB_WORKSPACE": str(self.repo.root),
            "RUNNER_TEMP": str(folder / "temp"),
            "THREATDELTA_WAIT_SCALE": "0",
        }
        for name in (
            "GITHUB_TOKEN",
            "INPUT_GITHUB_TOKEN",
            "INPUT_MODELS",
            "INPUT_CONFIG",
            "INPUT_FAIL_ON",
            "INPUT_COMMENT_MODE",
            "INPUT_RULES",
            "INPUT_CHECK_RUN",
            "INPUT_COMMENT_NAME",
        ):
            self.monkeypatch.delenv(name, raising=False)
        if token is not None:
            variables["INPUT_GITHUB_TOKEN"] = token
        variables.update(env or {})
        for name, value in variables.items():
            self.monkeypatch.setenv(name, value)
        return folder

    def collect(self, folder: Path, code: int) -> RunResult:
        captured = self.capsys.readouterr()
        summary_file = folder / "summary.md"
        output_file = folder / "output.txt"
        outputs_text = output_file.read_text(encoding="utf-8") if output_file.exists() else ""
        outputs = parse_outputs(outputs_text)
        report = outputs.get("report-path")
        return RunResult(
            code=code,
            stdout=captured.out,
            stderr=captured.err,
            summary=summary_file.read_text(encoding="utf-8") if summary_file.exists() else "",
            outputs_text=outputs_text,
            outputs=outputs,
            report_path=Path(report) if report else None,
        )

    def run(
        self,
        base: str,
        head: str,
        *,
        event_name: str = "pull_request",
        fork: bool = False,
        token: str | None = TOKEN,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        move_head: bool = True,
    ) -> RunResult:
        """Run ``threatdelta github`` on a pull request from ``base`` to ``head``."""
        if move_head:
            self.fake.set_head(REPO, PR, head)
        folder = self.prepare(
            event_name, pull_request_event(base, head, fork=fork), token=token, env=env
        )
        code = main(["github", *args])
        return self.collect(folder, code)

    def run_push(self, before: str, after: str, **kw: Any) -> RunResult:
        folder = self.prepare("push", push_event(before, after), **kw)
        code = main(["github"])
        return self.collect(folder, code)

    def comments(self) -> list[Any]:
        return self.fake.comments(REPO, PR)

    def writes(self) -> list[Any]:
        return [r for r in self.fake.requests if r.is_write]
