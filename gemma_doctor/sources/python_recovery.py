"""Parsing the Python people really write, statement by statement.

Real notebooks and scripts hold code that this Python cannot parse: PEP 701 f-strings (quotes
reused inside replacement fields: valid on Colab's Python 3.12, rejected by 3.11's ``ast``)
and plain syntax errors. Losing a whole cell to one of them lost, in Google's QLoRA tutorial,
its ``trl==0.15.2`` and ``accelerate==1.4.0`` pins. So:

1. f-string contents are blanked (they hold nothing gemma-doctor reads), newlines kept;
2. each top-level statement that still fails is blanked, line numbers kept, and named in a
   message; the rest of the file is read.

We blank f-strings rather than require Python 3.12: Python 3.11 is what this project and many
of its users run, and the contents of an f-string never decide a training setting.
"""

from __future__ import annotations

import ast

_MAX_SKIPPED = 20
_TRIPLE = ("'''", '"""')


def parse_recovering(text: str, display: str, what: str = "") -> tuple[ast.Module | None, list[str]]:
    """The module, and one message per top-level statement that had to be skipped."""
    skipped: list[str] = []
    current = text
    tried_fstrings = False
    for _attempt in range(_MAX_SKIPPED + 2):
        try:
            return ast.parse(current, filename=display), skipped
        except SyntaxError as exc:
            if not tried_fstrings:
                tried_fstrings = True
                blanked = blank_fstrings(current)
                if blanked != current:
                    current = blanked
                    continue
            span = _statement_span(current, exc.lineno or 1)
            if span is None:
                return None, [f"{what}syntax error: {exc.msg} at line {exc.lineno}"]
            start, end = span
            lines = current.split("\n")
            first = lines[start - 1].strip()
            skipped.append(
                f"{what}syntax error: {exc.msg} at line {exc.lineno}; skipped the statement at line "
                f"{start} ({first[:40]!r}) and read the rest"
            )
            current = "\n".join("" if start <= number <= end else line for number, line in enumerate(lines, 1))
        except UnicodeError:
            return None, [f"{what}cannot parse: it holds characters that are not valid Unicode (a lone surrogate)"]
        except (ValueError, RecursionError, MemoryError) as exc:
            reason = (
                "nested too deeply"
                if isinstance(exc, RecursionError)
                else "too large to parse in memory"
                if isinstance(exc, MemoryError)
                else str(exc).splitlines()[0]
            )
            return None, [f"{what}cannot parse: {reason}"]
    return None, skipped


def _statement_span(text: str, line: int) -> tuple[int, int] | None:
    """The lines of the top-level statement around ``line``: from the nearest line that starts
    at column 0 at or above it, to the line before the next such line below it."""
    lines = text.split("\n")
    line = min(max(line, 1), len(lines))

    def top_level(number: int) -> bool:
        content = lines[number - 1]
        return bool(content.strip()) and not content[0].isspace() and not content.startswith(("#", ")", "]", "}"))

    start = line
    while start > 1 and not top_level(start):
        start -= 1
    end = line
    while end < len(lines) and not top_level(end + 1):
        end += 1
    if not lines[start - 1].strip():
        return None
    return start, end


def blank_fstrings(text: str) -> str:
    """``text`` with every f-string's contents replaced by spaces (newlines kept)."""
    out = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "#":  # a comment runs to the end of the line
            end = text.find("\n", index)
            end = length if end == -1 else end
            out.append(text[index:end])
            index = end
            continue
        if char in "'\"":
            prefix_start = index
            while prefix_start > 0 and text[prefix_start - 1] in "rRbBuUfF":
                prefix_start -= 1
            is_f = "f" in text[prefix_start:index].lower()
            quote = text[index : index + 3] if text[index : index + 3] in _TRIPLE else char
            end = _string_end(text, index + len(quote), quote, is_f)
            body = text[index + len(quote) : end]
            if is_f:
                body = "".join(c if c == "\n" else " " for c in body)
            out.append(quote + body + text[end : end + len(quote)])
            index = end + len(quote)
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _string_end(text: str, index: int, quote: str, is_f: bool) -> int:
    """The index of the closing quote of a string whose body starts at ``index``."""
    depth = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if is_f and char == "{":
            if depth == 0 and text.startswith("{{", index):
                index += 2
                continue
            depth += 1
        elif is_f and char == "}" and depth:
            depth -= 1
        elif depth and char in "'\"":  # a string inside a replacement field
            inner = text[index : index + 3] if text[index : index + 3] in _TRIPLE else char
            index = _string_end(text, index + len(inner), inner, False) + len(inner)
            continue
        elif not depth and text.startswith(quote, index):
            return index
        elif len(quote) == 1 and char == "\n" and not depth:
            return index  # an unterminated one-line string: stop at the end of its line
        index += 1
    return length
