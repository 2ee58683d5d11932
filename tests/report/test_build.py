"""The report of one revision: evidence checked at that revision, broken links flagged."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.history.gitrepo import GitRepo, pump

from threatdelta.errors import InputError
from threatdelta.git import Repo
from threatdelta.report.build import Report, build_report
from threatdelta.rules.pack import RulePack


def _verdicts(report: Report) -> dict[str, str]:
    return {r.key: r.verdict for r in report.rows}


def test_head_flags_the_deleted_login_tests(scripted_repo: Repo, pack: RulePack) -> None:
    report = build_report(scripted_repo, "models/pump.yaml", pack=pack)
    assert report.revision == scripted_repo.resolve("HEAD")
    assert report.revision_date == dt.date(2025, 3, 15)
    assert report.today == report.revision_date
    assert report.revision_subject == "Login back, acceptance renewed, TLS tests"
    assert _verdicts(report) == {
        "sniff@f1": "verified",
        "spoof@admin": "open",
        "spoof@user": "evidence-missing",
        "tamper@ctrl": "justified",
    }
    assert report.broken_evidence == 1
    auth = next(c for c in report.controls if c.id == "auth")
    assert [(e.text, e.exists) for e in auth.evidence] == [("tests/test_auth.py", False)]
    assert [(r.key, r.expiry) for r in report.residual] == [("tamper@ctrl", "valid")]
    assert report.counts["total"] == 4 and report.counts["unaddressed"] == 1
    assert {n.id for n in report.diagram.nodes} == {"user", "ctrl", "admin", "db"}


def test_an_older_revision_is_judged_by_its_own_files_and_date(
    scripted_repo: Repo, pack: RulePack
) -> None:
    v2 = build_report(scripted_repo, "models/pump.yaml", rev="v2.0", pack=pack)
    assert _verdicts(v2)["sniff@f1"] == "evidence-missing"  # tests/test_tls.py came later
    assert _verdicts(v2)["tamper@ctrl"] == "not-addressed"  # expired 2025-03-01
    assert [(r.key, r.expiry) for r in v2.residual] == [("tamper@ctrl", "expired")]
    v1 = build_report(scripted_repo, "model.yaml", rev="v1.0", pack=pack)
    assert v1.broken_evidence == 0
    assert _verdicts(v1)["spoof@user"] == "verified"
    assert [(r.key, r.expiry) for r in v1.residual] == [("tamper@ctrl", "expiring")]


def test_today_overrides_the_commit_date(scripted_repo: Repo, pack: RulePack) -> None:
    report = build_report(scripted_repo, "models/pump.yaml", pack=pack, today=dt.date(2026, 2, 1))
    assert report.today == dt.date(2026, 2, 1)
    assert _verdicts(report)["tamper@ctrl"] == "not-addressed"


def test_errors_say_where(scripted_repo: Repo, pack: RulePack) -> None:
    with pytest.raises(InputError, match="does not exist at HEAD"):
        build_report(scripted_repo, "model.yaml", pack=pack)
    with pytest.raises(InputError, match="unknown revision"):
        build_report(scripted_repo, "models/pump.yaml", rev="nope", pack=pack)


def test_evidence_relative_to_the_model_folder(git_repo: GitRepo, pack: RulePack) -> None:
    control = {
        "id": "c",
        "name": "C",
        "status": "verified",
        "evidence": ["proof/a.md", "tests/t.py", "PT-9#F-1"],
    }
    git_repo.write_model(
        "models/m.yaml",
        pump(
            controls=[control], threats={"spoof@user": {"status": "mitigated", "controls": ["c"]}}
        ),
    )
    git_repo.write("models/proof/a.md", "a\n")
    git_repo.write("tests/t.py", "t\n")
    git_repo.commit("one", "2025-01-01")
    report = build_report(Repo(git_repo.root), "models/m.yaml", pack=pack)
    (trace,) = report.controls
    assert [(e.text, e.exists) for e in trace.evidence] == [
        ("proof/a.md", True),
        ("tests/t.py", True),
        ("PT-9#F-1", None),
    ]
    assert report.broken_evidence == 0


def test_the_report_lists_threats_designed_out_with_their_control(tmp_path) -> None:
    from tests.review.conftest import GitRepo as ScratchRepo
    from tests.test_exclusions import MODEL

    from threatdelta.report.render import render_report

    scratch = ScratchRepo(tmp_path / "r")
    scratch.write("threatmodel.yaml", MODEL)
    scratch.write("evidence/tls.md", "verified\n")
    scratch.commit()
    report = build_report(Repo(scratch.root), "threatmodel.yaml")
    keys = {e.key: e for e in report.excluded}
    assert keys["crossing-sniffing@comms>telemetry>gateway"].text == "excluded by encrypted: true"
    markdown = render_report(report, "markdown")
    section = markdown.split("### Threats designed out", 1)[1]
    assert "encrypted: true" in section and "`tls` (verified)" in section
    assert "`evidence/tls.md`" in section
    html = render_report(report, "html")
    assert "5. Threats designed out" in html and "<code>tls</code> (verified)" in html
