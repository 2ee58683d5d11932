"""GitLab's Code Quality report from annotations."""

from __future__ import annotations

from threatdelta.publish.codequality import SEVERITY, code_quality_report
from threatdelta.publish.interface import Annotation


def _a(level: str = "failure", line: int = 3, message: str = "m", title: str = "t") -> Annotation:
    return Annotation("models/pump.yaml", line, line, level, title, message)  # type: ignore[arg-type]


def test_each_annotation_is_a_finding_at_its_file_and_line() -> None:
    (finding,) = code_quality_report([_a(line=12, title="Unaddressed high threat", message="x")])
    assert finding["location"] == {"path": "models/pump.yaml", "lines": {"begin": 12}}
    assert finding["description"] == "Unaddressed high threat: x"
    assert finding["severity"] == "critical" and finding["type"] == "issue"
    assert finding["check_name"] == "threatdelta" and finding["categories"] == ["Security"]


def test_levels_map_to_gitlab_severities() -> None:
    assert [f["severity"] for f in code_quality_report([_a(lv) for lv in SEVERITY])] == [
        "critical",
        "major",
        "info",
    ]


def test_fingerprints_ignore_the_line_and_stay_unique() -> None:
    moved = code_quality_report([_a(line=3)])[0]["fingerprint"]
    assert code_quality_report([_a(line=40)])[0]["fingerprint"] == moved
    twins = code_quality_report([_a(), _a(), _a(message="other")])
    assert len({f["fingerprint"] for f in twins}) == 3
    assert twins[0]["fingerprint"] == moved


def test_line_zero_becomes_the_first_line() -> None:
    assert code_quality_report([_a(line=0)])[0]["location"]["lines"]["begin"] == 1
