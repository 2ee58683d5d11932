"""Repository settings from ``.threatdelta.yml`` at the repository root.

Example::

    models: [threatmodel.yaml, "models/*.tm7"]   # paths or glob patterns
    rules: [security/pack.yaml]                  # rule packs; default: built-in (or a .tm7's own)
    policy:                                      # fail-on conditions, see threatdelta.policy
      - unaddressed
      - regressions
      - unverified
      - max-accepted-severity: high
      - approvers: [security-lead, quality-manager]
    comment:
      name: default                              # sticky-comment identity
      mode: update                               # update | new | hide-and-new | delete-and-new | off
    history:
      iterations: "v*"                           # tags that mark iterations

Every key is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from threatdelta.diagnostics import Diagnostics
from threatdelta.errors import InputError
from threatdelta.files import repo_path
from threatdelta.yaml_loader import YamlDocument, load_yaml

CONFIG_FILE = ".threatdelta.yml"
"""Where the settings live, relative to the repository root."""
DEFAULT_MODELS = ("threatmodel.yaml",)
"""Model paths used when neither the command line nor the settings name any."""
DEFAULT_POLICY = ("unaddressed", "regressions", "reconfirm")
"""The gate when nothing else is said."""
COMMENT_MODES = ("update", "new", "hide-and-new", "delete-and-new", "off")

_KEYS = {"models", "rules", "policy", "comment", "history"}
_COMMENT_KEYS = {"name", "mode"}
_HISTORY_KEYS = {"iterations"}


@dataclass(frozen=True)
class Config:
    """Parsed repository settings."""

    models: tuple[str, ...] = DEFAULT_MODELS
    """Model paths or glob patterns, relative to the repository root."""
    rules: tuple[str, ...] = ()
    """Rule-pack paths; empty means the default pack."""
    policy: tuple[str, ...] = DEFAULT_POLICY
    """Fail-on conditions."""
    comment_name: str = "default"
    """Sticky-comment identity."""
    comment_mode: str = "update"
    """How the pull-request comment is written."""
    iterations: str = "v*"
    """Tag pattern marking iterations."""


def _strings(doc: YamlDocument, value: Any, key: str, errors: Diagnostics) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.add(InputError(f"'{key}' must be a list of non-empty strings", doc.location([key])))
        return ()
    return tuple(v.strip() for v in value)


def _inside(
    doc: YamlDocument,
    names: tuple[str, ...],
    key: str,
    what: str,
    errors: Diagnostics,
) -> tuple[str, ...]:
    """``names`` as repository paths; one that leaves the repository is an error at its line."""
    clean: list[str] = []
    for index, name in enumerate(names):
        try:
            inside = repo_path(name, what)
        except InputError as error:
            where = doc.location([key, index] if isinstance(doc.data.get(key), list) else [key])
            errors.add(InputError(error.message, where))
            continue
        clean.append(inside)
    return tuple(clean)


_POLICY_OPTIONS = ("max-accepted-severity", "approvers")


def _policy(doc: YamlDocument, value: Any, errors: Diagnostics) -> tuple[str, ...]:
    """Policy conditions as strings; an item may also be a one-key mapping
    (``max-accepted-severity: high``, ``approvers: [a, b]``)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        errors.add(InputError("'policy' must be a list of conditions", doc.location(["policy"])))
        return ()
    result: list[str] = []
    for index, item in enumerate(value):
        where = doc.location(["policy", index])
        if isinstance(item, str) and item.strip():
            result.append(item.strip())
            continue
        if not isinstance(item, dict) or len(item) != 1:
            errors.add(
                InputError(
                    "a policy item is a condition (unaddressed, regressions, ...) or one of "
                    f"{', '.join(k + ': ...' for k in _POLICY_OPTIONS)}",
                    where,
                )
            )
            continue
        ((key, option),) = item.items()
        if key not in _POLICY_OPTIONS:
            errors.add(
                InputError(
                    f"unknown policy option '{key}'; expected {' or '.join(_POLICY_OPTIONS)}",
                    doc.key_location(["policy", index, key]),
                )
            )
            continue
        names = [option] if isinstance(option, str) else option
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n.strip() and "," not in n for n in names)
            or (key == "max-accepted-severity" and len(names) != 1)
        ):
            errors.add(
                InputError(
                    "max-accepted-severity takes one severity (low, medium, high, critical)"
                    if key == "max-accepted-severity"
                    else "approvers takes a list of names (without commas)",
                    doc.location(["policy", index, key]),
                )
            )
            continue
        result += [f"{key}:{n.strip()}" for n in names]
    return tuple(result)


def parse_config(data: bytes | str, path: str = CONFIG_FILE) -> Config:
    """Parse the settings file; errors name the line and column. An empty file means defaults."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if not "".join(line for line in text.splitlines() if not line.lstrip().startswith("#")).strip():
        return Config()
    doc = load_yaml(data, path)
    root = doc.data
    if root is None:
        return Config()
    if not isinstance(root, dict):
        raise InputError("the settings file must be a mapping of keys to values", doc.location([]))
    errors = Diagnostics(path)
    for key in sorted(set(root) - _KEYS):
        errors.add(
            InputError(
                f"unknown key '{key}'; expected one of {', '.join(sorted(_KEYS))}",
                doc.key_location([key]),
            )
        )
    models = _strings(doc, root["models"], "models", errors) if "models" in root else DEFAULT_MODELS
    models = _inside(doc, models, "models", "model path", errors)
    rules = _strings(doc, root["rules"], "rules", errors) if "rules" in root else ()
    rules = _inside(doc, rules, "rules", "rule pack path", errors)
    policy = _policy(doc, root["policy"], errors) if "policy" in root else DEFAULT_POLICY
    comment = root.get("comment") or {}
    name, mode = "default", "update"
    if not isinstance(comment, dict):
        errors.add(InputError("'comment' must be a mapping", doc.location(["comment"])))
    else:
        for key in sorted(set(comment) - _COMMENT_KEYS):
            errors.add(
                InputError(f"unknown key 'comment.{key}'", doc.key_location(["comment", key]))
            )
        name = str(comment.get("name", "default"))
        mode = str(comment.get("mode", "update"))
        if mode not in COMMENT_MODES:
            errors.add(
                InputError(
                    f"comment.mode '{mode}' is not one of {', '.join(COMMENT_MODES)}",
                    doc.location(["comment", "mode"]),
                )
            )
    history = root.get("history") or {}
    iterations = "v*"
    if not isinstance(history, dict):
        errors.add(InputError("'history' must be a mapping", doc.location(["history"])))
    else:
        for key in sorted(set(history) - _HISTORY_KEYS):
            errors.add(
                InputError(f"unknown key 'history.{key}'", doc.key_location(["history", key]))
            )
        iterations = str(history.get("iterations", "v*"))
    errors.check()
    from threatdelta.policy import parse_policy

    parse_policy(policy, where=f"{path}: policy")
    return Config(models, rules, policy, name, mode, iterations)
