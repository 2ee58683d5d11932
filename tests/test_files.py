"""Reading files: inside the repository when a file names them, regular files only, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from threatdelta.cli import main
from threatdelta.errors import InputError
from threatdelta.files import exists_in_repo, read_file, read_repo_file, repo_path
from threatdelta.limits import MAX_FILE_BYTES

SECRET = "root:$6$very-secret-hash:19000:0:99999:7:::"


@pytest.mark.parametrize(
    ("name", "clean"),
    [("./a//b.yaml", "a/b.yaml"), ("a/./b/../c", "a/c"), ("threatmodel.yaml", "threatmodel.yaml")],
)
def test_repository_paths_are_normalised(name: str, clean: str) -> None:
    assert repo_path(name) == clean


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/shadow", "is absolute"),
        ("C:/x", "is absolute"),
        ("../outside.yaml", "leads out of the repository"),
        ("a/../../outside.yaml", "leads out of the repository"),
        ("a\\b", "'\\'"),
        ("a\nb", "control characters"),
        ("", "is empty"),
        (".", "names the repository itself"),
    ],
)
def test_paths_that_leave_the_repository_are_refused(name: str, why: str) -> None:
    with pytest.raises(InputError, match="rule pack path") as info:
        repo_path(name, "rule pack path")
    assert why in info.value.message


def _outside_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "shadow"
    secret.parent.mkdir()
    secret.write_text(SECRET + "\n")
    return secret


def test_a_symlink_leading_out_of_the_repository_is_refused_and_never_read(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pack.yaml").symlink_to(_outside_secret(tmp_path))
    (repo / "inner.yaml").write_text("rules: []\n")
    (repo / "alias.yaml").symlink_to("inner.yaml")
    with pytest.raises(InputError, match="leads out of the repository") as info:
        read_repo_file(repo, "pack.yaml", "rule pack")
    assert SECRET not in str(info.value)
    assert read_repo_file(repo, "alias.yaml", "rule pack") == b"rules: []\n"
    assert not exists_in_repo(repo, "pack.yaml")
    assert exists_in_repo(repo, "alias.yaml") and exists_in_repo(repo, "./inner.yaml")
    assert not exists_in_repo(repo, "../outside/shadow")
    assert not exists_in_repo(repo, str(tmp_path / "outside" / "shadow"))


def test_devices_fifos_and_folders_are_refused_without_reading(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file \\(a device\\)"):
        read_file(Path("/dev/zero"), "model file")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="a named pipe"):  # and does not wait for a writer
        read_file(fifo, "rule pack")
    with pytest.raises(InputError, match="is a folder, not a settings file"):
        read_file(tmp_path, "settings file")
    (tmp_path / "repo").mkdir()
    os.mkfifo(tmp_path / "repo" / "pipe.yaml")
    with pytest.raises(InputError, match="a named pipe"):
        read_repo_file(tmp_path / "repo", "pipe.yaml", "rule pack")


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(InputError, match="16 MiB"):
        read_file(big, "model file")


# --- at the command line ------------------------------------------------------------------------


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()  # enough for the settings and models to be looked up here
    (repo / "threatmodel.yaml").write_text(
        "version: 1\nsystem: S\nelements:\n  - {id: p, type: process, kind: generic}\n"
    )
    return repo


@pytest.mark.parametrize("rules", ["{secret}", "../outside/shadow", "linked.yaml"])
def test_settings_naming_a_rule_pack_outside_the_repository_are_refused(
    capsys, tmp_path: Path, monkeypatch, rules: str
) -> None:
    secret = _outside_secret(tmp_path)
    repo = _repo(tmp_path)
    (repo / "linked.yaml").symlink_to(secret)
    (repo / ".threatdelta.yml").write_text(f"rules: [{rules.format(secret=secret)}]\n")
    monkeypatch.chdir(repo)
    code = main(["check", "--fail-on", "none"])
    err = capsys.readouterr().err
    assert code == 2
    assert "root:" not in err and "very-secret" not in err
    if rules == "linked.yaml":
        assert "leads out of the repository" in err
    else:
        assert err.startswith(".threatdelta.yml:1:9: the rule pack path")


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "/dev/zero"],
        ["check", "--config", "/dev/zero"],
        ["check", "--rules", "/dev/zero"],
    ],
)
def test_devices_named_on_the_command_line_are_refused(
    capsys, tmp_path: Path, monkeypatch, argv
) -> None:
    monkeypatch.chdir(_repo(tmp_path))
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("/dev/zero: is not a regular file (a device)")


def test_settings_rules_as_a_device_are_refused(capsys, tmp_path: Path, monkeypatch) -> None:
    repo = _repo(tmp_path)
    (repo / "zero.yaml").symlink_to("/dev/zero")
    (repo / ".threatdelta.yml").write_text("rules: [/dev/zero]\n")
    monkeypatch.chdir(repo)
    assert main(["check"]) == 2
    assert "is absolute" in capsys.readouterr().err
    (repo / ".threatdelta.yml").write_text("rules: [zero.yaml]\n")
    assert main(["check"]) == 2
    assert "leads out of the repository" in capsys.readouterr().err
