"""SARIF 2.1.0 for GitHub code scanning: rule metadata with help text and helpUri,
results with physicalLocation regions and stable partialFingerprints."""

from __future__ import annotations

import json

from gemma_doctor.fingerprints import assign
from gemma_doctor.knowledge import catalogue
from gemma_doctor.reporters import uri

_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def render(report, version: str) -> str:
    docs = catalogue()
    assign(report.findings)
    used = sorted({f.rule for f in report.findings} | set(docs))
    index = {rule_id: number for number, rule_id in enumerate(used)}
    rules = []
    for rule_id in used:
        doc = docs[rule_id].raw
        rules.append(
            {
                "id": rule_id,
                "name": doc["name"],
                "shortDescription": {"text": doc["summary"].strip()},
                "fullDescription": {"text": doc["what_it_does"].strip()},
                "help": {
                    "text": f"{doc['why'].strip()}\n\nFix: {doc['fix'].strip()}",
                    "markdown": f"**Why is this bad?** {doc['why'].strip()}\n\n**Fix:** {doc['fix'].strip()}",
                },
                "defaultConfiguration": {"level": _LEVELS[doc["severity"]]},
                "properties": {"fixSafety": doc.get("fix_safety", "none"), "tags": ["gemma", "fine-tuning"]},
            }
        )
    results = []
    for finding in report.findings:
        loc = finding.location
        result = {
            "ruleId": finding.rule,
            "ruleIndex": index[finding.rule],
            "level": _LEVELS[finding.severity],
            "message": {
                "text": finding.message + (f" Fix ({finding.fix.safety}): {finding.fix.title}" if finding.fix else "")
            },
            "partialFingerprints": {"gemmaDoctor/v1": finding.fingerprint},
        }
        if loc.path is not None:
            region = {}
            if loc.line is not None and loc.cell is None:  # a notebook line counts within its cell
                region["startLine"] = loc.line
                if loc.column is not None:
                    region["startColumn"] = loc.column
            physical = {"artifactLocation": {"uri": uri(loc.path), "uriBaseId": "%SRCROOT%"}}
            if region:
                physical["region"] = region
            result["locations"] = [{"physicalLocation": physical}]
            if loc.cell is not None or loc.key:
                result["properties"] = {
                    k: v
                    for k, v in (("cell", loc.cell), ("cellLine", loc.line if loc.cell else None), ("key", loc.key))
                    if v is not None
                }
        else:
            result["locations"] = [{"logicalLocations": [{"name": loc.key or "environment", "kind": "package"}]}]
        results.append(result)
    notifications = [
        {
            "level": level,
            "message": {"text": problem.message if level == "error" else f"partly read: {problem.message}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(problem.path)}}}]
            if problem.path
            else [],
        }
        for level, problems in (("warning", report.partly_read), ("error", report.errors))
        for problem in problems
    ]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gemma-doctor",
                        "version": version,
                        "semanticVersion": version,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": "./"}},
                "results": results,
                "invocations": [
                    {"executionSuccessful": not report.errors, "toolExecutionNotifications": notifications}
                ],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
