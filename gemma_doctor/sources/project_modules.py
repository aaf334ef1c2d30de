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
_READ: dict[str, object] = {}  # absolute path -> its reader (an Analyzer), or None while being read
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
            if not candidate_parts:
                continue
            target = base.joinpath(*candidate_parts)
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if os.path.isfile(candidate):
                    return candidate
    return None


def read(path: Path, importer_display: str, importer_path: Path, depth: int, reader_class):
    """The reader of the project module at ``path`` (its names, as its own statements bind them), or None.
    ``reader_class`` is the importer's own (python_code.Analyzer), which this module never imports."""
    key = os.path.abspath(path)
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
    reader = reader_class(display, path, depth)
    reader.run(tree)
    _READ[key] = reader
    return reader
