"""The project's own modules, as a script imports them (``from config import MODEL_ID``,
``from .config import BNB_CONFIG``, ``import settings``): found beside the file, read once, lazily,
only when an import names one, and never executed.

Bounded: an import is followed at most ``MAX_DEPTH`` modules away from the file being checked, at
most ``MAX_MODULES`` modules a process, and a module that is being read when it is imported again (a
cycle) gives nothing, as an unknown does.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from gemma_doctor.facts import InputError
from gemma_doctor.sources import read_text
from gemma_doctor.sources.python_recovery import parse_recovering

MAX_DEPTH = 3
MAX_MODULES = 400
# (absolute path, the launch line's Invocation.key or None) -> its reader (an Analyzer), or None while being read
_READ: dict[tuple[str, tuple | None], object] = {}
_SEARCH_UP = 3  # an absolute import is looked for beside the file and up to this many folders above


def find(importer: Path, module: str | None, level: int, name: str | None = None) -> Path | None:
    """The file of the project that ``from <level dots><module> import name`` (or ``import module``)
    names, seen from ``importer``; None for anything that is not a file of the project."""
    parts = (module or "").split(".") if module else []
    if level:
        base = importer.parent
        for _ in range(level - 1):
            base = base.parent
        bases = [base]
    else:
        bases = [importer.parent, *list(importer.parents)[1 : _SEARCH_UP + 1]]
        if not parts:
            return None
    for base in bases:
        for candidate_parts in ([*parts, name] if name else None, parts):
            if candidate_parts:
                found = _module_file(base, candidate_parts)
                if found is not None:
                    return found
    return None


# Folder -> the names in it, listed once per check: `from transformers import A, B, C` in a thousand
# scripts asked the file system ~16 stats per name, where one listing per folder answers them all.
_LISTED: dict[str, frozenset[str]] = {}


def _names(folder: Path) -> frozenset[str]:
    key = str(folder)
    names = _LISTED.get(key)
    if names is None:
        try:
            names = frozenset(os.listdir(key))
        except OSError:  # not a folder, gone, unreadable: nothing to import from it
            names = frozenset()
        _LISTED[key] = names
    return names


def _module_file(base: Path, parts: list[str]) -> Path | None:
    """``base/a/b.py`` or ``base/a/b/__init__.py`` for parts [a, b], as Python's import (case-sensitive) finds them."""
    folder = base
    for part in parts[:-1]:
        if part not in _names(folder):
            return None
        folder = folder / part
    last = parts[-1]
    names = _names(folder)
    if f"{last}.py" in names and os.path.isfile(folder / f"{last}.py"):
        return folder / f"{last}.py"
    if last in names and "__init__.py" in _names(folder / last) and os.path.isfile(folder / last / "__init__.py"):
        return folder / last / "__init__.py"
    return None


def forget() -> None:
    """Start a check afresh: a long-lived process (the IPython magic, the preflight callback) checks again
    after the user edited a module or a folder."""
    _READ.clear()
    _LISTED.clear()


def read(path: Path, importer_display: str, importer_path: Path, depth: int, reader_class, invocation=None):
    """The reader of the project module at ``path`` (its names, as its own statements bind them), or None.
    ``reader_class`` is the importer's own (python_code.Analyzer), which this module never imports. A
    module read for a launch line's run (``invocation``, its Invocation) reads that line's words and exports."""
    key = (os.path.abspath(path), invocation.key if invocation is not None else None)
    if key in _READ:
        return _READ[key]  # None while it is being read: an import cycle
    if depth > MAX_DEPTH or len(_READ) >= MAX_MODULES:
        return None
    relative = os.path.relpath(path, importer_path.parent).replace(os.sep, "/")
    display = posixpath.normpath(posixpath.join(posixpath.dirname(importer_display), relative))
    _READ[key] = None
    try:
        text = read_text(path)
    except InputError:
        return None
    tree, _skipped = parse_recovering(text, display)
    if tree is None:
        return None
    reader = reader_class(display, path, depth, invocation)
    reader.run(tree)
    _READ[key] = reader
    return reader
