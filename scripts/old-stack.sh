#!/usr/bin/env bash
# The transformers 4.50.0 / accelerate 1.5.2 stack that crashes with
# "'HybridCache' object has no attribute 'float'", in its own virtualenv (.venv-450).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="${GEMMA_DOCTOR_OLD_VENV:-.venv-450}"
if [ -x "$OLD/bin/python" ] && "$OLD/bin/python" -c "import transformers, accelerate, gemma_doctor" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$OLD"
"$OLD/bin/python" -m pip install -q --upgrade pip
"$OLD/bin/python" -m pip install -q "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
# datasets/huggingface_hub pins keep pip from upgrading transformers (knowledge/repro.md §5).
"$OLD/bin/python" -m pip install -q "transformers==4.50.0" "accelerate==1.5.2" "huggingface_hub<1.0" "numpy<3"
"$OLD/bin/python" -m pip install -q --no-deps -e .
"$OLD/bin/python" -m pip install -q PyYAML
