"""The whole diagram as a Mermaid flowchart."""

from __future__ import annotations

from tests.helpers import boundary, element, flow, model

from threatdelta.report.mermaid import flowchart


def test_nested_subgraphs_and_numbered_flows() -> None:
    m = model(
        [
            element("a", "external-entity", name='Evil "quote" <b>'),
            element("b", boundary="in"),
            element("c", "data-store", boundary="inner"),
        ],
        [flow("f1", "a", "b", name="Send | data"), flow("f2", "b", "c", bidirectional=True)],
        [boundary("in"), boundary("inner", parent="in")],
    )
    text, truncated = flowchart(m, {"f1": 1, "f2": 2})
    assert not truncated
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert any(line.strip().startswith("subgraph b_in_") for line in lines)
    inner = next(i for i, line in enumerate(lines) if "subgraph b_inner_" in line)
    outer = next(i for i, line in enumerate(lines) if "subgraph b_in_" in line)
    assert outer < inner
    assert '"1. Send | data"' in text and "<-->" in text
    assert "<b>" not in text and '"quote"' not in text and "#quot;quote#quot;" in text


def test_flows_without_a_number_are_left_out() -> None:
    m = model([element("a"), element("b")], [flow("f1", "a", "b")])
    text, _ = flowchart(m, {})
    assert "-->" not in text
