"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per finding."""

from __future__ import annotations

from gemma_doctor.reporters import valid_unicode

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    text = valid_unicode(text)  # the output must be UTF-8: a non-UTF-8 file name would write its raw byte
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report) -> str:
    lines = []
    for finding in report.findings:
        loc = finding.location
        properties = []
        if loc.path:
            properties.append(f"file={_property(loc.path)}")
            # A notebook line counts within its cell, not within the .ipynb JSON: annotate the file, name the cell.
            if loc.line is not None and loc.cell is None:
                properties.append(f"line={loc.line}")
                if loc.column is not None:
                    properties.append(f"col={loc.column}")
        where = f"cell {loc.cell}, line {loc.line}: " if loc.cell else ""
        properties.append(f"title={_property(f'{finding.rule} {finding.name}')}")
        message = where + finding.message + (f" Fix ({finding.fix.safety}): {finding.fix.title}" if finding.fix else "")
        lines.append(f"::{_COMMANDS[finding.severity]} {','.join(properties)}::{_data(message)}")
    for problem in report.partly_read:
        file_part = f" file={_property(problem.path)}" if problem.path else ""
        lines.append(f"::warning{file_part},title=gemma-doctor partly read::{_data(problem.message)}")
    for problem in report.errors:
        file_part = f" file={_property(problem.path)}" if problem.path else ""
        lines.append(f"::error{file_part},title=gemma-doctor input error::{_data(problem.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
