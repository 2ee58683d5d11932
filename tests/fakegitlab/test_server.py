"""The fake GitLab server answers as GitLab does, for raw HTTP and for python-gitlab."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import gitlab
import pytest
from tests.fakegitlab import FORBIDDEN_MESSAGE, NOTE_LIMIT, FakeGitLab

PROJECT = 77
PATH = "acme/pump"
MR = 5


@pytest.fixture
def fake(fake_gitlab: FakeGitLab) -> FakeGitLab:
    fake_gitlab.add_project(PROJECT, PATH)
    fake_gitlab.add_merge_request(PROJECT, MR, head_sha="a" * 40, base_sha="b" * 40)
    fake_gitlab.set_user("tok", "project_77_bot")
    fake_gitlab.set_user("ro", "reader", read_only=True)
    fake_gitlab.set_user("noscope", "someone", user_endpoint=False)
    return fake_gitlab


def call(
    fake: FakeGitLab, method: str, path: str, body: Any = None, token: str | None = "tok"
) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(fake.api_url + path, data=data, method=method)
    if token:
        req.add_header("PRIVATE-TOKEN", token)
    if data:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            raw = resp.read()
            return resp.status, dict(resp.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, dict(e.headers), json.loads(raw) if raw else None


def client(fake: FakeGitLab, token: str = "tok") -> gitlab.Gitlab:
    return gitlab.Gitlab(fake.url, private_token=token, per_page=100, timeout=5)


NOTES = f"/projects/{PROJECT}/merge_requests/{MR}/notes"


# --- raw HTTP -----------------------------------------------------------------------------


def test_unknown_or_missing_token_is_401(fake: FakeGitLab) -> None:
    for token in ("nope", None):
        status, _, body = call(fake, "GET", "/user", token=token)
        assert status == 401 and body == {"message": "401 Unauthorized"}


def test_user_endpoint_and_its_refusal(fake: FakeGitLab) -> None:
    assert call(fake, "GET", "/user")[2]["username"] == "project_77_bot"
    assert call(fake, "GET", "/user")[2]["bot"] is True
    assert call(fake, "GET", "/user", token="noscope")[0] == 403


def test_merge_request_by_id_or_encoded_path(fake: FakeGitLab) -> None:
    for ref in (str(PROJECT), "acme%2Fpump"):
        status, _, body = call(fake, "GET", f"/projects/{ref}/merge_requests/{MR}")
        assert status == 200
        assert body["sha"] == "a" * 40 and body["diff_refs"]["base_sha"] == "b" * 40
        assert body["web_url"].endswith("/acme/pump/-/merge_requests/5")
    assert call(fake, "GET", f"/projects/{PROJECT}/merge_requests/6")[0] == 404
    assert call(fake, "GET", f"/projects/78/merge_requests/{MR}")[0] == 404


def test_notes_are_created_listed_edited_and_deleted_by_their_author(fake: FakeGitLab) -> None:
    status, _, note = call(fake, "POST", NOTES, {"body": "hello"})
    assert status == 201 and note["author"]["username"] == "project_77_bot"
    assert note["system"] is False and note["noteable_type"] == "MergeRequest"
    status, _, edited = call(fake, "PUT", f"{NOTES}/{note['id']}", {"body": "bye"})
    assert status == 200 and edited["body"] == "bye"
    assert edited["updated_at"] > edited["created_at"]
    other = fake.add_note(PROJECT, MR, "someone else's", "alice")
    assert call(fake, "PUT", f"{NOTES}/{other.id}", {"body": "x"})[0] == 403
    assert call(fake, "DELETE", f"{NOTES}/{other.id}")[0] == 403
    assert call(fake, "DELETE", f"{NOTES}/{note['id']}")[0] == 204
    assert call(fake, "DELETE", f"{NOTES}/{note['id']}")[0] == 404
    assert [n.body for n in fake.notes(PROJECT, MR)] == ["someone else's"]


def test_read_only_token_reads_but_cannot_write(fake: FakeGitLab) -> None:
    assert call(fake, "GET", NOTES, token="ro")[0] == 200
    status, _, body = call(fake, "POST", NOTES, {"body": "x"}, token="ro")
    assert status == 403 and body == {"message": FORBIDDEN_MESSAGE}
    assert fake.notes(PROJECT, MR) == []


def test_note_length_is_limited_as_gitlab_limits_it(fake: FakeGitLab) -> None:
    assert call(fake, "POST", NOTES, {"body": "x" * NOTE_LIMIT})[0] == 201
    status, _, body = call(fake, "POST", NOTES, {"body": "x" * (NOTE_LIMIT + 1)})
    assert status == 400 and "too long" in body["message"]["note"][0]
    assert call(fake, "POST", NOTES, {"body": "  "})[0] == 400


def test_pagination_headers_and_sorting(fake: FakeGitLab) -> None:
    for i in range(5):
        fake.add_note(PROJECT, MR, f"n{i}", "alice")
    status, headers, page1 = call(fake, "GET", f"{NOTES}?per_page=2&sort=asc")
    assert status == 200 and [n["body"] for n in page1] == ["n0", "n1"]
    assert headers["X-Total"] == "5" and headers["X-Total-Pages"] == "3"
    assert headers["X-Next-Page"] == "2" and 'rel="next"' in headers["Link"]
    _, headers, page3 = call(fake, "GET", f"{NOTES}?per_page=2&sort=asc&page=3")
    assert [n["body"] for n in page3] == ["n4"] and headers["X-Next-Page"] == ""
    _, _, newest_first = call(fake, "GET", f"{NOTES}?per_page=2")
    assert [n["body"] for n in newest_first] == ["n4", "n3"]  # GitLab's default is desc
    assert call(fake, "GET", f"{NOTES}?sort=sideways")[0] == 400


def test_system_notes_are_listed_but_not_editable(fake: FakeGitLab) -> None:
    system = fake.add_note(PROJECT, MR, "added 1 commit", "project_77_bot", system=True)
    _, _, listed = call(fake, "GET", NOTES)
    assert [n["system"] for n in listed] == [True]
    assert call(fake, "PUT", f"{NOTES}/{system.id}", {"body": "x"})[0] == 403


def test_injected_faults_answer_then_clear(fake: FakeGitLab) -> None:
    fake.inject("POST", rf"/projects/{PROJECT}/merge_requests/{MR}/notes", 502, times=2)
    fake.inject("GET", r"/user", 429, headers={"Retry-After": "7"})
    assert call(fake, "POST", NOTES, {"body": "x"})[0] == 502
    assert call(fake, "POST", NOTES, {"body": "x"})[0] == 502
    assert call(fake, "POST", NOTES, {"body": "x"})[0] == 201
    status, headers, body = call(fake, "GET", "/user")
    assert status == 429 and headers["Retry-After"] == "7" and body == {"message": "Retry later"}
    assert call(fake, "GET", "/user")[0] == 200
    assert [r.status for r in fake.requests] == [502, 502, 201, 429, 200]
    assert fake.requests[0].is_write and fake.requests[0].token == "tok"


# --- python-gitlab, unchanged -------------------------------------------------------------


def test_python_gitlab_pages_through_every_note(fake: FakeGitLab) -> None:
    for i in range(250):
        fake.add_note(PROJECT, MR, f"n{i}", "alice")
    mr = client(fake).projects.get(PROJECT, lazy=True).mergerequests.get(MR)
    assert mr.sha == "a" * 40
    notes = list(mr.notes.list(iterator=True, sort="asc", order_by="created_at"))
    assert [n.body for n in notes] == [f"n{i}" for i in range(250)]
    gets = [r for r in fake.requests if r.path.endswith("/notes")]
    assert [r.query.get("page", "1") for r in gets] == ["1", "2", "3"]


def test_python_gitlab_writes_notes(fake: FakeGitLab) -> None:
    gl = client(fake)
    mr = gl.projects.get(PATH, lazy=True).mergerequests.get(MR, lazy=True)
    note = mr.notes.create({"body": "first"})
    mr.notes.update(note.id, {"body": "second"})
    assert [n.body for n in fake.notes(PROJECT, MR)] == ["second"]
    mr.notes.delete(note.id)
    assert fake.notes(PROJECT, MR) == []
    assert gl.http_get("/user")["username"] == "project_77_bot"  # type: ignore[index]


def test_python_gitlab_sees_403_and_429_as_errors_with_their_codes(fake: FakeGitLab) -> None:
    mr = client(fake, "ro").projects.get(PROJECT, lazy=True).mergerequests.get(MR, lazy=True)
    with pytest.raises(gitlab.GitlabCreateError) as refused:
        mr.notes.create({"body": "x"})
    assert refused.value.response_code == 403
    fake.inject("GET", r".*/notes", 429, headers={"Retry-After": "0"})
    with pytest.raises(gitlab.GitlabListError) as limited:
        list(mr.notes.list(iterator=True, obey_rate_limit=False))
    assert limited.value.response_code == 429
