"""The JSON report, a versioned contract (version 1; minor 1: each finding names its run; minor 2: the summary
counts the runs not judged, whose GD902 findings it leaves out of the severity counts; minor 3: with --trace,
each finding's trace). See docs/json-report.md."""

from __future__ import annotations

import json


def render(report) -> str:
    document = {
        "version": 1,
        "minor": 3,
        "findings": [finding.to_json() for finding in report.findings],
        "errors": [problem.to_json() for problem in report.errors],
        "summary": {"files": report.files, **report.counts(), "not_judged": report.not_judged},
    }
    return json.dumps(document, indent=2) + "\n"
