"""History output formats: the numbers, determinism, and escaping of untrusted text."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from tests.history.gitrepo import GitRepo, pump

from threatdelta.git import Repo
from threatdelta.history.build import History, build_history
from threatdelta.history.cache import HistoryCache
from threatdelta.history.render import csv_cell, history_data, render_history
from threatdelta.rules.pack import RulePack

HOSTILE = "<script>alert(1)</script> @everyone | `x` [link](http://evil.example)"


@pytest.fixture(scope="module")
def history(scripted_repo: Repo, pack: RulePack) -> History:
    return build_history(scripted_repo, "models/pump.yaml", pack=pack)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> History:
    repo = GitRepo(tmp_path_factory.mktemp("hostile") / "repo")
    model = pump(system=HOSTILE)
    model["elements"][0]["name"] = HOSTILE
    repo.write_model("threatmodel.yaml", model)
    repo.commit(HOSTILE, "2025-01-01")
    repo.git("tag", "v<b>1</b>")
    model["elements"][1]["name"] = "Controller </svg><script>x()</script>"
    repo.write_model("threatmodel.yaml", model)
    repo.commit("second", "2025-01-02")
    return build_history(Repo(repo.root), "threatmodel.yaml", pack=pack)


def test_json_carries_the_numbers(history: History) -> None:
    data = json.loads(render_history(history, "json"))
    assert data["model"] == "models/pump.yaml"
    assert data["iterations_from"] == "tags"
    fifth = data["revisions"][4]
    assert fifth["threats"] == {
        "open": 0,
        "mitigated": 2,
        "accepted": 1,
        "transferred": 0,
        "not_applicable": 0,
        "total": 3,
    }
    assert fifth["regressions"][0]["code"] == "evidence-missing"
    assert data["revisions"][3]["renamed_from"] == "model.yaml"
    v2 = data["iterations"][1]
    assert v2["time_to_disposition"] == {
        "count": 1,
        "median_days": 11.0,
        "max_days": 11.0,
        "median_revisions": 4.0,
        "max_revisions": 4,
    }
    assert v2["controls_without_evidence"][0]["missing"] == ["tests/test_tls.py"]
    assert data["threats"]["sniff@f1"]["title"] == "Dose command could be read"
    assert "stats" not in data and "parsed" not in json.dumps(data)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "csv", "html"])
def test_output_is_the_same_with_or_without_the_cache(
    scripted_repo: Repo, pack: RulePack, history: History, tmp_path: Path, fmt: str
) -> None:
    cache = tmp_path / "c.sqlite"
    build_history(scripted_repo, "models/pump.yaml", pack=pack, cache=HistoryCache(cache))
    cached = build_history(scripted_repo, "models/pump.yaml", pack=pack, cache=HistoryCache(cache))
    assert cached.stats.parsed == 0
    assert render_history(cached, fmt) == render_history(history, fmt)


def test_csv_one_row_per_revision(history: History) -> None:
    rows = list(csv.DictReader(io.StringIO(render_history(history, "csv"))))
    assert [r["revision"] for r in rows] == [str(n) for n in range(1, 9)]
    assert [r["open"] for r in rows] == ["3", "2", "1", "1", "0", "1", "3", "1"]
    assert [r["iteration"] for r in rows] == ["v1.0"] * 3 + ["v2.0"] * 4 + ["after v2.0"]
    assert rows[3]["path"] == "models/pump.yaml"


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("+x", "'+x"), ("-x", "'-x"), ("@x", "'@x"), ("ok", "ok"), (None, "")],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_text_report(history: History) -> None:
    text = render_history(history, "text")
    assert "8 model revisions" in text
    assert "Iteration v2.0 (2025-01-05 → 2025-03-10, revisions 4–7)" in text
    assert "tls (implemented, relied on by 1 threat): evidence not found: tests/test_tls.py" in text
    assert "(renamed from model.yaml)" in text


def test_markdown_report(history: History) -> None:
    text = render_history(history, "markdown")
    assert "```mermaid" in text and "xychart-beta" in text
    assert re.search(
        r"\| v2\.0 \| 2025-03-10 `[0-9a-f]{7}` \| 4 \| 3 → 4 \| 1 → 3 \| 1 \| 1 \| 0 \| 2 \| 11 / 11 \| 1 / 0 \| 1 \|",
        text,
    )
    assert "'tls'" in text  # quotes stay readable


def test_html_report_is_self_contained(history: History) -> None:
    page = render_history(history, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "<polyline" in page
    assert "<script" not in page
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"]
    assert "@media print" in page


def test_untrusted_text_is_escaped_everywhere(hostile: History) -> None:
    page = render_history(hostile, "html")
    assert "<script" not in page and "</svg><script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "v&lt;b&gt;1&lt;/b&gt;" in page
    markdown = render_history(hostile, "markdown")
    assert "<script" not in markdown and "<b>1" not in markdown
    assert "@everyone" not in markdown  # no mention
    assert "](http" not in markdown  # no link
    text = render_history(hostile, "text")
    assert "\x1b" not in text
    data = history_data(hostile)
    assert data["system"] == HOSTILE  # JSON keeps the text as it is
