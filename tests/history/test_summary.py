"""What the Action shows: the history summary and the one-line trend."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from tests.history.gitrepo import AUTH, SPOOF_USER, GitRepo, pump

from threatdelta.assess import assess_bytes
from threatdelta.git import Repo
from threatdelta.history.gitlog import git_dir
from threatdelta.history.summary import history_summary_markdown, trend_line
from threatdelta.register import Register
from threatdelta.rules.pack import RulePack


def test_summary_has_the_chart_and_the_latest_iteration(scripted: GitRepo, pack: RulePack) -> None:
    text = history_summary_markdown(
        Repo(scripted.root), "models/pump.yaml", pack=pack, use_cache=False
    )
    assert text.startswith("### Threat model history: Scripted pump")
    assert "1 of 4 threats open at revision 8" in text
    assert "xychart-beta" in text
    assert "#### Iteration after v2.0" in text
    assert "#### Iteration v2.0" not in text
    assert "Clinician login (verified, relied on by 1 threat)" in text


def test_summary_uses_the_cache_in_the_git_folder(git_repo: GitRepo, pack: RulePack) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("one", "2025-01-01")
    repo = Repo(git_repo.root)
    history_summary_markdown(repo, "threatmodel.yaml", pack=pack)
    assert (git_dir(repo) / "threatdelta" / "history.sqlite").is_file()


def _register(pack: RulePack, **variant: Any) -> Register:
    text = yaml.safe_dump(pump(**variant)).encode()
    return assess_bytes(text, "threatmodel.yaml", pack, today=dt.date(2025, 1, 1)).register


def test_trend_line(pack: RulePack) -> None:
    base = _register(pack)
    head = _register(pack, admin=True, controls=[AUTH], threats={"spoof@user": SPOOF_USER})
    assert trend_line(base, head) == "Open threats: 3 at base → 3 at head (±0)."
    assert trend_line(head, _register(pack, admin=True)) == (
        "Open threats: 3 at base → 4 at head (+1)."
    )
    assert trend_line(None, base) == "Open threats: 0 at base → 3 at head (+3)."
    assert trend_line(base, None) == "Open threats: 3 at base → 0 at head (−3)."
