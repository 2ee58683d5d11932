from tests.helpers import boundary, element, flow, model

from threatdelta.render.mermaid import MAX_NODES, changed_chart
from threatdelta.review.diff import diff_models


def test_chart_shows_changed_items_inside_their_boundaries() -> None:
    base = model(
        [element("a", boundary="in"), element("b", "data-store")],
        [],
        [boundary("out"), boundary("in", parent="out")],
    )
    head = model(
        list(base.elements),
        [flow("f", "a", "b", "https", name='Sync "all"')],
        list(base.boundaries),
    )
    chart = changed_chart(head, diff_models(base, head))
    assert chart is not None and not chart.truncated
    text = chart.text
    assert text.startswith("flowchart LR")
    assert text.index("subgraph b_out") < text.index("subgraph b_in") < text.index("n_a_")
    assert "#quot;all#quot;" in text and "linkStyle 0 stroke:#1a7f37" in text


def test_no_chart_when_nothing_structural_changed() -> None:
    base = model([element("a")])
    assert changed_chart(base, diff_models(base, base)) is None


def test_large_change_is_capped() -> None:
    base = model([element("hub")])
    elements = [element("hub")] + [element(f"e{i}") for i in range(100)]
    flows = [flow(f"f{i}", "hub", f"e{i}") for i in range(100)]
    head = model(elements, flows)
    chart = changed_chart(head, diff_models(base, head))
    assert chart is not None and chart.truncated
    assert (
        sum(1 for line in chart.text.splitlines() if line.strip().startswith("n_") and "[" in line)
        <= MAX_NODES
    )
