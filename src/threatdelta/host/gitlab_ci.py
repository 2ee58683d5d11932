"""GitLab CI as a host: the merge request from GitLab's predefined variables, the job's report
files (Code Quality, JUnit, dotenv, markdown, JSON), findings in the job log, and the GitLab publisher.

This module loads python-gitlab (through the publisher), so only the ``gitlab`` command imports
it, and only when it runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from threatdelta.action.log import StepLog
from threatdelta.action.summary import publication_notes, pull_request_summary
from threatdelta.errors import InputError
from threatdelta.host.interface import ChangeRequest, Outcome
from threatdelta.publish.codequality import FILE_NAME as CODE_QUALITY_FILE
from threatdelta.publish.codequality import code_quality_report
from threatdelta.publish.deadline import PublishLimits
from threatdelta.publish.gitlab import NOTE_LIMIT, REPORT_ARTIFACT, GitLabPublisher
from threatdelta.publish.interface import Annotation, Publisher, PublishResult
from threatdelta.publish.junit import FILE_NAME as JUNIT_FILE
from threatdelta.publish.junit import junit_report
from threatdelta.publish.retry import scaled_sleep

TOKEN_VARIABLE = "THREATDELTA_GITLAB_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""Where the token for notes is read from."""

MARKDOWN_FILE = REPORT_ARTIFACT
"""The full report, for the job's artifacts."""
JSON_FILE = "threatdelta-report.json"
"""The JSON report, for the job's artifacts."""
DOTENV_FILE = "threatdelta.env"
"""The counts, as a dotenv report later jobs can read as variables."""

DOTENV_NAMES = (
    "THREATDELTA_VERDICT",
    "THREATDELTA_NEW_THREATS",
    "THREATDELTA_UNADDRESSED",
    "THREATDELTA_NOTE_URL",
)
"""The variables in :data:`DOTENV_FILE`, in the order they are written."""

LOGGED_FINDINGS = 50
"""At most this many findings are listed in the job log (the Code Quality report has all)."""

_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_PROJECT = re.compile(r"[0-9]+|[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+")
_DOTENV_VALUE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True)
class GitLabEnv:
    """What GitLab CI tells a merge-request pipeline's job through predefined variables."""

    api_url: str
    """``CI_API_V4_URL`` (else ``CI_SERVER_URL`` + ``/api/v4``)."""
    project_id: str
    """The merge request's project: ``CI_MERGE_REQUEST_PROJECT_ID``, else ``CI_PROJECT_ID``."""
    iid: int
    """``CI_MERGE_REQUEST_IID``: the merge request's number in its project."""
    base_sha: str
    """``CI_MERGE_REQUEST_DIFF_BASE_SHA``: where the merge request's diff starts."""
    head_sha: str
    """The merge request's head: ``CI_MERGE_REQUEST_SOURCE_BRANCH_SHA`` in merged-results
    pipelines (where ``CI_COMMIT_SHA`` is a merge commit made for testing), else
    ``CI_COMMIT_SHA``."""
    project_dir: str | None
    """``CI_PROJECT_DIR``: the checkout, where artifacts must be written."""
    token: str = field(repr=False)
    """``THREATDELTA_GITLAB_TOKEN`` (empty when not set); never printed."""
    job_token_only: bool = False
    """Whether only ``CI_JOB_TOKEN`` is there (it cannot write notes)."""
    ca_file: str | None = None
    """``CI_SERVER_TLS_CA_FILE``: the certificate authority of a self-managed instance, which the
    runner writes to a file when the instance uses its own."""


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _sha(environ: Mapping[str, str], name: str) -> str:
    value = (_get(environ, name) or "").lower()
    if not value:
        raise InputError(f"{name} is not set: GitLab sets it in merge-request pipelines")
    if not _SHA.fullmatch(value):
        raise InputError(f"{name} is not a commit SHA: '{value[:80]}'")
    return value


