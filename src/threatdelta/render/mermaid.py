"""A Mermaid flowchart of the part of the diagram a change touched.

GitHub renders Mermaid blocks in comments. The chart shows the changed elements and flows plus
the elements at their ends, inside their (nested) boundaries; added items are green, changed ones
yellow. Every label goes through :func:`threatdelta.render.escape.mermaid_label`, every id through
:func:`threatdelta.render.escape.mermaid_id`, and the chart is capped well within Mermaid's limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from threatdelta.model.model import Model
from threatdelta.render.escape import mermaid_id, mermaid_label
from threatdelta.review.diff import ModelDiff

MAX_NODES = 40
MAX_EDGES = 60

_SHAPES = {
    "external-entity": ('["', '"]'),
    "process": ('(["', '"])'),
    "data-store": ('[("', '")]'),
}


@dataclass(frozen=True)
class Chart:
    """A rendered chart and whether it had to be cut."""

    text: str
    """Mermaid source (without the fence)."""
    truncated: bool
    """True when some elements or flows were left out to stay within limits."""


def changed_chart(model: Model, diff: ModelDiff) -> Chart | None:
    """The chart of what ``diff`` touched in ``model``, or None when no element or flow changed."""
    added = set(diff.items["elements"].added) | set(diff.items["flows"].added)
    changed = set(diff.items["elements"].changed) | set(diff.items["flows"].changed)
    changed |= {c.flow for c in diff.crossings}
    flow_ids = sorted(f.id for f in model.flows if f.id in added or f.id in changed)
    node_ids: set[str] = {e for e in added | changed if model.element(e) is not None}
    for flow_id in flow_ids:
        flow = model.flow(flow_id)
        if flow is not None:
            node_ids.update((flow.source, flow.target))
    if not node_ids:
        return None
    ordered = sorted(node_ids)
    truncated = len(ordered) > MAX_NODES
    kept = set(ordered[:MAX_NODES])
    flows = [
        f
        for f in (model.flow(i) for i in flow_ids)
        if f is not None and f.source in kept and f.target in kept
    ]
    if len(flows) > MAX_EDGES:
        flows, truncated = flows[:MAX_EDGES], True

    lines = ["flowchart LR"]
    # Boundaries that hold a shown element, nested as subgraphs.
    children: dict[str | None, list[str]] = {}
    shown_boundaries: set[str] = set()
    for element_id in sorted(kept):
        element = model.element(element_id)
        current = element.boundary if element is not None else None
        while current is not None and current not in shown_boundaries:
            shown_boundaries.add(current)
            boundary = model.boundary(current)
            parent = boundary.parent if boundary is not None else None
            children.setdefault(parent, []).append(current)
            current = parent
    elements_in: dict[str | None, list[str]] = {}
    for element_id in sorted(kept):
        element = model.element(element_id)
        elements_in.setdefault(element.boundary if element is not None else None, []).append(
            element_id
        )

    def emit(boundary_id: str | None, depth: int) -> None:
        pad = "    " * depth
        for element_id in elements_in.get(boundary_id, []):
            element = model.element(element_id)
            assert element is not None
            left, right = _SHAPES.get(element.type, ('["', '"]'))
            lines.append(f"{pad}{mermaid_id(element_id)}{left}{mermaid_label(element.name)}{right}")
        for child in sorted(children.get(boundary_id, [])):
            boundary = model.boundary(child)
            label = mermaid_label(boundary.name if boundary is not None else child)
            lines.append(f'{pad}subgraph {mermaid_id(child, "b")}["{label}"]')
            emit(child, depth + 1)
            lines.append(f"{pad}end")

    emit(None, 1)
    for index, flow in enumerate(flows):
        arrow = "<-->" if flow.bidirectional else "-->"
        label = mermaid_label(
            f"{flow.name} ({flow.protocol})" if flow.protocol != "generic" else flow.name
        )
        lines.append(f'    {mermaid_id(flow.source)} {arrow}|"{label}"| {mermaid_id(flow.target)}')
        if flow.id in added:
            lines.append(f"    linkStyle {index} stroke:#1a7f37,stroke-width:3px")
        elif flow.id in changed:
            lines.append(f"    linkStyle {index} stroke:#9a6700,stroke-width:3px")
    lines.append("    classDef added fill:#dafbe1,stroke:#1a7f37")
    lines.append("    classDef changed fill:#fff8c5,stroke:#9a6700")
    for element_id in sorted(kept):
        if element_id in added:
            lines.append(f"    class {mermaid_id(element_id)} added")
        elif element_id in changed:
            lines.append(f"    class {mermaid_id(element_id)} changed")
    return Chart("\n".join(lines), truncated)
