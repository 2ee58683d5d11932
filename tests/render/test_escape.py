from threatdelta.render.escape import (
    ZERO_WIDTH_JOINER,
    code,
    fence,
    md,
    mermaid_id,
    mermaid_label,
    yaml_scalar,
)


def test_md_neutralises_mentions_html_and_table_breakers() -> None:
    out = md("@org/team <img src=x onerror=alert(1)> | a | b ``` [x](http://e)")
    assert "@" + ZERO_WIDTH_JOINER + "org" in out
    assert "<img" not in out and "&lt;img" in out
    assert "|" not in out.replace("\\|", "")
    assert "```" not in out and "](" not in out


def test_md_removes_control_characters_and_newlines() -> None:
    assert md("a\nb\r\n\x00c\u202e") == "a b c"


def test_code_cannot_be_broken_out_of() -> None:
    out = code("`</code><script>| x")
    assert out.startswith("<code>") and out.endswith("</code>")
    assert out.count("</code>") == 1 and "<script>" not in out and "|" not in out


def test_mermaid_label_escapes_quotes_and_html() -> None:
    out = mermaid_label('"]) --> x[("<b>#')
    assert '"' not in out and "<" not in out and ">" not in out
    assert out.startswith("#quot;")


def test_mermaid_ids_are_safe_and_distinct() -> None:
    a, b = mermaid_id("a-b"), mermaid_id("a_b")
    assert a != b and all(c.isalnum() or c == "_" for c in a)


def test_yaml_scalar_round_trips_through_a_yaml_parser() -> None:
    import yaml

    for text in [
        "plain",
        'quo"te',
        "back\\slash",
        "tick`s",
        "line\nbreak",
        "#comment: x",
        "a<!--b",
    ]:
        assert yaml.safe_load(f"k: {yaml_scalar(text)}")["k"] == text
        assert "`" not in yaml_scalar(text)
        assert "<!--" not in yaml_scalar(text)


def test_fence_keeps_text_inside_a_code_block() -> None:
    assert "`" not in fence("```\n# hi")


def test_threat_keys_stay_copyable_but_mentions_and_references_do_not_link() -> None:
    assert md("flow-dos@telemetry") == "flow-dos@telemetry"
    assert md("mail a@b.example") == "mail a@b.example"
    assert ZERO_WIDTH_JOINER in md("ping @team")
    assert ZERO_WIDTH_JOINER in md("fixes #12")


def test_gitlab_references_and_cross_project_references_do_not_link() -> None:
    for text, prefix in [
        ("see !12", "!"),
        ("label ~bug", "~"),
        ("milestone %v1.0", "%"),
        ('milestone %"Release 2"', "%"),
        ("snippet $3", "$"),
        ("epic &4", "&"),
        ("group/project#7", "#"),
    ]:
        out = md(text)
        assert prefix + ZERO_WIDTH_JOINER in out.replace("&amp;", "&").replace("\\", ""), text
    assert md("50 % less & more ~ fine") == "50 % less &amp; more \\~ fine"