def read_gitlab_env(environ: Mapping[str, str]) -> GitLabEnv:
    """The merge request this job runs for; an error naming the fix when there is none."""
    iid_text = _get(environ, "CI_MERGE_REQUEST_IID")
    if iid_text is None:
        raise InputError(
            "CI_MERGE_REQUEST_IID is not set: 'threatdelta gitlab' runs in a merge-request "
            "pipeline (give the job 'rules: [{if: $CI_PIPELINE_SOURCE == \"merge_request_event\"}]'"
            " or include templates/threatdelta.gitlab-ci.yml); elsewhere run "
            "'threatdelta review --base REV --head REV'"
        )
    if not iid_text.isdigit() or int(iid_text) <= 0:
        raise InputError(f"CI_MERGE_REQUEST_IID must be a positive number, not '{iid_text[:40]}'")
    api_url = _get(environ, "CI_API_V4_URL")
    if api_url is None:
        server = _get(environ, "CI_SERVER_URL")
        if server is None:
            raise InputError("neither CI_API_V4_URL nor CI_SERVER_URL is set")
        api_url = server.rstrip("/") + "/api/v4"
    api_url = api_url.rstrip("/")
    if not api_url.startswith(("https://", "http://")):
        raise InputError(
            f"CI_API_V4_URL must be an http(s) address ending in /api/v4, not '{api_url[:100]}'"
        )
    project = _get(environ, "CI_MERGE_REQUEST_PROJECT_ID") or _get(environ, "CI_PROJECT_ID")
    if project is None:
        raise InputError("CI_PROJECT_ID is not set: GitLab sets it in every job")
    if not _PROJECT.fullmatch(project):
        raise InputError(f"the project id must be a number or group/name, not '{project[:100]}'")
    head_name = (
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"
        if _get(environ, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
        else "CI_COMMIT_SHA"
    )
    token = _get(environ, TOKEN_VARIABLE) or ""
    return GitLabEnv(
        api_url=api_url,
        project_id=project,
        iid=int(iid_text),
        base_sha=_sha(environ, "CI_MERGE_REQUEST_DIFF_BASE_SHA"),
        head_sha=_sha(environ, head_name),
        project_dir=_get(environ, "CI_PROJECT_DIR"),
        token=token,
        job_token_only=not token and _get(environ, "CI_JOB_TOKEN") is not None,
        ca_file=_get(environ, "CI_SERVER_TLS_CA_FILE"),
    )


def change_request(env: GitLabEnv) -> ChangeRequest:
    """The merge request, judged by the settings at its base (the target branch's side)."""
    return ChangeRequest(
        kind="merge request",
        reference=f"!{env.iid}",
        base_sha=env.base_sha,
        head_sha=env.head_sha,
    )


def dotenv(values: Mapping[str, str]) -> str:
    """``NAME=value`` lines; values are made one printable ASCII line (GitLab's dotenv rules)."""
    return "".join(
        f"{name}={_DOTENV_VALUE.sub('', value)[:2000]}\n" for name, value in values.items()
    )


def _finding_line(a: Annotation) -> str:
    level = {"failure": "error", "warning": "warning", "notice": "notice"}[a.level]
    title = f"{a.title}: " if a.title else ""
    return f"{a.path}:{max(1, a.start_line)}: {level}: {title}{a.message}"


@dataclass
class GitLabCI:
    """One ``threatdelta gitlab`` run on a merge request."""

    env: GitLabEnv | None
    """The merge request's variables, once read."""
    log: StepLog
    """The job's log."""
    reports_dir: Path
    """Where the report files go (the project directory, so ``artifacts:`` can collect them)."""
    report_file: str | None = None
    """The ``--report`` option (the JSON report's path)."""
    scale: float = 1.0
    """Multiplies every wait before a retry."""
    limits: PublishLimits = field(default_factory=PublishLimits)
    """Timeouts and the overall budget for the GitLab requests."""
    _dotenv: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return "GitLab"

    @property
    def comment_limit(self) -> int:
        return NOTE_LIMIT - 1_000  # room for the hidden markers

    @property
    def full_report_at(self) -> str:
        return f"the job's {MARKDOWN_FILE} artifact"

    def checkout_help(self, change: ChangeRequest | None) -> str:
        return (
            'fetch the whole history in the job (variables: GIT_DEPTH: "0", as '
            "templates/threatdelta.gitlab-ci.yml sets it) so that it is there"
        )

    def report_path(self, comment_name: str) -> Path:
        return Path(self.report_file) if self.report_file else self.reports_dir / JSON_FILE

    def publisher(self) -> Publisher | None:
        env = self.env
        if env is None:
            return None
        if not env.token:
            why = (
                "CI_JOB_TOKEN is there, but it cannot write merge-request notes"
                if env.job_token_only
                else "CI_JOB_TOKEN could not write merge-request notes either"
            )
            self.log.warning(
                f"no {TOKEN_VARIABLE}: nothing is posted on the merge request ({why}); set "
                f"{TOKEN_VARIABLE} to a project or group access token with the 'api' scope and "
                "at least the Reporter role, as a masked CI/CD variable. The job log, the reports "
                "and the exit code still carry the verdict"
            )
            return None
        scale = self.scale
        return GitLabPublisher(
            api_url=env.api_url,
            token=env.token,
            project_id=env.project_id,
            iid=env.iid,
            log=self.log.info,
            sleep=scaled_sleep(scale),
            limits=self.limits,
            ca_file=env.ca_file,
        )

    def show_annotations(self, annotations: tuple[Annotation, ...]) -> None:
        for a in annotations[:LOGGED_FINDINGS]:
            self.log.info(_finding_line(a))
        if len(annotations) > LOGGED_FINDINGS:
            self.log.info(
                f"{len(annotations) - LOGGED_FINDINGS} more findings are in {CODE_QUALITY_FILE}"
            )

    def deliver(self, outcome: Outcome) -> None:
        self._write(
            CODE_QUALITY_FILE,
            json.dumps(code_quality_report(outcome.annotations), indent=2, ensure_ascii=False)
            + "\n",
        )
        error = outcome.verdict == "error"
        self._write(
            JUNIT_FILE,
            junit_report(
                outcome.annotations,
                error=(
                    f"threatdelta could not review this merge request: the job log and "
                    f"{MARKDOWN_FILE} say why"
                    if error
                    else None
                ),
            ),
        )
        counts = ("", "") if error else (str(outcome.new), str(outcome.unaddressed))
        values = (outcome.verdict, *counts, outcome.comment_url)
        self._dotenv = dict(zip(DOTENV_NAMES, values, strict=True))
        self._write(DOTENV_FILE, dotenv(self._dotenv))
        self._write(MARKDOWN_FILE, pull_request_summary(outcome.report, None, outcome.notes))

    def record_publication(self, published: PublishResult) -> None:
        if published.messages:
            self._append(MARKDOWN_FILE, publication_notes(published.messages))
        if published.comment_url and self._dotenv:
            self._dotenv["THREATDELTA_NOTE_URL"] = published.comment_url
            self._write(DOTENV_FILE, dotenv(self._dotenv))

    def _append(self, name: str, text: str) -> None:
        path = self.reports_dir / name
        try:
            with path.open("a", encoding="utf-8") as f:
                f.write(text)
        except OSError as error:
            self.log.warning(f"could not write {path}: {error.strerror or error}")

    def _write(self, name: str, text: str) -> None:
        path = self.reports_dir / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self.log.warning(f"could not write {path}: {error.strerror or error}")
