"""verify on the current stack (transformers 5.x, CPU): real Trainer steps on tiny models."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import EXAMPLES, FIXTURES, ROOT, run_cli

pytestmark = pytest.mark.slow
transformers = pytest.importorskip("transformers")


def verify(path, *extra, python=sys.executable):
    proc = subprocess.run(
        [python, "-m", "gemma_doctor", "verify", str(path), "--format", "json", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert "Traceback" not in proc.stdout
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_clean_project_passes_with_the_json_contract():
    code, result, stderr = verify(EXAMPLES / "gemma3-clean")
    assert code == 0 and result["status"] == "passed", result
    assert (
        set(result)
        >= {"version", "status", "device", "versions", "settings", "steps", "eval_loss", "findings", "seconds"}
        and result["version"] == 1
    )
    assert result["versions"]["transformers"] == transformers.__version__
    assert result["settings"]["model_class"] == "Gemma3ForConditionalGeneration"
    assert result["settings"]["precision"] == "bf16" and result["settings"]["weights_dtype"] == "bfloat16"
    assert len(result["steps"]) == 2 and all(step["loss"] > 0 and step["grad_norm"] > 0 for step in result["steps"])
    assert result["eval_loss"] > 0 and result["findings"] == []
    assert "train step(s) in bf16" in stderr  # progress goes to stderr
    assert result["seconds"] < 60


def test_text_model_with_gradient_checkpointing(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    shutil.copy(FIXTURES / "GD102/pass-config-bfloat16/config.json", project / "config.json")
    (project / "train.yaml").write_text(
        "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1.0e-4\n"
        "bf16: true\ngradient_checkpointing: true\neval_strategy: steps\n"
    )
    code, result, _ = verify(project, "--steps", "3")
    assert code == 0, result
    assert result["settings"]["model_class"] == "Gemma3ForCausalLM"
    assert result["settings"]["gradient_checkpointing"] is True and len(result["steps"]) == 3


def test_fp16_on_cpu_is_reported_as_not_exercised():
    _code, result, _ = verify(EXAMPLES / "gemma3-broken")
    assert result["settings"]["precision"] == "fp16"
    assert any("fp16 is silently ignored on the CPU" in note for note in result["settings"]["notes"])


def test_missing_extra_is_a_clean_usage_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    result = run_cli("verify", str(EXAMPLES / "gemma3-clean"))
    assert result.code == 2 and "pip install 'gemma-doctor[verify]'" in result.err and "Traceback" not in result.err


def test_failure_messages_map_to_rules():
    from gemma_doctor.verify.failures import classify

    assert classify("'HybridCache' object has no attribute 'float'") == "GD202"
    assert classify("ValueError: At most one of fp16 and bf16 can be True, but not both") == "GD103"
    assert classify("Your setup doesn't support bf16/gpu.") == "GD104"
    assert classify("Attempting to unscale FP16 gradients.", "float16") == "GD102"
    assert classify("\"_amp_foreach_non_finite_check_and_unscale_cuda\" not implemented for 'BFloat16'") == "GD101"
    assert classify("ValueError: `token_type_ids` is required as a model input when training") == "GD601"
    assert (
        classify(
            "ValueError: `--mixed_precision` arg cannot be set to `bf16` when `fp16` is set in the DeepSpeed "
            "config file."
        )
        == "GD103"
    )  # seen on 2x H200, docs/verify.md
    assert classify("RuntimeError: something else") is None


def test_launch_runs_through_accelerate_launch():
    code, result, stderr = verify(EXAMPLES / "verify-launch", "--launch")
    assert code == 0 and result["status"] == "passed", result
    assert result["settings"]["launch"]["config_file"] == "examples/verify-launch/accelerate.yaml"
    assert result["settings"]["launch"]["processes"] >= 1 and len(result["steps"]) == 2
    assert "accelerate launch on" in stderr


def test_gemma2_and_the_real_270m_config(tmp_path):
    gemma2 = tmp_path / "gemma2"
    shutil.copytree(FIXTURES / "GD501/pass-gemma2-eager", gemma2)
    code, result, _ = verify(gemma2)
    assert code == 0 and result["settings"]["model_class"] == "Gemma2ForCausalLM"
    small = tmp_path / "270m"
    small.mkdir()
    shutil.copy(ROOT / "tests/data/gemma3-270m-config.json", small / "config.json")
    code, result, _ = verify(small)
    assert code == 0 and result["settings"]["model_class"] == "Gemma3ForCausalLM"
    assert result["settings"]["weights_dtype"] == "float32"  # the derived config says "dtype": "float32"
    assert result["settings"]["precision_source"].startswith("the project sets no precision")
