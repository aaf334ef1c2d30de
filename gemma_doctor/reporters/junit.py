"""JUnit XML: one test case per finding (failure for errors, skipped-style for others), so CI
dashboards that read JUnit show gemma-doctor next to the unit tests."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from gemma_doctor.reporters import printable as P


def render(report) -> str:
    failing = [f for f in report.findings if f.severity == "error"]
    suites = ET.Element("testsuites", name="gemma-doctor")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="gemma-doctor check",
        tests=str(max(len(report.findings) + len(report.errors) + len(report.partly_read), 1)),
        failures=str(len(failing)),
        errors=str(len(report.errors)),
        skipped="0",
    )
    for finding in report.findings:
        where = P(finding.location.display())
        case = ET.SubElement(
            suite,
            "testcase",
            classname=P(finding.location.path or "environment"),
            name=f"{finding.rule} {finding.name} at {where}",
        )
        text = P(finding.message) + (f"\nFix ({finding.fix.safety}): {P(finding.fix.title)}" if finding.fix else "")
        if finding.severity == "error":
            ET.SubElement(case, "failure", message=P(finding.message[:200]), type=finding.rule).text = text
        else:
            ET.SubElement(case, "system-out").text = f"[{finding.severity}] {text}"
    for problem in report.errors:
        case = ET.SubElement(
            suite, "testcase", classname=P(problem.path or "input"), name=f"read {P(problem.path or '')}"
        )
        ET.SubElement(case, "error", message=P(problem.message), type="input-error").text = P(problem.message)
    for problem in report.partly_read:
        case = ET.SubElement(
            suite, "testcase", classname=P(problem.path or "input"), name=f"read {P(problem.path or '')}"
        )
        ET.SubElement(case, "system-out").text = f"[warning] partly read: {P(problem.message)}"
    if not report.findings and not report.errors:
        ET.SubElement(suite, "testcase", classname="gemma-doctor", name="no problems")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
