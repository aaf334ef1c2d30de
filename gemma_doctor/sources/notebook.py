"""Jupyter notebooks: the code cells read like a script, in order, sharing names.

IPython magics and shell lines are skipped (their line numbers are kept), and
``!pip install`` / ``%pip install`` lines become version pins: a notebook's own
pins beat the installed environment. Locations carry the 1-based cell index
(over all cells) and the line within the cell.
"""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.facts import InputError, Location, SourceResult
from gemma_doctor.jsonpos import load_value
from gemma_doctor.notebookcells import cell_source, python_lines
from gemma_doctor.shapes import problems as problems_of
from gemma_doctor.sources import MAX_NOTEBOOK_BYTES, read_text
from gemma_doctor.sources.python_code import MAX_PYTHON_STATEMENTS, Analyzer, statement_ranges
from gemma_doctor.sources.python_recovery import parse_recovering
from gemma_doctor.sources.versions import _fact, pip_pins
from gemma_doctor.suppressions import python_comment_columns, scan_hash_comments


def load(path: Path, display: str, text: str | None = None) -> SourceResult:
    """``text``: the notebook's JSON when it is not a file (the IPython magic's session)."""
    if text is None:
        text = read_text(path, MAX_NOTEBOOK_BYTES)
    if not text.strip():
        raise InputError("empty file")
    try:
        notebook = load_value(text)  # no position scan: a notebook's locations are cell and line
    except ValueError as exc:
        raise InputError(f"not a notebook: {exc}") from None
    # The shape (rules/schemas/notebook.schema.json): a wrong document is not a notebook; a wrong
    # cell is reported and skipped, and every other cell is still read.
    shape = problems_of("notebook", notebook)
    document = [problem for problem in shape if len(problem.key_path) < 2]
    if document:
        raise InputError(f"not a notebook: {document[0].message}")
    broken: dict[object, str] = {}
    for problem in shape:
        broken.setdefault(problem.key_path[1], problem.message)
    cells = notebook["cells"]
    analyzer = Analyzer(display, path)
    analyzer.result.kind = "notebook"
    problems = []
    statements = 0
    for index, cell in enumerate(cells, 1):
        if index - 1 in broken:
            problems.append(f"cell {index}: {broken[index - 1]}; skipped")
            continue
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        code, shell = python_lines(source)
        statements += code.count("\n") + code.count(";")
        if statements > MAX_PYTHON_STATEMENTS:  # the parser's cost, as for a script (fuzz N14)
            raise InputError(
                f"notebook too long to be a training notebook (about {statements:,} statements of code; "
                f"the limit is {MAX_PYTHON_STATEMENTS:,})"
            )
        for number, line in shell:
            for package, spec, column in pip_pins(line):
                location = Location(display, number, column, package, index)
                analyzer.result.versions.append(_fact(package, spec, location, "notebook"))
        if not code.strip():
            continue
        tree, skipped = parse_recovering(code, display, f"cell {index}: ")
        problems.extend(skipped)
        if tree is None:
            continue
        analyzer.cell = index
        analyzer.turn_tokens = "<end_of_turn>" in code or "<start_of_turn>" in code
        analyzer.run(tree)
        if "gemma-doctor" in source:
            analyzer.result.suppressions.extend(
                scan_hash_comments(source, display, index, statement_ranges(tree), python_comment_columns(code))
            )
    analyzer.finish()
    if problems:
        analyzer.result.skipped = "; ".join(problems)
    return analyzer.result
