"""What a run uses, resolved in one place: settings, policy, rule pack, model paths, evidence.

Every command asks this module, for a working tree (``check``) or for a git revision (``review``,
``history``, ``report``, the GitHub side), instead of reading ``.threatdelta.yml``, a rule pack
or the policy on its own. Command-line flags and action inputs arrive as :class:`Overrides` and win
over the settings; everything else comes from the place the run looks at.

For a review, the gate's settings are those of the *base* revision (see
:func:`threatdelta.review.revisions.review_revisions`): a change cannot loosen the gate that
judges it. :func:`settings_changes` says what the change would change once merged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from threatdelta.config import CONFIG_FILE, Config, parse_config
from threatdelta.errors import InputError, Location
from threatdelta.files import (
    exists_in_repo,
    normalise_pattern,
    read_file,
    read_repo_file,
    repo_path,
)
from threatdelta.formats.packs import load_rules
from threatdelta.git import Repo, find_repo
from threatdelta.model.model import Model
from threatdelta.policy import Policy, parse_policy
from threatdelta.register import EvidenceCheck
from threatdelta.revision import evidence_at
from threatdelta.rules.pack import RulePack


@dataclass(frozen=True)
class Source:
    """A file's bytes together with the name it is reported under."""

    data: bytes
    """The file's content."""
    name: str
    """Its path as the user gave it (errors are located there)."""


@dataclass(frozen=True)
class Overrides:
    """What the command line or the action's inputs say; each set field wins over the settings."""

    config: Source | None = None
    """A settings file to use instead of ``.threatdelta.yml`` (``--config``, input ``config``)."""
    fail_on: str | None = None
    """Fail-on conditions, comma-separated (``--fail-on``, input ``fail-on``)."""
    fail_on_where: str = "--fail-on"
    """How errors in ``fail_on`` name its origin."""
    rules: Source | None = None
    """A rule pack to use instead of the settings' (``--rules``, input ``rules``)."""
    models: tuple[str, ...] = ()
    """Model paths or patterns instead of the settings' ``models``."""


NO_OVERRIDES = Overrides()
"""Nothing overridden: everything comes from the settings."""


@dataclass(frozen=True)
class RunContext:
    """Everything a run reads besides the models themselves, for one place."""

    where: str
    """The full SHA of the revision, or ``working tree``."""
    config: Config
    """The settings in force."""
    config_source: Source | None
    """The settings file they were read from (None: no file, defaults)."""
    policy: Policy
    """The gate."""
    pack: RulePack | None
    """The rule pack (None: each model's default pack)."""
    pack_source: Source | None
    """The rule-pack file it was read from."""
    models: tuple[str, ...]
    """Model paths or patterns."""
    evidence: Callable[[str, Model | None], EvidenceCheck]
    """For a model (its path, and its content: a revision looks up only the evidence the model
    names, so it needs it), whether an evidence path exists in this place."""


def _policy(config: Config, overrides: Overrides) -> Policy:
    if overrides.fail_on:
        return parse_policy([overrides.fail_on], where=overrides.fail_on_where)
    return parse_policy(list(config.policy))


def _one_pack(rules: tuple[str, ...]) -> str | None:
    if not rules:
        return None
    if len(rules) > 1:
        raise InputError(
            "only one rule pack can be used at a time "
            "(use 'extends: builtin' to add to the built-in pack)"
        )
    return rules[0]


def _models(overrides: Overrides, config: Config) -> tuple[str, ...]:
    return tuple(normalise_pattern(p) for p in overrides.models) or config.models


def _pack(source: Source | None) -> RulePack | None:
    return load_rules(source.data, source.name) if source is not None else None


