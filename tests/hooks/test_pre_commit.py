""".pre-commit-hooks.yaml, run by pre-commit itself on a temporary repository.

The hooks are declared ``language: python`` so that pre-commit installs threatdelta for its users;
installing needs the package index, so here each hook runs as a ``repo: local`` hook with the same
id, entry, arguments, file pattern and stages, on the threatdelta installed in this environment
(``language: system``). Everything runs offline. Skipped when pre-commit is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.e2e.harness import LOG_ELEMENTS, LOG_FLOWS, GitRepo, model

pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"

BROKEN = model() + "  - {id: oops, type: teapot}\n"


def _hooks() -> dict[str, dict[str, Any]]:
    hooks = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {hook["id"]: hook for hook in hooks}


def _local_config(args: dict[str, list[str]] | None = None) -> str:
    """The manifest's hooks as ``repo: local`` hooks on this environment's threatdelta."""
    local = []
    for hook in _hooks().values():
        entry = str(hook["entry"])
        assert entry.startswith("threatdelta ")
        copy = {
            k: v for k, v in hook.items() if k not in ("language", "minimum_pre_commit_version")
        }
        copy["entry"] = str(BIN / "threatdelta") + entry.removeprefix("threatdelta")
        copy["language"] = "system"
        if args and hook["id"] in args:
            copy["args"] = args[hook["id"]]
        local.append(copy)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}, sort_keys=False)


class Project:
    """A git repository with pre-commit's hooks installed in it."""

    def __init__(self, root: Path, home: Path, args: dict[str, list[str]] | None = None) -> None:
        self.repo = GitRepo(root)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))},
            "PRE_COMMIT_HOME": str(home),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "GIT_AUTHOR_NAME": "Dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
        }
        self.repo.commit({".pre-commit-config.yaml": _local_config(args)}, "add hooks")
        for hook_type in ("pre-commit", "pre-push"):
            self.run(str(PRE_COMMIT), "install", "--hook-type", hook_type)

    def run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(cmd),
            cwd=self.repo.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def write(self, name: str, text: str) -> None:
        (self.repo.root / name).write_text(text, encoding="utf-8")

    def commit(self, message: str, *paths: str) -> subprocess.CompletedProcess[str]:
        self.run("git", "add", *paths)
        return self.run("git", "commit", "-q", "-m", message)


def test_the_manifest_is_valid_for_pre_commit() -> None:
    result = subprocess.run(
        [str(PRE_COMMIT), "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = _hooks()
    assert hooks["threatdelta-check"]["entry"] == "threatdelta check"
    assert hooks["threatdelta-review"]["stages"] == ["pre-push"]
    assert hooks["threatdelta-review"]["pass_filenames"] is False


def test_a_broken_staged_model_stops_the_commit_with_its_line(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo", tmp_path / "home")
    project.write("threatmodel.yaml", BROKEN)

    result = project.commit("broken model", "threatmodel.yaml")

    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "threatdelta check" in out and "Failed" in out
    assert "threatmodel.yaml:13:5: flow 'oops' has no 'from'" in out
    assert project.repo.git("log", "--format=%s", "-1") == "add hooks"


def test_the_hook_reads_what_is_staged_not_the_working_tree(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo", tmp_path / "home")
    project.write("threatmodel.yaml", BROKEN)
    project.run("git", "add", "threatmodel.yaml")
    project.write("threatmodel.yaml", model())  # fixed, but not staged

    assert project.run("git", "commit", "-q", "-m", "staged is broken").returncode != 0

    project.run("git", "add", "threatmodel.yaml")
    assert project.run("git", "commit", "-q", "-m", "staged is fixed").returncode == 0


def test_a_valid_model_commits_and_other_files_are_not_read(tmp_path: Path) -> None:
    project = Project(tmp_path / "repo", tmp_path / "home")
    project.write("threatmodel.yaml", model(LOG_ELEMENTS, LOG_FLOWS))
    project.write("notes.yaml", "not: [a, model\n")  # not a model file: the hook ignores it
    result = project.commit("model", "threatmodel.yaml", "notes.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_args_make_open_threats_fail_the_commit(tmp_path: Path) -> None:
    project = Project(
        tmp_path / "repo", tmp_path / "home", args={"threatdelta-check": ["--fail-on=open"]}
    )
    project.write("threatmodel.yaml", model(LOG_ELEMENTS, LOG_FLOWS))
    result = project.commit("open threats", "threatmodel.yaml")
    assert result.returncode != 0
    assert "process-tampering@log-service" in result.stdout + result.stderr


def test_a_push_is_reviewed_against_the_upstream_branch(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream.git"
    subprocess.run(["git", "init", "-q", "--bare", str(upstream)], check=True)
    project = Project(
        tmp_path / "repo",
        tmp_path / "home",
        args={"threatdelta-review": ["--base=@{upstream}"]},
    )
    project.write("threatmodel.yaml", model())
    assert project.commit("base model", "threatmodel.yaml").returncode == 0
    project.run("git", "remote", "add", "origin", str(upstream))
    pushed = project.run("git", "push", "-q", "--no-verify", "-u", "origin", "main")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr

    project.write("threatmodel.yaml", model(LOG_ELEMENTS, LOG_FLOWS))
    assert project.commit("add a dose log", "threatmodel.yaml").returncode == 0
    refused = project.run("git", "push", "-q", "origin", "main")

    assert refused.returncode != 0
    out = refused.stdout + refused.stderr
    assert "threatdelta review" in out and "process-tampering@log-service" in out
    remote_head = subprocess.run(
        ["git", "-C", str(upstream), "rev-parse", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert remote_head != project.repo.git("rev-parse", "HEAD")
