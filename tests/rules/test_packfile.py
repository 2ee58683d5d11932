"""Loading YAML rule packs and catalogues: results, and errors that point at the right place."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from threatdelta.errors import InputError, InputErrors
from threatdelta.rules import packfile
from threatdelta.rules.lang.ast import AttrTruthy, Not
from threatdelta.rules.lang.tokens import RuleSyntaxError
from threatdelta.rules.packfile import (
    builtin_catalogue,
    builtin_pack,
    load_catalogue,
    load_pack,
    main,
    render_reference,
)

HEAD = "version: 1\nname: Test pack\nrules:\n"


def one_rule(**fields: str) -> str:
    """A pack with one flow rule; ``fields`` replace or add lines (values written as given)."""
    base = {
        "id": "sniff",
        "stride": "I",
        "scope": "flow",
        "title": '"{flow.name} readable"',
        "include": "flow.crosses_boundary",
    }
    base.update(fields)
    lines = [
        f"  - {k}: {v}" if i == 0 else f"    {k}: {v}" for i, (k, v) in enumerate(base.items())
    ]
    return HEAD + "\n".join(lines) + "\n"


def error_of(text: str, path: str = "pack.yaml") -> InputError:
    with pytest.raises(InputError) as caught:
        load_pack(text, path)
    return caught.value


def where(error: InputError) -> str:
    return str(error.location)


# ------------------------------------------------------------------ what a good pack gives


def test_minimal_pack() -> None:
    pack = load_pack(one_rule(), "pack.yaml")
    assert pack.name == "Test pack"
    (rule,) = pack.rules
    assert rule.id == "sniff" and rule.stride == "I" and rule.scope == "flow"
    assert rule.title == "{flow.name} readable"
    assert rule.include_text == "flow.crosses_boundary"
    assert rule.include == AttrTruthy("flow", "crosses_boundary")
    assert rule.exclude is None and rule.exclude_text == ""
    assert rule.severity == "medium"
    assert rule.category == "Information disclosure"
    assert str(rule.location) == "pack.yaml:4:5"
    assert pack.key_style == "threatdelta"


def test_all_fields() -> None:
    text = one_rule(
        exclude="not not flow.encrypted",
        severity="critical",
        cwe="[319, 311]",
        capec="[157]",
        countermeasures="[tls-in-transit, data-minimisation]",
        category="Sniffing",
        description=">-\n      Two lines\n      folded.",
    )
    (rule,) = load_pack(text, "p.yaml").rules
    assert rule.exclude == Not(Not(AttrTruthy("flow", "encrypted")))
    assert rule.exclude_text == "not not flow.encrypted"
    assert rule.severity == "critical"
    assert rule.cwe == (319, 311) and rule.capec == (157,)
    assert rule.countermeasures == ("tls-in-transit", "data-minimisation")
    assert rule.category == "Sniffing"
    assert rule.description == "Two lines folded."


def test_rules_are_sorted_by_id_and_digest_is_sha256_of_the_source() -> None:
    text = HEAD + (
        "  - {id: zeta, stride: S, scope: element, title: z, include: 'true'}\n"
        "  - {id: alpha, stride: S, scope: element, title: a, include: 'true'}\n"
    )
    pack = load_pack(text.encode(), "p.yaml")
    assert [r.id for r in pack.rules] == ["alpha", "zeta"]
    source = text.encode()
    assert pack.digest == hashlib.sha256(len(source).to_bytes(8, "big") + source).hexdigest()
    assert load_pack(text, "p.yaml").digest == pack.digest
    assert load_pack(text + "# changed\n", "p.yaml").digest != pack.digest


def test_a_standalone_pack_sees_the_builtin_catalogue_and_its_own() -> None:
    text = (
        "version: 1\nname: Own\n"
        "countermeasures:\n"
        "  - {id: cable-seal, name: Sealed connector, description: Seal it.}\n"
        "rules:\n"
        "  - {id: r, stride: T, scope: element, title: t, include: 'true',\n"
        "     countermeasures: [cable-seal, secure-boot]}\n"
    )
    pack = load_pack(text, "own.yaml")
    assert [r.id for r in pack.rules] == ["r"]
    assert pack.countermeasures["cable-seal"].name == "Sealed connector"
    assert "secure-boot" in pack.countermeasures
    assert pack.rules[0].countermeasures == ("cable-seal", "secure-boot")


def test_extends_builtin_adds_rules_and_replaces_same_ids() -> None:
    builtin = builtin_pack()
    text = (
        "version: 1\nname: Ours\nextends: builtin\n"
        "countermeasures:\n"
        "  - {id: tls-in-transit, name: Our TLS profile, description: TLS 1.3 only.}\n"
        "rules:\n"
        "  - {id: flow-dos, stride: D, scope: flow, title: '{flow.name} down',\n"
        "     include: 'false', severity: low}\n"
        "  - {id: ble-pairing, stride: S, scope: flow, title: '{flow.name} pairing',\n"
        "     include: \"flow.protocol is 'ble'\"}\n"
    )
    pack = load_pack(text, "ours.yaml")
    ids = [r.id for r in pack.rules]
    assert ids == sorted(ids)
    assert set(ids) == {r.id for r in builtin.rules} | {"ble-pairing"}
    replaced = next(r for r in pack.rules if r.id == "flow-dos")
    assert replaced.severity == "low" and replaced.include_text == "false"
    assert pack.countermeasures["tls-in-transit"].name == "Our TLS profile"
    assert pack.name == "Ours"
    assert pack.digest not in ("", builtin.digest)


def test_the_example_in_the_reference_page_loads() -> None:
    page = render_reference(builtin_pack())
    example = re.search(r"```yaml\n(.*?)```", page, re.S)
    assert example is not None
    pack = load_pack(example.group(1), "example.yaml")
    assert "bolus-button-spoofing" in {r.id for r in pack.rules}
    assert len(pack.rules) == len(builtin_pack().rules) + 1


def test_builtin_files_load_through_the_public_functions() -> None:
    root = Path(packfile.__file__).parent / "builtin"
    catalogue = load_catalogue((root / "countermeasures.yaml").read_bytes(), "c.yaml")
    assert dict(catalogue) == dict(builtin_catalogue())
    pack = load_pack((root / "stride.yaml").read_bytes(), "s.yaml")
    assert [r.id for r in pack.rules] == [r.id for r in builtin_pack().rules]
    assert (
        builtin_pack().digest
        == hashlib.sha256(
            b"".join(
                len(b).to_bytes(8, "big") + b
                for b in (
                    (root / "stride.yaml").read_bytes(),
                    (root / "countermeasures.yaml").read_bytes(),
                )
            )
        ).hexdigest()
    )


# ------------------------------------------------------------------ errors, with their places


def test_unknown_rule_key_is_reported_at_the_key_with_a_suggestion() -> None:
    error = error_of(one_rule(severty="high"))
    assert where(error) == "pack.yaml:9:5"
    assert "unknown key 'severty'" in error.message and "'severity'" in error.message


def test_unknown_top_level_key() -> None:
    error = error_of("version: 1\nname: x\nrulez: []\nrules: []\n")
    assert where(error) == "pack.yaml:3:1"
    assert "did you mean 'rules'" in error.message


@pytest.mark.parametrize(
    ("field", "value", "column", "words"),
    [
        ("stride", "X", 13, "'stride' must be one of S, T, R, I, D, E"),
        ("stride", "Spoofing", 13, "not 'Spoofing'"),
        ("scope", "process", 12, "'scope' must be one of element, flow, interaction"),
        ("severity", "urgent", 15, "'severity' must be one of low, medium, high, critical"),
    ],
)
def test_bad_choices(field: str, value: str, column: int, words: str) -> None:
    text = one_rule(**{field: value})
    error = error_of(text)
    line = next(
        i
        for i, row in enumerate(text.splitlines(), 1)
        if row.strip().startswith((f"{field}:", f"- {field}:"))
    )
    assert where(error) == f"pack.yaml:{line}:{column}"
    assert words in error.message


def test_missing_required_keys_point_at_the_rule() -> None:
    text = HEAD + "  - id: r\n    stride: S\n"
    with pytest.raises(InputErrors) as caught:
        load_pack(text, "p.yaml")
    messages = [e.message for e in caught.value.errors]
    assert any("'scope'" in m for m in messages)
    assert any("needs 'title'" in m for m in messages)
    assert any("needs 'include'" in m for m in messages)
    assert {str(e.location) for e in caught.value.errors} == {"p.yaml:4:5"}


def test_duplicate_rule_ids() -> None:
    text = HEAD + (
        "  - {id: r, stride: S, scope: element, title: t, include: 'true'}\n"
        "  - {id: r, stride: T, scope: element, title: t, include: 'true'}\n"
    )
    error = error_of(text)
    assert where(error) == "pack.yaml:5:10"
    assert "rule id 'r' is already used at line 4" in error.message


def test_bad_rule_ids() -> None:
    error = error_of(one_rule(id="'a@b'"))
    assert where(error) == "pack.yaml:4:9"
    assert "may use only letters" in error.message


def test_unknown_countermeasure_with_suggestion() -> None:
    error = error_of(one_rule(countermeasures="[tls-in-transit, secure-bot]"))
    assert where(error) == "pack.yaml:9:39"
    assert "unknown countermeasure 'secure-bot'; did you mean 'secure-boot'?" in error.message


def test_cwe_written_as_text() -> None:
    error = error_of(one_rule(cwe="[319, CWE-20]"))
    assert where(error) == "pack.yaml:9:16"
    assert "(write 20 instead of CWE-20)" in error.message


def test_version_is_required_and_must_be_one() -> None:
    assert "needs 'version: 1'" in error_of("name: x\nrules: []\n").message
    error = error_of("version: 2\nname: x\nrules: []\n")
    assert where(error) == "pack.yaml:1:10"
    assert "'version' must be 1, not 2" in error.message


def test_extends_names_only_builtin() -> None:
    error = error_of("version: 1\nname: x\nextends: other\nrules: []\n")
    assert where(error) == "pack.yaml:3:10"
    assert "'extends' can only name 'builtin'" in error.message


def test_a_pack_that_is_not_a_mapping() -> None:
    error = error_of("- 1\n- 2\n")
    assert where(error) == "pack.yaml:1:1"
    assert "a rule pack must be a mapping" in error.message


def test_yaml_syntax_errors_come_from_the_loader() -> None:
    error = error_of("version: 1\nname: [x\n")
    assert error.location is not None and error.location.path == "pack.yaml"
    assert "YAML" in error.message


def test_several_errors_are_reported_together_in_file_order() -> None:
    text = HEAD + (
        "  - {id: a, stride: Q, scope: element, title: t, include: 'true'}\n"
        "  - {id: b, stride: S, scope: elements, title: t, include: 'true'}\n"
    )
    with pytest.raises(InputErrors) as caught:
        load_pack(text, "p.yaml")
    assert [str(e.location) for e in caught.value.errors] == ["p.yaml:4:21", "p.yaml:5:31"]
    assert str(caught.value).count("\n") >= 1


def test_rule_count_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packfile, "MAX_RULES", 2)
    rules = "".join(
        f"  - {{id: r{i}, stride: S, scope: element, title: t, include: 'true'}}\n"
        for i in range(3)
    )
    error = error_of(HEAD + rules)
    assert where(error) == "pack.yaml:4:3"
    assert "3 rules, more than the limit of 2" in error.message


def test_many_errors_stop_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packfile, "MAX_ERRORS", 3)
    rules = "".join(
        f"  - {{id: r{i}, stride: Q, scope: element, title: t, include: 'true'}}\n"
        for i in range(10)
    )
    with pytest.raises(InputErrors) as caught:
        load_pack(HEAD + rules, "p.yaml")
    assert len(caught.value.errors) == 4
    assert "stopped after 3 errors" in caught.value.errors[-1].message


# ------------------------------------------------------------------ expressions inside the file


def test_syntax_error_in_a_plain_scalar() -> None:
    error = error_of(one_rule(include="flow.encrypted and and"))
    assert isinstance(error, RuleSyntaxError)
    assert where(error) == "pack.yaml:8:33"


def test_syntax_error_in_a_double_quoted_scalar() -> None:
    error = error_of(one_rule(include='"flow.encrypted or or"'))
    assert where(error) == "pack.yaml:8:33"


def test_syntax_error_in_a_single_quoted_scalar_with_doubled_quotes() -> None:
    error = error_of(one_rule(include="'flow.protocol is ''can'' and (flow.x'"))
    # the missing ')' is reported just after the last character of the expression
    assert where(error) == "pack.yaml:8:51"


def test_syntax_error_in_a_folded_block_scalar() -> None:
    error = error_of(one_rule(include=">-\n      flow.encrypted and\n      not flow.x is"))
    assert where(error) == "pack.yaml:10:20"


def test_syntax_error_in_a_literal_block_scalar_on_its_second_line() -> None:
    error = error_of(one_rule(include="|\n      flow.a and\n        (flow.b or flow.c ]"))
    assert where(error) == "pack.yaml:10:27"


def test_syntax_error_in_a_flow_mapping() -> None:
    text = HEAD + "  - {id: r, stride: S, scope: element, title: t, include: 'element.a is'}\n"
    assert where(error_of(text)) == "pack.yaml:4:72"  # just after 'is'


def test_subject_not_allowed_for_the_scope() -> None:
    error = error_of(one_rule(scope="element", title="t", include="element.a or flow.b"))
    assert isinstance(error, RuleSyntaxError)
    assert where(error) == "pack.yaml:8:27"
    assert "unknown subject 'flow'" in error.message


def test_exclude_is_checked_too() -> None:
    error = error_of(one_rule(exclude="element.encrypted"))
    assert where(error) == "pack.yaml:9:14"
    assert "unknown subject 'element'" in error.message


def test_an_escape_that_changes_the_text_falls_back_to_the_scalar_start() -> None:
    error = error_of(one_rule(include='"flow.\\x61 is"'))
    assert error.location is not None and error.location.line == 8
    assert "expected a value" in error.message


def test_title_placeholder_names_a_subject_the_scope_lacks() -> None:
    error = error_of(one_rule(title='"Data of {element.name} on {flow.name}"'))
    assert where(error) == "pack.yaml:7:21"
    assert "'{element.name}' names 'element', which a flow rule does not have" in error.message


def test_stray_brace_in_a_description() -> None:
    error = error_of(one_rule(description='"Uses {flow.name} and {oops"'))
    assert where(error) == "pack.yaml:9:40"
    assert "not part of a placeholder" in error.message


# ------------------------------------------------------------------ the catalogue


def test_catalogue_loads_sorted_by_id() -> None:
    text = "- {id: b, name: B, description: Bee.}\n- {id: a, name: A}\n"
    catalogue = load_catalogue(text, "c.yaml")
    assert list(catalogue) == ["a", "b"]
    assert catalogue["a"].description == ""
    assert catalogue["b"].description == "Bee."


def test_catalogue_errors() -> None:
    with pytest.raises(InputError) as caught:
        load_catalogue("- {id: a, name: A}\n- {id: a, name: B}\n", "c.yaml")
    assert str(caught.value.location) == "c.yaml:2:8"
    assert "already used at line 1" in caught.value.message
    with pytest.raises(InputError) as caught:
        load_catalogue("- {id: a, titel: A}\n", "c.yaml")
    assert "unknown key 'titel'" in str(caught.value)
    with pytest.raises(InputError) as caught:
        load_catalogue("id: a\n", "c.yaml")
    assert "must be a list" in caught.value.message


# ------------------------------------------------------------------ command line


def test_doc_command_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--doc"]) == 0
    assert capsys.readouterr().out == render_reference(builtin_pack())


def test_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(one_rule(), encoding="utf-8")
    assert main([str(good)]) == 0
    assert "1 rules" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(one_rule(stride="Q"), encoding="utf-8")
    assert main([str(bad)]) == 2
    assert f"{bad}:5:13:" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_stopping_early_is_said_even_at_the_reporting_cap() -> None:
    rules = "".join(
        f"  - {{id: r{i}, stride: Q, scope: element, title: t, include: 'true'}}\n"
        for i in range(packfile.MAX_ERRORS + 10)
    )
    with pytest.raises(InputErrors) as caught:
        load_pack(HEAD + rules, "p.yaml")
    messages = [e.message for e in caught.value.errors]
    assert len(messages) == packfile.MAX_ERRORS + 1
    assert messages[-1] == f"stopped after {packfile.MAX_ERRORS} errors; fix these first"
    lines = [e.location.line for e in caught.value.errors[:-1] if e.location is not None]
    assert lines == sorted(lines)
