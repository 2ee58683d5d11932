from tests.review.conftest import GitRepo

from threatdelta.git import Repo, glob_match


def test_glob_match() -> None:
    assert glob_match("threatmodel.yaml", "threatmodel.yaml")
    assert glob_match("models/pump.tm7", "models/*.tm7")
    assert glob_match("a/b/c.yaml", "**/*.yaml")
    assert glob_match("c.yaml", "**/*.yaml")
    assert not glob_match("models/pump.tm7", "*.yaml")


def test_reads_blobs_from_revisions_not_the_work_tree(tmp_path) -> None:
    scratch = GitRepo(tmp_path / "r")
    scratch.write("a.txt", "one\n")
    first = scratch.commit()
    scratch.write("a.txt", "two\n")
    scratch.write("b.txt", "bee\n")
    second = scratch.commit()
    scratch.write("a.txt", "uncommitted\n")
    repo = Repo(scratch.root)
    assert repo.read(first, "a.txt") == b"one\n"
    assert repo.read(first, "b.txt") is None
    assert repo.read_many(
        [(first, "a.txt"), (second, "a.txt"), (first, "b.txt"), (second, "b.txt")]
    ) == [
        b"one\n",
        b"two\n",
        None,
        b"bee\n",
    ]
    assert repo.files(second) == ("a.txt", "b.txt")
    assert repo.exists(second, "b.txt") and not repo.exists(first, "b.txt")


def test_renames_are_followed(tmp_path) -> None:
    scratch = GitRepo(tmp_path / "r")
    scratch.write("old/model.yaml", "version: 1\nsystem: x\nelements: []\n" * 5)
    first = scratch.commit()
    scratch.git("mv", "old", "new")
    second = scratch.commit()
    assert Repo(scratch.root).renamed_from(first, second, "new/model.yaml") == "old/model.yaml"


def test_oversized_blobs_are_refused(tmp_path, monkeypatch) -> None:
    import pytest

    from threatdelta import git
    from threatdelta.errors import InputError

    scratch = GitRepo(tmp_path / "r")
    scratch.write("big.yaml", "x" * 2000)
    sha = scratch.commit()
    monkeypatch.setattr(git, "MAX_BLOB_BYTES", 1000)
    repo = Repo(scratch.root)
    with pytest.raises(InputError, match=r"big\.yaml .* 2000 bytes"):
        repo.read_many([(sha, "missing.yaml"), (sha, "big.yaml")])
    with pytest.raises(InputError, match="2000 bytes"):
        repo.read(sha, "big.yaml")


def _counting(repo: Repo, monkeypatch) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []
    run = Repo.run

    def counted(self: Repo, *args: str, **kwargs: object) -> bytes:
        calls.append(args)
        return run(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Repo, "run", counted)
    return calls


def test_revisions_are_resolved_together_and_once(tmp_path, monkeypatch) -> None:
    import pytest

    from threatdelta.git import GitError

    scratch = GitRepo(tmp_path / "r")
    scratch.write("a.txt", "one\n")
    first = scratch.commit()
    scratch.git("tag", "-a", "v1", "-m", "release")  # an annotated tag names its commit
    scratch.write("b.txt", "bee\n")
    second = scratch.commit()
    repo = Repo(scratch.root)
    calls = _counting(repo, monkeypatch)
    assert repo.resolve_all("v1", "HEAD", "HEAD~1") == (first, second, first)
    assert len(calls) == 1
    assert repo.resolve(first) == first and repo.resolve(second) == second
    assert repo.files(second) == repo.files(second) == ("a.txt", "b.txt")
    assert len(calls) == 2  # the tree of a known commit is listed once
    # One that is not a commit: the same error as resolving it alone.
    for bad in ("nope", "HEAD:a.txt", "-x", "HEAD\nHEAD"):
        with pytest.raises(GitError) as alone:
            Repo(scratch.root).resolve(bad)
        with pytest.raises(GitError) as together:
            Repo(scratch.root).resolve_all("HEAD", bad)
        assert together.value.message == alone.value.message
