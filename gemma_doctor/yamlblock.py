"""The block-style YAML that training configs are written in, read without PyYAML.

Importing PyYAML costs more than the rest of a small project's check: its reader compiles a
regular expression over all of Unicode at import time (about 10 ms here) and the module tree
about 15 ms more. Training configs use a small part of YAML: block mappings and sequences,
plain and quoted one-line scalars, one-line flow sequences, comments. This module reads that
part, and gives up (returns None) on anything else, so that PyYAML reads it instead.

What it returns is exactly what ``yamlpos.parse_yaml`` gets from PyYAML's ``SafeLoader`` for
the same text: the same values (YAML 1.1 resolution: ``yes`` is True, ``2e-4`` is a string,
``010`` is 8) and the same positions. ``tests/test_yamlblock.py`` holds it to that on every
YAML file of the fixtures, the examples and the mirrored public projects, and on generated
documents. So "gives up" is the whole error policy: every error message is PyYAML's.
"""

from __future__ import annotations

# First characters a plain scalar may not start with here: YAML indicators (PyYAML's
# check_plain), and '<' and '=' (the merge and value tags, which SafeLoader treats specially).
_NOT_PLAIN_START = frozenset(",[]{}#&*!|>'\"%@`<=?:")
_BOOLS = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_NULLS = frozenset(("~", "null", "Null", "NULL"))
# The first characters of PyYAML's int and float resolvers (resolver.py).
_NUMERIC_START = frozenset("-+0123456789.")
# Every character PyYAML's int, float and timestamp patterns can match: a scalar with any other
# (a path such as ./out_dir) is a string, whatever it starts with.
_NUMERIC_CHARS = frozenset("0123456789abcdefABCDEFxXinINtTZ_:.+- ")
# One NaN object for every spelling, as PyYAML's constructor returns its one nan_value: two NaN keys of a
# mapping are then one key, as there (fuzz N03).
_NAN = float("nan")
_SPECIAL_FLOATS = {
    **{sign + word: float(sign + "inf") for sign in ("", "-", "+") for word in (".inf", ".Inf", ".INF")},
    **dict.fromkeys((".nan", ".NaN", ".NAN"), _NAN),
}
_BINARY, _OCTAL, _HEX = frozenset("01"), frozenset("01234567"), frozenset("0123456789abcdefABCDEF")


class _Unsupported(Exception):
    """The text uses YAML this module does not read; PyYAML will."""


def read_block_yaml(text: str) -> tuple[object, dict[tuple, tuple[int, int]]] | None:
    """(value, positions) as ``yamlpos`` builds them, or None when PyYAML must read the text."""
    if not _plain_text(text):
        return None
    lines = []
    for number, line in enumerate(text.split("\n"), 1):
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        indent = len(line) - len(content)
        if indent == 0 and (content[0] == "%" or content[:3] in ("---", "...")):
            return None  # directives and document markers
        lines.append((number, indent, content.rstrip(" ")))
    if not lines:
        return None, {}
    reader = _Reader(lines)
    try:
        value = reader.node(lines[0][1], (), root=True)
        if reader.index != len(lines):
            return None
    except (_Unsupported, RecursionError):
        return None
    return value, reader.positions


def _plain_text(text: str) -> bool:
    """No tabs, no line breaks other than \\n, no BOM, and nothing PyYAML calls non-printable."""
    if text.isascii():  # printable ASCII: 0x20-0x7E; tabs and \r have meanings of their own in YAML
        return text.replace("\n", "").isprintable()
    for char in text:
        code = ord(char)
        if code < 0x80:
            if not (0x20 <= code <= 0x7E or code == 0x0A):
                return False
        elif (
            not (0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000) or char in "\ufeff\u2028\u2029"
        ):
            return False  # \x85 (below 0xA0), \u2028 and \u2029 are line breaks in YAML 1.1 (fuzz N01)
    return True


