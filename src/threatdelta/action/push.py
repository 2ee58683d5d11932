"""A push: every model's threat register at the pushed commit, read from git objects."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath

from threatdelta.assess import Assessment, assess
from threatdelta.errors import InputError, Location
from threatdelta.formats.registry import read_model
from threatdelta.git import Repo
from threatdelta.register import EvidenceCheck
from threatdelta.rules.loading import load_rules
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


def registers_at(
    repo: Repo,
    rev: str,
    patterns: tuple[str, ...],
    pack: RulePack | None,
    today: dt.date,
) -> list[Assessment]:
    """Assess every model matching ``patterns`` at ``rev``."""
    paths = repo.matching(rev, patterns)
    if not paths:
        raise InputError(
            f"no model file matches {', '.join(patterns)} at {rev[:12]}; "
            "name the models with the 'models' input or in .threatdelta.yml"
        )
    blobs = repo.read_many([(rev, path) for path in paths])
    results = []
    for path, data in zip(paths, blobs, strict=True):
        if data is None:
            raise InputError("could not be read from git", Location(path))
        parsed = read_model(data, path)
        results.append(
            assess(parsed, pack, today=today, evidence_exists=evidence_at(repo, rev, path))
        )
    return results
