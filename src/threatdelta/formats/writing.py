"""What every model writer shares: preparing a model for a format meant to be read by people."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from threatdelta.model.model import Model, Value, frozen_props


def _renamed(properties: Mapping[str, Value], names: Mapping[str, str]) -> Mapping[str, Value]:
    if not any(key in names for key in properties):
        return properties
    result: dict[str, Value] = {}
    for key in sorted(properties):
        name = names.get(key, key)
        if name in result or (name != key and name in properties):
            name = key  # never let a readable name overwrite another property
        result[name] = properties[key]
    return frozen_props(result)


def with_readable_properties(model: Model, names: Mapping[str, str]) -> Model:
    """``model`` with property names that are tool ids (a TMT template's attribute GUIDs)
    written as readable names (``out_of_scope``, ``show_boundary_threats``).

    The rule pack that knows the ids (``RulePack.property_names``) still finds each property
    under its readable name, so a template run on the converted model sees the same values.
    """
    if not names:
        return model
    return replace(
        model,
        elements=tuple(
            replace(e, properties=_renamed(e.properties, names)) for e in model.elements
        ),
        flows=tuple(replace(f, properties=_renamed(f.properties, names)) for f in model.flows),
        boundaries=tuple(
            replace(b, properties=_renamed(b.properties, names)) for b in model.boundaries
        ),
    )
