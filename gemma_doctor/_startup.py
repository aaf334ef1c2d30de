"""What gemma-doctor does to start and stop fast, in one place, with what each piece buys.

A check of a small project costs ~2.7-3.5x `python -c pass` here (bench/check_speed.py). Where the
time would otherwise go, and what stays to save it (measured on Python 3.11; none of these rests on
a CPython internal but ``atexit._ncallbacks``, read with a safe fallback):

- ``exit_after`` (below): after a static command, skip the interpreter's teardown (~8 ms, freeing
  every module), on every Python. It falls back to the ordinary exit whenever anything asked to run
  at exit, so a library's atexit hooks and buffered streams are never lost.
- ``help_width`` (below): argparse's formatter would import shutil (with bz2 and lzma, ~4 ms) on
  every run to size help text a check never prints; the width is read here with os alone.
- ``yamlblock``: block-style YAML without importing PyYAML (~25 ms); held to PyYAML by
  tests/test_yamlblock.py and scripts/yaml_differential.py.
- ``pep440``'s canonical path: versions and specifiers as pip and release tags write them, without
  importing packaging (~17 ms); held to packaging by tests/test_pep440.py.
- the compiled schema validators (``shapes/_*.py``, scripts/compile_schemas.py): ~30 ms less than
  compiling the schemas at run time, ~80 ms less than jsonschema; held to jsonschema by tests/test_shapes.py.

Dropped after the 0.2.2 review, each for less than ~5 ms and a second mechanism to keep true: a
second command-line parser beside argparse, a stand-in for urllib.parse while pathlib imports
(nothing on Python 3.13+), a table of precompiled record __init__s, and ``__import__`` in place of
importlib.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# Commands that only read files and write reports or configs, each closed before main returns.
STATIC_COMMANDS = frozenset({"check", "fix", "rules", "rule", "explain", "env"})
EXIT_USAGE = 2


def help_width() -> int:
    """The terminal's width for help text, told to argparse's formatter up front."""
    columns = 80
    try:
        if os.environ.get("COLUMNS", "").isdigit():
            columns = int(os.environ["COLUMNS"])
        elif sys.__stdout__ is not None:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (ValueError, OSError):
        pass
    return max(columns - 2, 40)


def exit_after(command: str | None, code: int, could_not_write: Callable[[OSError], str]) -> None:
    """Exit with ``code``. After a static command the interpreter's teardown is skipped: nothing is
    lost by it, since the output is flushed here, every file was written and closed (atomically)
    before, and a static command leaves no thread or open handle behind; when anything asked to run
    at exit (logging, tempfile's finalizers, a library's hooks) the exit is the ordinary one."""
    import atexit

    pending = getattr(atexit, "_ncallbacks", lambda: 1)()  # CPython's count of exit hooks; 1 elsewhere
    if command not in STATIC_COMMANDS or pending:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the shell closed it (`>&-`)
                stream.flush()
        except BrokenPipeError:  # the reader left (| head): what it read is all it wanted
            code = code or 1
        except OSError as exc:  # a full disk under `> report.txt`: say so, as the interpreter would
            os.write(2, could_not_write(exc).encode())
            code = EXIT_USAGE
    os._exit(code)
