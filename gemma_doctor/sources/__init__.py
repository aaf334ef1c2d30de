"""Sources: one module per kind of file. Each turns a file into facts with locations.

``load_file`` recognises a file by its name and content and hands it to the
right source. Sources never judge anything; rules do.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

from gemma_doctor.facts import InputError, SourceResult
from gemma_doctor.filekinds import BY_NAME, BY_SUFFIX, is_requirements
from gemma_doctor.filetext import BOM, read_bytes

MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024

# JSON files that Hugging Face model folders and datasets carry and that hold
# no setting we judge; some are tens of megabytes. (The tokenizer files with a setting
# we judge are read by name: filekinds.BY_NAME.)
_IGNORED_NAMES = {
    "tokenizer.json",
    "vocab.json",
    "added_tokens.json",
    "preprocessor_config.json",
    "processor_config.json",
    "trainer_state.json",
    "model.safetensors.index.json",
    "package.json",
    "package-lock.json",
    "tsconfig.json",
    "composer.json",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "pnpm-lock.yaml",
    "environment.yml",
    "environment.yaml",
    "mkdocs.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "codecov.yml",
    ".readthedocs.yaml",
    ".yamllint",
}
_CONFIGISH = ("config", "args", "train", "deepspeed", "ds_", "zero", "accelerate", "sft", "dpo", "grpo")


def read_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """Read a small regular text file, turning every way it can fail into one InputError line."""
    try:
        data = read_bytes(path, limit)
    except OSError as exc:
        raise InputError(_os_reason(exc)) from None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not text")
    # UTF-8, less a byte order mark: what the "utf-8-sig" codec does, without loading its module.
    bom = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start  # in the file, BOM included
        raise InputError(f"not UTF-8 (byte 0x{data[offset]:02x} at offset {offset})") from None


def _os_reason(exc: OSError) -> str:
    """One line, without the exception's repr: "symbolic link loop", "Permission denied"."""
    if exc.errno == 40:  # ELOOP
        return "symbolic link loop"
    return exc.strerror or type(exc).__name__


def is_candidate(path: Path) -> bool:
    """Cheap test on the name alone: could this file hold anything we read? (filekinds.py)"""
    name = path.name
    if name in _IGNORED_NAMES:
        return False
    return path.suffix.lower() in BY_SUFFIX or name in BY_NAME or is_requirements(name)


def load_file(path: Path, display: str, text: str | None = None) -> SourceResult:
    """Recognise ``path`` and read it with its source (filekinds.py). Raises InputError for unreadable input.

    ``text``: the file's text when it is not on disk (engine.Options.documents); only a notebook."""
    name = path.name
    if text is not None:
        if path.suffix.lower() != ".ipynb":
            raise InputError("only a notebook can be checked from text")
        from gemma_doctor.sources import notebook

        return notebook.load(path, display, text)
    suffix = path.suffix.lower()
    if name in BY_NAME or is_requirements(name):
        module, loader = BY_NAME.get(name, ("versions", "load_requirements"))
        return getattr(import_module(f"gemma_doctor.sources.{module}"), loader)(path, display)
    if suffix == ".json" and name not in ("config.json", "generation_config.json"):
        # Datasets are often big JSON files; only config-like names are worth reading whole.
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(_os_reason(exc)) from None
        if size > MAX_CONFIG_BYTES and not any(part in name.lower() for part in _CONFIGISH):
            return SourceResult()
    return import_module(f"gemma_doctor.sources.{BY_SUFFIX[suffix]}").load(path, display)


def display_path(path: Path, cwd: Path) -> str:
    """Paths in reports are relative to the current directory and use '/'."""
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        rel = str(path)
    return rel.replace(os.sep, "/")
