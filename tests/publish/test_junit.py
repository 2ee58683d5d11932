"""The JUnit report from annotations."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from threatdelta.publish.interface import Annotation
from threatdelta.publish.junit import junit_report


def _a(level: str, title: str, line: int = 4) -> Annotation:
    return Annotation("models/pump.yaml", line, line, level, title, f"{title} <&> message")  # type: ignore[arg-type]


def test_findings_are_failed_cases_and_addressed_new_threats_pass() -> None:
    xml = junit_report(
        [
            _a("failure", "Unaddressed high threat"),
            _a("warning", "Low"),
            _a("notice", "New, mitigated"),
        ]
    )
    suite = ET.fromstring(xml).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == ["models/pump.yaml"] * 3
    assert cases[0].get("name") == "Unaddressed high threat (line 4)"
    failure = cases[0].find("failure")
    assert failure is not None and failure.text == "Unaddressed high threat <&> message"
    assert cases[2].find("failure") is None


def test_no_findings_is_one_passing_case_and_an_error_one_erroring_case() -> None:
    clean = ET.fromstring(junit_report([])).find("testsuite")
    assert clean is not None and clean.get("tests") == "1" and clean.get("failures") == "0"
    broken = ET.fromstring(junit_report([], error="could not review")).find("testsuite")
    assert broken is not None and broken.get("errors") == "1"
    error = broken.find("testcase/error")
    assert error is not None and error.get("message") == "could not review"
