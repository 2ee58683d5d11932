"""The whole data-flow diagram as a Mermaid flowchart, for the markdown report.

Boundaries are nested subgraphs, elements are nodes shaped by type, flows are arrows labelled
with the number and name the report's flow table uses. Every label goes through
:func:`threatdelta.render.escape.mermaid_label` and every id through
:func:`threatdelta.render.escape.mermaid_id`.
"""

from __future__ import annotations

from collections.abc import Mapping

from threatdelta.model.model import Model
from threatdelta.render.escape import mermaid_id, mermaid_label

MAX_NODES = 150
MAX_EDGES = 300

_SHAPES = {
    "external-entity": ('["', '"]'),
    "process": ('(["', '"])'),
    "data-store": ('[("', '")]'),
}


def flowchart(model: Model, numbers: Mapping[str, int]) -> tuple[str, bool]:
    """Mermaid source (without the fence) and whether it had to be cut to stay in bounds.

    ``numbers`` gives each drawn flow's number (the diagram's); other flows are left out."""
    elements = sorted(model.elements, key=lambda e: e.id)
    truncated = len(elements) > MAX_NODES
    kept = {e.id for e in elements[:MAX_NODES]}
    boundaries = {b.id: b for b in model.boundaries if not b.is_line}
    children: dict[str | None, list[str]] = {}
    for b in sorted(boundaries.values(), key=lambda b: b.id):
        parent = b.parent if b.parent in boundaries else None
        children.setdefault(parent, []).append(b.id)
    inside: dict[str | None, list[str]] = {}
    for e in elements[:MAX_NODES]:
        inside.setdefault(e.boundary if e.boundary in boundaries else None, []).append(e.id)
    lines = ["flowchart LR"]
    emitted: set[str] = set()

    def emit(container: str | None, depth: int) -> None:
        pad = "    " * depth
        for element_id in inside.get(container, []):
            element = model.element(element_id)
            assert element is not None
            left, right = _SHAPES.get(element.type, ('["', '"]'))
            lines.append(f"{pad}{mermaid_id(element_id)}{left}{mermaid_label(element.name)}{right}")
        for child in children.get(container, []):
            if child in emitted or depth > 30:
                continue
            emitted.add(child)
            label = mermaid_label(boundaries[child].name)
            lines.append(f'{pad}subgraph {mermaid_id(child, "b")}["{label}"]')
            emit(child, depth + 1)
            lines.append(f"{pad}end")

    emit(None, 1)
    numbered = sorted(
        (
            (numbers[f.id], f)
            for f in model.flows
            if f.id in numbers and f.source in kept and f.target in kept
        ),
        key=lambda pair: pair[0],
    )
    if len(numbered) > MAX_EDGES:
        numbered, truncated = numbered[:MAX_EDGES], True
    for number, flow in numbered:
        arrow = "<-->" if flow.bidirectional else "-->"
        label = mermaid_label(f"{number}. {flow.name}")
        lines.append(f'    {mermaid_id(flow.source)} {arrow}|"{label}"| {mermaid_id(flow.target)}')
    lines.append("    classDef boundary stroke:#cf222e,stroke-dasharray:5 4")
    for boundary_id in sorted(emitted):
        lines.append(f"    class {mermaid_id(boundary_id, 'b')} boundary")
    return "\n".join(lines), truncated
