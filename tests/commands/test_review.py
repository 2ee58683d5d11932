"""``threatdelta review`` from the command line: where the threat index is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.history.gitrepo import GitRepo, pump

from threatdelta.cli import main


@pytest.fixture
def changed_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.write_model("threatmodel.yaml", pump())
    repo.commit("base", "2026-01-01")
    repo.git("tag", "base")
    repo.write_model("threatmodel.yaml", pump(admin=True, second_flow=True))
    repo.commit("head", "2026-01-02")
    return repo


def _review(capsys: pytest.CaptureFixture[str], repo: GitRepo, *extra: str) -> str:
    argv = ["review", "-C", str(repo.root), "--base", "base", "--head", "HEAD"]
    argv += ["--fail-on=none", "--today", "2026-06-01", "--format", "json", *extra]
    assert main(argv) == 0
    return capsys.readouterr().out


def test_no_cache_writes_nothing_and_reports_what_a_cached_review_reports(
    changed_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    cache_folder = changed_repo.root / ".git" / "threatdelta"
    uncached = _review(capsys, changed_repo, "--no-cache")
    assert not cache_folder.exists()
    first = _review(capsys, changed_repo)  # writes the base's threat index
    assert (cache_folder / "history.sqlite").is_file()
    again = _review(capsys, changed_repo)  # reads it
    assert uncached == first == again


def test_cache_file_is_where_the_flag_says(
    changed_repo: GitRepo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cache = tmp_path / "elsewhere" / "index.sqlite"
    _review(capsys, changed_repo, "--cache", str(cache))
    assert cache.is_file()
    assert not (changed_repo.root / ".git" / "threatdelta").exists()


def test_no_cache_builds_no_index(
    changed_repo: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index nothing keeps is not worth building (it costs a pass over every base threat).
    def refuse(*_: object) -> None:
        raise AssertionError("a threat index was built")

    monkeypatch.setattr("threatdelta.review.revisions.index_data", refuse)
    _review(capsys, changed_repo, "--no-cache")
    with pytest.raises(AssertionError, match="a threat index was built"):
        _review(capsys, changed_repo)
