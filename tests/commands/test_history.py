"""``threatdelta history`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.history.gitrepo import PACK, GitRepo, pump, scripted_history

from threatdelta.cli import main


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    return scripted_history(tmp_path_factory.mktemp("scripted") / "repo")


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_json_history_of_the_scripted_repository(
    scripted: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _json(
        capsys,
        "history",
        "models/pump.yaml",
        "-C",
        str(scripted.root),
        "--rules",
        str(PACK),
        "--format",
        "json",
        "--no-cache",
    )
    assert [r["threats"]["open"] for r in data["revisions"]] == [3, 2, 1, 1, 0, 1, 3, 1]
    assert [i["name"] for i in data["iterations"]] == ["v1.0", "v2.0", "after v2.0"]
    assert data["rules"] == "history test pack"


def test_since_iterations_and_today(scripted: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(
        capsys,
        "history",
        "models/pump.yaml",
        "-C",
        str(scripted.root),
        "--rules",
        str(PACK),
        "--format",
        "json",
        "--no-cache",
        "--since",
        "v1.0",
        "--iterations",
        "v2*",
        "--today",
        "2025-11-01",
    )
    assert [r["number"] for r in data["revisions"]] == [4, 5, 6, 7, 8]
    assert [i["name"] for i in data["iterations"]] == ["v2.0", "after v2.0"]
    assert data["iterations"][-1]["end_date"] == "2025-11-01"
    assert [n["key"] for n in data["iterations"][-1]["expiring"]] == ["tamper@ctrl"]


def test_path_is_relative_to_the_current_folder(
    scripted: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(scripted.root / "models")
    data = _json(
        capsys, "history", "pump.yaml", "--rules", str(PACK), "--format", "json", "--no-cache"
    )
    assert data["model"] == "models/pump.yaml"


def test_default_model_path_and_default_cache(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("one", "2025-01-01")
    assert main(["history", "-C", str(git_repo.root), "--rules", str(PACK)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("History of threatmodel.yaml (Scripted pump): 1 model revisions")
    assert (git_repo.root / ".git" / "threatdelta" / "history.sqlite").is_file()


def test_rule_pack_from_the_settings_at_the_newest_revision(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.write_model("models/a.yaml", pump())
    git_repo.write("rules/pack.yaml", PACK.read_text(encoding="utf-8"))
    git_repo.write(".threatdelta.yml", "models: ['models/*.yaml']\nrules: [rules/pack.yaml]\n")
    git_repo.commit("one", "2025-01-01")
    data = _json(capsys, "history", "-C", str(git_repo.root), "--format", "json", "--no-cache")
    assert data["model"] == "models/a.yaml" and data["rules"] == "history test pack"
    assert data["revisions"][0]["threats"]["total"] == 3


def test_several_matching_models_need_a_path(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.write_model("models/a.yaml", pump())
    git_repo.write_model("models/b.yaml", pump())
    git_repo.write(".threatdelta.yml", "models: ['models/*.yaml']\n")
    git_repo.commit("one", "2025-01-01")
    assert main(["history", "-C", str(git_repo.root)]) == 2
    err = capsys.readouterr().err
    assert "several model files match" in err and "models/a.yaml" in err


def test_a_decisions_file_is_never_taken_for_the_model_and_its_decisions_count(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    dragon = Path(__file__).parents[1] / "formats" / "fixtures" / "dragon" / "pump-v2.json"
    git_repo.write("models/pump.json", dragon.read_text(encoding="utf-8"))
    git_repo.write(".threatdelta.yml", "models: ['models/*']\n")
    git_repo.commit("Threat Dragon model", "2025-01-01")
    args = ("history", "-C", str(git_repo.root), "--format", "json", "--no-cache")
    first = _json(capsys, *args)
    key = sorted(first["threats"])[0]
    git_repo.write(
        "models/pump.json.threatdelta.yaml",
        f'threats:\n  "{key}":\n    status: not-applicable\n'
        "    justification: The pump has no network interface at all.\n",
    )
    git_repo.commit("Decide one threat", "2025-01-02")
    data = _json(capsys, *args)
    assert data["model"] == "models/pump.json"
    before, after = data["revisions"]
    assert after["threats"]["open"] == before["threats"]["open"] - 1
    assert after["threats"]["not_applicable"] == before["threats"]["not_applicable"] + 1


def test_cache_file_option_and_a_garbage_cache(
    scripted: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "history.sqlite"
    cache.write_bytes(b"this is not a database" * 50)
    args = [
        "history",
        "models/pump.yaml",
        "-C",
        str(scripted.root),
        "--rules",
        str(PACK),
        "--cache",
        str(cache),
        "--format",
        "csv",
    ]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "rebuilding it" in first.err
    assert main(args) == 0
    second = capsys.readouterr()
    assert second.err == "" and second.out == first.out


def test_no_cache_writes_nothing(git_repo: GitRepo) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("one", "2025-01-01")
    assert main(["history", "-C", str(git_repo.root), "--no-cache", "--rules", str(PACK)]) == 0
    assert not (git_repo.root / ".git" / "threatdelta").exists()


def test_output_file(scripted: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "history.html"
    assert (
        main(
            [
                "history",
                "models/pump.yaml",
                "-C",
                str(scripted.root),
                "--rules",
                str(PACK),
                "--no-cache",
                "--format",
                "html",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--until", "no-such-rev"], "unknown revision 'no-such-rev'"),
        (["--since", "HEAD~100"], "unknown revision"),
        (["--today", "yesterday"], "--today: 'yesterday' is not a date"),
    ],
)
def test_bad_invocations_exit_2_with_a_message(
    scripted: GitRepo, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["history", "models/pump.yaml", "-C", str(scripted.root), "--no-cache", *argv])
    assert code == 2
    assert message in capsys.readouterr().err


def test_cache_and_no_cache_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["history", "--cache", "x", "--no-cache"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_outside_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "-C", str(tmp_path)]) == 2
    assert "is not inside a git repository" in capsys.readouterr().err


def test_model_missing_at_the_revision(
    scripted: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "model.yaml", "-C", str(scripted.root), "--no-cache"]) == 2
    assert "'model.yaml' does not exist at HEAD" in capsys.readouterr().err


def test_evidence_leaving_the_repository_in_a_past_revision_flags_that_control_only(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    climbing = {"id": "auth", "name": "Login", "status": "verified", "evidence": ["../x/test.py"]}
    git_repo.write_model("threatmodel.yaml", pump(controls=[climbing]))
    git_repo.commit("evidence outside", "2025-01-01")
    fixed = {**climbing, "evidence": ["tests/test_auth.py"]}
    git_repo.write("tests/test_auth.py", "def test(): ...\n")
    git_repo.write_model("threatmodel.yaml", pump(controls=[fixed]))
    git_repo.commit("evidence inside", "2025-01-02")
    git_repo.write_model("threatmodel.yaml", pump(controls=[climbing], second_flow=True))
    git_repo.commit("outside again", "2025-01-03")
    root = str(git_repo.root)
    data = _json(capsys, "history", "-C", root, "--no-cache", "--format", "json")
    assert len(data["revisions"]) == 3
    (iteration,) = data["iterations"]
    (gap,) = iteration["controls_without_evidence"]
    assert "auth" in json.dumps(gap) and "../x/test.py" in json.dumps(gap), gap
    assert main(["report", "-C", root, "--format", "markdown"]) == 0, capsys.readouterr().err
    assert "../x/test.py" in capsys.readouterr().out
