"""A stateful fake of the GitHub REST API (and the one GraphQL mutation we use), on 127.0.0.1.

It keeps repositories, pull requests, issue comments, check runs and commit statuses in memory and
answers with JSON shaped like GitHub's, so PyGithub parses it unchanged. Tests drive it through
:class:`FakeGitHub`: seed state, choose tokens (and which may not write), inject faults, make
concurrent requests meet at a gate, and read back the state and the request log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

from tests.fakehttp import Answer, FakeServer, HttpError, stamp

SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
READ_ONLY_MESSAGE = "Resource not accessible by integration"
DOCS = "https://docs.github.com/rest"
MINIMIZE_CLASSIFIERS = ("SPAM", "ABUSE", "OFF_TOPIC", "OUTDATED", "DUPLICATE", "RESOLVED")
ANNOTATION_LEVELS = ("notice", "warning", "failure")
MAX_ANNOTATIONS_PER_REQUEST = 50
MAX_OUTPUT_TEXT = 65535
MAX_COMMENT_BODY = 65536


@dataclass(frozen=True)
class Comment:
    """An issue comment as the fake holds it."""

    id: int
    """GitHub's numeric id (increasing with creation order)."""
    node_id: str
    """The GraphQL global id."""
    repo: str
    """``owner/name``."""
    number: int
    """The issue or pull request number."""
    body: str
    """The markdown body."""
    login: str
    """Who wrote it."""
    created_at: datetime
    """When it was created."""
    updated_at: datetime
    """When it was last changed."""
    minimized: bool = False
    """Whether it was hidden through ``minimizeComment``."""
    minimized_reason: str | None = None
    """The classifier it was hidden with (e.g. ``OUTDATED``)."""


@dataclass
class _Token:
    login: str
    read_only: bool
    user_endpoint: bool


@dataclass
class _Pull:
    repo: str
    number: int
    head_sha: str
    base_sha: str
    head_repo_fork: bool
    id: int


@dataclass
class _Repo:
    full_name: str
    default_branch: str
    id: int
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)