def context_at(
    repo: Repo,
    rev: str,
    overrides: Overrides = NO_OVERRIDES,
    *,
    settings: tuple[bytes | None] | None = None,
) -> RunContext:
    """What a run at git revision ``rev`` uses: its ``.threatdelta.yml``, its rule pack (both from
    git objects, never the working tree), its files as evidence; ``overrides`` win.
    ``settings``: the settings file at ``rev`` (its bytes, or None: there is none), when the
    caller has read it already."""
    sha = repo.resolve(rev)
    config_source = overrides.config
    if config_source is None:
        (data,) = settings if settings is not None else (repo.read(sha, CONFIG_FILE),)
        config_source = Source(data, CONFIG_FILE) if data is not None else None
    config = parse_config(config_source.data, config_source.name) if config_source else Config()
    pack_source = overrides.rules
    if pack_source is None:
        name = _one_pack(config.rules)
        if name is not None:
            data = repo.read(sha, repo_path(name, "rule pack path"))
            if data is None:
                raise InputError(
                    f"the rule pack '{name}' named in the settings does not exist at {sha[:12]}",
                    Location(config_source.name) if config_source else None,
                )
            pack_source = Source(data, name)

    def evidence(model_path: str, model: Model | None) -> EvidenceCheck:
        if model is None:
            raise ValueError("evidence at a revision is looked up for a model's own evidence")
        return evidence_at(repo, sha, model_path, model)

    return RunContext(
        where=sha,
        config=config,
        config_source=config_source,
        policy=_policy(config, overrides),
        pack=_pack(pack_source),
        pack_source=pack_source,
        models=_models(overrides, config),
        evidence=evidence,
    )


def gate_context(
    repo: Repo,
    base: str,
    overrides: Overrides = NO_OVERRIDES,
    *,
    settings: tuple[bytes | None] | None = None,
) -> tuple[RunContext, tuple[str, ...]]:
    """The context that judges a change: the base's, with ``overrides``; when the base's settings
    cannot be read, the defaults (with a warning saying so), never the change's own.
    ``settings``: as for :func:`context_at`."""
    try:
        return context_at(repo, base, overrides, settings=settings), ()
    except InputError as error:
        warning = (
            f"the settings at the base revision could not be read ({error}); "
            "the gate uses the defaults"
        )
        return defaults_at(repo, base, overrides), (warning,)


def review_contexts(
    repo: Repo, base: str, head: str, overrides: Overrides = NO_OVERRIDES
) -> tuple[RunContext, tuple[str, ...], RunContext]:
    """:func:`gate_context` at ``base`` and :func:`context_at` at ``head``, the two settings files
    looked up together (one git process when neither revision has one, two when one has). When
    that lookup fails, each context reads its own, so what it reports is word for word the
    same."""
    base_settings: tuple[bytes | None] | None = None
    head_settings: tuple[bytes | None] | None = None
    if overrides.config is None:
        base_sha, head_sha = repo.resolve(base), repo.resolve(head)
        try:
            base_data, head_data = repo.read_many(
                [(base_sha, CONFIG_FILE), (head_sha, CONFIG_FILE)]
            )
        except InputError:  # a settings file too large to read (or git failing): one at a time
            pass
        else:
            base_settings, head_settings = (base_data,), (head_data,)
    gate, notes = gate_context(repo, base, overrides, settings=base_settings)
    return gate, notes, context_at(repo, head, overrides, settings=head_settings)


def defaults_at(repo: Repo, rev: str, overrides: Overrides = NO_OVERRIDES) -> RunContext:
    """Like :func:`context_at`, ignoring the settings file and rule pack stored at ``rev`` (for a
    base whose settings cannot be read: the defaults are the safe side)."""
    sha = repo.resolve(rev)
    config = (
        parse_config(overrides.config.data, overrides.config.name) if overrides.config else Config()
    )

    def evidence(model_path: str, model: Model | None) -> EvidenceCheck:
        if model is None:
            raise ValueError("evidence at a revision is looked up for a model's own evidence")
        return evidence_at(repo, sha, model_path, model)

    return RunContext(
        where=sha,
        config=config,
        config_source=overrides.config,
        policy=_policy(config, overrides),
        pack=_pack(overrides.rules),
        pack_source=overrides.rules,
        models=_models(overrides, config),
        evidence=evidence,
    )


def tree_evidence(model_path: Path) -> EvidenceCheck:
    """Evidence paths on disk, looked up inside the repository, from its root, then from the
    model's folder; a path that leaves the repository (absolute, ``..``, a symbolic link) is
    missing. The repository is found (a git process) when the first path is looked up: a model
    that names no evidence starts none."""
    folder = model_path.resolve().parent
    found: list[tuple[Path, str]] = []

    def exists(relative: str) -> bool:
        if not found:
            repo = find_repo(folder)
            root = repo.root.resolve() if repo is not None else folder
            found.append(
                (root, folder.relative_to(root).as_posix() if folder.is_relative_to(root) else ".")
            )
        root, inner = found[0]
        return exists_in_repo(root, relative) or exists_in_repo(root, f"{inner}/{relative}")

    return exists


