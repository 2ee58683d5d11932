"""A push: every model's threat register at the pushed commit, read from git objects."""

from __future__ import annotations

import datetime as dt

from threatdelta.assess import Assessment, assess
from threatdelta.errors import InputError, Location
from threatdelta.formats.registry import read_model
from threatdelta.formats.sidecar import decisions_path, is_decisions_path
from threatdelta.git import Repo
from threatdelta.revision import evidence_at
from threatdelta.rules.pack import RulePack


def registers_at(
    repo: Repo,
    rev: str,
    patterns: tuple[str, ...],
    pack: RulePack | None,
    today: dt.date,
) -> list[Assessment]:
    """Assess every model matching ``patterns`` at ``rev``."""
    paths = tuple(p for p in repo.matching(rev, patterns) if not is_decisions_path(p))
    if not paths:
        raise InputError(
            f"no model file matches {', '.join(patterns)} at {rev[:12]}; "
            "name the models with the 'models' input or in .threatdelta.yml"
        )
    blobs = repo.read_many([(rev, path) for path in paths])
    sidecars = repo.read_many([(rev, decisions_path(path)) for path in paths])
    results = []
    for path, data, decisions in zip(paths, blobs, sidecars, strict=True):
        if data is None:
            raise InputError("could not be read from git", Location(path))
        parsed = read_model(data, path, decisions=decisions)
        results.append(
            assess(
                parsed,
                pack,
                today=today,
                evidence_exists=evidence_at(repo, rev, path, parsed.model),
            )
        )
    return results
