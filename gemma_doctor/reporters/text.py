"""Concise, sorted text: ``path:line:col: GD101 [error] message`` plus a fix line."""

from __future__ import annotations

from gemma_doctor.findings import SEVERITIES
from gemma_doctor.reporters import printable

_COLORS = {"error": "\033[31m", "warning": "\033[33m", "info": "\033[36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def render(report, color: bool = False, quiet: bool = False, width: int | None = None) -> str:
    """``width``: a terminal's, to wrap long messages under their first line; None (a file, a pipe, CI)
    keeps each finding on one line, which tools that read ``path:line:col:`` lines expect."""
    lines = []
    runs = sorted({finding.run or "" for finding in report.findings})
    grouped = len(runs) > 1  # a heading per run only when findings come from more than one
    ordered = sorted(report.findings, key=lambda f: (f.run or "", f.sort_key())) if grouped else report.findings
    current = None
    for finding in ordered:
        if grouped and (finding.run or "") != current:
            current = finding.run or ""
            heading = f"run {printable(current)}" if current else "files no training run uses"
            lines.append(f"{_BOLD}{heading}{_RESET}" if color else f"== {heading}")
        severity = finding.severity
        where = printable(finding.location.display())
        if finding.location.key and finding.location.line is None and finding.location.path is not None:
            where += f" ({finding.location.key})"
        head = f"{where}: {finding.rule} [{severity}] "
        pointer = f"(gemma-doctor rule {finding.rule})"
        text = f"{head}{printable(finding.message)} {pointer}"
        segments = _wrapped(text, width, "    ")
        if color:
            tag = f"{_BOLD}{finding.rule}{_RESET} [{_COLORS[severity]}{severity}{_RESET}] "
            segments[0] = segments[0].replace(f"{finding.rule} [{severity}] ", tag, 1)
            last = segments[-1]
            if last.endswith(pointer):
                segments[-1] = f"{last[: -len(pointer)]}{_DIM}{pointer}{_RESET}"
        lines.extend(segments)
        if finding.fix and not quiet:
            label = {"safe": "fix", "unsafe": "fix (unsafe)", "display-only": "advice"}[finding.fix.safety]
            for segment in _wrapped(f"  = {label}: {finding.fix.title}", width, "      "):
                lines.append(f"{_DIM}{segment}{_RESET}" if color else segment)
        for step in finding.trace or ():
            for segment in _wrapped(f"  = trace: {printable(step)}", width, "      "):
                lines.append(f"{_DIM}{segment}{_RESET}" if color else segment)
    for problem in report.partly_read:
        lines.append(f"{printable(problem.path or '<input>')}: warning: partly read: {printable(problem.message)}")
    for problem in report.errors:
        lines.append(f"{printable(problem.path or '<input>')}: error: {printable(problem.message)}")
    if not quiet:
        lines.append(summary_line(report))
    return "\n".join(lines) + ("\n" if lines else "")


def _wrapped(text: str, width: int | None, indent: str) -> list[str]:
    """``text`` as lines of at most ``width`` (never splitting a word or a path), the rest indented."""
    if width is None or len(text) <= width:
        return [text]
    import textwrap  # only for a terminal

    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False) or [
        text
    ]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def summary_line(report) -> str:
    """One line: what was found, in how many files, and everything that was not looked at or was taken
    out (files partly read or unreadable, runs not judged, suppressed and baselined findings), so that
    "no problems" is never said over something the check did not see."""
    counts = report.counts()
    parts = [_n(counts[s], s) for s in reversed(SEVERITIES) if counts[s]]
    found = ", ".join(parts) if parts else "no problems"
    checked = report.files - report.context_files
    as_context = f"{report.context_files} read as context" if report.context_files else ""
    files = _n(checked, "file") + (f" (and {as_context})" if as_context else "")
    if checked == 0 and report.errors:
        tail = "Checked no file" + (f" ({as_context})." if as_context else ".")
    elif report.not_judged:  # never "no problems" over a run nothing checked (GD902)
        tail = f"Found {found} in the runs judged; {_n(report.not_judged, 'run')} not judged (GD902), in {files}."
    else:
        tail = f"Found {found} in {files}."
    fixable = report.fixable
    if fixable is None:
        fixable = sum(1 for f in report.findings if f.fix and f.fix.safety == "safe" and f.fix.edits)
    if fixable:
        tail += f" {fixable} fixable with `gemma-doctor fix --write`."
    if report.partly_read:
        tail += f" {_n(len(report.partly_read), 'file')} partly read."
    if report.errors:
        tail += f" {_n(len(report.errors), 'file')} could not be read."
    if report.suppressed:
        tail += f" {report.suppressed} suppressed."
    if report.baselined:
        tail += f" {report.baselined} in the baseline."
    return tail
