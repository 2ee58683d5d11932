"""A random data-flow diagram, written as a native threatdelta model and as a pytm script.

The same seeded diagram (``n`` elements, ``2 n`` flows, ``n / 10`` nested boundaries) is written
both ways, so the two tools are timed on the same input. Nothing here is imported by the package.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

ELEMENT_TYPES = ("process", "data-store", "external-entity")
KINDS = {
    "process": ("control-unit", "web-service", "firmware"),
    "data-store": ("configuration", "log", "file"),
    "external-entity": ("person", "device", "cloud-service"),
}
PROTOCOLS = ("https", "can", "udp", "ble", "ipc", "serial", "usb")
ELEMENT_PROPERTIES = ("sanitizes_input", "runs_privileged", "encrypted", "stores_logs")
FLOW_PROPERTIES = ("authenticated", "encrypted", "integrity_protected")
DISPOSED_RULE = {
    "process": "process-tampering",
    "data-store": "store-tampering",
    "external-entity": "entity-spoofing",
}


@dataclass
class Node:
    id: str
    type: str
    kind: str
    boundary: str | None
    properties: dict[str, bool] = field(default_factory=dict)


@dataclass
class Link:
    id: str
    source: str
    target: str
    protocol: str
    properties: dict[str, bool] = field(default_factory=dict)


@dataclass
class Diagram:
    boundaries: list[tuple[str, str | None]]
    nodes: list[Node]
    links: list[Link]
    disposed: list[str]
    """Elements whose first threat carries an accepted disposition."""


def diagram(n: int, seed: int = 12) -> Diagram:
    """``n`` elements, ``2 n`` flows, ``max(1, n // 10)`` nested boundaries."""
    rng = random.Random(seed)
    boundaries: list[tuple[str, str | None]] = []
    for i in range(max(1, n // 10)):
        parent = f"b{rng.randrange(i)}" if i and rng.random() < 0.8 else None
        boundaries.append((f"b{i}", parent))
    nodes = []
    for i in range(n):
        kind = rng.choice(ELEMENT_TYPES)
        props = {p: rng.random() < 0.5 for p in ELEMENT_PROPERTIES if rng.random() < 0.4}
        inside = rng.choice(boundaries)[0] if rng.random() < 0.9 else None
        nodes.append(Node(f"e{i}", kind, rng.choice(KINDS[kind]), inside, props))
    links = []
    for i in range(2 * n):
        source = rng.randrange(n)
        target = (source + 1 + rng.randrange(n - 1)) % n if n > 1 else source
        props = {p: rng.random() < 0.5 for p in FLOW_PROPERTIES if rng.random() < 0.6}
        links.append(Link(f"f{i}", f"e{source}", f"e{target}", rng.choice(PROTOCOLS), props))
    disposed = [node.id for node in nodes if rng.random() < 0.05]
    return Diagram(boundaries, nodes, links, disposed)


def changed(d: Diagram, fraction: float, seed: int = 99) -> Diagram:
    """A copy where ``fraction`` of the elements (at least one) had a property flipped."""
    rng = random.Random(seed)
    count = max(1, round(len(d.nodes) * fraction))
    picked = set(rng.sample(range(len(d.nodes)), count))
    nodes = []
    for i, node in enumerate(d.nodes):
        if i in picked:
            props = dict(node.properties)
            props["sanitizes_input"] = not props.get("sanitizes_input", False)
            node = Node(node.id, node.type, node.kind, node.boundary, props)
        nodes.append(node)
    return Diagram(d.boundaries, nodes, d.links, d.disposed)


def _props(props: dict[str, bool]) -> str:
    inner = ", ".join(f"{k}: {'true' if v else 'false'}" for k, v in props.items())
    return f"{{{inner}}}"


def native_yaml(d: Diagram) -> str:
    """The diagram as a native model (block style, as people write it)."""
    out = ["version: 1", "system: Generated system", "boundaries:"]
    for bid, parent in d.boundaries:
        out.append(f"  - id: {bid}")
        out.append(f"    name: Zone {bid}")
        out.append("    kind: network")
        if parent:
            out.append(f"    parent: {parent}")
    out.append("elements:")
    for node in d.nodes:
        out.append(f"  - id: {node.id}")
        out.append(f"    name: Element {node.id}")
        out.append(f"    type: {node.type}")
        out.append(f"    kind: {node.kind}")
        if node.boundary:
            out.append(f"    boundary: {node.boundary}")
        if node.properties:
            out.append(f"    properties: {_props(node.properties)}")
    out.append("flows:")
    for link in d.links:
        out.append(f"  - id: {link.id}")
        out.append(f"    name: Flow {link.id}")
        out.append(f"    from: {link.source}")
        out.append(f"    to: {link.target}")
        out.append(f"    protocol: {link.protocol}")
        if link.properties:
            out.append(f"    properties: {_props(link.properties)}")
    out.append("controls:")
    out.append("  - id: reviewed-design")
    out.append("    name: Design reviewed by the security team")
    out.append("    status: implemented")
    if d.disposed:
        types = {node.id: node.type for node in d.nodes}
        out.append("threats:")
        for eid in d.disposed:
            out.append(f"  {DISPOSED_RULE[types[eid]]}@{eid}:")
            out.append("    status: accepted")
            out.append("    justification: Reachable only from the service network.")
            out.append("    approved_by: security-lead")
    return "\n".join(out) + "\n"


PYTM_CONTROLS = {
    "sanitizes_input": "sanitizesInput",
    "encrypted": "isEncrypted",
    "authenticated": "authenticatesSource",
    "integrity_protected": "providesIntegrity",
}
PYTM_CLASS = {"process": "Process", "data-store": "Datastore", "external-entity": "Actor"}


def pytm_script(d: Diagram) -> str:
    """The diagram as a pytm script that builds the model and resolves its findings."""
    spec = {
        "boundaries": d.boundaries,
        "nodes": [[n.id, PYTM_CLASS[n.type], n.boundary, n.properties] for n in d.nodes],
        "links": [[f.id, f.source, f.target, f.protocol, f.properties] for f in d.links],
    }
    return f'''"""Generated: the bench diagram built with pytm, then resolved."""
import json
import sys

from pytm import TM, Actor, Boundary, Dataflow, Datastore, Process

SPEC = json.loads({json.dumps(json.dumps(spec))})
CONTROLS = {PYTM_CONTROLS!r}
CLASSES = {{"Process": Process, "Datastore": Datastore, "Actor": Actor}}

tm = TM("Generated system", description="Bench diagram")
boundaries = {{}}
for bid, parent in SPEC["boundaries"]:
    boundary = Boundary(f"Zone {{bid}}")
    if parent:
        boundary.inBoundary = boundaries[parent]
    boundaries[bid] = boundary
elements = {{}}
for eid, cls, inside, props in SPEC["nodes"]:
    element = CLASSES[cls](f"Element {{eid}}")
    if inside:
        element.inBoundary = boundaries[inside]
    for key, value in props.items():
        if key in CONTROLS:
            setattr(element.controls, CONTROLS[key], value)
    elements[eid] = element
for fid, source, target, protocol, props in SPEC["links"]:
    flow = Dataflow(elements[source], elements[target], f"Flow {{fid}}")
    flow.protocol = protocol
    for key, value in props.items():
        if key in CONTROLS:
            setattr(flow.controls, CONTROLS[key], value)
tm.check()
tm.resolve()
print(len(tm.findings), file=sys.stderr)
'''
