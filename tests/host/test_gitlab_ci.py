"""GitLab CI's predefined variables read into a merge request, and the dotenv report."""

from __future__ import annotations

import pytest

from threatdelta.errors import InputError
from threatdelta.host.gitlab_ci import change_request, dotenv, read_gitlab_env

BASE = "b" * 40
HEAD = "a" * 40
MERGE = "m0" * 20


def variables(**kw: str) -> dict[str, str]:
    env = {
        "CI_MERGE_REQUEST_IID": "17",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": BASE,
        "CI_COMMIT_SHA": HEAD,
        "CI_PROJECT_ID": "4242",
        "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_DIR": "/builds/med/pump",
        "THREATDELTA_GITLAB_TOKEN": "glpat-secret",
    }
    env.update(kw)
    return {k: v for k, v in env.items() if v is not None}


def test_a_merge_request_pipeline() -> None:
    env = read_gitlab_env(variables())
    assert (env.iid, env.project_id, env.base_sha, env.head_sha) == (17, "4242", BASE, HEAD)
    assert env.api_url == "https://gitlab.example.com/api/v4"
    assert "glpat-secret" not in repr(env)
    change = change_request(env)
    assert (change.kind, change.reference, change.base_sha) == ("merge request", "!17", BASE)


def test_merged_results_pipelines_review_the_source_branch_head() -> None:
    env = read_gitlab_env(
        variables(CI_COMMIT_SHA="c" * 40, CI_MERGE_REQUEST_SOURCE_BRANCH_SHA=HEAD)
    )
    assert env.head_sha == HEAD


def test_a_fork_merge_request_posts_to_the_target_project() -> None:
    env = read_gitlab_env(variables(CI_MERGE_REQUEST_PROJECT_ID="99", CI_PROJECT_ID="4242"))
    assert env.project_id == "99"


def test_the_api_address_falls_back_to_the_server_address() -> None:
    env = read_gitlab_env(variables(CI_API_V4_URL="", CI_SERVER_URL="https://git.local/"))
    assert env.api_url == "https://git.local/api/v4"


def test_a_self_managed_instances_certificate_authority_is_used() -> None:
    env = read_gitlab_env(variables(CI_SERVER_TLS_CA_FILE="/builds/tmp/CI_SERVER_TLS_CA_FILE"))
    assert env.ca_file == "/builds/tmp/CI_SERVER_TLS_CA_FILE"
    assert read_gitlab_env(variables()).ca_file is None


def test_only_a_job_token_is_noticed() -> None:
    env = read_gitlab_env(variables(THREATDELTA_GITLAB_TOKEN="", CI_JOB_TOKEN="x"))
    assert env.token == "" and env.job_token_only


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"CI_MERGE_REQUEST_IID": ""}, "merge_request_event"),
        ({"CI_MERGE_REQUEST_IID": "seven"}, "positive number"),
        ({"CI_MERGE_REQUEST_DIFF_BASE_SHA": ""}, "CI_MERGE_REQUEST_DIFF_BASE_SHA is not set"),
        ({"CI_COMMIT_SHA": "main"}, "not a commit SHA"),
        ({"CI_API_V4_URL": "file:///etc/passwd"}, "http(s) address"),
        ({"CI_API_V4_URL": "", "CI_SERVER_URL": ""}, "CI_API_V4_URL"),
        ({"CI_PROJECT_ID": ""}, "CI_PROJECT_ID is not set"),
        ({"CI_PROJECT_ID": "../../x"}, "number or group/name"),
    ],
)
def test_what_is_wrong_is_named(changes: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_gitlab_env(variables(**changes))


def test_dotenv_values_are_one_printable_line() -> None:
    text = dotenv({"A": "fail", "B": "x\ny\x1b[31mz", "C": ""})
    assert text == "A=fail\nB=xy[31mz\nC=\n"
