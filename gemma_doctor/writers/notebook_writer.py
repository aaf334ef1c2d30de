"""Notebooks: edit one cell's source and nothing else: outputs, metadata, execution
counts and the file's JSON layout stay byte-for-byte. Only the JSON strings of the
source lines that changed are re-encoded."""

from __future__ import annotations

import json
from collections import defaultdict

from gemma_doctor.jsonpos import parse_json
from gemma_doctor.sources.notebook import cell_source, python_lines
from gemma_doctor.writers import WriteError, python_writer


def apply(text: str, edits: list) -> str:
    by_cell = defaultdict(list)
    for edit in edits:
        by_cell[edit.cell].append(edit)
    for cell_number in sorted(by_cell, reverse=True):  # later cells first: earlier offsets stay valid
        text = _edit_cell(text, cell_number, by_cell[cell_number])
    return text


def _edit_cell(text: str, cell_number: int, edits: list) -> str:
    old = cell_source(parse_json(text).value["cells"][cell_number - 1])
    new = python_writer.apply(old, edits, parse_text=python_lines(old)[0])
    return replace_cell_source(text, cell_number, new)


def replace_cell_source(text: str, cell_number: int, new: str) -> str:
    """The notebook text with one cell's source replaced, changing only the strings that differ."""
    doc = parse_json(text)
    index = cell_number - 1
    cell = doc.value["cells"][index]
    old = cell_source(cell)
    if new == old:
        return text
    path = ("cells", index, "source")
    span = doc.spans[path]
    ensure_ascii = "\\u" in text and not any(ord(c) > 127 for c in text)
    if isinstance(cell["source"], str):
        return text[: span.value_start] + json.dumps(new, ensure_ascii=ensure_ascii) + text[span.value_end:]
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    if len(old_lines) == len(new_lines):
        for number in reversed(range(len(old_lines))):
            if old_lines[number] != new_lines[number]:
                item = doc.spans[path + (number,)]
                text = text[: item.value_start] + json.dumps(new_lines[number], ensure_ascii=ensure_ascii) + text[item.value_end:]
        return text
    # Lines were added: re-encode this one array in the file's own layout.
    first = doc.spans.get(path + (0,))
    if first is None:
        raise WriteError("empty cell source")
    line_start = text.rfind("\n", 0, first.value_start) + 1
    indent = text[line_start:first.value_start]
    closing_start = text.rfind("\n", 0, span.value_end - 1) + 1
    closing_indent = text[closing_start: span.value_end - 1]
    body = (",\n" + indent).join(json.dumps(line, ensure_ascii=ensure_ascii) for line in new_lines)
    return text[: span.value_start] + "[\n" + indent + body + "\n" + closing_indent + "]" + text[span.value_end:]
