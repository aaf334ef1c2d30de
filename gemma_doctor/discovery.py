"""Which files a check reads: walk directories, skip VCS/virtualenv/cache folders
and anything .gitignore'd, keep the files a source can read."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

from gemma_doctor.sources import is_candidate

SKIP_DIRS = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", "site-packages", ".ipynb_checkpoints", "wandb", ".eggs", ".cache", "mlruns",
}


class GitIgnore:
    """The subset of .gitignore that real projects use: globs, '**', '/'-anchoring,
    directory-only patterns and '!' negation."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, re.Pattern, bool, bool]] = []  # (base, regex, negated, dir_only)

    def add_file(self, directory: str) -> None:
        try:
            with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            return
        for line in lines:
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.rstrip("/")
            line = line.lstrip("/")
            pattern = _glob_to_regex(line)
            if not anchored:
                pattern = r"(?:.*/)?" + pattern
            self._rules.append((directory, re.compile(pattern), negated, dir_only))

    def ignored(self, path: str, is_dir: bool) -> bool:
        result = False
        for base, regex, negated, dir_only in self._rules:
            if dir_only and not is_dir:
                continue
            if not path.startswith(base):
                continue
            relative = os.path.relpath(path, base).replace(os.sep, "/")
            if regex.fullmatch(relative):
                result = not negated
        return result


def _glob_to_regex(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 1:]:
            end = glob.index("]", i + 1)
            body = glob[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def walk(root: Path, exclude: list[str] | None = None) -> list[Path]:
    """Candidate files under ``root``, in a stable order."""
    found: list[Path] = []
    ignore = GitIgnore()
    exclude = exclude or []
    root_text = str(root)
    for directory, dirnames, filenames in os.walk(root_text):
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
    return any(fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(os.path.basename(full), pattern)
               for pattern in patterns)


CONTEXT_NAMES = ("config.json", "generation_config.json", "pyproject.toml", "uv.lock", "poetry.lock",
                 "requirements.txt")


def context_files(files: list[Path]) -> list[Path]:
    """For files passed one by one (pre-commit), the files that give them context:
    the model config and version pins in the same folder and the folders above it,
    up to the repository root."""
    seen = {f.resolve() for f in files}
    extra: list[Path] = []
    for directory in sorted({f.resolve().parent for f in files}):
        current = directory
        while True:
            for name in CONTEXT_NAMES:
                candidate = current / name
                if candidate.is_file() and candidate.resolve() not in seen:
                    seen.add(candidate.resolve())
                    extra.append(candidate)
            if (current / ".git").exists() or current.parent == current:
                break
            current = current.parent
    return extra
