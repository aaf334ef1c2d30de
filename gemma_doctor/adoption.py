"""Adopting gemma-doctor in an existing repository: baselines and suppression comments."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from gemma_doctor.fingerprints import assign

BASELINE_VERSION = 1


def apply_baseline(report, path: Path) -> None:
    """Drop findings recorded in the baseline; write the baseline when the file does not exist."""
    assign(report.findings)
    if not path.exists():
        entries = [{"fingerprint": f.fingerprint, "rule": f.rule, "path": f.location.path, "message": f.message}
                   for f in report.findings]
        path.write_text(json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2) + "\n", encoding="utf-8")
        report.findings = []
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {entry["fingerprint"] for entry in data["findings"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        from gemma_doctor.cli import UsageError

        raise UsageError(f"{path}: not a gemma-doctor baseline ({type(exc).__name__})") from None
    report.findings = [f for f in report.findings if f.fingerprint not in known]


def add_ignore_comments(report, reason: str | None) -> int:
    """Append ``# gemma-doctor: ignore[...]`` to the lines of current findings in YAML, Python and
    notebooks (JSON has no comments). Returns how many comments were written."""
    from gemma_doctor.fixer import write_atomically

    by_file: dict[str, dict[tuple, set[str]]] = defaultdict(lambda: defaultdict(set))
    for finding in report.findings:
        loc = finding.location
        if loc.path and loc.line and loc.path.endswith((".yaml", ".yml", ".py", ".ipynb")):
            by_file[loc.path][(loc.cell, loc.line)].add(finding.rule)
    written = 0
    for path_text, lines in by_file.items():
        path = Path(path_text)
        old = path.read_text(encoding="utf-8")
        if path_text.endswith(".ipynb"):
            new, count = _notebook(old, lines, reason)
        else:
            new, count = _text(old, lines, reason)
        if new != old:
            write_atomically(path, old, new)
            written += count
    return written


def _comment(rules: set[str], reason: str | None) -> str:
    return f"# gemma-doctor: ignore[{','.join(sorted(rules))}]" + (f" {reason}" if reason else "")


def _text(text: str, lines: dict, reason: str | None, cell: int | None = None) -> tuple[str, int]:
    rows = text.split("\n")
    count = 0
    for (finding_cell, number), rules in lines.items():
        if finding_cell != cell or number > len(rows):
            continue
        row = rows[number - 1]
        if "gemma-doctor: ignore[" in row:
            continue
        rows[number - 1] = f"{row}  {_comment(rules, reason)}"
        count += 1
    return "\n".join(rows), count


def _notebook(text: str, lines: dict, reason: str | None) -> tuple[str, int]:
    from gemma_doctor.jsonpos import parse_json
    from gemma_doctor.sources.notebook import cell_source
    from gemma_doctor.writers.notebook_writer import replace_cell_source

    total = 0
    for cell in sorted({cell for cell, _ in lines}):
        source = cell_source(parse_json(text).value["cells"][cell - 1])
        new_source, count = _text(source, lines, reason, cell)
        total += count
        text = replace_cell_source(text, cell, new_source)
    return text, total
