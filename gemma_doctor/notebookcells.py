"""A notebook cell's source as Python: what the notebook source reads and the writers edit, in one place
below both."""

from __future__ import annotations

_NON_PYTHON_CELL_MAGICS = (
    "%%bash",
    "%%sh",
    "%%writefile",
    "%%html",
    "%%javascript",
    "%%js",
    "%%markdown",
    "%%latex",
    "%%script",
    "%%perl",
    "%%ruby",
    "%%svg",
    "%%file",
)


def cell_source(cell: dict) -> str:
    """A cell's source as one string (a cell whose shape the notebook schema accepted)."""
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def python_lines(text: str) -> tuple[str, list[tuple[int, str]]]:
    """The cell with magic and shell lines blanked, and the shell lines themselves.

    An IPython shell line continues while it ends with a backslash (``%pip install \\``
    then ``"trl==0.15.2" \\``): the pieces are joined into one shell line (numbered by
    its first line) and every piece is blanked, so its pins are read and Python never
    sees the continuation lines.
    """
    lines = text.split("\n")
    if lines and lines[0].lstrip().startswith(_NON_PYTHON_CELL_MAGICS):
        return "", []
    shell = []
    out = []
    number = 0
    while number < len(lines):
        line = lines[number]
        stripped = line.lstrip()
        if stripped.startswith(("!", "%")):
            first = number
            joined = line
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}pass" if indent else "")
            while joined.rstrip().endswith("\\") and number + 1 < len(lines):
                number += 1
                joined = joined.rstrip()[:-1] + " " + lines[number].strip()
                out.append("")
            shell.append((first + 1, joined))
        else:
            out.append(line)
        number += 1
    return "\n".join(out), shell
