"""``# gemma-doctor: ignore[GD101] reason`` comments in Python, notebooks and YAML.

At the end of a line the comment covers that line. On a line of its own it
covers the statement below it (all of its lines, for Python), so it can sit
above a multi-line ``TrainingArguments(...)`` call.
"""

from __future__ import annotations

import re

from gemma_doctor.facts import Suppression

_COMMENT = re.compile(r"#\s*gemma-doctor:\s*ignore\[([A-Za-z0-9_,\s]+)\]\s*(.*)$")


def python_comment_columns(code: str) -> dict[int, int]:
    """line -> 0-based column of the real comment on it, by Python's tokenizer: a ``#`` inside
    a string is not a comment (fuzz D27)."""
    import io
    import tokenize

    columns: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                columns[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return columns


def yaml_scalar_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of every YAML scalar: a ``#`` inside one is data."""
    import yaml

    spans = []
    try:
        for token in yaml.scan(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(token, yaml.ScalarToken):
                spans.append((token.start_mark.index, token.end_mark.index))
    except yaml.YAMLError:
        pass
    return spans


def scan_hash_comments(
    text: str,
    display: str,
    cell: int | None = None,
    statement_ranges: dict[int, int] | None = None,
    comment_columns: dict[int, int] | None = None,
    scalar_spans: list[tuple[int, int]] | None = None,
) -> list[Suppression]:
    """Find suppression comments. ``statement_ranges`` maps a statement's first line to its last.
    ``comment_columns`` (Python: where the tokenizer found comments) or ``scalar_spans`` (YAML:
    where the data is) keep a ``# gemma-doctor: ignore[...]`` inside a string from counting."""
    if "gemma-doctor" not in text:
        return []
    # Split at \n only: str.splitlines also breaks at a form feed and other characters that Python and
    # YAML read inside a line, which shifted every comment below one (fuzz N08).
    kept = text.split("\n")
    lines = [line.removesuffix("\r") for line in kept]
    offsets = [0]
    for line in kept:
        offsets.append(offsets[-1] + len(line) + 1)
    found = []
    for index, line in enumerate(lines):
        match = _COMMENT.search(line)
        if not match:
            continue
        if comment_columns is not None and (
            index + 1 not in comment_columns or comment_columns[index + 1] > match.start()
        ):
            continue  # not a comment: inside a string
        position = offsets[index] + match.start()
        if scalar_spans is not None and any(start <= position < end for start, end in scalar_spans):
            continue  # inside a YAML scalar (a block scalar or a quoted string)
        rules = tuple(part.strip().upper() for part in match.group(1).split(",") if part.strip())
        reason = match.group(2).strip() or None
        number = index + 1
        before = line[: match.start()].strip()
        if before:
            covers: tuple[int, ...] = (number,)
        else:
            target = next(
                (
                    i + 1
                    for i in range(index + 1, len(lines))
                    if lines[i].strip() and not lines[i].lstrip().startswith("#")
                ),
                None,
            )
            if target is None:
                covers = ()
            else:
                last = (statement_ranges or {}).get(target, target)
                covers = tuple(range(target, last + 1))
        found.append(Suppression(display, rules, number, covers, cell, reason, column=match.start() + 1))
    return found
