"""The fake GitHub server answers as GitHub does, for raw HTTP and for PyGithub."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from github import Auth, Github, GithubException
from tests.fakegithub import READ_ONLY_MESSAGE, SECONDARY_RATE_LIMIT_MESSAGE, FakeGitHub

REPO = "acme/pump"


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_repo(REPO, default_branch="trunk")
    fake_github.add_pull(REPO, 3, head_sha="a" * 40, base_sha="b" * 40, head_repo_fork=True)
    fake_github.set_login("tok", "bot")
    fake_github.set_login("ro", "reader", read_only=True)
    fake_github.set_login("app", "github-actions[bot]", user_endpoint=False)
    return fake_github


def call(
    fake: FakeGitHub, method: str, path: str, body: Any = None, token: str | None = "tok"
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(fake.url + path, data=data, method=method)
    if token:
        req.add_header("Authorization", f"token {token}")
    if data:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, dict(e.headers), json.loads(raw) if raw else None


def client(fake: FakeGitHub, token: str = "tok", per_page: int = 30) -> Github:
    return Github(
        base_url=fake.url,
        auth=Auth.Token(token),
        retry=None,
        per_page=per_page,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


# --- raw HTTP -----------------------------------------------------------------------------


def test_unknown_or_missing_token_is_401(fake: FakeGitHub) -> None:
    for token in ("nope", None):
        status, _, body = call(fake, "GET", f"/repos/{REPO}", token=token)
        assert status == 401 and body["message"] == "Bad credentials"


def test_user_endpoint_and_its_refusal_for_app_tokens(fake: FakeGitHub) -> None:
    assert call(fake, "GET", "/user")[2]["login"] == "bot"
    status, _, body = call(fake, "GET", "/user", token="app")
    assert status == 403 and body["message"] == READ_ONLY_MESSAGE


def test_read_only_token_reads_but_cannot_write(fake: FakeGitHub) -> None:
    assert call(fake, "GET", f"/repos/{REPO}/pulls/3", token="ro")[0] == 200
    status, _, body = call(fake, "POST", f"/repos/{REPO}/issues/3/comments", {"body": "x"}, "ro")
    assert status == 403
    assert body["message"] == READ_ONLY_MESSAGE and "documentation_url" in body
    assert fake.comments(REPO, 3) == []


def test_pull_request_json(fake: FakeGitHub) -> None:
    status, _, pull = call(fake, "GET", f"/repos/{REPO}/pulls/3")
    assert status == 200
    assert pull["number"] == 3 and pull["head"]["sha"] == "a" * 40
    assert pull["base"]["sha"] == "b" * 40 and pull["base"]["ref"] == "trunk"
    assert pull["head"]["repo"]["fork"] is True
    assert pull["issue_url"] == f"{fake.url}/repos/{REPO}/issues/3"
    assert call(fake, "GET", f"/repos/{REPO}/pulls/4")[0] == 404
    assert call(fake, "GET", "/repos/acme/other")[0] == 404


def test_comment_lifecycle(fake: FakeGitHub) -> None:
    status, _, made = call(fake, "POST", f"/repos/{REPO}/issues/3/comments", {"body": "hi"})
    assert status == 201
    assert made["user"]["login"] == "bot" and made["body"] == "hi"
    assert made["url"] == f"{fake.url}/repos/{REPO}/issues/comments/{made['id']}"
    assert made["html_url"].endswith(f"/pull/3#issuecomment-{made['id']}")
    for key in ("node_id", "created_at", "updated_at"):
        assert made[key]
    path = f"/repos/{REPO}/issues/comments/{made['id']}"
    assert call(fake, "PATCH", path, {"body": "edited"})[2]["body"] == "edited"
    assert call(fake, "GET", path)[2]["body"] == "edited"
    assert fake.comments(REPO, 3)[0].updated_at > fake.comments(REPO, 3)[0].created_at
    assert call(fake, "DELETE", path)[0] == 204
    assert call(fake, "GET", path)[0] == 404
    assert fake.comments(REPO, 3) == []


def test_comment_list_is_paginated_with_link_headers(fake: FakeGitHub) -> None:
    ids = [fake.add_comment(REPO, 3, f"c{i}", "someone").id for i in range(7)]
    base = f"{fake.url}/repos/{REPO}/issues/3/comments"
    _, headers, page = call(fake, "GET", f"/repos/{REPO}/issues/3/comments?per_page=3")
    assert [c["id"] for c in page] == ids[:3]
    assert headers["Link"] == (
        f'<{base}?per_page=3&page=2>; rel="next", <{base}?per_page=3&page=3>; rel="last"'
    )
    _, headers, page = call(fake, "GET", f"/repos/{REPO}/issues/3/comments?per_page=3&page=3")
    assert [c["id"] for c in page] == ids[6:]
    assert 'rel="next"' not in headers["Link"] and 'rel="prev"' in headers["Link"]
    _, headers, page = call(fake, "GET", f"/repos/{REPO}/issues/3/comments")
    assert len(page) == 7 and "Link" not in headers  # default 30 per page


def test_injected_faults_are_served_then_spent(fake: FakeGitHub) -> None:
    fake.inject("GET", rf"/repos/{REPO}", 502, times=2, headers={"Retry-After": "3"})
    first = call(fake, "GET", f"/repos/{REPO}")
    assert first[0] == 502 and first[1]["Retry-After"] == "3"
    assert call(fake, "GET", f"/repos/{REPO}")[0] == 502
    assert call(fake, "GET", f"/repos/{REPO}")[0] == 200
    assert [r.status for r in fake.requests] == [502, 502, 200]


def test_injected_fault_matches_method_and_whole_path(fake: FakeGitHub) -> None:
    fake.inject("POST", r"/repos/.*/comments", 403, body={"message": SECONDARY_RATE_LIMIT_MESSAGE})
    assert call(fake, "GET", f"/repos/{REPO}/issues/3/comments")[0] == 200
    assert call(fake, "GET", f"/repos/{REPO}")[0] == 200
    status, _, body = call(fake, "POST", f"/repos/{REPO}/issues/3/comments", {"body": "x"})
    assert status == 403 and body["message"] == SECONDARY_RATE_LIMIT_MESSAGE


def test_check_run_annotations_accumulate_and_are_limited(fake: FakeGitHub) -> None:
    def output(n: int) -> dict[str, Any]:
        return {
            "title": "t",
            "summary": "s",
            "annotations": [
                {
                    "path": "m.yaml",
                    "start_line": 1,
                    "end_line": 1,
                    "annotation_level": "warning",
                    "message": f"m{i}",
                }
                for i in range(n)
            ],
        }

    status, _, run = call(
        fake,
        "POST",
        f"/repos/{REPO}/check-runs",
        {
            "name": "threatdelta",
            "head_sha": "a" * 40,
            "status": "completed",
            "conclusion": "success",
            "output": output(50),
        },
    )
    assert status == 201 and run["output"]["annotations_count"] == 50
    path = f"/repos/{REPO}/check-runs/{run['id']}"
    assert call(fake, "PATCH", path, {"output": output(51)})[0] == 422
    assert call(fake, "PATCH", path, {"output": output(10)})[2]["output"]["annotations_count"] == 60
    assert len(fake.check_runs(REPO)[0]["annotations"]) == 60
    too_long = {"title": "t", "summary": "x" * 65536}
    assert call(fake, "PATCH", path, {"output": too_long})[0] == 422
    no_conclusion = {"name": "n", "head_sha": "a" * 40, "status": "completed"}
    assert call(fake, "POST", f"/repos/{REPO}/check-runs", no_conclusion)[0] == 422


def test_commit_status(fake: FakeGitHub) -> None:
    body = {"state": "failure", "context": "threatdelta", "description": "2 unaddressed"}
    status, _, made = call(fake, "POST", f"/repos/{REPO}/statuses/{'a' * 40}", body)
    assert status == 201 and made["state"] == "failure"
    assert fake.statuses(REPO)[0]["sha"] == "a" * 40
    assert call(fake, "POST", f"/repos/{REPO}/statuses/{'a' * 40}", {"state": "odd"})[0] == 422


def test_graphql_minimize(fake: FakeGitHub) -> None:
    c = fake.add_comment(REPO, 3, "old", "bot")
    query = (
        "mutation Mutation($input: MinimizeCommentInput!) { minimizeComment(input: $input) "
        "{ minimizedComment { isMinimized } } }"
    )
    status, _, answer = call(
        fake,
        "POST",
        "/graphql",
        {
            "query": query,
            "variables": {"input": {"subjectId": c.node_id, "classifier": "OUTDATED"}},
        },
    )
    assert status == 200
    assert answer["data"]["minimizeComment"]["minimizedComment"]["isMinimized"] is True
    assert fake.comments(REPO, 3)[0].minimized_reason == "OUTDATED"
    _, _, missing = call(
        fake,
        "POST",
        "/graphql",
        {"query": query, "variables": {"input": {"subjectId": "nope", "classifier": "OUTDATED"}}},
    )
    assert missing["errors"][0]["type"] == "NOT_FOUND"
    _, _, refused = call(
        fake,
        "POST",
        "/graphql",
        {
            "query": query,
            "variables": {"input": {"subjectId": c.node_id, "classifier": "OUTDATED"}},
        },
        token="ro",
    )
    assert refused["errors"][0]["type"] == "FORBIDDEN"


def test_gate_holds_requests_until_all_arrive(fake: FakeGitHub) -> None:
    fake.gate("GET", r"/user", parties=2, timeout=5)
    order: list[str] = []

    def go(name: str) -> None:
        call(fake, "GET", "/user")
        order.append(name)

    first = threading.Thread(target=go, args=("first",))
    first.start()
    first.join(timeout=0.3)
    assert first.is_alive()  # held at the gate
    go("second")
    first.join(timeout=5)
    assert sorted(order) == ["first", "second"]
    assert call(fake, "GET", "/user")[0] == 200  # the gate is spent


# --- through PyGithub ---------------------------------------------------------------------


def test_pygithub_reads_and_writes_unchanged(fake: FakeGitHub) -> None:
    gh = client(fake)
    assert gh.get_user().login == "bot"
    repo = gh.get_repo(REPO)
    assert repo.default_branch == "trunk"
    pull = repo.get_pull(3)
    assert pull.head.sha == "a" * 40 and pull.base.sha == "b" * 40
    made = pull.create_issue_comment("hello")
    assert made.user.login == "bot" and made.body == "hello"
    made.edit("edited")
    assert [c.body for c in pull.get_issue_comments()] == ["edited"]
    assert made.minimize("OUTDATED") is True
    made.delete()
    assert list(pull.get_issue_comments()) == []
    run = repo.create_check_run(
        name="n",
        head_sha="a" * 40,
        status="completed",
        conclusion="failure",
        output={"title": "t", "summary": "s"},
    )
    run.edit(output={"title": "t2", "summary": "s2"})
    assert run.output.title == "t2" and run.conclusion == "failure"
    gh.close()


def test_pygithub_pages_through_many_comments(fake: FakeGitHub) -> None:
    for i in range(230):
        fake.add_comment(REPO, 3, f"c{i}", "someone")
    gh = client(fake, per_page=100)
    bodies = [c.body for c in gh.get_repo(REPO).get_pull(3).get_issue_comments()]
    assert bodies == [f"c{i}" for i in range(230)]
    pages = [r.query.get("page", "1") for r in fake.requests if r.path.endswith("/comments")]
    assert pages == ["1", "2", "3"]
    gh.close()


def test_pygithub_sees_github_errors(fake: FakeGitHub) -> None:
    gh = client(fake, token="ro")
    pull = gh.get_repo(REPO).get_pull(3)
    with pytest.raises(GithubException) as err:
        pull.create_issue_comment("x")
    assert err.value.status == 403 and err.value.data["message"] == READ_ONLY_MESSAGE
    gh.close()


# --- misbehaving answers --------------------------------------------------------------------


def _raw_get(fake: FakeGitHub, path: str, timeout: float) -> socket.socket:
    host, port = fake.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: token tok\r\n\r\n".encode())
    return sock


def test_raw_fault_answers_bytes_that_are_not_json(fake: FakeGitHub) -> None:
    fake.inject_raw("GET", r"/user", b"<html>proxy</html>")
    req = urllib.request.Request(fake.url + "/user")
    req.add_header("Authorization", "token tok")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        assert resp.read() == b"<html>proxy</html>"
    assert call(fake, "GET", "/user")[2]["login"] == "bot"  # spent after one answer


def test_drip_sends_headers_then_a_byte_at_a_time(fake: FakeGitHub) -> None:
    fake.inject_drip("GET", r"/user", interval=0.05, size=1000)
    with _raw_get(fake, "/user", timeout=2) as sock:
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(4096)
        assert received.startswith(b"HTTP/1.1 200") and b"Content-Length: 1000" in received
        body_so_far = received.split(b"\r\n\r\n", 1)[1]
        time.sleep(0.3)
        body_so_far += sock.recv(4096)
        assert 1 <= len(body_so_far) < 1000  # some bytes, far from all


def test_silence_never_answers_until_the_fake_stops(fake: FakeGitHub) -> None:
    fake.inject_silence("GET", r"/user")
    with _raw_get(fake, "/user", timeout=0.5) as sock, pytest.raises(TimeoutError):
        sock.recv(1)
    assert [r.path for r in fake.requests] == ["/user"]
    assert call(fake, "GET", "/user")[0] == 200  # spent after one request
