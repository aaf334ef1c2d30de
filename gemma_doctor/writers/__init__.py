"""Writers turn an Edit (a key path and a value) into the smallest byte change in a file.

Each writer re-reads the positions from the current text, so edits stay exact
even after an earlier edit moved things. A writer raises WriteError when it
cannot place an edit; the fixer then leaves the file alone.
"""

from __future__ import annotations


class WriteError(Exception):
    pass


def apply_edits(fmt: str, text: str, edits: list) -> str:
    if fmt == "json":
        from gemma_doctor.writers.json_writer import apply
    elif fmt == "yaml":
        from gemma_doctor.writers.yaml_writer import apply
    elif fmt == "python":
        from gemma_doctor.writers.python_writer import apply
    elif fmt == "notebook":
        from gemma_doctor.writers.notebook_writer import apply
    else:
        raise WriteError(f"no writer for {fmt}")
    return apply(text, edits)
