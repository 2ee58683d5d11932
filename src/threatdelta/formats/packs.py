"""Choose and load the rule pack for a model."""

from __future__ import annotations

import hashlib
from dataclasses import replace
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


def gate_pack(base: ParsedModel, head: ParsedModel) -> RulePack:
    """The pack that judges a change to a model when none is named: the base's (its embedded
    template, else the built-in), so a change cannot rewrite the template that judges it. Types
    the head's template adds (a stencil drawn with a newer template) are known too; the base's
    types and rules win."""
    pack = default_pack(base)
    if head.pack is None or head.pack.digest == pack.digest:
        return pack
    added = {k: v for k, v in head.pack.type_parents.items() if k not in pack.type_parents}
    if not added:
        return pack
    digest = hashlib.sha256(f"{pack.digest}+{head.pack.digest}".encode("ascii")).hexdigest()
    return replace(pack, type_parents={**added, **pack.type_parents}, digest=digest)


def template_edited(base: ParsedModel, head: ParsedModel) -> bool:
    """True when the change edits the rules a model carries (a .tm7's embedded template)."""
    if base.pack is None and head.pack is None:
        return False
    return (base.pack.digest if base.pack else "") != (head.pack.digest if head.pack else "")
