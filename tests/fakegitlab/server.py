"""A stateful fake of the GitLab REST API (v4) on 127.0.0.1: users, projects, merge requests and
their notes.

It answers with JSON shaped like GitLab's (and GitLab's pagination headers), so python-gitlab
parses it unchanged. Tests drive it through :class:`FakeGitLab`: seed projects, merge requests and
notes, choose tokens (and which may not write), inject faults (5xx, 429 with ``Retry-After``,
403), make concurrent requests meet at a gate, and read back the notes and the request log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlencode

from tests.fakehttp import Answer, FakeServer, HttpError, stamp

NOTE_LIMIT = 1_000_000
"""GitLab refuses notes longer than this many characters."""
FORBIDDEN_MESSAGE = "403 Forbidden"
UNAUTHORIZED_MESSAGE = "401 Unauthorized"
RATE_LIMIT_MESSAGE = "Retry later"


@dataclass(frozen=True)
class Note:
    """A merge-request note as the fake holds it."""

    id: int
    """GitLab's numeric id (increasing with creation order)."""
    project_id: int
    """The project."""
    iid: int
    """The merge request's number in the project."""
    body: str
    """The markdown body."""
    username: str
    """Who wrote it."""
    created_at: datetime
    """When it was created."""
    updated_at: datetime
    """When it was last changed."""
    system: bool = False
    """A note GitLab writes itself ("added 1 commit")."""


@dataclass
class _User:
    id: int
    username: str
    read_only: bool
    user_endpoint: bool


@dataclass
class _MergeRequest:
    project_id: int
    iid: int
    id: int
    head_sha: str
    base_sha: str


@dataclass
class _Project:
    id: int
    path: str


