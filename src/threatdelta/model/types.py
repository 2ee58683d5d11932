"""One type tree for every format, so every rule pack runs on every model.

Native element types sit under the generic ids Microsoft's Threat Modeling Tool uses
(``GE.P`` process, ``GE.DS`` data store, ``GE.EI`` external entity, ``GE.DF`` data flow,
``GE.TB.B`` border boundary, ``GE.TB.L`` line boundary); a native ``kind`` is a subtype of its
type. A type chain runs from the most specific id to ``ROOT``.
"""

from __future__ import annotations

from threatdelta.rules.protocols import PROTOCOL_NAMES

ROOT = "ROOT"

GENERIC_BY_ELEMENT_TYPE: dict[str, str] = {
    "process": "GE.P",
    "data-store": "GE.DS",
    "external-entity": "GE.EI",
}
FLOW_TYPE = "GE.DF"
BORDER_BOUNDARY_TYPE = "GE.TB.B"
LINE_BOUNDARY_TYPE = "GE.TB.L"

ELEMENT_KINDS: dict[str, tuple[str, ...]] = {
    "external-entity": ("person", "device", "system", "cloud-service", "generic"),
    "process": (
        "control-unit",
        "web-service",
        "virtual-machine",
        "mobile-app",
        "firmware",
        "generic",
    ),
    "data-store": (
        "database",
        "file",
        "log",
        "key-store",
        "configuration",
        "cloud-storage",
        "generic",
    ),
}
BOUNDARY_KINDS: tuple[str, ...] = (
    "device",
    "process",
    "network",
    "physical",
    "cloud",
    "organisation",
    "generic",
)
PROTOCOLS: tuple[str, ...] = PROTOCOL_NAMES
"""Protocol names a native flow may use (see :mod:`threatdelta.rules.protocols`); others are
accepted as generic transports with a warning."""


def element_chain(element_type: str, kind: str) -> tuple[str, ...]:
    """The type chain of a native element: ``process/control-unit``, ``process``, ``GE.P``, ``ROOT``."""
    generic = GENERIC_BY_ELEMENT_TYPE[element_type]
    return (f"{element_type}/{kind}", element_type, generic, ROOT)


def flow_chain(protocol: str) -> tuple[str, ...]:
    """The type chain of a native flow: ``flow/can``, ``flow``, ``GE.DF``, ``ROOT``."""
    return (f"flow/{protocol}", "flow", FLOW_TYPE, ROOT)


def boundary_chain(kind: str, line: bool = False) -> tuple[str, ...]:
    """The type chain of a native boundary: ``boundary/device``, ``boundary``, ``GE.TB.B``, ``ROOT``."""
    generic = LINE_BOUNDARY_TYPE if line else BORDER_BOUNDARY_TYPE
    return (f"boundary/{kind}", "boundary", generic, "GE.TB", ROOT)


def chain_from_parents(type_id: str, parents: dict[str, str], limit: int = 64) -> tuple[str, ...]:
    """Follow a ParentId map (as in a TMT KnowledgeBase) from ``type_id`` up to ``ROOT``.

    Stops on a cycle or after ``limit`` steps, so a hostile template cannot loop forever.
    """
    chain: list[str] = [type_id]
    seen = {type_id}
    current = type_id
    while current in parents and len(chain) < limit:
        current = parents[current]
        if current in seen or not current:
            break
        chain.append(current)
        seen.add(current)
    if chain[-1] != ROOT:
        chain.append(ROOT)
    return tuple(chain)
