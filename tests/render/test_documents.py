"""Template filters and autoescaping."""

from __future__ import annotations

from threatdelta.render.documents import _number, _plural, _span, environment


def test_html_templates_autoescape_and_markdown_ones_do_not() -> None:
    env = environment()
    assert env.get_template("report.html.j2").name == "report.html.j2"
    html = env.from_string("{{ x }}").render(x="<b>")
    assert html == "&lt;b&gt;"
    assert env.autoescape("history.html.j2") is True  # type: ignore[operator]
    assert env.autoescape("history.md.j2") is False  # type: ignore[operator]


def test_markdown_filter_keeps_quotes_readable() -> None:
    md = environment().filters["md"]
    assert md("it's <b> @team") == "it's &lt;b&gt; @\u2060team"


def test_small_filters() -> None:
    assert _number(None) == "–" and _number(3.0) == "3" and _number(2.5) == "2.5"
    assert _plural(1, "threat") == "1 threat" and _plural(2, "threat") == "2 threats"
    assert _span([]) == "no model revision"
    assert _span([4]) == "revision 4" and _span([4, 5, 6]) == "revisions 4–6"


def test_html_documents_drop_hidden_characters_and_markdown_keeps_its_joiners() -> None:
    env = environment()
    html = env.from_string("<p>{{ x }}</p>").render(x="a\u202eb\u200bc\u200ed\x00e <i>")
    assert html == "<p>abcde &lt;i&gt;</p>"
    # where autoescaping is off (markdown templates), the joiner that defuses a mention stays
    template = env.from_string("{% autoescape false %}{{ x | md }}{% endautoescape %}")
    assert template.render(x="@team") == "@\u2060team"
