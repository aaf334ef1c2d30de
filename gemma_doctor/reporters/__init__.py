"""Reporters turn a Report into text for people or for machines."""

from __future__ import annotations

FORMATS = ("text", "json", "sarif", "github", "junit")


def render(report, fmt: str, color: bool = False, version: str = "") -> str:
    if fmt == "json":
        from gemma_doctor.reporters.json_report import render as json_render

        return json_render(report)
    if fmt == "sarif":
        from gemma_doctor.reporters.sarif import render as sarif_render

        return sarif_render(report, version)
    if fmt == "github":
        from gemma_doctor.reporters.github import render as github_render

        return github_render(report)
    if fmt == "junit":
        from gemma_doctor.reporters.junit import render as junit_render

        return junit_render(report)
    from gemma_doctor.reporters.text import render as text_render

    return text_render(report, color)