class _Reader:
    def __init__(self, lines: list[tuple[int, int, str]]) -> None:
        self.lines = lines  # (line number, indent, content without indent or trailing spaces)
        self.index = 0
        self.positions: dict[tuple, tuple[int, int]] = {}

    def node(self, column: int, path: tuple, root: bool = False) -> object:
        """The block collection whose first line is the current one, at ``column``."""
        number, _, content = self.lines[self.index]
        if root:
            self.positions[()] = (number, column + 1)
        if _is_dash(content):
            return self.sequence(column, path, indentless=False)
        if _split_entry(content) is not None:
            return self.mapping(column, path)
        raise _Unsupported  # a scalar on lines of its own

    def continuing(self, column: int) -> tuple[int, int, str] | None:
        """The current line, when it continues the collection at ``column``; None when the text ends
        or dedents there. A deeper line would continue a scalar (PyYAML folds it)."""
        if self.index >= len(self.lines) or self.lines[self.index][1] < column:
            return None
        if self.lines[self.index][1] > column:
            raise _Unsupported
        return self.lines[self.index]

    def mapping(self, column: int, path: tuple) -> dict:
        mapping: dict = {}
        while (line := self.continuing(column)) is not None:
            number, _, content = line
            entry = _split_entry(content)
            if entry is None:
                break  # for an indentless sequence's parent to judge; otherwise the caller gives up
            key_text, key_quoted, rest, rest_column = entry
            key = key_text if key_quoted else _resolve(key_text)
            child = (*path, key)
            self.positions.setdefault(child, (number, column + 1))
            self.index += 1
            if rest:
                mapping[key] = self.inline(rest, column + rest_column, number, column, child)
            else:
                mapping[key] = self.block_value(column, child)
        return mapping

    def sequence(self, column: int, path: tuple, indentless: bool) -> list:
        items: list = []
        while (line := self.continuing(column)) is not None:
            number, _, content = line
            if not _is_dash(content):
                if indentless:
                    break
                raise _Unsupported
            child = (*path, len(items))
            rest = content[1:].lstrip(" ")
            if not rest or rest[0] == "#":
                self.index += 1
                if self.index >= len(self.lines) or self.lines[self.index][1] <= column:
                    raise _Unsupported  # an empty item: PyYAML places its mark oddly
                below, indent, _ = self.lines[self.index]
                self.positions.setdefault(child, (below, indent + 1))
                items.append(self.node(indent, child))
                continue
            item_column = column + len(content) - len(rest)
            if _is_dash(rest) or _split_entry(rest) is not None:
                # A compact collection: read the rest of this line as a line of its own.
                self.lines[self.index] = (number, item_column, rest)
                self.positions.setdefault(child, (number, item_column + 1))
                items.append(self.node(item_column, child))
                continue
            self.index += 1
            items.append(self.inline(rest, item_column, number, column, child, record=True))
        return items

    def block_value(self, column: int, path: tuple) -> object:
        """The value of a key written with nothing after its colon."""
        if self.index >= len(self.lines):
            return None
        _, indent, content = self.lines[self.index]
        if indent > column:
            return self.node(indent, path)
        if indent == column and _is_dash(content):
            return self.sequence(column, path, indentless=True)
        return None

    def inline(self, text: str, text_column: int, number: int, parent_column: int, path: tuple, record=False):
        """A scalar or flow sequence that ends on its own line; a line indented under it would
        continue it, which PyYAML folds (left to PyYAML)."""
        if self.index < len(self.lines) and self.lines[self.index][1] > parent_column:
            raise _Unsupported
        if record:
            self.positions.setdefault(path, (number, text_column + 1))
        if text[0] == "[":
            return self.flow_sequence(text, text_column, number, path)
        value, end = _scalar(text, block=True)
        _expect_line_end(text, end)
        return value

    def flow_sequence(self, text: str, text_column: int, number: int, path: tuple) -> list:
        """``[a, 'b', 3]`` on one line, of scalars only."""
        items: list = []
        at = _skip_spaces(text, 1)
        if text[at : at + 1] == "]":
            _expect_line_end(text, at + 1)
            return items
        while True:
            if at >= len(text):
                raise _Unsupported  # continues on the next line
            self.positions.setdefault((*path, len(items)), (number, text_column + at + 1))
            value, at = _scalar(text, block=False, start=at)
            items.append(value)
            at = _skip_spaces(text, at)
            if text[at : at + 1] == "]":
                _expect_line_end(text, at + 1)
                return items
            if text[at : at + 1] != ",":
                raise _Unsupported
            at = _skip_spaces(text, at + 1)
            if text[at : at + 1] in ("]", ","):
                raise _Unsupported  # a trailing or doubled comma


def _skip_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at] == " ":
        at += 1
    return at


def _is_dash(content: str) -> bool:
    """A block sequence entry: ``-`` then a space or the end of the line."""
    return content == "-" or content.startswith("- ")


def _split_entry(content: str) -> tuple[str, bool, str, int] | None:
    """``key: rest`` -> (key text, quoted, rest, column of rest within content), or None when
    the line is not a simple mapping entry."""
    if content[0] in "'\"":
        key, end = _quoted(content, 0)
        colon = end
        while colon < len(content) and content[colon] == " ":
            colon += 1
        if colon >= len(content) or content[colon] != ":":
            return None
        if colon + 1 < len(content) and content[colon + 1] != " ":
            return None
        quoted = True
    else:
        colon = content.find(": ")
        if colon < 0:
            if not content.endswith(":"):
                return None
            colon = len(content) - 1
        key = content[:colon].rstrip(" ")
        if " #" in key or not key:
            return None
        if key[0] in _NOT_PLAIN_START or key[0] == "-" or len(key) > 1000:
            raise _Unsupported
        quoted = False
    if colon > 1000:  # PyYAML drops a simple key longer than 1024 characters: let it say so (fuzz N02)
        raise _Unsupported
    rest_at = colon + 1
    while rest_at < len(content) and content[rest_at] == " ":
        rest_at += 1
    rest = content[rest_at:]
    if rest.startswith("#"):
        rest = ""
    return key, quoted, rest, rest_at


