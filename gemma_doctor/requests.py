"""What a command was asked to do, typed: the CLI builds one of these from argparse's namespace, and
everything below it (settings, the engine, the fixer) reads the record, never the namespace. The
fields are the destinations of the command's options in ``cli.COMMANDS`` (a test holds them equal),
plus ``cwd``, the directory paths are relative to."""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.records import field, record


@record
class CheckRequest:
    paths: list[str] = field(default_factory=list)
    format: str | None = None
    output_file: str | None = None
    fail_on: str | None = None
    exit_zero: bool = False
    show_settings: bool = False
    baseline: str | None = None
    add_ignore: str | None = None
    fix: bool = False
    unsafe_fixes: bool = False
    quiet: bool = False
    statistics: bool = False
    trace: bool = False
    select: list[str] | None = None
    ignore: list[str] | None = None
    extend_select: list[str] | None = None
    gpu: str | None = None
    compute_capability: str | None = None
    env: str | None = None
    config: str | None = None
    isolated: bool = False
    revision: str | None = None  # of a Hugging Face model id in the local cache
    online: bool = False
    cwd: Path = field(default_factory=Path.cwd)


@record
class FixRequest:
    paths: list[str] = field(default_factory=list)
    write: bool = False
    diff: bool = False
    unsafe_fixes: bool = False
    fail_on: str | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    extend_select: list[str] | None = None
    gpu: str | None = None
    compute_capability: str | None = None
    env: str | None = None
    config: str | None = None
    isolated: bool = False
    cwd: Path = field(default_factory=Path.cwd)


def from_namespace(kind: type, namespace, cwd: Path | None = None):
    """The request ``kind`` from argparse's namespace: every field the namespace has, and ``cwd``."""
    fields = getattr(kind, "__record_fields__", ())
    values = {name: getattr(namespace, name) for name in fields if hasattr(namespace, name)}
    values["cwd"] = cwd or Path.cwd()
    return kind(**values)
