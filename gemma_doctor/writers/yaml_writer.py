"""YAML: splice the value token found through PyYAML's node marks, so comments, quotes,
key order and indentation stay exactly as they were. A trailing comment such as
``fp16: true   # our cluster has V100s`` stays on its line. A missing key is added
after the mapping's last key, at the same indentation."""

from __future__ import annotations

from gemma_doctor.writers import WriteError


def render(value, old_token: str | None = None) -> str:
    """A YAML scalar that PyYAML's safe_load reads back as ``value`` (strings escaped; floats with a dot,
    since YAML 1.1 reads ``1e+16`` as a string)."""
    import math

    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "." not in text:
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0" + (f"e{exponent}" if exponent else "")
        return text
    text = str(value)
    if old_token and old_token[0] == "'" and text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    if not (old_token and old_token[0] in "'\""):
        import yaml

        plain = (
            bool(text)
            and text.isprintable()
            and text.strip() == text
            and ": " not in text
            and " #" not in text
            and not text.startswith(("#", "!", "&", "*", "%", "@", "`", "'", '"', "{", "[", "|", ">"))
        )
        try:
            if plain and yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return double_quoted(text)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}


def double_quoted(text: str) -> str:
    """A YAML double-quoted scalar: characters YAML may hold stay as they are; the rest are escaped
    one code point each (JSON's surrogate-pair escapes would be read back as two characters)."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif (
            0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
        ) and code not in (0x2028, 0x2029):  # YAML line breaks are escaped
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _compose(text: str):
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        return loader.get_single_node(), loader
    except yaml.YAMLError as exc:
        raise WriteError(f"invalid YAML: {exc}") from None


def _find(node, loader, path: tuple):
    """(key node, value node) for ``path``; the parent mapping node when the last key is missing."""
    key_node = None
    for depth, part in enumerate(path):
        if node is None or node.id != "mapping":
            return None, None, None
        match = None
        for k, v in node.value:
            if k.id == "scalar" and loader.construct_object(k, deep=True) == part:
                match = (k, v)
        if match is None:
            return None, None, (node if depth == len(path) - 1 else None)
        key_node, node = match
    return key_node, node, None


def apply(text: str, edits: list) -> str:
    for edit in edits:
        text = _apply_one(text, edit)
    return text


def _apply_one(text: str, edit) -> str:
    root, loader = _compose(text)
    try:
        key_node, value_node, parent = _find(root, loader, tuple(edit.key_path))
        if edit.op == "rename":
            if key_node is None:
                raise WriteError(f"no key {'.'.join(map(str, edit.key_path))} to rename")
            return text[: key_node.start_mark.index] + str(edit.value) + text[key_node.end_mark.index :]
        if value_node is not None:
            if value_node.id != "scalar":
                raise WriteError("only scalar values are edited")
            if loader.construct_object(value_node, deep=True) == edit.value and type(edit.value) is type(
                loader.construct_object(value_node, deep=True)
            ):
                return text
            start, end = value_node.start_mark.index, value_node.end_mark.index
            token = text[start:end]
            if value_node.style in ("|", ">"):
                # A block scalar runs to the end of its last line, newline included: keep one.
                ending = "\n" if token.endswith("\n") else ""
                return text[:start] + render(edit.value) + ending + text[end:]
            return text[:start] + render(edit.value, token) + text[end:]
        if parent is None or parent.flow_style or not parent.value:
            raise WriteError(f"cannot add {'.'.join(map(str, edit.key_path))} here")
        last_key, last_value = parent.value[-1]
        column = last_key.start_mark.column
        insert_at = _end_of_line(text, last_value.end_mark.index)
        line = " " * column + f"{edit.key_path[-1]}: {render(edit.value)}\n"
        if insert_at > 0 and text[insert_at - 1] != "\n":
            line = "\n" + line
        return text[:insert_at] + line + text[insert_at:]
    finally:
        loader.dispose()


def _end_of_line(text: str, index: int) -> int:
    """Just past the newline that ends the line holding ``index`` (comments included)."""
    if index > 0 and text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline == -1 else newline + 1
