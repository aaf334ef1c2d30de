"""Adopting gemma-doctor in an existing repository: baselines and suppression comments."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from gemma_doctor.filekinds import COMMENTABLE
from gemma_doctor.fingerprints import assign

BASELINE_VERSION = 1


def apply_baseline(report, path: Path) -> int | None:
    """Drop findings recorded in the baseline (counted in report.baselined); write the baseline when the
    file does not exist, and return how many findings it recorded (None when it read one)."""
    assign(report.findings)
    if not path.exists():
        entries = [
            {"fingerprint": f.fingerprint, "rule": f.rule, "path": f.location.path, "message": f.message}
            for f in report.findings
        ]
        try:
            path.write_text(
                json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2) + "\n", encoding="utf-8"
            )
        except OSError as exc:
            from gemma_doctor.errors import UsageError

            raise UsageError(f"{path}: cannot write the baseline: {exc.strerror or type(exc).__name__}") from None
        report.baselined = len(report.findings)
        report.findings = []
        return len(entries)
    import stat

    if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block the read forever (fuzz N06)
        from gemma_doctor.errors import UsageError

        raise UsageError(f"{path}: not a regular file, so not a gemma-doctor baseline")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {entry["fingerprint"] for entry in data["findings"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        from gemma_doctor.errors import UsageError

        raise UsageError(f"{path}: not a gemma-doctor baseline ({type(exc).__name__})") from None
    kept = [f for f in report.findings if f.fingerprint not in known]
    report.baselined = len(report.findings) - len(kept)
    report.findings = kept
    return None


def add_ignore_comments(report, reason: str | None) -> int:
    """Append ``# gemma-doctor: ignore[...]`` to the lines of current findings in YAML, Python and
    notebooks (JSON has no comments). Returns how many comments were written."""
    from gemma_doctor.filetext import FileText, WriteRefused, write_atomically

    by_file: dict[str, dict[tuple, set[str]]] = defaultdict(lambda: defaultdict(set))
    for finding in report.findings:
        loc = finding.location
        if loc.path and loc.line and loc.path.endswith(COMMENTABLE):
            by_file[loc.path][(loc.cell, loc.line)].add(finding.rule)
    written = 0
    for path_text, lines in by_file.items():
        path = Path(path_text)
        try:
            raw = path.read_bytes()
            text = FileText(raw)
            if path_text.endswith(".ipynb"):
                new, count = _notebook(text.text, lines, reason)
            elif path_text.endswith(".py"):
                new, count = _python(text.text, lines, reason)
            else:
                new, count = _text(text.text, lines, reason)
            if new != text.text:
                write_atomically(path, raw, text.encode(new))
                written += count
        except (WriteRefused, OSError) as exc:
            import sys

            sys.stderr.write(f"{path_text}: error: {exc}; no suppression comment written\n")
    return written


def _comment(rules: set[str], reason: str | None) -> str:
    return f"# gemma-doctor: ignore[{','.join(sorted(rules))}]" + (f" {reason}" if reason else "")


def _text(text: str, lines: dict, reason: str | None, cell: int | None = None) -> tuple[str, int]:
    """YAML: the comment at the end of the finding's line, else on a line of its own above it;
    each placement is kept only if the file still loads to the same data (a ``#`` inside a block
    scalar would change a value, not comment)."""
    import yaml

    def same(candidate: str) -> bool:
        try:
            return yaml.safe_load(candidate) == original
        except yaml.YAMLError:
            return False

    original = yaml.safe_load(text)
    return _place(text, lines, reason, cell, same, _statement_start_same_line)


def _python(text: str, lines: dict, reason: str | None, cell: int | None = None) -> tuple[str, int]:
    """Python: the comment at the end of the statement's line when the tokenizer sees it there as
    a comment and the code is unchanged (not after a backslash continuation, not inside a string);
    else on a line of its own above the statement, which covers all of the statement's lines."""
    import ast
    import io
    import tokenize

    from gemma_doctor.notebookcells import python_lines

    code = python_lines(text)[0] if cell is not None else text
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return text, 0
    original = ast.dump(tree)
    starts: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.end_lineno is not None:
            for line in range(node.lineno, node.end_lineno + 1):
                starts[line] = min(starts.get(line, node.lineno), node.lineno)

    def same(candidate: str, number: int) -> bool:
        candidate_code = python_lines(candidate)[0] if cell is not None else candidate
        try:
            if ast.dump(ast.parse(candidate_code)) != original:
                return False
            tokens = tokenize.generate_tokens(io.StringIO(candidate_code).readline)
            return any(
                t.type == tokenize.COMMENT and t.start[0] == number and "gemma-doctor: ignore[" in t.string
                for t in tokens
            )
        except (SyntaxError, ValueError, tokenize.TokenError):
            return False

    return _place(text, lines, reason, cell, same, lambda _rows, number: starts.get(number, number), with_line=True)


def _statement_start_same_line(_rows: list[str], number: int) -> int:
    return number


def _place(text: str, lines: dict, reason: str | None, cell, same, statement_start, with_line: bool = False):
    rows = text.split("\n")
    count = 0
    # Bottom first: a line inserted above a statement does not move the lines still to come.
    for (finding_cell, number), rules in sorted(lines.items(), key=lambda item: -item[0][1]):
        if finding_cell != cell or number > len(rows) or "gemma-doctor: ignore[" in rows[number - 1]:
            continue
        comment = _comment(rules, reason)
        at_end = rows[: number - 1] + [f"{rows[number - 1]}  {comment}"] + rows[number:]
        candidate = "\n".join(at_end)
        if same(candidate, number) if with_line else same(candidate):
            rows, count = at_end, count + 1
            continue
        start = statement_start(rows, number)
        indent = rows[start - 1][: len(rows[start - 1]) - len(rows[start - 1].lstrip())]
        above = rows[: start - 1] + [f"{indent}{comment}"] + rows[start - 1 :]
        candidate = "\n".join(above)
        if same(candidate, start) if with_line else same(candidate):
            rows, count = above, count + 1
    return "\n".join(rows), count


def _notebook(text: str, lines: dict, reason: str | None) -> tuple[str, int]:
    from gemma_doctor.jsonpos import parse_json
    from gemma_doctor.notebookcells import cell_source
    from gemma_doctor.writers.notebook_writer import replace_cell_source

    total = 0
    for cell in sorted({cell for cell, _ in lines}):
        notebook = parse_json(text).value
        if not isinstance(notebook, dict):
            return text, total
        source = cell_source(notebook["cells"][cell - 1])
        new_source, count = _python(source, lines, reason, cell)
        total += count
        text = replace_cell_source(text, cell, new_source)
    return text, total
