"""JSON: splice only the bytes of the changed value (or key), keeping order, indentation,
spacing and the final newline. A missing key is inserted in the file's own style:
after the last member, at its indentation, or sorted when the file's keys are sorted
(as ``save_pretrained`` writes them)."""

from __future__ import annotations

import json
import re

from gemma_doctor.jsonpos import parse_json
from gemma_doctor.writers import WriteError


def render(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def apply(text: str, edits: list) -> str:
    for edit in edits:
        text = _apply_one(text, edit)
    return text


def _apply_one(text: str, edit) -> str:
    doc = parse_json(text)
    path = tuple(edit.key_path)
    span = doc.spans.get(path)
    if edit.op == "rename":
        if span is None or span.key_start is None:
            raise WriteError(f"no key {'.'.join(map(str, path))} to rename")
        parent = _get(doc.value, path[:-1])
        if edit.value in parent:
            raise WriteError(f"{edit.value} already exists")
        key_end = text.index('"', span.key_start + 1) + 1
        while text[key_end - 2] == "\\":  # an escaped quote inside the key
            key_end = text.index('"', key_end) + 1
        return text[: span.key_start] + render(edit.value) + text[key_end:]
    if span is not None:
        try:
            current = _get(doc.value, path)
        except (KeyError, IndexError, TypeError):
            # The key's text is there, but the parsed value has no such path: a duplicate key whose last
            # occurrence (the one JSON readers keep) is not an object. Editing the first would change nothing.
            raise WriteError(
                f"{'.'.join(map(str, path))} is written in the file, but a later duplicate key replaces what holds it "
                "(see GD401); not written"
            ) from None
        if current == edit.value:
            return text
        return text[: span.value_start] + render(edit.value) + text[span.value_end :]
    return _insert(text, doc, path, edit.value)


def _get(value, path):
    for part in path:
        value = value[part]
    return value


def _insert(text: str, doc, path: tuple, value) -> str:
    parent_path, key = path[:-1], path[-1]
    parent_span = doc.spans.get(parent_path)
    try:
        parent = _get(doc.value, parent_path)
    except (KeyError, IndexError, TypeError):
        if len(parent_path) == 0:
            raise WriteError("cannot insert at the root") from None
        return _insert(text, doc, parent_path, {key: value})
    if not isinstance(parent, dict) or parent_span is None:
        raise WriteError(f"{'.'.join(map(str, parent_path))} is not an object")
    open_brace = parent_span.value_start
    members = [(k, doc.spans[parent_path + (k,)]) for k in parent]
    if not members:
        close = text.rindex("}", open_brace, parent_span.value_end)
        base = _line_indent(text, open_brace)
        unit = _indent_unit(text)
        return text[: open_brace + 1] + f"\n{base}{unit}{render(key)}: {render(value)}\n{base}" + text[close:]
    keys = [k for k, _ in members]
    sorted_keys = keys == sorted(keys)
    indent = _line_indent(text, members[0][1].key_start)
    same_line = "\n" not in text[open_brace : members[0][1].key_start]
    separator = " " if same_line else "\n" + indent
    new_member = f"{render(key)}: {render(value)}"
    if sorted_keys:
        following = next(((k, s) for k, s in members if k > key), None)
        if following is not None:
            start = following[1].key_start
            return text[:start] + new_member + "," + separator + text[start:]
    last_end = members[-1][1].value_end
    return text[:last_end] + "," + separator + new_member + text[last_end:]


def _line_indent(text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    match = re.match(r"[ \t]*", text[line_start:])
    return match.group(0) if match else ""


def _indent_unit(text: str) -> str:
    match = re.search(r"\n([ \t]+)\S", text)
    return match.group(1) if match else "  "
