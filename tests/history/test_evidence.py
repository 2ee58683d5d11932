"""Evidence look-ups at a revision."""

from __future__ import annotations

from tests.history.gitrepo import GitRepo

from threatdelta.git import Repo
from threatdelta.history.evidence import (
    EvidenceQuery,
    evidence_exists_at,
    evidence_path,
    evidence_status,
)


def test_evidence_path_tells_paths_from_report_ids() -> None:
    assert evidence_path("tests/test_tls.py") == "tests/test_tls.py"
    assert evidence_path("docs/pentest.pdf#F-4") == "docs/pentest.pdf"
    assert evidence_path("PT-2026-03#F-2") is None
    assert evidence_path("/tests/x.py") == "tests/x.py"


def test_lookups_from_root_then_model_folder_and_folders_count(git_repo: GitRepo) -> None:
    git_repo.write("models/proof/a.md", "a\n")
    git_repo.write("tests/test_b.py", "b\n")
    git_repo.commit("files", "2025-01-01")
    first = git_repo.git("rev-parse", "HEAD")
    git_repo.remove("tests/test_b.py")
    second = git_repo.commit("gone", "2025-01-02")
    repo = Repo(git_repo.root)
    items = ("proof/a.md", "tests/test_b.py", "tests/", "PT-1#F-1", "nope/c.md")
    at_first, at_second = evidence_status(
        repo,
        [
            EvidenceQuery(first, "models/m.yaml", items),
            EvidenceQuery(second, "models/m.yaml", items),
        ],
    )
    assert at_first == {
        "proof/a.md": True,
        "tests/test_b.py": True,
        "tests": True,
        "nope/c.md": False,
    }
    assert at_second["tests/test_b.py"] is False and at_second["tests"] is False
    check = evidence_exists_at(repo, first, "models/m.yaml", items)
    assert check("proof/a.md") and not check("nope/c.md") and not check("never/asked.md")
