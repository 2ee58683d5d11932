"""The history demo: a longer history of the bundled example, with two tagged iterations."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from threatdelta.formats.registry import read_model
from threatdelta.git import Repo
from threatdelta.history.build import build_history

DEMO = Path(__file__).resolve().parents[2] / "examples" / "history_demo.py"


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("history_demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["history_demo"] = module
    spec.loader.exec_module(module)
    return module


def test_demo_repository_ends_at_the_bundled_example(demo: ModuleType, tmp_path: Path) -> None:
    built = demo.build_history_repo(tmp_path / "repo")
    repo = Repo(built.root)
    assert built.model_path == "model/infusion-pump.yaml"
    assert repo.run("tag", "--list").decode().split() == ["v1.0", "v2.0"]
    head = repo.read("HEAD", built.model_path)
    assert head is not None
    final = read_model(head, built.model_path).model
    example = read_model(demo.EXAMPLE_MODEL.read_bytes(), "threatmodel.yaml").model
    assert dataclasses.replace(final, path="") == dataclasses.replace(example, path="")

    history = build_history(repo, built.model_path)
    assert len(history.revisions) == built.model_commits == 14
    assert [i.name for i in history.iterations] == ["v1.0", "v2.0", "after v2.0"]
    assert sum(1 for r in history.revisions if r.renamed_from) == 1
    # The cloud upload arrives in v2.0: new threats there, none in the last iteration.
    assert history.iterations[1].added and not history.iterations[2].added
    # Dropping and restoring a control reopens threats during v2.0.
    assert history.iterations[1].reopened


def test_demo_writes_every_report(demo: ModuleType, tmp_path: Path) -> None:
    written = demo.run_demo(tmp_path)
    assert sorted(written) == [
        "history.html",
        "history.md",
        "history.txt",
        "report.csv",
        "report.html",
        "report.md",
    ]
    assert all(path.stat().st_size > 500 for path in written.values())
    assert "Iteration v2.0" in written["history.txt"].read_text(encoding="utf-8")
    assert "xychart-beta" in written["history.md"].read_text(encoding="utf-8")
    again = tmp_path / "again"
    second = demo.run_demo(again)
    for name in ("history.txt", "report.csv"):  # fixed dates: the same output every time
        assert second[name].read_text(encoding="utf-8") == written[name].read_text(
            encoding="utf-8"
        ), name
