"""``%load_ext gemma_doctor``, then ``%gemma_doctor``: check the cells this IPython session has run.

In Colab or Kaggle the notebook is not a file on disk, so ``gemma-doctor check`` cannot read it. The
kernel's input history can: its raw cells (``!pip install`` lines included) become a notebook that exists
only in memory, ``<ipython>.ipynb`` in the current directory, and the engine checks it exactly as it checks
that notebook saved as a file there (files beside it are read as context, the model folders it names are
read). Cell N of a finding is ``In [N]``.

IPython is never imported here: the extension gets the shell it runs in.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from gemma_doctor.errors import UsageError
from gemma_doctor.findings import Fix

SESSION_NAME = "<ipython>.ipynb"


def load_ipython_extension(shell) -> None:
    shell.register_magic_function(lambda line: gemma_doctor_magic(shell, line), "line", "gemma_doctor")


def session_notebook(cells: list[str]) -> str:
    """The notebook JSON of ``cells`` (the raw input history, In [1] first): cell N is In [N]."""
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "execution_count": number, "metadata": {}, "outputs": [], "source": source}
                for number, source in enumerate(cells, 1)
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def check_session(cells: list[str], argv: list[str], cwd: Path | None = None):
    """The report (and the check's exit code) of ``cells`` checked with ``check``'s options ``argv``."""
    from gemma_doctor.cli import build_parser
    from gemma_doctor.engine import check, exit_code
    from gemma_doctor.requests import CheckRequest, from_namespace
    from gemma_doctor.settings import resolve

    namespace = build_parser(only="check").parse_args(["check", *argv])  # SystemExit after its one line
    request = from_namespace(CheckRequest, namespace, cwd)
    if request.paths:
        raise UsageError("%gemma_doctor checks this session's cells; run `!gemma-doctor check PATH` to check files")
    for option in ("fix", "baseline", "add_ignore", "output_file", "show_settings", "statistics"):
        if getattr(request, option):
            raise UsageError(f"--{option.replace('_', '-')} is for `gemma-doctor check` on files, not the session")
    cwd = request.cwd
    session = cwd / SESSION_NAME
    settings = resolve(request, [session])
    notebook = session_notebook(cells)
    settings.options.documents = {session: notebook}
    report = check([session], settings.options)
    # No file holds the session's cells, so a fix that edits them is advice: the lines to type, which the
    # writer computes as `fix` would on the saved notebook. The summary promises no `fix --write` (it can
    # still fix the real files a finding names: a config.json, a YAML).
    for finding in report.findings:
        if finding.fix and any(edit.path == SESSION_NAME for edit in finding.fix.edits):
            finding.fix = Fix(_lines_to_type(finding.fix, notebook), "display-only")
    report.fixable = 0
    return report, exit_code(report, settings.fail_on, request.exit_zero), request


def _lines_to_type(fix: Fix, notebook: str) -> str:
    """The fix's title and, where the writer can place its edits in the session, the new lines by cell."""
    from difflib import SequenceMatcher

    from gemma_doctor.notebookcells import cell_source
    from gemma_doctor.writers import WriteError, apply_edits

    try:
        edited = apply_edits("notebook", notebook, [edit for edit in fix.edits if edit.path == SESSION_NAME])
    except WriteError:
        return fix.title
    changes: list[str] = []
    before, after = json.loads(notebook)["cells"], json.loads(edited)["cells"]
    for number, (old, new) in enumerate(zip(before, after, strict=True), 1):
        old_lines, new_lines = cell_source(old).split("\n"), cell_source(new).split("\n")
        for tag, _, _, start, end in SequenceMatcher(a=old_lines, b=new_lines).get_opcodes():
            if tag in ("replace", "insert"):
                changes.extend(
                    f"In [{number}] line {line + 1}: `{new_lines[line].strip()}`" for line in range(start, end)
                )
    return f"{fix.title}. Re-run the cells edited: {'; '.join(changes)}" if changes else fix.title


def gemma_doctor_magic(shell, line: str):
    """``%gemma_doctor [check's options]``: print the findings of the cells run so far under the cell."""
    from gemma_doctor import __version__
    from gemma_doctor.reporters import render

    cells = list(shell.history_manager.input_hist_raw[1:])  # [0] is IPython's empty placeholder
    try:
        report, _code, request = check_session(cells, shlex.split(line), Path.cwd())
    except UsageError as exc:
        sys.stderr.write(f"gemma-doctor: error: {exc}\n")
        return None
    except SystemExit:  # argparse: --help, or a bad option, already written on one line
        return None
    fmt = request.format or "text"
    if fmt == "text":
        from gemma_doctor.reporters.text import render as text_render

        sys.stdout.write(text_render(report, quiet=request.quiet))
    else:
        sys.stdout.write(render(report, fmt, color=False, version=__version__, width=None))
    return None
