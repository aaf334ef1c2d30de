"""The JSON report, a versioned contract (version 1; minor 1: each finding names its run; minor 2: the summary
counts the runs not judged, whose GD902 findings it leaves out of the severity counts; minor 3: with --trace,
each finding's trace; minor 4: the files partly read, and the summary's counts of what was not looked at
or was taken out). See docs/json-report.md."""

from __future__ import annotations

import json

from gemma_doctor.reporters import valid_unicode


def render(report) -> str:
    document = {
        "version": 1,
        "minor": 4,
        "findings": [finding.to_json() for finding in report.findings],
        "errors": [problem.to_json() for problem in report.errors],
        "partly_read": [problem.to_json() for problem in report.partly_read],
        "summary": {
            "files": report.files,
            **report.counts(),
            "not_judged": report.not_judged,
            "context_files": report.context_files,
            "partly_read": len(report.partly_read),
            "unreadable": len(report.errors),
            "suppressed": report.suppressed,
            "baselined": report.baselined,
        },
    }
    return json.dumps(_valid(document), indent=2) + "\n"


def _valid(value):
    """Every string of the document as valid Unicode (a non-UTF-8 file name otherwise gives lone surrogates)."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, dict):
        return {key: _valid(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_valid(item) for item in value]
    return value
