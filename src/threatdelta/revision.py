"""What one revision of the repository holds besides the model: evidence files, rule packs."""

from __future__ import annotations

from pathlib import PurePosixPath

from threatdelta.errors import InputError
from threatdelta.formats.packs import load_rules
from threatdelta.git import Repo
from threatdelta.register import EvidenceCheck
from threatdelta.rules.pack import RulePack


def evidence_at(repo: Repo, rev: str, model_path: str) -> EvidenceCheck:
    """Evidence paths exist when they name a file or folder at ``rev``, from the repository root
    or from the model's folder."""
    files = set(repo.files(rev))
    folders: set[str] = set()
    for path in files:
        parts = PurePosixPath(path).parts
        folders.update(str(PurePosixPath(*parts[:i])) for i in range(1, len(parts)))
    model_folder = PurePosixPath(model_path).parent

    def exists(relative: str) -> bool:
        relative = relative.strip("/")
        if not relative:
            return False
        candidates = (PurePosixPath(relative), model_folder / relative)
        return any(str(c) in files or str(c) in folders for c in candidates)

    return exists


def pack_at(repo: Repo, rev: str, rules: tuple[str, ...]) -> RulePack | None:
    """The settings' rule pack as it is at ``rev`` (None: each model's default pack)."""
    if not rules:
        return None
    if len(rules) > 1:
        raise InputError("only one rule pack can be used at a time")
    data = repo.read(rev, rules[0])
    if data is None:
        raise InputError(f"the rule pack '{rules[0]}' does not exist at {rev[:12]}")
    return load_rules(data, rules[0])
