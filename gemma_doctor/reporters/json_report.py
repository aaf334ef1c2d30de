"""The JSON report, a versioned contract (version 1, minor 1: each finding names its run). See docs/json-report.md."""

from __future__ import annotations

import json


def render(report) -> str:
    document = {
        "version": 1,
        "minor": 1,
        "findings": [finding.to_json() for finding in report.findings],
        "errors": [problem.to_json() for problem in report.errors],
        "summary": {"files": report.files, **report.counts()},
    }
    return json.dumps(document, indent=2) + "\n"
