import pytest

from threatdelta.config import DEFAULT_POLICY, Config, parse_config
from threatdelta.errors import InputError, InputErrors


def test_empty_file_gives_defaults() -> None:
    assert parse_config("") == Config()
    assert Config().policy == DEFAULT_POLICY


def test_full_settings() -> None:
    config = parse_config(
        "models: [threatmodel.yaml, 'models/*.tm7']\n"
        "rules: pack.yaml\n"
        "policy: [unaddressed, 'severity:high']\n"
        "comment: {name: device, mode: hide-and-new}\n"
        "history: {iterations: 'release-*'}\n"
    )
    assert config.models == ("threatmodel.yaml", "models/*.tm7")
    assert config.rules == ("pack.yaml",)
    assert config.policy == ("unaddressed", "severity:high")
    assert (config.comment_name, config.comment_mode, config.iterations) == (
        "device",
        "hide-and-new",
        "release-*",
    )


def test_errors_name_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        parse_config(
            "models: [a.yaml]\nmodles: [b]\ncomment:\n  mode: sometimes\n", ".threatdelta.yml"
        )
    text = str(info.value)
    assert ".threatdelta.yml:2:1: unknown key 'modles'" in text
    assert ".threatdelta.yml:4:9: comment.mode 'sometimes' is not one of" in text


def test_bad_policy_is_refused() -> None:
    with pytest.raises(InputError, match="unknown condition 'often'"):
        parse_config("policy: [often]\n")


def test_policy_options_are_one_key_mappings_in_the_list() -> None:
    config = parse_config(
        "policy:\n"
        "  - unaddressed\n"
        "  - unverified\n"
        "  - max-accepted-severity: high\n"
        "  - approvers: [security-lead, Quality Manager]\n"
    )
    assert config.policy == (
        "unaddressed",
        "unverified",
        "max-accepted-severity:high",
        "approvers:security-lead",
        "approvers:Quality Manager",
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("policy:\n  - unaddressed\n  - owners: [a]\n", 3, "unknown policy option 'owners'"),
        ("policy:\n  - max-accepted-severity: [high, low]\n", 2, "one severity"),
        ("policy:\n  - approvers: ['a, b']\n", 2, "without commas"),
        ("policy:\n  - max-accepted-severity: extreme\n", None, "max-accepted-severity:extreme"),
    ],
)
def test_bad_policy_options_are_located(text: str, line: int | None, message: str) -> None:
    with pytest.raises(InputError) as error:
        parse_config(text)
    assert message in str(error.value)
    if line is not None:
        assert f":{line}:" in str(error.value)


def test_errors_are_reported_top_to_bottom() -> None:
    with pytest.raises(InputErrors) as info:
        parse_config("comment:\n  mode: sometimes\nzzz: 1\nhistory: 3\n", ".threatdelta.yml")
    assert [str(e).split(": ")[0] for e in info.value.errors] == [
        ".threatdelta.yml:2:9",
        ".threatdelta.yml:3:1",
        ".threatdelta.yml:4:10",
    ]
