"""The report's HTML, markdown and CSV, and the HTML as a browser draws it."""

from __future__ import annotations

import csv
import io
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from tests.history.gitrepo import GitRepo, pump

from threatdelta.git import Repo
from threatdelta.history.build import build_history
from threatdelta.history.render import render_history
from threatdelta.report.build import Report, build_report
from threatdelta.report.render import render_report
from threatdelta.rules.pack import RulePack

HOSTILE = '=cmd|"/c calc"!A1 <img src=x onerror=alert(1)> @team'


@pytest.fixture(scope="module")
def report(scripted_repo: Repo, pack: RulePack) -> Report:
    return build_report(scripted_repo, "models/pump.yaml", pack=pack)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> Report:
    repo = GitRepo(tmp_path_factory.mktemp("hostile") / "repo")
    control = {"id": "c", "name": HOSTILE, "status": "verified", "evidence": ["x/<b>.md"]}
    model = pump(
        system=HOSTILE,
        controls=[control],
        threats={
            "spoof@user": {"status": "mitigated", "controls": ["c"]},
            "tamper@ctrl": {
                "status": "accepted",
                "justification": HOSTILE,
                "approved_by": "<i>me</i>",
            },
        },
    )
    model["elements"][0]["name"] = HOSTILE
    model["flows"][0]["name"] = "</svg><script>alert(2)</script>"
    repo.write_model("threatmodel.yaml", model)
    repo.commit(HOSTILE, "2025-01-01")
    return build_report(Repo(repo.root), "threatmodel.yaml", pack=pack)


def test_html_flags_broken_evidence(report: Report) -> None:
    page = render_report(report, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"]
    assert "missing: broken link</span> <code>tests/test_auth.py</code>" in page
    assert '<span class="badge ok">exists</span> <code>tests/test_tls.py</code>' in page
    assert "The controller sits in a sealed case." in page
    assert '<svg class="diagram"' in page and "td-arrow" in page
    assert "@media print" in page
    assert report.revision in page


def test_markdown_report(report: Report) -> None:
    text = render_report(report, "markdown")
    assert "```mermaid\nflowchart LR" in text
    assert "❌ `tests/test_auth.py` **missing**" in text
    assert "**1** broken evidence links" in text
    assert "| `tls` TLS on the dose link | implemented |" in text


def test_csv_one_row_per_piece_of_evidence(report: Report) -> None:
    rows = list(csv.DictReader(io.StringIO(render_report(report, "csv"))))
    by_key = {(r["threat"], r["evidence"]): r for r in rows}
    assert by_key[("spoof@user", "tests/test_auth.py")]["evidence_status"] == "MISSING"
    assert by_key[("spoof@user", "tests/test_auth.py")]["verdict"] == "evidence missing"
    assert by_key[("sniff@f1", "tests/test_tls.py")]["evidence_status"] == "exists"
    assert by_key[("spoof@admin", "")]["disposition"] == "open"
    assert {r["revision"] for r in rows} == {report.revision}
    assert len(rows) == 4


def test_model_text_is_escaped(hostile: Report) -> None:
    page = render_report(hostile, "html")
    assert "<img" not in page and "<script" not in page and "<i>me" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;/svg&gt;&lt;script&gt;" in page
    markdown = render_report(hostile, "markdown")
    assert "<img" not in markdown and "<script" not in markdown
    # Mentions are inert inside the fenced Mermaid block; outside it they are broken up.
    outside = re.sub(r"```mermaid.*?```", "", markdown, flags=re.S)
    assert "@team" not in outside and "@\u2060team" in outside
    rows = list(csv.reader(io.StringIO(render_report(hostile, "csv"))))
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def _chromium() -> str | None:
    found = shutil.which("chromium")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    return found


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
@pytest.mark.parametrize("kind", ["report", "history"])
def test_headless_chromium_draws_the_page(
    kind: str, scripted_repo: Repo, pack: RulePack, report: Report, tmp_path: Path
) -> None:
    if kind == "report":
        page = render_report(report, "html")
    else:
        page = render_history(build_history(scripted_repo, "models/pump.yaml", pack=pack), "html")
    html = tmp_path / f"{kind}.html"
    html.write_text(page, encoding="utf-8")
    png = tmp_path / f"{kind}.png"
    flags = [
        _chromium() or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--hide-scrollbars",
    ]
    subprocess.run(
        [*flags, "--window-size=1280,1600", f"--screenshot={png}", html.as_uri()],
        capture_output=True,
        timeout=180,
        check=False,
    )
    width, height, pixels = _png_pixels(png.read_bytes())
    assert (width, height) == (1280, 1600)
    assert len(set(pixels)) > 40  # text, lines and colours, not a blank page
    dom = subprocess.run(
        [*flags, "--dump-dom", html.as_uri()],
        capture_output=True,
        timeout=180,
        check=False,
        text=True,
    ).stdout
    assert "<svg" in dom and "</svg>" in dom
    assert ("<polyline" in dom) if kind == "history" else ("<path d=" in dom)
    assert "<script" not in dom