class FakeGitLab(FakeServer):
    """The fake's state and its control surface; :meth:`start` serves it on a free local port
    (the server's root; the API is under ``/api/v4``)."""

    name = "fake-gitlab"

    def __init__(self, web_base: str = "https://gitlab.example.com") -> None:
        super().__init__(first_id=5_000_001)
        self.web_base = web_base
        self._projects: dict[int, _Project] = {}
        self._mrs: dict[tuple[int, int], _MergeRequest] = {}
        self._notes: dict[int, Note] = {}
        self._tokens: dict[str, _User] = {}
        self.link_base: str | None = None
        """When set, pagination links name this address (the instance's external URL, as GitLab
        behind a proxy does) instead of the one the client used."""

    @property
    def api_url(self) -> str:
        """The API root, as ``CI_API_V4_URL`` gives it."""
        return f"{self.url}/api/v4"

    # --- seeding ---------------------------------------------------------------------------

    def add_project(self, project_id: int, path: str) -> None:
        """Create project ``project_id`` at ``group/name``."""
        with self._lock:
            self._projects[project_id] = _Project(project_id, path)

    def add_merge_request(self, project_id: int, iid: int, head_sha: str, base_sha: str) -> None:
        """Open merge request ``!iid`` in the project (which must exist)."""
        with self._lock:
            self._project(str(project_id))
            self._mrs[(project_id, iid)] = _MergeRequest(
                project_id, iid, self._next_id(), head_sha, base_sha
            )

    def set_head(self, project_id: int, iid: int, head_sha: str) -> None:
        """Move a merge request's head, as a push to its source branch does."""
        with self._lock:
            self._mrs[(project_id, iid)].head_sha = head_sha

    def set_user(
        self, token: str, username: str, *, read_only: bool = False, user_endpoint: bool = True
    ) -> None:
        """Accept ``token`` as ``username``.

        ``read_only`` tokens get 403 on every write (a ``read_api`` scope, or a Guest);
        ``user_endpoint=False`` makes ``GET /user`` answer 403, as it does for tokens without
        a scope that reads the user.
        """
        with self._lock:
            uid = sum(username.encode()) + 100
            self._tokens[token] = _User(uid, username, read_only, user_endpoint)

    def add_note(
        self, project_id: int, iid: int, body: str, username: str, system: bool = False
    ) -> Note:
        """Put a note on a merge request directly (no request, not logged)."""
        with self._lock:
            return self._create_note(project_id, iid, body, username, system)

    # --- reading state ---------------------------------------------------------------------

    def notes(self, project_id: int, iid: int, *, system: bool = False) -> list[Note]:
        """The notes on a merge request, oldest first (system notes only when asked)."""
        with self._lock:
            return sorted(
                (
                    n
                    for n in self._notes.values()
                    if n.project_id == project_id and n.iid == iid and (system or not n.system)
                ),
                key=lambda n: n.id,
            )

    # --- internals -------------------------------------------------------------------------

    def _project(self, ref: str) -> _Project:
        """A project by numeric id or by its (decoded) path."""
        if ref.isdigit() and int(ref) in self._projects:
            return self._projects[int(ref)]
        for project in self._projects.values():
            if project.path == ref:
                return project
        raise HttpError(404, "404 Project Not Found")

    def _create_note(
        self, project_id: int, iid: int, body: str, username: str, system: bool
    ) -> Note:
        if (project_id, iid) not in self._mrs:
            raise HttpError(404, "404 Not found")
        now = self._now()
        note = Note(self._next_id(), project_id, iid, body, username, now, now, system)
        self._notes[note.id] = note
        return note

    # JSON shapes ---------------------------------------------------------------------------

    def _user_json(self, username: str) -> dict[str, Any]:
        uid = sum(username.encode()) + 100
        return {
            "id": uid,
            "username": username,
            "name": username.replace("_", " ").title(),
            "state": "active",
            "bot": username.startswith(("project_", "group_")),
            "avatar_url": None,
            "web_url": f"{self.web_base}/{username}",
        }

    def _mr_web_url(self, mr: _MergeRequest) -> str:
        return f"{self.web_base}/{self._projects[mr.project_id].path}/-/merge_requests/{mr.iid}"

    def _mr_json(self, mr: _MergeRequest) -> dict[str, Any]:
        return {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project_id,
            "title": f"Merge request {mr.iid}",
            "state": "opened",
            "source_branch": f"topic-{mr.iid}",
            "target_branch": "main",
            "sha": mr.head_sha,
            "diff_refs": {
                "base_sha": mr.base_sha,
                "head_sha": mr.head_sha,
                "start_sha": mr.base_sha,
            },
            "web_url": self._mr_web_url(mr),
            "author": self._user_json("author"),
        }

    def _note_json(self, n: Note) -> dict[str, Any]:
        return {
            "id": n.id,
            "type": None,
            "body": n.body,
            "attachment": None,
            "author": self._user_json(n.username),
            "created_at": stamp(n.created_at, ".000"),
            "updated_at": stamp(n.updated_at, ".000"),
            "system": n.system,
            "noteable_id": self._mrs[(n.project_id, n.iid)].id,
            "noteable_type": "MergeRequest",
            "noteable_iid": n.iid,
            "project_id": n.project_id,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }

    # request handling ----------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, query: Mapping[str, str], body: Any, user: _User
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if path == "/user" and method == "GET":
                if not user.user_endpoint:
                    raise HttpError(403, FORBIDDEN_MESSAGE)
                return 200, self._user_json(user.username), {}
            m = re.fullmatch(r"/projects/([^/]+)/merge_requests/(\d+)(/.*)?", path)
            if not m:
                raise HttpError(404, "404 Not found")
            project = self._project(unquote(m.group(1)))
            mr = self._mrs.get((project.id, int(m.group(2))))
            if mr is None:
                raise HttpError(404, "404 Not found")
            rest = m.group(3) or ""
            if method not in ("GET", "HEAD") and user.read_only:
                raise HttpError(403, FORBIDDEN_MESSAGE)
            if rest == "" and method == "GET":
                return 200, self._mr_json(mr), {}
            if rest == "/notes":
                if method == "GET":
                    return self._list_notes(mr, path, query)
                if method == "POST":
                    text = _note_text(body)
                    note = self._create_note(mr.project_id, mr.iid, text, user.username, False)
                    return 201, self._note_json(note), {}
            if n := re.fullmatch(r"/notes/(\d+)", rest):
                note = self._notes.get(int(n.group(1)))
                if note is None or (note.project_id, note.iid) != (mr.project_id, mr.iid):
                    raise HttpError(404, "404 Not found")
                if method == "GET":
                    return 200, self._note_json(note), {}
                if note.username != user.username or note.system:
                    raise HttpError(403, FORBIDDEN_MESSAGE)
                if method == "PUT":
                    updated = replace(note, body=_note_text(body), updated_at=self._now())
                    self._notes[note.id] = updated
                    return 200, self._note_json(updated), {}
                if method == "DELETE":
                    del self._notes[note.id]
                    return 204, None, {}
            raise HttpError(404, "404 Not found")

    def _list_notes(
        self, mr: _MergeRequest, path: str, query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            per_page = min(100, max(1, int(query.get("per_page", "20"))))
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            raise HttpError(400, "400 Bad request - page and per_page must be numbers") from None
        order_by = query.get("order_by", "created_at")
        if order_by not in ("created_at", "updated_at"):
            raise HttpError(400, {"error": "order_by does not have a valid value"})
        sort = query.get("sort", "desc")
        if sort not in ("asc", "desc"):
            raise HttpError(400, {"error": "sort does not have a valid value"})
        items = self.notes(mr.project_id, mr.iid, system=True)
        items.sort(key=lambda n: (getattr(n, order_by), n.id), reverse=sort == "desc")
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        base = f"{self.link_base or self.url}/api/v4{path}"

        def link(p: int, rel: str) -> str:
            params = {k: v for k, v in query.items() if k != "page"}
            params.update({"page": str(p), "per_page": str(per_page)})
            return f'<{base}?{urlencode(params)}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < total_pages:
            links.append(link(page + 1, "next"))
        links.append(link(1, "first"))
        links.append(link(total_pages, "last"))
        headers = {
            "Link": ", ".join(links),
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages),
            "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        return 200, [self._note_json(n) for n in chunk], headers

    # --- answering -------------------------------------------------------------------------

    def _token(self, headers: Mapping[str, str]) -> str | None:
        private = headers.get("PRIVATE-TOKEN")
        if private:
            return private.strip()
        scheme, _, value = headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value:
            return value.strip()
        return None

    def _fault_body(self, status: int) -> Any:
        return {"message": _REASONS.get(status, f"{status} Error")}

    def _answer(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: Any,
        token: str | None,
        bad_json: bool,
    ) -> Answer:
        """Routes on the path after ``/api/v4``, ``%2F`` decoded (faults and gates too)."""
        if not path.startswith("/api/v4/"):
            return 404, {"message": "404 Not found"}, {}
        path = path.removeprefix("/api/v4")
        with self._lock:
            user = self._tokens.get(token) if token is not None else None
        fault = self._intercept(method, unquote(path), user is not None)
        if user is None:
            return 401, {"message": UNAUTHORIZED_MESSAGE}, {}
        if fault is not None:
            if fault.kind != "answer":
                return fault.status, fault, {}
            return fault.status, fault.body, fault.headers
        if bad_json:
            return 400, {"error": "body is not valid JSON"}, {}
        try:
            return self._handle(method, path, query, body, user)
        except HttpError as e:
            payload = e.message if isinstance(e.message, dict) else {"message": e.message}
            return e.status, payload, e.headers


_REASONS = {
    400: "400 Bad request",
    401: UNAUTHORIZED_MESSAGE,
    403: FORBIDDEN_MESSAGE,
    404: "404 Not found",
    429: RATE_LIMIT_MESSAGE,
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Timeout",
}


def _note_text(body: Any) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("body"), str):
        raise HttpError(400, {"error": "body is missing"})
    text: str = body["body"]
    if not text.strip():
        raise HttpError(400, {"message": {"note": ["can't be blank"]}})
    if len(text) > NOTE_LIMIT:
        raise HttpError(
            400, {"message": {"note": [f"is too long (maximum is {NOTE_LIMIT} characters)"]}}
        )
    return text
