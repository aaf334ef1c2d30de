"""Python: change a keyword argument's value in place, insert a missing keyword, rename a
keyword, retarget ``model.config.use_cache`` to ``model.config.text_config.use_cache``, or add
``model.config[.text_config].use_cache = False`` after the statement that loads the model.

Positions come from ``ast`` (exact start and end of every node since Python 3.8)
and only those bytes are replaced, so comments, quotes, line breaks and trailing
commas elsewhere stay byte-for-byte. See docs/design-notes.md for why this is
used instead of a libcst round trip.
"""

from __future__ import annotations

import ast

from gemma_doctor.writers import WriteError


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self.starts.append(index + 1)

    def offset(self, line: int | None, column: int | None) -> int:
        """The text offset of an ast (line, UTF-8 column); every node we splice has both."""
        line, column = line or 1, column or 0
        # ast columns are UTF-8 byte offsets; convert within the line.
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        encoded = self.text[start:end].encode("utf-8")
        return start + len(encoded[:column].decode("utf-8", errors="ignore"))


def render(value, old_node: ast.AST | None = None, source: str = "") -> str:
    """Python source that evaluates to ``value`` (strings escaped, in the quote style of the value replaced)."""
    import json
    import math

    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f'float("{value}")'
    text = str(value)
    if isinstance(old_node, ast.Attribute):  # torch.float16 -> torch.bfloat16
        prefix = ast.get_source_segment(source, old_node.value) or "torch"
        return f"{prefix}.{text}"
    segment = ast.get_source_segment(source, old_node) if old_node is not None else None
    if segment and segment[0] == "'":
        return repr(text) if repr(text).startswith("'") else json.dumps(text, ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False)  # a JSON string literal is a valid Python one


def _edit_line(edit) -> int:
    ref = str(edit.key_path[0]).split("@")[-1]
    try:
        return int(ref.split(":")[0])
    except ValueError:
        return 0


def apply(text: str, edits: list, parse_text: str | None = None) -> str:
    """``parse_text`` is ``text`` with notebook magics blanked (same line numbers): parse that, splice ``text``.

    Edits go bottom-up: a statement inserted after a model load does not move the lines of the
    edits still to come (their references are line:column positions)."""
    for edit in sorted(edits, key=_edit_line, reverse=True):
        text = _apply_one(text, edit, parse_text)
        if parse_text is not None:  # keep the magic lines blank after an edit moved other lines
            from gemma_doctor.notebookcells import python_lines

            parse_text = python_lines(text)[0]
    return text


def _find(tree: ast.Module, kind, line: int, column: int):
    for node in ast.walk(tree):
        if isinstance(node, kind) and node.lineno == line and node.col_offset == column:
            return node
    raise WriteError(f"nothing to edit at line {line}")


def _apply_one(text: str, edit, parse_text: str | None) -> str:
    source = parse_text if parse_text is not None else text
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise WriteError(f"syntax error: {exc.msg}") from None
    lines = _Lines(text)
    ref = edit.key_path[0]
    if edit.op == "disable_cache_after":  # after the model load, switch its cache off, at its indentation
        line, column = map(int, ref[len("stmt@") :].split(":"))
        node = _find(tree, ast.stmt, line, column)
        statement = _disable_cache_statement(node, edit.value)
        end = lines.offset(node.end_lineno, node.end_col_offset)
        newline = text.find("\n", end)
        newline = len(text) if newline == -1 else newline
        before = text[lines.starts[node.lineno - 1] : lines.offset(node.lineno, node.col_offset)]
        indent = before[: len(before) - len(before.lstrip())]
        if before.strip() and not before.rstrip().endswith(";"):
            # `if x: model = ...`: a new line at the line's indentation would run unconditionally.
            raise WriteError(f"the statement at line {node.lineno} shares its line with a compound statement")
        return text[:newline] + "\n" + indent + statement + text[newline:]
    if ref.startswith("assign@"):
        line, column = map(int, ref[len("assign@") :].split(":"))
        node = _find(tree, ast.Assign, line, column)
        if edit.op == "retarget":
            target = node.targets[0]
            if not isinstance(target, ast.Attribute):
                raise WriteError("not an attribute assignment")
            insert = lines.offset(target.value.end_lineno, target.value.end_col_offset)
            return text[:insert] + "." + edit.key_path[1] + text[insert:]
        value = node.value
        start, end = lines.offset(value.lineno, value.col_offset), lines.offset(value.end_lineno, value.end_col_offset)
        return text[:start] + render(edit.value, value, source) + text[end:]
    line, column = map(int, ref.split(":"))
    call = _find(tree, ast.Call, line, column)
    name = edit.key_path[1]
    keyword = next((k for k in call.keywords if k.arg == name), None)
    if edit.op == "rename":
        if keyword is None:
            raise WriteError(f"no keyword {name}")
        start = lines.offset(keyword.lineno, keyword.col_offset)
        return text[:start] + str(edit.value) + text[start + len(name) :]
    if keyword is not None:
        value = keyword.value
        start, end = lines.offset(value.lineno, value.col_offset), lines.offset(value.end_lineno, value.end_col_offset)
        return text[:start] + render(edit.value, value, source) + text[end:]
    return _insert_keyword(text, source, lines, call, name, edit.value)


def _disable_cache_statement(node: ast.stmt, level: str) -> str:
    """``model.config[.text_config].use_cache = False`` for the model the statement ``node`` binds
    (``model = ...from_pretrained(...)`` or ``model, tokenizer = FastModel.from_pretrained(...)``)."""
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    target = targets[0] if targets else None
    if isinstance(target, ast.Tuple) and target.elts:
        target = target.elts[0]
    if not isinstance(target, ast.Name):
        raise WriteError(f"the statement at line {node.lineno} binds no model variable")
    return f"{target.id}.config{'.' + level if level else ''}.use_cache = False"


def _insert_keyword(text: str, source: str, lines: _Lines, call: ast.Call, name: str, value) -> str:
    new = f"{name}={render(value, None, source)}"
    arguments = list(call.args) + list(call.keywords)
    if not arguments:
        close = lines.offset(call.end_lineno, call.end_col_offset) - 1
        return text[:close] + new + text[close:]
    last = max(arguments, key=lambda n: (n.end_lineno or 0, n.end_col_offset or 0))
    last_end = lines.offset(last.end_lineno, last.end_col_offset)
    first = min(arguments, key=lambda n: (n.lineno, n.col_offset))
    if first.lineno == call.lineno and last.end_lineno == call.end_lineno:
        return text[:last_end] + ", " + new + text[last_end:]
    # One argument per line: add a line at the same indentation, keeping the trailing-comma style.
    last_line_start = lines.starts[last.lineno - 1]
    indent = text[last_line_start : lines.offset(last.lineno, last.col_offset)]
    indent = indent[: len(indent) - len(indent.lstrip())]
    after = text[last_end:]
    if after.lstrip(" \t").startswith(","):
        comma = last_end + after.index(",") + 1
        line_end = text.find("\n", comma)
        line_end = len(text) if line_end == -1 else line_end
        return text[:line_end] + "\n" + indent + new + "," + text[line_end:]
    return text[:last_end] + ",\n" + indent + new + text[last_end:]
