"""Which files a check reads: walk directories, skip VCS/virtualenv/cache folders
and anything .gitignore'd, keep the files a source can read."""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path

from gemma_doctor.sources import is_candidate

SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    ".ipynb_checkpoints",
    "wandb",
    ".eggs",
    ".cache",
    "mlruns",
}


# Bounds on what a .gitignore can make the walk cost: no real pattern is this long, no real file this long.
_MAX_PATTERN_LENGTH = 512
_MAX_PATTERNS = 2_000


class GitIgnore:
    """The subset of .gitignore that real projects use: globs, '**', '/'-anchoring,
    directory-only patterns and '!' negation, matched in linear time (see ``glob_match``)."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, str, bool, bool, bool]] = []  # (base, glob, anchored, negated, dir_only)

    def add_file(self, directory: str) -> None:
        path = os.path.join(directory, ".gitignore")
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return  # a FIFO or a device would block the read forever (fuzz N06)
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read(1_000_000).splitlines()
        except OSError:
            return
        for line in lines[:_MAX_PATTERNS]:
            line = line.rstrip()
            if not line or line.startswith("#") or len(line) > _MAX_PATTERN_LENGTH:
                continue  # matching costs pattern x path length: a pathological line is not a pattern (fuzz N07)
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.rstrip("/")
            line = line.lstrip("/")
            if line:
                self._rules.append((directory, line, anchored, negated, dir_only))

    def ignored(self, path: str, is_dir: bool) -> bool:
        result = False
        for base, glob, anchored, negated, dir_only in self._rules:
            if dir_only and not is_dir:
                continue
            if not path.startswith(base):
                continue
            relative = os.path.relpath(path, base).replace(os.sep, "/")
            if anchored:
                matched = glob_match(glob, relative)
            else:  # an unanchored pattern matches the name at any depth
                matched = glob_match(glob, relative.rsplit("/", 1)[-1]) or glob_match("**/" + glob, relative)
            if matched:
                result = not negated
        return result


def glob_match(pattern: str, path: str) -> bool:
    """gitignore-style glob matching in O(len(pattern) * len(path)) time.

    ``*`` and ``?`` never match ``/``; ``**`` matches anything, ``**/`` any number of whole
    directories; ``[...]`` is a character class (``[!...]`` negated; an invalid range such as
    ``[z-a]`` matches nothing). A regex translation backtracks exponentially on patterns like
    ``*a*a*a*a*b`` (fuzz D13b), and ``re`` raises on ``[z-a]`` (D13a); this table does neither.
    """
    tokens = _tokens(pattern)
    # reachable[i]: the pattern's first i tokens can match the path read so far
    reachable = [False] * (len(tokens) + 1)
    reachable[0] = True
    _close(tokens, reachable)
    for char in path:
        nxt = [False] * (len(tokens) + 1)
        for index, token in enumerate(tokens):
            if not reachable[index]:
                continue
            kind = token[0]
            if kind == "**":
                nxt[index] = True  # stay inside the **
            elif kind == "**/":
                nxt[index] = True  # still consuming directories
            elif kind == "*":
                if char != "/":
                    nxt[index] = True
            elif kind == "?":
                if char != "/":
                    nxt[index + 1] = True
            elif kind == "class":
                if char != "/" and _in_class(token[1], char):
                    nxt[index + 1] = True
            elif token[1] == char:
                nxt[index + 1] = True
        _close(tokens, nxt)
        reachable = nxt
        if not any(reachable):
            return False
    return reachable[len(tokens)]


def _close(tokens: list[tuple], reachable: list[bool]) -> None:
    """Star-like tokens may match nothing: whatever reaches them reaches past them."""
    for index, token in enumerate(tokens):
        if reachable[index] and token[0] in ("*", "**", "**/"):
            reachable[index + 1] = True


def _tokens(pattern: str) -> list[tuple]:
    tokens: list[tuple] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            tokens.append(("**/",))
            index += 3
        elif pattern.startswith("**", index):
            tokens.append(("**",))
            index += 2
        elif pattern[index] == "*":
            if not tokens or tokens[-1][0] != "*":  # consecutive stars are one
                tokens.append(("*",))
            index += 1
        elif pattern[index] == "?":
            tokens.append(("?",))
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 2 :]:
            end = pattern.index("]", index + 2)
            tokens.append(("class", pattern[index + 1 : end]))
            index = end + 1
        elif pattern[index] == "\\" and index + 1 < len(pattern):
            tokens.append(("char", pattern[index + 1]))
            index += 2
        else:
            tokens.append(("char", pattern[index]))
            index += 1
    return tokens


def _in_class(body: str, char: str) -> bool:
    negated = body.startswith(("!", "^"))
    if negated:
        body = body[1:]
    found = False
    index = 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            low, high = body[index], body[index + 2]
            if low <= char <= high:  # an inverted range such as z-a contains nothing
                found = True
            index += 3
        else:
            if body[index] == char:
                found = True
            index += 1
    return found != negated


def walk(root: Path, exclude: list[str] | None = None, unreadable: list[tuple[str, str]] | None = None) -> list[Path]:
    """Candidate files under ``root``, in a stable order. Directories that cannot be listed are
    added to ``unreadable`` as (path, reason): a folder a user cannot read must not pass as empty."""
    found: list[Path] = []
    ignore = GitIgnore()
    exclude = exclude or []
    root_text = str(root)

    def failed(error: OSError) -> None:
        if unreadable is not None:
            unreadable.append((error.filename or root_text, f"cannot list the directory: {error.strerror}"))

    for directory, dirnames, filenames in os.walk(root_text, onerror=failed):
        ignore.add_file(directory)
        kept = []
        for name in sorted(dirnames):
            full = os.path.join(directory, name)
            if name in SKIP_DIRS or os.path.exists(os.path.join(full, "pyvenv.cfg")):
                continue
            if ignore.ignored(full, True) or _excluded(full, root_text, exclude):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            full = os.path.join(directory, name)
            path = Path(full)
            if is_candidate(path) and not ignore.ignored(full, False) and not _excluded(full, root_text, exclude):
                found.append(path)
    return found


def _excluded(full: str, root: str, patterns: list[str]) -> bool:
    if not patterns:
        return False
    relative = os.path.relpath(full, root).replace(os.sep, "/")
    return any(
        fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(os.path.basename(full), pattern) for pattern in patterns
    )
