"""Notebooks: edit one cell's source and nothing else: outputs, metadata, execution counts and
the file's JSON layout stay byte-for-byte.

The cell's ``source`` list is followed exactly: only the items that hold the changed characters
are re-encoded, and new text is split only where Jupyter splits it (after ``\\n``), so an item with
a form feed, ``\\u2028`` or several lines keeps its bytes. Every edit is checked by re-reading the
cell: its joined source must be the intended one and every other item and cell unchanged.
"""

from __future__ import annotations

import json
from collections import defaultdict

from gemma_doctor.jsonpos import parse_json
from gemma_doctor.notebookcells import cell_source, python_lines
from gemma_doctor.writers import WriteError, python_writer


def apply(text: str, edits: list) -> str:
    by_cell = defaultdict(list)
    for edit in edits:
        by_cell[edit.cell].append(edit)
    for cell_number in sorted(by_cell, reverse=True):  # later cells first: earlier offsets stay valid
        text = _edit_cell(text, cell_number, by_cell[cell_number])
    return text


def _edit_cell(text: str, cell_number: int, edits: list) -> str:
    old = cell_source(_cells(parse_json(text).value)[cell_number - 1])
    if "\r" in old.replace("\r\n", ""):
        # Python reads a lone carriage return as a line break; the cell's line numbers would not
        # be the writer's. Refuse rather than guess.
        raise WriteError(f"cell {cell_number} holds a lone carriage return; not changed")
    new = python_writer.apply(old, edits, parse_text=python_lines(old)[0])
    return replace_cell_source(text, cell_number, new)


def split_source(text: str) -> list[str]:
    """Jupyter's split: after each ``\\n`` and nowhere else."""
    parts = text.split("\n")
    items = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        items.append(parts[-1])
    return items


def _regroup(old_items: list[str], region: str) -> list[str]:
    """The new text of the changed items, grouped as the old items were (an item of three lines
    stays one item) when the line count is unchanged; else Jupyter's one line per item."""
    counts = [item.count("\n") for item in old_items]
    lines = region.split("\n")
    if sum(counts) != len(lines) - 1 or any(count == 0 for count in counts[:-1]):
        return split_source(region)
    items = []
    start = 0
    for index, count in enumerate(counts):
        if index == len(counts) - 1:
            items.append("\n".join(lines[start:]))
        else:
            items.append("\n".join(lines[start : start + count]) + "\n")
            start += count
    return [item for item in items if item] or split_source(region)


def _changed_items(items: list[str], old: str, new: str) -> tuple[int, int, str]:
    """(first, last) item indexes that hold every changed character of ``old``, and the new text
    that replaces exactly those items."""
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    change_start, change_end = prefix, len(old) - suffix
    starts = []
    offset = 0
    for item in items:
        starts.append(offset)
        offset += len(item)
    first: int | None = None
    last = len(items) - 1
    for index, (start, item) in enumerate(zip(starts, items)):
        end = start + len(item)
        touches = (
            start < change_end and end > change_start if change_end > change_start else start <= change_start <= end
        )
        if touches:
            first = index if first is None else first
            last = index
    if first is None:  # an insertion at the very end
        first = last = len(items) - 1
    region_start = starts[first]
    region_end = starts[last] + len(items[last])
    return first, last, new[region_start : len(new) - (len(old) - region_end)]


def replace_cell_source(text: str, cell_number: int, new: str) -> str:
    """The notebook text with one cell's source replaced, changing only the items that differ."""
    doc = parse_json(text)
    index = cell_number - 1
    cells = _cells(doc.value)
    cell = cells[index]
    source = cell["source"]
    old = cell_source(cell)
    if new == old:
        return text
    path = ("cells", index, "source")
    span = doc.spans[path]
    ensure_ascii = "\\u" in text and not any(ord(c) > 127 for c in text)

    def dump(item: str) -> str:
        return json.dumps(item, ensure_ascii=ensure_ascii)

    if isinstance(source, str) or not source:
        result = (
            text[: span.value_start]
            + (dump(new) if isinstance(source, str) else dump_list(text, span, [], split_source(new), dump))
            + text[span.value_end :]
        )
    else:
        first, last, region = _changed_items(source, old, new)
        replacement = _regroup(source[first : last + 1], region)
        items = source[:first] + replacement + source[last + 1 :]
        if len(replacement) == last - first + 1:
            result = text
            for number in reversed(range(first, last + 1)):
                if source[number] != items[number]:
                    item = doc.spans[path + (number,)]
                    result = result[: item.value_start] + dump(items[number]) + result[item.value_end :]
        else:
            spans = [doc.spans[path + (number,)] for number in range(len(source))]
            result = text[: span.value_start] + dump_list(text, span, spans, items, dump) + text[span.value_end :]
    _verify(_notebook(doc.value), result, index, new)
    return result


def dump_list(text: str, span, item_spans: list, items: list[str], dump) -> str:
    """A JSON list of ``items`` in the layout of the one at ``span`` (indented or compact)."""
    if len(item_spans) >= 2:
        separator = text[item_spans[0].value_end : item_spans[1].value_start]
    elif item_spans:
        opening = text[span.value_start + 1 : item_spans[0].value_start]
        separator = "," + opening if "\n" in opening else ", "
    else:
        separator = ", "
    if item_spans:
        opening = text[span.value_start + 1 : item_spans[0].value_start]
        closing = text[item_spans[-1].value_end : span.value_end - 1]
    else:
        opening = closing = ""
    return "[" + opening + separator.join(dump(item) for item in items) + closing + "]"


def _notebook(value: object) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("cells"), list):
        raise WriteError("not a notebook")
    return value


def _cells(value: object) -> list:
    return _notebook(value)["cells"]


def _verify(before: dict, result: str, index: int, new: str) -> None:
    """Re-read the notebook: the cell says ``new``, and nothing else in it changed."""
    after = _notebook(parse_json(result).value)
    if cell_source(after["cells"][index]) != new:
        raise WriteError("the cell does not read back as intended; not changed")
    expected = dict(before)
    expected_cells = list(before["cells"])
    expected_cells[index] = dict(before["cells"][index], source=after["cells"][index]["source"])
    expected["cells"] = expected_cells
    if after != expected:
        raise WriteError("the edit would change more than the cell's source; not changed")