class FakeGitHub(FakeServer):
    """The fake's state and its control surface; :meth:`start` serves it on a free local port."""

    name = "fake-github"
    content_type = "application/json; charset=utf-8"
    answer_headers: Mapping[str, str] = MappingProxyType(
        {"X-GitHub-Media-Type": "github.v3; format=json"}
    )

    def __init__(self, html_base: str = "https://github.com") -> None:
        super().__init__(first_id=1_000_001)
        self.html_base = html_base
        self._repos: dict[str, _Repo] = {}
        self._pulls: dict[tuple[str, int], _Pull] = {}
        self._comments: dict[int, Comment] = {}
        self._tokens: dict[str, _Token] = {}
        self._graphql: list[dict[str, Any]] = []

    # --- seeding ---------------------------------------------------------------------------

    def add_repo(self, full_name: str, default_branch: str = "main") -> None:
        """Create repository ``owner/name``."""
        if full_name.count("/") != 1:
            raise ValueError("full_name must be owner/name")
        with self._lock:
            self._repos[full_name] = _Repo(full_name, default_branch, self._next_id())

    def add_pull(
        self, repo: str, number: int, head_sha: str, base_sha: str, head_repo_fork: bool = False
    ) -> None:
        """Open pull request ``number`` in ``repo`` (which must exist)."""
        with self._lock:
            self._repo(repo)
            self._pulls[(repo, number)] = _Pull(
                repo, number, head_sha, base_sha, head_repo_fork, self._next_id()
            )

    def set_head(self, repo: str, number: int, head_sha: str) -> None:
        """Move a pull request's head, as a push to its branch does."""
        with self._lock:
            self._pulls[(repo, number)].head_sha = head_sha

    def set_login(
        self, token: str, login: str, *, read_only: bool = False, user_endpoint: bool = True
    ) -> None:
        """Accept ``token`` as ``login``.

        ``read_only`` tokens get 403 on every write (like ``GITHUB_TOKEN`` on a fork's pull
        request); ``user_endpoint=False`` makes ``GET /user`` answer 403, as it does for the
        Actions token and other installation tokens.
        """
        with self._lock:
            self._tokens[token] = _Token(login, read_only, user_endpoint)

    def add_comment(self, repo: str, number: int, body: str, login: str) -> Comment:
        """Put a comment on a pull request directly (no request, not logged)."""
        with self._lock:
            return self._create_comment(repo, number, body, login)

    # --- reading state ---------------------------------------------------------------------

    def comments(self, repo: str, number: int) -> list[Comment]:
        """The comments on a pull request, oldest first."""
        with self._lock:
            return sorted(
                (c for c in self._comments.values() if c.repo == repo and c.number == number),
                key=lambda c: c.id,
            )

    def check_runs(self, repo: str) -> list[dict[str, Any]]:
        """The check runs of ``repo`` as stored (each with its accumulated ``annotations``)."""
        with self._lock:
            return json.loads(json.dumps(self._repo(repo).check_runs))  # type: ignore[no-any-return]

    def statuses(self, repo: str) -> list[dict[str, Any]]:
        """The commit statuses posted to ``repo``."""
        with self._lock:
            return json.loads(json.dumps(self._repo(repo).statuses))  # type: ignore[no-any-return]

    @property
    def graphql_requests(self) -> list[dict[str, Any]]:
        """The bodies of the GraphQL requests answered so far."""
        with self._lock:
            return list(self._graphql)

    def clear_requests(self) -> None:
        """Forget the request log (state stays)."""
        with self._lock:
            super().clear_requests()
            self._graphql.clear()

    # --- internals -------------------------------------------------------------------------

    def _repo(self, full_name: str) -> _Repo:
        try:
            return self._repos[full_name]
        except KeyError:
            raise HttpError(404, "Not Found") from None

    def _create_comment(self, repo: str, number: int, body: str, login: str) -> Comment:
        self._repo(repo)
        if (repo, number) not in self._pulls:
            raise HttpError(404, "Not Found")
        cid = self._next_id()
        now = self._now()
        comment = Comment(
            id=cid,
            node_id=f"IC_kwDOFake{cid}",
            repo=repo,
            number=number,
            body=body,
            login=login,
            created_at=now,
            updated_at=now,
        )
        self._comments[cid] = comment
        return comment

    # JSON shapes ---------------------------------------------------------------------------

    def _user_json(self, login: str) -> dict[str, Any]:
        uid = sum(login.encode()) + 10_000
        return {
            "login": login,
            "id": uid,
            "node_id": f"U_kgDOFake{uid}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
            "url": f"{self.url}/users/{login}",
            "html_url": f"{self.html_base}/{login}",
        }

    def _repo_json(self, repo: _Repo, fork: bool = False) -> dict[str, Any]:
        owner, name = repo.full_name.split("/")
        return {
            "id": repo.id,
            "node_id": f"R_kgDOFake{repo.id}",
            "name": name,
            "full_name": repo.full_name,
            "owner": self._user_json(owner),
            "private": False,
            "fork": fork,
            "default_branch": repo.default_branch,
            "url": f"{self.url}/repos/{repo.full_name}",
            "html_url": f"{self.html_base}/{repo.full_name}",
        }

    def _pull_json(self, pull: _Pull) -> dict[str, Any]:
        repo = self._repos[pull.repo]
        api = f"{self.url}/repos/{pull.repo}"
        return {
            "id": pull.id,
            "node_id": f"PR_kwDOFake{pull.id}",
            "number": pull.number,
            "state": "open",
            "title": f"Pull request {pull.number}",
            "url": f"{api}/pulls/{pull.number}",
            "html_url": f"{self.html_base}/{pull.repo}/pull/{pull.number}",
            "issue_url": f"{api}/issues/{pull.number}",
            "comments_url": f"{api}/issues/{pull.number}/comments",
            "statuses_url": f"{api}/statuses/{pull.head_sha}",
            "user": self._user_json("author"),
            "head": {
                "label": f"author:topic-{pull.number}",
                "ref": f"topic-{pull.number}",
                "sha": pull.head_sha,
                "repo": self._repo_json(repo, fork=pull.head_repo_fork),
            },
            "base": {
                "label": f"{pull.repo.split('/')[0]}:{repo.default_branch}",
                "ref": repo.default_branch,
                "sha": pull.base_sha,
                "repo": self._repo_json(repo),
            },
        }

    def _comment_json(self, c: Comment) -> dict[str, Any]:
        api = f"{self.url}/repos/{c.repo}"
        return {
            "id": c.id,
            "node_id": c.node_id,
            "url": f"{api}/issues/comments/{c.id}",
            "html_url": f"{self.html_base}/{c.repo}/pull/{c.number}#issuecomment-{c.id}",
            "issue_url": f"{api}/issues/{c.number}",
            "body": c.body,
            "user": self._user_json(c.login),
            "created_at": stamp(c.created_at),
            "updated_at": stamp(c.updated_at),
            "author_association": "NONE",
        }

    def _check_run_json(self, repo: str, run: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo}"
        out = {k: v for k, v in run.items() if k != "annotations"}
        out["url"] = f"{api}/check-runs/{run['id']}"
        out["html_url"] = f"{self.html_base}/{repo}/runs/{run['id']}"
        out["output"] = dict(run["output"])
        out["output"]["annotations_count"] = len(run["annotations"])
        out["output"]["annotations_url"] = f"{api}/check-runs/{run['id']}/annotations"
        return out

    # request handling ----------------------------------------------------------------------

    def _handle(
        self, method: str, path: str, query: Mapping[str, str], body: Any, token: _Token
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            if method == "GET" and path == "/user":
                if not token.user_endpoint:
                    raise HttpError(403, READ_ONLY_MESSAGE)
                return 200, self._user_json(token.login), {}
            if method == "POST" and path == "/graphql":
                return self._graphql_request(body, token)
            m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
            if not m:
                raise HttpError(404, "Not Found")
            repo = self._repo(m.group(1))
            rest = m.group(2) or ""
            if method not in ("GET", "HEAD") and token.read_only:
                raise HttpError(403, READ_ONLY_MESSAGE)
            return self._repo_request(method, repo, rest, query, body, token)

    def _repo_request(
        self,
        method: str,
        repo: _Repo,
        rest: str,
        query: Mapping[str, str],
        body: Any,
        token: _Token,
    ) -> tuple[int, Any, dict[str, str]]:
        name = repo.full_name
        if rest == "" and method == "GET":
            return 200, self._repo_json(repo), {}
        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            pull = self._pulls.get((name, int(m.group(1))))
            if pull is None or method != "GET":
                raise HttpError(404, "Not Found")
            return 200, self._pull_json(pull), {}
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(m.group(1))
            if (name, number) not in self._pulls:
                raise HttpError(404, "Not Found")
            if method == "GET":
                return self._list_comments(name, number, query)
            if method == "POST":
                text = _require_str(body, "body")
                if len(text) > MAX_COMMENT_BODY:
                    raise HttpError(
                        422, "Validation Failed: body is too long (maximum is 65536 characters)"
                    )
                return (
                    201,
                    self._comment_json(self._create_comment(name, number, text, token.login)),
                    {},
                )
            raise HttpError(404, "Not Found")
        if m := re.fullmatch(r"/issues/comments/(\d+)", rest):
            comment = self._comments.get(int(m.group(1)))
            if comment is None or comment.repo != name:
                raise HttpError(404, "Not Found")
            if method == "GET":
                return 200, self._comment_json(comment), {}
            if method == "PATCH":
                text = _require_str(body, "body")
                if len(text) > MAX_COMMENT_BODY:
                    raise HttpError(
                        422, "Validation Failed: body is too long (maximum is 65536 characters)"
                    )
                updated = replace(comment, body=text, updated_at=self._now())
                self._comments[comment.id] = updated
                return 200, self._comment_json(updated), {}
            if method == "DELETE":
                del self._comments[comment.id]
                return 204, None, {}
            raise HttpError(404, "Not Found")
        if rest == "/check-runs" and method == "POST":
            return self._create_check_run(repo, body)
        if m := re.fullmatch(r"/check-runs/(\d+)", rest):
            run = next((r for r in repo.check_runs if r["id"] == int(m.group(1))), None)
            if run is None:
                raise HttpError(404, "Not Found")
            if method == "GET":
                return 200, self._check_run_json(name, run), {}
            if method == "PATCH":
                return self._update_check_run(repo, run, body)
            raise HttpError(404, "Not Found")
        if (m := re.fullmatch(r"/statuses/([0-9a-fA-F]+)", rest)) and method == "POST":
            state = _require_str(body, "state")
            if state not in ("error", "failure", "pending", "success"):
                raise HttpError(422, "Validation Failed: state is not included in the list")
            sid = self._next_id()
            status = {
                "id": sid,
                "node_id": f"SC_kwDOFake{sid}",
                "url": f"{self.url}/repos/{name}/statuses/{m.group(1)}",
                "sha": m.group(1),
                "state": state,
                "description": body.get("description"),
                "target_url": body.get("target_url"),
                "context": body.get("context", "default"),
                "creator": self._user_json(token.login),
                "created_at": stamp(self._now()),
                "updated_at": stamp(self._now()),
            }
            repo.statuses.append(status)
            return 201, {k: v for k, v in status.items() if k != "sha"}, {}
        raise HttpError(404, "Not Found")

    def _list_comments(
        self, repo: str, number: int, query: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            per_page = min(100, max(1, int(query.get("per_page", "30"))))
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            raise HttpError(422, "Validation Failed: per_page and page must be numbers") from None
        items = self.comments(repo, number)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        base = f"{self.url}/repos/{repo}/issues/{number}/comments"

        def link(p: int, rel: str) -> str:
            return f'<{base}?{urlencode({"per_page": per_page, "page": p})}>; rel="{rel}"'

        links = []
        if page > 1:
            links.append(link(min(page - 1, last), "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, [self._comment_json(c) for c in chunk], headers

    def _check_output(self, output: Any, *, require: bool) -> list[dict[str, Any]]:
        if output is None:
            if require:
                raise HttpError(422, "Validation Failed: output is missing")
            return []
        if not isinstance(output, dict):
            raise HttpError(422, "Validation Failed: output must be an object")
        for key in ("title", "summary"):
            value = output.get(key)
            if not isinstance(value, str):
                raise HttpError(422, f"Validation Failed: output.{key} is missing")
            if len(value) > MAX_OUTPUT_TEXT:
                raise HttpError(
                    422,
                    f"Invalid request.\n\nOnly {MAX_OUTPUT_TEXT} characters are allowed; "
                    f"{len(value)} were supplied.",
                )
        annotations = output.get("annotations", [])
        if not isinstance(annotations, list):
            raise HttpError(422, "Validation Failed: annotations must be a list")
        if len(annotations) > MAX_ANNOTATIONS_PER_REQUEST:
            raise HttpError(
                422, "Validation Failed: too many annotations (maximum is 50 per request)"
            )
        for a in annotations:
            if not isinstance(a, dict):
                raise HttpError(422, "Validation Failed: an annotation must be an object")
            for key in ("path", "message"):
                if not isinstance(a.get(key), str):
                    raise HttpError(422, f"Validation Failed: annotation {key} is missing")
            for key in ("start_line", "end_line"):
                if not isinstance(a.get(key), int) or a[key] < 1:
                    raise HttpError(422, f"Validation Failed: annotation {key} is missing")
            if a.get("annotation_level") not in ANNOTATION_LEVELS:
                raise HttpError(422, "Validation Failed: annotation_level is not valid")
        return annotations

    def _create_check_run(self, repo: _Repo, body: Any) -> tuple[int, Any, dict[str, str]]:
        name = _require_str(body, "name")
        head_sha = _require_str(body, "head_sha")
        annotations = self._check_output(body.get("output"), require=False)
        rid = self._next_id()
        status = body.get("status", "queued")
        conclusion = body.get("conclusion")
        if status == "completed" and conclusion is None:
            raise HttpError(
                422, "Validation Failed: conclusion is required when status is completed"
            )
        output = body.get("output") or {"title": None, "summary": None}
        run = {
            "id": rid,
            "node_id": f"CR_kwDOFake{rid}",
            "head_sha": head_sha,
            "name": name,
            "status": status,
            "conclusion": conclusion,
            "started_at": stamp(self._now()),
            "completed_at": stamp(self._now()) if status == "completed" else None,
            "details_url": body.get("details_url"),
            "external_id": body.get("external_id"),
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
            },
            "check_suite": {"id": rid + 1},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "pull_requests": [],
            "annotations": list(annotations),
            "requests": 1,
        }
        repo.check_runs.append(run)
        return 201, self._check_run_json(repo.full_name, run), {}

    def _update_check_run(
        self, repo: _Repo, run: dict[str, Any], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict):
            raise HttpError(400, "Problems parsing JSON")
        if "output" in body:
            annotations = self._check_output(body["output"], require=True)
            run["output"] = {
                "title": body["output"]["title"],
                "summary": body["output"]["summary"],
                "text": body["output"].get("text"),
            }
            run["annotations"].extend(annotations)
        for key in ("name", "status", "conclusion", "details_url", "external_id"):
            if key in body:
                run[key] = body[key]
        run["requests"] += 1
        return 200, self._check_run_json(repo.full_name, run), {}

    def _graphql_request(self, body: Any, token: _Token) -> tuple[int, Any, dict[str, str]]:
        self._graphql.append(body if isinstance(body, dict) else {"raw": body})
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise HttpError(400, "Problems parsing JSON")
        query = body["query"]
        if not re.search(r"\bmutation\b", query) or "minimizeComment" not in query:
            return 200, {"errors": [{"message": "the fake serves only minimizeComment"}]}, {}
        variables = body.get("variables") or {}
        params = variables.get("input", {})
        if token.read_only:
            return (
                200,
                {
                    "data": {"minimizeComment": None},
                    "errors": [
                        {
                            "type": "FORBIDDEN",
                            "path": ["minimizeComment"],
                            "message": READ_ONLY_MESSAGE,
                        }
                    ],
                },
                {},
            )
        classifier = params.get("classifier")
        if classifier not in MINIMIZE_CLASSIFIERS:
            return (
                200,
                {
                    "errors": [
                        {"message": f"Argument 'classifier' has an invalid value ({classifier})."}
                    ]
                },
                {},
            )
        subject = params.get("subjectId")
        comment = next((c for c in self._comments.values() if c.node_id == subject), None)
        if comment is None:
            return (
                200,
                {
                    "data": {"minimizeComment": None},
                    "errors": [
                        {
                            "type": "NOT_FOUND",
                            "path": ["minimizeComment"],
                            "message": f"Could not resolve to a node with the global id of "
                            f"'{subject}'",
                        }
                    ],
                },
                {},
            )
        self._comments[comment.id] = replace(comment, minimized=True, minimized_reason=classifier)
        return (
            200,
            {
                "data": {
                    "minimizeComment": {
                        "minimizedComment": {
                            "isMinimized": True,
                            "minimizedReason": classifier.lower(),
                        }
                    }
                }
            },
            {},
        )

    # --- answering -------------------------------------------------------------------------

    def _token(self, headers: Mapping[str, str]) -> str | None:
        scheme, _, value = headers.get("Authorization", "").partition(" ")
        if scheme.lower() in ("token", "bearer") and value:
            return value.strip()
        return None

    def _fault_body(self, status: int) -> Any:
        return {"message": _REASONS.get(status, "Error"), "documentation_url": DOCS}

    def _answer(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        body: Any,
        token: str | None,
        bad_json: bool,
    ) -> Answer:
        with self._lock:
            known = self._tokens.get(token) if token is not None else None
        fault = self._intercept(method, path, known is not None)
        if fault is not None:
            if fault.kind != "answer":
                return fault.status, fault, {}
            return fault.status, fault.body, fault.headers
        if known is None:
            return (
                401,
                {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"},
                {},
            )
        if bad_json:
            return 400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, {}
        try:
            return self._handle(method, path, query, body, known)
        except HttpError as e:
            return (
                e.status,
                {"message": e.message, "documentation_url": DOCS, "status": str(e.status)},
                e.headers,
            )


_REASONS = {
    400: "Bad Request",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _require_str(body: Any, key: str) -> str:
    if not isinstance(body, dict):
        raise HttpError(400, "Problems parsing JSON")
    value = body.get(key)
    if not isinstance(value, str):
        raise HttpError(422, f"Validation Failed: {key} is missing or not a string")
    return value
