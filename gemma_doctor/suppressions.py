"""``# gemma-doctor: ignore[GD101] reason`` comments in Python, notebooks and YAML.

At the end of a line the comment covers that line. On a line of its own it
covers the statement below it (all of its lines, for Python), so it can sit
above a multi-line ``TrainingArguments(...)`` call.
"""

from __future__ import annotations

import re

from gemma_doctor.facts import Suppression

_COMMENT = re.compile(r"#\s*gemma-doctor:\s*ignore\[([A-Za-z0-9_,\s]+)\]\s*(.*)$")


def scan_hash_comments(
    text: str,
    display: str,
    cell: int | None = None,
    statement_ranges: dict[int, int] | None = None,
) -> list[Suppression]:
    """Find suppression comments. ``statement_ranges`` maps a statement's first line to its last."""
    if "gemma-doctor" not in text:
        return []
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = _COMMENT.search(line)
        if not match:
            continue
        rules = tuple(part.strip().upper() for part in match.group(1).split(",") if part.strip())
        reason = match.group(2).strip() or None
        number = index + 1
        before = line[: match.start()].strip()
        if before:
            covers: tuple[int, ...] = (number,)
        else:
            target = next((i + 1 for i in range(index + 1, len(lines))
                           if lines[i].strip() and not lines[i].lstrip().startswith("#")), None)
            if target is None:
                covers = ()
            else:
                last = (statement_ranges or {}).get(target, target)
                covers = tuple(range(target, last + 1))
        found.append(Suppression(display, rules, number, covers, cell, reason, column=match.start() + 1))
    return found
