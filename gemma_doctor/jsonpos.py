"""JSON with positions: the parsed value plus the byte span of every member.

``json.loads`` (C) parses and validates; a small scanner then records where
each key and value starts and ends, so rules can report lines and the JSON
writer can splice exactly the bytes of one value.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from json.decoder import WHITESPACE, scanstring  # type: ignore[attr-defined]  # C scanner, public in practice
from json.scanner import NUMBER_RE

from gemma_doctor.records import record

# json's own compiled patterns for whitespace and numbers: compiling equal ones here would cost
# ~0.8 ms a run, and these are by definition what json.loads accepted.
_WS = WHITESPACE
# Past this many members of one object or array, the rest is skipped at C speed with no spans:
# a 3.8 MB config.json of 1.9 million numbers must not cost 600 MB of spans (fuzz D18). Notebook
# cells and source lines stay well below it.
MAX_SPANNED_MEMBERS = 10_000
_DECODER = json.JSONDecoder()
_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")


@record(frozen=True, slots=True)
class Span:
    key_start: int | None
    value_start: int
    value_end: int


class LineIndex:
    """Offsets to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


class JsonDocument:
    def __init__(self, text: str, value: object, spans: dict[tuple, Span]) -> None:
        self.text = text
        self.value = value
        self.spans = spans
        self._lines: LineIndex | None = None

    def position(self, path: tuple) -> tuple[int | None, int | None]:
        span = self.spans.get(path)
        if span is None:
            return None, None
        if self._lines is None:
            self._lines = LineIndex(self.text)
        offset = span.key_start if span.key_start is not None else span.value_start
        return self._lines.position(offset)


def load_value(text: str):
    """``json.loads`` with every failure turned into a one-line ValueError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # json's messages that end in "at" ("Unterminated string starting at") take the position themselves
        where = f"line {exc.lineno} column {exc.colno}"
        reason = f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"
        raise ValueError(f"invalid JSON: {reason}") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None


def _skip(text: str, index: int) -> int:
    """Past the JSON whitespace at ``index`` (the pattern always matches, maybe empty)."""
    match = _WS.match(text, index)
    return match.end() if match else index


def parse_json(text: str) -> JsonDocument:
    """Parse JSON text with positions; raises ValueError with a one-line reason."""
    value = load_value(text)
    spans: dict[tuple, Span] = {}
    try:
        _scan(text, _skip(text, 0), (), spans)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return JsonDocument(text, value, spans)


def _scan(text: str, i: int, path: tuple, spans: dict[tuple, Span], key_start: int | None = None) -> int:
    """Record the span of the value at ``i`` (and its members); return its end."""
    start = i
    char = text[i]
    if char == "{":
        i = _skip(text, i + 1)
        if text[i] == "}":
            end = i + 1
        else:
            members = 0
            while True:
                members += 1
                if members > MAX_SPANNED_MEMBERS:
                    end = _DECODER.raw_decode(text, start)[1]
                    break
                member_key_start = i
                key, i = scanstring(text, i + 1)
                i = _skip(text, i) + 1  # past ':'
                i = _skip(text, i)
                i = _scan(text, i, path + (key,), spans, member_key_start)
                i = _skip(text, i)
                if text[i] == "}":
                    end = i + 1
                    break
                i = _skip(text, i + 1)  # past ','
    elif char == "[":
        i = _skip(text, i + 1)
        index = 0
        if text[i] == "]":
            end = i + 1
        else:
            while True:
                if index >= MAX_SPANNED_MEMBERS:
                    end = _DECODER.raw_decode(text, start)[1]
                    break
                i = _scan(text, i, path + (index,), spans)
                index += 1
                i = _skip(text, i)
                if text[i] == "]":
                    end = i + 1
                    break
                i = _skip(text, i + 1)
    elif char == '"':
        _, end = scanstring(text, i + 1)
    else:
        number = NUMBER_RE.match(text, i)  # json.loads already accepted the text: a scalar is here
        end = number.end() if number else next((i + len(w) for w in _LITERALS if text.startswith(w, i)), i + 1)
    spans[path] = Span(key_start, start, end)
    return end
