"""A JUnit XML report from annotations, for CI systems that show test results (GitLab's merge-request
test summary, Jenkins, Azure Pipelines).

Each finding that blocks or warns is a failed test case named after its headline, in a class named
after the model file; new threats already addressed are passing cases; a review without findings
is one passing case, and a run that could not review is one case in error. Pure: the caller writes
the file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from threatdelta.publish.interface import Annotation

FILE_NAME = "threatdelta-junit.xml"
"""The report's file name in the job's artifacts."""

SUITE = "threatdelta"
"""The test suite's name."""


def junit_report(annotations: Iterable[Annotation], error: str | None = None) -> str:
    """The XML document; ``error`` (a run that could not review) makes it one erroring case."""
    suite = ET.Element("testsuite", name=SUITE)
    failures = errors = 0
    cases = 0
    if error is not None:
        case = ET.SubElement(suite, "testcase", classname=SUITE, name="threat model review")
        ET.SubElement(
            case, "error", message=error.splitlines()[0][:500] if error else ""
        ).text = error
        errors, cases = 1, 1
    else:
        for a in annotations:
            title = a.title or a.message
            case = ET.SubElement(
                suite, "testcase", classname=a.path, name=f"{title} (line {max(1, a.start_line)})"
            )
            cases += 1
            if a.level == "notice":
                ET.SubElement(case, "system-out").text = a.message
                continue
            ET.SubElement(case, "failure", message=title, type=a.level).text = a.message
            failures += 1
        if cases == 0:
            ET.SubElement(suite, "testcase", classname=SUITE, name="threat model review")
            cases = 1
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
