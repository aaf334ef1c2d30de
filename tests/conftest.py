from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

# Before gemma_doctor is imported: asking for (or emitting) a fact gemma_doctor/vocabulary.py does not
# declare raises, in this process and in every gemma-doctor the tests start.
os.environ["GEMMA_DOCTOR_STRICT_FACTS"] = "1"

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXAMPLES = ROOT / "examples"
CORPUS = ROOT / "corpus"


def notebook(*cells: list[str], indent: int | None = 1) -> str:
    """A notebook's text: one code cell per source list (``indent=None`` for the compact layout)."""
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": list(source)}
                for source in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=indent,
    )


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


def run_cli(*args: str, cwd: Path | None = None) -> Run:
    """Call the CLI in-process (fast), the way the console script does."""
    from gemma_doctor.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(old)
    return Run(code, out.getvalue(), err.getvalue())


def run_console(*args: str, cwd: Path | None = None, env: dict | None = None) -> Run:
    """Run the installed console script in a subprocess, exactly as a user would."""
    exe = Path(sys.executable).parent / "gemma-doctor"
    full_env = dict(os.environ, GEMMA_DOCTOR_DEBUG="1", **(env or {}))
    full_env.pop("GITHUB_ACTIONS", None) if not env or "GITHUB_ACTIONS" not in env else None
    proc = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=120)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


# verify --stack pinned's environments, shared by the suite and kept across runs (.gitignore).
STACK_CACHE = Path(os.environ.get("GEMMA_DOCTOR_CACHE") or ROOT / ".stack-cache")
OLD_STACK = ["accelerate==1.5.2", "transformers==4.50.0"]  # the HybridCache crash (knowledge/repro.md §2)


def pinned_python(pins: list[str]) -> Path:
    """The Python of verify's pinned environment for ``pins``, built through verify's own code."""
    from gemma_doctor.verify import stack

    os.environ["GEMMA_DOCTOR_CACHE"] = str(STACK_CACHE)
    return stack.build(pins, lambda text: None)


@pytest.fixture(scope="session", autouse=True)
def no_temporary_folder_left_behind():
    """The suite runs with a temporary directory of its own (TMPDIR, inherited by every CLI subprocess),
    and after the whole suite no gemma-doctor-* folder is left there: verify's runs, launches and probes
    all clean up, on failure and Ctrl-C too. Reported as an error at the last test's teardown."""
    import shutil
    import tempfile

    private = Path(tempfile.mkdtemp(prefix="gd-tests-"))
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(private)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again
    try:
        yield
        left = sorted(path.name for path in private.glob("gemma-doctor-*"))
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
        tempfile.tempdir = None
        shutil.rmtree(private, ignore_errors=True)
    assert left == [], f"the test suite left gemma-doctor folders in the temporary directory: {left}"


def gemma_doctor_process(*args: str, timeout: int = 300, **environment: str) -> subprocess.CompletedProcess:
    """``python -m gemma_doctor ARGS`` in its own process from the repository root, with extra
    environment variables: verify and its stacks need a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "gemma_doctor", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env=dict(os.environ, **environment),
    )
