"""Small builders for models and packs used across tests."""

from __future__ import annotations

from threatdelta.model.model import (
    Boundary,
    Control,
    Disposition,
    Element,
    Flow,
    Model,
    frozen_props,
)
from threatdelta.model.types import boundary_chain, element_chain, flow_chain
from threatdelta.rules.lang.parser import compile_rule
from threatdelta.rules.pack import Countermeasure, Rule, RulePack

SUBJECTS = {
    "element": frozenset({"element"}),
    "flow": frozenset({"source", "flow", "target"}),
    "interaction": frozenset({"source", "flow", "target"}),
}


def element(
    id: str,
    type: str = "process",
    kind: str = "generic",
    boundary: str | None = None,
    name: str | None = None,
    **props: object,
) -> Element:
    return Element(
        id=id,
        name=name or id,
        type=type,
        kind=kind,
        boundary=boundary,
        properties=frozen_props(props),
        type_chain=element_chain(type, kind),
    )


def flow(
    id: str,
    source: str,
    target: str,
    protocol: str = "generic",
    bidirectional: bool = False,
    name: str | None = None,
    **props: object,
) -> Flow:
    return Flow(
        id=id,
        name=name or id,
        source=source,
        target=target,
        protocol=protocol,
        bidirectional=bidirectional,
        properties=frozen_props(props),
        type_chain=flow_chain(protocol),
    )


def boundary(id: str, parent: str | None = None, kind: str = "generic") -> Boundary:
    return Boundary(id=id, name=id, kind=kind, parent=parent, type_chain=boundary_chain(kind))


def model(
    elements: list[Element],
    flows: list[Flow] = [],  # noqa: B006
    boundaries: list[Boundary] = [],  # noqa: B006
    controls: list[Control] = [],  # noqa: B006
    dispositions: list[Disposition] = [],  # noqa: B006
) -> Model:
    return Model(
        system="test",
        elements=tuple(sorted(elements, key=lambda e: e.id)),
        flows=tuple(sorted(flows, key=lambda f: f.id)),
        boundaries=tuple(sorted(boundaries, key=lambda b: b.id)),
        controls=tuple(sorted(controls, key=lambda c: c.id)),
        dispositions={d.key: d for d in dispositions},
        path="test.yaml",
    )


def rule(
    id: str,
    include: str,
    scope: str = "element",
    stride: str = "S",
    exclude: str = "",
    title: str = "",
    severity: str = "medium",
    countermeasures: tuple[str, ...] = (),
) -> Rule:
    allowed = SUBJECTS[scope]
    return Rule(
        id=id,
        stride=stride,
        scope=scope,
        title=title or id,
        include=compile_rule(include, allowed),
        include_text=include,
        exclude=compile_rule(exclude, allowed) if exclude else None,
        exclude_text=exclude,
        severity=severity,
        countermeasures=countermeasures,
    )


def pack(*rules: Rule, key_style: str = "threatdelta") -> RulePack:
    return RulePack(
        name="test pack",
        rules=tuple(sorted(rules, key=lambda r: r.id)),
        countermeasures={"tls": Countermeasure("tls", "TLS", "Encrypt in transit.")},
        key_style=key_style,
    )
