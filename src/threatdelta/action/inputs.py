"""The action's inputs: each one a command-line flag, or an ``INPUT_*`` environment variable.

``action.yml`` passes every input to ``threatdelta github`` through ``env:`` under the names in
:data:`INPUTS`; a flag given on the command line wins over the variable. An empty variable counts
as not given (that is how the runner passes an input the workflow left out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from threatdelta.errors import InputError
from threatdelta.publish.interface import COMMENT_MODES, CommentMode


@dataclass(frozen=True)
class InputSpec:
    """One input of the action."""

    name: str
    """The input's name in ``action.yml`` (and the flag, with ``--`` in front)."""
    env: str
    """The environment variable ``action.yml`` puts it in."""
    help: str
    """What it does, for ``--help`` and the documentation."""


INPUTS: tuple[InputSpec, ...] = (
    InputSpec(
        "models",
        "INPUT_MODELS",
        "model files or glob patterns, separated by commas or new lines "
        "(default: 'models' from .threatdelta.yml, else threatmodel.yaml)",
    ),
    InputSpec(
        "config", "INPUT_CONFIG", "settings file (default: .threatdelta.yml in the repository)"
    ),
    InputSpec(
        "fail-on",
        "INPUT_FAIL_ON",
        "when the check fails: unaddressed, any-open, severity:LEVEL, regressions or none, "
        "comma-separated (default: the settings' policy, else unaddressed,regressions,reconfirm)",
    ),
    InputSpec(
        "comment-mode",
        "INPUT_COMMENT_MODE",
        "update, new, hide-and-new, delete-and-new or off (default: the settings', else update)",
    ),
    InputSpec(
        "rules",
        "INPUT_RULES",
        "a rule pack (.yaml) or TMT template (.tb7) from the checked-out files, instead of the "
        "settings' or the built-in pack",
    ),
    InputSpec(
        "check-run",
        "INPUT_CHECK_RUN",
        "also create a check run with every annotation: true or false (default false; needs "
        "'checks: write')",
    ),
    InputSpec(
        "comment-name",
        "INPUT_COMMENT_NAME",
        "the sticky comment's identity, so two workflows keep one comment each "
        "(default: the settings', else default)",
    ),
)
"""Every input ``threatdelta github`` reads (``github-token`` and ``python-version`` are handled
by ``action.yml`` and :mod:`threatdelta.action.event`)."""

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_SPLIT = re.compile(r"[,\n]")
MAX_COMMENT_NAME = 100


@dataclass(frozen=True)
class ActionInputs:
    """The inputs as given (None: not given, so the settings file or the default applies)."""

    models: tuple[str, ...]
    """Model paths or glob patterns (empty: from the settings)."""
    config: str | None
    """The settings file on disk."""
    fail_on: str | None
    """Fail-on conditions."""
    comment_mode: CommentMode | None
    """How the pull-request comment is written."""
    rules: str | None
    """A rule pack on disk."""
    check_run: bool
    """Whether to create a check run."""
    comment_name: str | None
    """The sticky comment's identity."""


def variable(spec: InputSpec, prefix: str | None = None) -> str:
    """The environment variable an input is read from: ``spec.env``, or with another prefix
    (``THREATDELTA_`` gives ``THREATDELTA_FAIL_ON`` for ``fail-on``)."""
    if prefix is None:
        return spec.env
    return prefix + spec.name.upper().replace("-", "_")


def _raw(
    name: str,
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    prefix: str | None,
) -> str | None:
    spec = next(s for s in INPUTS if s.name == name)
    value = flags.get(name)
    if value is None:
        value = environ.get(variable(spec, prefix))
    if value is None or not value.strip():
        return None
    return value.strip()


def parse_bool(value: str, name: str) -> bool:
    """An input's true/false value."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InputError(f"input '{name}': '{value[:60]}' is not true or false")


def parse_comment_mode(value: str) -> CommentMode:
    """A comment mode, checked."""
    for mode in COMMENT_MODES:
        if value == mode:
            return mode
    raise InputError(
        f"input 'comment-mode': '{value[:60]}' is not one of {', '.join(COMMENT_MODES)}"
    )


def split_list(value: str) -> tuple[str, ...]:
    """Items separated by commas or line breaks, blanks dropped."""
    return tuple(item.strip() for item in _SPLIT.split(value) if item.strip())


def resolve_inputs(
    flags: Mapping[str, str | None], environ: Mapping[str, str], prefix: str | None = None
) -> ActionInputs:
    """The inputs from command-line ``flags`` (by input name) and the environment (each input's
    ``env`` variable, or its name after ``prefix`` when one is given)."""

    def raw(name: str) -> str | None:
        return _raw(name, flags, environ, prefix)

    models = raw("models")
    mode = raw("comment-mode")
    check_run = raw("check-run")
    name = raw("comment-name")
    if name is not None and len(name) > MAX_COMMENT_NAME:
        raise InputError(f"input 'comment-name' is longer than {MAX_COMMENT_NAME} characters")
    return ActionInputs(
        models=split_list(models) if models is not None else (),
        config=raw("config"),
        fail_on=raw("fail-on"),
        comment_mode=parse_comment_mode(mode) if mode is not None else None,
        rules=raw("rules"),
        check_run=parse_bool(check_run, "check-run") if check_run is not None else False,
        comment_name=name,
    )


def fallback_inputs(
    flags: Mapping[str, str | None], environ: Mapping[str, str], prefix: str | None = None
) -> ActionInputs:
    """The inputs that say where the report goes, when :func:`resolve_inputs` refused some.

    An input error must still replace the sticky comment, so the comment's identity and mode are
    taken as given where they are valid, and everything else is left at its default.
    """
    name = _raw("comment-name", flags, environ, prefix)
    if name is not None and len(name) > MAX_COMMENT_NAME:
        name = None
    mode = _raw("comment-mode", flags, environ, prefix)
    check_run = _raw("check-run", flags, environ, prefix)
    try:
        comment_mode = parse_comment_mode(mode) if mode is not None else None
    except InputError:
        comment_mode = None
    try:
        check = parse_bool(check_run, "check-run") if check_run is not None else False
    except InputError:
        check = False
    return ActionInputs(
        models=(),
        config=None,
        fail_on=None,
        comment_mode=comment_mode,
        rules=None,
        check_run=check,
        comment_name=name,
    )
