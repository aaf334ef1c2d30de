"""verify on the crashing stack: transformers 4.50.0 + accelerate 1.5.2 in .venv-450
(made by scripts/old-stack.sh). It must reproduce GD202 for real, and pass once
text_config.use_cache is false (knowledge/repro.md §2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow
OLD_PYTHON = ROOT / os.environ.get("GEMMA_DOCTOR_OLD_VENV", ".venv-450") / "bin" / "python"

if not OLD_PYTHON.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{OLD_PYTHON} is missing: scripts/test.sh builds it with scripts/old-stack.sh")
    pytest.skip("the transformers 4.50.0 environment is not built (scripts/old-stack.sh)", allow_module_level=True)


def verify(path: Path):
    proc = subprocess.run(
        [str(OLD_PYTHON), "-m", "gemma_doctor", "verify", str(path), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    return proc.returncode, json.loads(proc.stdout)


def test_the_old_stack_is_the_crashing_one():
    out = subprocess.run(
        [
            str(OLD_PYTHON),
            "-c",
            "import transformers, accelerate; print(transformers.__version__, accelerate.__version__)",
        ],
        capture_output=True,
        text=True,
    )
    assert out.stdout.split() == ["4.50.0", "1.5.2"]


def test_bf16_eval_with_cache_reproduces_gd202():
    code, result = verify(EXAMPLES / "verify-hybridcache")
    assert code == 1 and result["status"] == "failed"
    assert result["message"] == "AttributeError: 'HybridCache' object has no attribute 'float'"
    assert result["last_frame"].endswith("in _convert_to_fp32")
    finding = result["findings"][0]
    assert finding["rule"] == "GD202" and finding["path"] == "examples/verify-hybridcache/model/config.json"
    assert len(result["steps"]) == 2  # training steps run; the crash is at the first evaluation


def _variant(tmp_path: Path, edit) -> Path:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLES / "verify-hybridcache", project)
    config_path = project / "model" / "config.json"
    config = json.loads(config_path.read_text())
    edit(config)
    config_path.write_text(json.dumps(config, indent=2))
    return project


def test_text_config_use_cache_false_passes(tmp_path):
    project = _variant(tmp_path, lambda c: c["text_config"].__setitem__("use_cache", False))
    code, result = verify(project)
    assert code == 0 and result["status"] == "passed", result
    assert result["eval_loss"] is not None


def test_top_level_use_cache_false_still_fails(tmp_path):
    project = _variant(tmp_path, lambda c: c.__setitem__("use_cache", False))
    code, result = verify(project)
    assert code == 1 and result["findings"][0]["rule"] == "GD202"
    assert result["settings"]["top_level_use_cache"] is False


def test_generate_still_uses_the_cache_on_4_50():
    from test_generate_cache import PROBE

    out = subprocess.run([str(OLD_PYTHON), "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "[4, 1, 1]", out.stderr[-2000:]