def context_in_tree(root: Path, overrides: Overrides = NO_OVERRIDES) -> RunContext:
    """What a run on the working tree under ``root`` uses: ``root/.threatdelta.yml``, the rule pack
    it names (relative to ``root``), files on disk as evidence; ``overrides`` win."""
    config_source = overrides.config
    if config_source is None and os.path.lexists(root / CONFIG_FILE):
        config_source = Source(read_repo_file(root, CONFIG_FILE, "settings file"), CONFIG_FILE)
    config = parse_config(config_source.data, config_source.name) if config_source else Config()
    pack_source = overrides.rules
    if pack_source is None:
        name = _one_pack(config.rules)
        if name is not None:
            pack_source = Source(read_repo_file(root, name, "rule pack"), name)

    def evidence(model_path: str, model: Model | None) -> EvidenceCheck:
        return tree_evidence(Path(model_path))

    return RunContext(
        where="working tree",
        config=config,
        config_source=config_source,
        policy=_policy(config, overrides),
        pack=_pack(pack_source),
        pack_source=pack_source,
        models=_models(overrides, config),
        evidence=evidence,
    )


def file_source(
    path: str, repo: Repo | None = None, rev: str | None = None, what: str = "file"
) -> Source:
    """A file named by a flag or an input (``what``: ``settings file``, ``rule pack``). With
    ``repo`` and ``rev``, a repository path that exists at ``rev`` is read from git (so a change
    cannot rewrite what judges it); anything else is read from disk (relative to the repository
    root when there is one)."""
    if repo is not None and rev is not None:
        try:
            clean = repo_path(path, f"{what} path")
        except InputError:
            clean = ""
        if clean:
            data = repo.read(repo.resolve(rev), clean)
            if data is not None:
                return Source(data, path)
    target = Path(path)
    if repo is not None and not target.is_absolute():
        target = repo.root / target
    return Source(read_file(target, what), path)


@dataclass(frozen=True)
class SettingsChange:
    """A gate setting the change edits; it takes effect once the change is merged."""

    setting: str
    """``settings`` (the file as a whole), ``models``, ``rules``, ``policy``, or ``rule pack``."""
    before: str
    """The value at the base, in words."""
    after: str
    """The value at the head, in words."""
    message: str
    """Plain words."""


def _digest(source: Source | None) -> str:
    return hashlib.sha256(source.data).hexdigest() if source is not None else ""


def _words(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else "(none)"


def _change_words(setting: str, old: tuple[str, ...], new: tuple[str, ...]) -> str:
    """``'policy' adds approvers:app-developer``: for lists, what was added and removed (a long
    policy read in full hides the one condition that changed); else both values."""
    if setting == "policy":
        old = tuple(old[0].split(",")) if old and old[0] != "none" else ()
        new = tuple(new[0].split(",")) if new and new[0] != "none" else ()
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    if not added and not removed:
        return f"'{setting}' goes from {_words(old)} to {_words(new)}"
    parts = []
    if added:
        parts.append(f"adds {', '.join(added)}")
    if removed:
        parts.append(f"removes {', '.join(removed)}")
    return f"'{setting}' " + " and ".join(parts)


def settings_changes(base: RunContext, head: RunContext) -> tuple[SettingsChange, ...]:
    """What the head would change in the gate's settings (nothing the overrides fix)."""
    changes: list[SettingsChange] = []
    if base.config_source is None and head.config_source is not None:
        changes.append(
            SettingsChange(
                "settings",
                "(no settings file)",
                head.config_source.name,
                f"the change adds {head.config_source.name}",
            )
        )
    elif base.config_source is not None and head.config_source is None:
        changes.append(
            SettingsChange(
                "settings",
                base.config_source.name,
                "(no settings file)",
                f"the change deletes {base.config_source.name}",
            )
        )
    for setting, old, new in (
        ("models", base.models, head.models),
        ("rules", base.config.rules, head.config.rules),
        ("policy", (base.policy.describe(),), (head.policy.describe(),)),
    ):
        if old != new:
            changes.append(
                SettingsChange(setting, _words(old), _words(new), _change_words(setting, old, new))
            )
    if (
        base.config.rules == head.config.rules
        and base.pack_source is not None
        and _digest(base.pack_source) != _digest(head.pack_source)
    ):
        name = base.pack_source.name
        changes.append(
            SettingsChange(
                "rule pack",
                f"{name} at the base",
                f"{name} as edited",
                f"the rule pack {name} is edited",
            )
        )
    return tuple(changes)
