"""Walking git: model revisions, renames, iteration markers."""

from __future__ import annotations

from tests.history.gitrepo import GitRepo, pump

from threatdelta.git import Repo
from threatdelta.history.gitlog import (
    first_parent_chain,
    git_dir,
    iteration_markers,
    model_revisions,
    object_ids,
)


def test_walk_follows_renames_and_lists_oldest_first(scripted: GitRepo) -> None:
    repo = Repo(scripted.root)
    revisions = model_revisions(repo, "models/pump.yaml", repo.resolve("HEAD"))
    assert [r.commit.subject for r in revisions] == [
        "First model",
        "Mitigate clinician spoofing with login",
        "Accept controller tampering",
        "Move the model into models/",
        "Dose store, status flow, TLS",
        "Retire the login control",
        "Add the administrator",
        "Login back, acceptance renewed, TLS tests",
    ]
    assert revisions[2].blob == revisions[3].blob  # a pure rename keeps the blob
    assert revisions[2].path == "model.yaml" and revisions[3].path == "models/pump.yaml"
    assert all(r.size > 0 for r in revisions)


def test_walk_stops_where_the_file_was_created_after_a_deletion(git_repo: GitRepo) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("first life", "2025-01-01")
    git_repo.remove("threatmodel.yaml")
    git_repo.commit("deleted", "2025-01-02")
    git_repo.write_model("threatmodel.yaml", pump(admin=True))
    git_repo.commit("second life", "2025-01-03")
    repo = Repo(git_repo.root)
    revisions = model_revisions(repo, "threatmodel.yaml", repo.resolve("HEAD"))
    assert [r.commit.subject for r in revisions] == ["second life"]


def test_tag_on_a_merged_branch_ends_the_iteration_at_the_merge(git_repo: GitRepo) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("base", "2025-01-01")
    git_repo.git("checkout", "-q", "-b", "release")
    git_repo.write_model("threatmodel.yaml", pump(admin=True))
    git_repo.commit("release work", "2025-01-02")
    git_repo.tag("v1.0")
    git_repo.git("checkout", "-q", "main")
    git_repo.write("other.txt", "x\n")
    git_repo.commit("unrelated", "2025-01-03")
    git_repo.git(
        "merge", "-q", "--no-ff", "release", "-m", "Merge release", date="2025-01-04T12:00:00+00:00"
    )
    git_repo.tag("other-tag")
    repo = Repo(git_repo.root)
    head = repo.resolve("HEAD")
    chain = first_parent_chain(repo, head)
    assert [c.subject for c in chain] == ["base", "unrelated", "Merge release"]
    markers, source = iteration_markers(repo, head, "v*", chain)
    assert source == "tags"
    assert [(m.name, m.commit.subject) for m in markers] == [("v1.0", "Merge release")]
    markers, source = iteration_markers(repo, head, "nothing-*", chain)
    assert source == "merges"
    assert [m.commit.subject for m in markers] == ["Merge release"]


def test_several_tags_on_one_commit_make_one_marker(git_repo: GitRepo) -> None:
    git_repo.write_model("threatmodel.yaml", pump())
    git_repo.commit("base", "2025-01-01")
    git_repo.tag("v1.0")
    git_repo.git("tag", "v1.0-final")  # a lightweight tag counts too
    repo = Repo(git_repo.root)
    head = repo.resolve("HEAD")
    markers, _ = iteration_markers(repo, head, "v*", first_parent_chain(repo, head))
    assert [m.name for m in markers] == ["v1.0, v1.0-final"]


def test_object_ids_in_one_call(scripted: GitRepo) -> None:
    repo = Repo(scripted.root)
    found = object_ids(repo, ["HEAD:models/pump.yaml", "HEAD:models", "HEAD:nope.txt"])
    assert found[0] is not None and found[0].type == "blob" and found[0].size > 0
    assert found[1] is not None and found[1].type == "tree"
    assert found[2] is None


def test_git_dir_is_absolute(scripted: GitRepo) -> None:
    path = git_dir(Repo(scripted.root))
    assert path.is_absolute() and (path / "HEAD").is_file()