def _scalar(text: str, block: bool, start: int = 0) -> tuple[object, int]:
    """The scalar that starts at ``text[start]``, and where it ends."""
    if text[start] in "'\"":
        return _quoted(text, start)
    if text[start] in _NOT_PLAIN_START or (text[start] == "-" and text[start + 1 : start + 2] in ("", " ")):
        raise _Unsupported
    end = start
    while end < len(text):
        char = text[end]
        if char == ":" and text[end + 1 : end + 2] in ("", " "):
            raise _Unsupported  # a mapping where PyYAML allows none, or a compact one in flow
        if char == "#" and text[end - 1] == " ":
            break
        if not block and char in ",[]{}?:#":
            if char in ",]":
                break
            raise _Unsupported
        end += 1
    plain = text[start:end].rstrip(" ")
    return _resolve(plain), start + len(plain)


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    if quote == "'":
        parts = []
        at = start + 1
        while True:
            close = text.find("'", at)
            if close < 0:
                raise _Unsupported  # continues on the next line
            parts.append(text[at:close])
            if text[close + 1 : close + 2] == "'":
                parts.append("'")
                at = close + 2
                continue
            return "".join(parts), close + 1
    close = text.find('"', start + 1)
    if close < 0 or "\\" in text[start:close]:
        raise _Unsupported  # escapes, or continues on the next line
    return text[start + 1 : close], close + 1


def _expect_line_end(text: str, end: int) -> None:
    rest = text[end:]
    if rest and not (rest.lstrip(" ").startswith("#") and rest[0] == " "):
        raise _Unsupported


def _resolve(plain: str) -> object:
    """A plain scalar's value, as PyYAML's SafeLoader resolves and constructs it."""
    if plain in _BOOLS:
        return _BOOLS[plain]
    if plain in _NULLS:
        return None
    if plain[0] not in _NUMERIC_START or not _NUMERIC_CHARS.issuperset(plain):
        return plain
    if "_" in plain or ":" in plain or (len(plain) > 4 and plain[:4].isdigit() and plain[4] == "-"):
        raise _Unsupported  # digit separators, base 60, timestamps
    if plain in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[plain]
    if _is_float(plain):
        return float(plain)
    if _is_int(plain):
        sign = -1 if plain[0] == "-" else 1
        digits = plain.lstrip("+-")
        if digits.startswith("0b"):
            return sign * int(digits[2:], 2)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        if len(digits) > 1 and digits[0] == "0":
            return sign * int(digits, 8)
        return sign * int(digits)
    return plain


# PyYAML's int and float patterns (resolver.py) without '_' and ':' (a numeric scalar with either is
# left to PyYAML), written out as string code: compiling them cost ~0.6 ms a run. The plain scalar
# here is ASCII (_NUMERIC_CHARS).
def _digits(text: str) -> bool:
    return text.isdigit()  # ASCII here, so [0-9]+


def _is_float(plain: str) -> bool:
    """``[-+]?[0-9]+\\.[0-9]*([eE][-+][0-9]+)?|\\.[0-9]+([eE][-+][0-9]+)?``"""
    mantissa, exponent = plain, None
    for index, char in enumerate(plain):
        if char in "eE":
            mantissa, exponent = plain[:index], plain[index + 1 :]
            break
    if exponent is not None and not (exponent[:1] in ("+", "-") and _digits(exponent[1:])):
        return False
    whole, dot, fraction = mantissa.partition(".")
    if not dot or (fraction and not _digits(fraction)):
        return False
    if not whole:  # .5: no sign in this branch
        return bool(fraction)
    return _digits(whole[1:] if whole[0] in "+-" else whole)


def _is_int(plain: str) -> bool:
    """``[-+]?(0b[01]+|0[0-7]+|0|[1-9][0-9]*|0x[0-9a-fA-F]+)``"""
    digits = plain[1:] if plain[:1] in ("+", "-") else plain
    if digits.startswith(("0b", "0x")):
        allowed = _BINARY if digits[1] == "b" else _HEX
        return len(digits) > 2 and allowed.issuperset(digits[2:])
    if digits.startswith("0"):
        return _OCTAL.issuperset(digits)
    return _digits(digits)
