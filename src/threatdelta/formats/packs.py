"""Choose and load the rule pack for a model."""

from __future__ import annotations

from pathlib import PurePosixPath

from threatdelta.formats.interface import ParsedModel
from threatdelta.rules.pack import RulePack


def load_rules(data: bytes, path: str) -> RulePack:
    """A rule pack from a file: a TMT template (.tb7) or a threatdelta YAML pack."""
    if PurePosixPath(path).suffix.lower() == ".tb7":
        from threatdelta.formats.tb7 import read_tb7

        return read_tb7(data, path)
    from threatdelta.rules.packfile import load_pack

    return load_pack(data, path)


def default_pack(parsed: ParsedModel) -> RulePack:
    """The pack a model is checked with when none is named: its embedded one, else the built-in."""
    if parsed.pack is not None:
        return parsed.pack
    from threatdelta.rules.packfile import builtin_pack

    return builtin_pack()
