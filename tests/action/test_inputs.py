"""The action's inputs, from flags and ``INPUT_*`` variables."""

from __future__ import annotations

import pytest

from threatdelta.action.inputs import INPUTS, parse_bool, resolve_inputs, split_list
from threatdelta.errors import InputError


def test_nothing_given_means_settings_and_defaults_apply() -> None:
    inputs = resolve_inputs({}, {})
    assert inputs.models == () and inputs.config is None and inputs.fail_on is None
    assert inputs.comment_mode is None and inputs.rules is None and inputs.comment_name is None
    assert inputs.check_run is False


def test_every_input_is_read_from_its_variable() -> None:
    env = {
        "INPUT_MODELS": "threatmodel.yaml, models/*.tm7\nmore/*.json\n",
        "INPUT_CONFIG": "ci/threatdelta.yml",
        "INPUT_FAIL_ON": "severity:high",
        "INPUT_COMMENT_MODE": "hide-and-new",
        "INPUT_RULES": "security/pack.yaml",
        "INPUT_CHECK_RUN": "TRUE",
        "INPUT_COMMENT_NAME": "firmware",
    }
    inputs = resolve_inputs({}, env)
    assert inputs.models == ("threatmodel.yaml", "models/*.tm7", "more/*.json")
    assert inputs.config == "ci/threatdelta.yml"
    assert inputs.fail_on == "severity:high"
    assert inputs.comment_mode == "hide-and-new"
    assert inputs.rules == "security/pack.yaml"
    assert inputs.check_run is True
    assert inputs.comment_name == "firmware"


def test_a_flag_wins_over_the_variable_and_empty_variables_are_not_given() -> None:
    inputs = resolve_inputs(
        {"fail-on": "none", "comment-mode": None},
        {"INPUT_FAIL_ON": "unaddressed", "INPUT_COMMENT_MODE": "", "INPUT_CHECK_RUN": "  "},
    )
    assert inputs.fail_on == "none"
    assert inputs.comment_mode is None and inputs.check_run is False


def test_a_wrong_comment_mode_lists_the_right_ones() -> None:
    with pytest.raises(InputError) as caught:
        resolve_inputs({}, {"INPUT_COMMENT_MODE": "sideways"})
    assert "update, new, hide-and-new, delete-and-new, off" in caught.value.message


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("No", False), ("1", True), ("off", False)]
)
def test_booleans(text: str, value: bool) -> None:
    assert parse_bool(text, "check-run") is value


def test_a_wrong_boolean_is_named() -> None:
    with pytest.raises(InputError, match="input 'check-run': 'maybe' is not true or false"):
        resolve_inputs({}, {"INPUT_CHECK_RUN": "maybe"})


def test_an_overlong_comment_name_is_refused() -> None:
    with pytest.raises(InputError, match="comment-name"):
        resolve_inputs({}, {"INPUT_COMMENT_NAME": "x" * 101})


def test_lists_split_on_commas_and_lines() -> None:
    assert split_list(" a ,b\n\n c,") == ("a", "b", "c")


def test_variable_names_follow_the_input_names() -> None:
    for spec in INPUTS:
        assert spec.env == "INPUT_" + spec.name.upper().replace("-", "_")
