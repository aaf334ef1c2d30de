"""verify --stack pinned on the crashing stack: the project pins transformers 4.50.0 + accelerate
1.5.2, verify builds that environment itself (cached by the pins' hash) and must reproduce GD202
for real, and pass once text_config.use_cache is false (knowledge/repro.md §2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, OLD_STACK, STACK_CACHE, gemma_doctor_process

pytestmark = pytest.mark.slow
pytest.importorskip("transformers")
CACHE, PINS = STACK_CACHE, OLD_STACK  # one cache for the suite and across runs: built once


def verify(path: Path, *extra: str):
    proc = gemma_doctor_process(
        "verify", str(path), "--stack", "pinned", "--format", "json", *extra, timeout=540, GEMMA_DOCTOR_CACHE=str(CACHE)
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.fixture(scope="module")
def hybridcache_run():
    return verify(EXAMPLES / "verify-hybridcache")


def test_stack_pinned_reproduces_gd202(hybridcache_run):
    code, result, stderr = hybridcache_run
    assert code == 1 and result["status"] == "failed" and result["run_status"] == "failed", result
    assert result["stack"]["mode"] == "pinned" and result["stack"]["requirements"] == PINS
    assert result["versions"]["transformers"] == "4.50.0" and result["versions"]["accelerate"] == "1.5.2"
    assert result["message"] == "AttributeError: 'HybridCache' object has no attribute 'float'"
    assert result["last_frame"].endswith("in _convert_to_fp32")
    finding = next(f for f in result["findings"] if f["rule"] == "GD202")
    assert finding["state"] == "confirmed" and finding["path"] == "examples/verify-hybridcache/model/config.json"
    assert len(result["steps"]) == 2  # training steps run; the crash is at the first evaluation
    assert "pinned stack" in stderr


def _pinned_python() -> Path:
    from gemma_doctor.verify import stack

    os.environ.setdefault("GEMMA_DOCTOR_CACHE", str(CACHE))
    return stack.environment_python(stack.environment_dir(PINS))


def test_the_pinned_environment_is_cached_and_isolated(hybridcache_run):
    python = _pinned_python()
    out = subprocess.run(
        [
            str(python),
            "-c",
            "import transformers, accelerate, torch; print(transformers.__version__, "
            "accelerate.__version__, torch.__file__)",
        ],
        capture_output=True,
        text=True,
    )
    version, accelerate, torch_file = out.stdout.split()
    assert (version, accelerate) == ("4.50.0", "1.5.2")
    import torch

    assert Path(torch_file).resolve() == Path(torch.__file__).resolve()  # the installed torch, reused
    probe = "import importlib.util; print(importlib.util.find_spec('trl'))"
    assert subprocess.run([str(python), "-c", probe], capture_output=True, text=True).stdout.strip() == "None"
    code, _result, stderr = verify(EXAMPLES / "verify-hybridcache")
    assert code == 1 and "cached in" in stderr and "Collecting" not in stderr


def _variant(tmp_path: Path, edit) -> Path:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLES / "verify-hybridcache", project)
    config_path = project / "model" / "config.json"
    config = json.loads(config_path.read_text())
    edit(config)
    config_path.write_text(json.dumps(config, indent=2))
    return project


def test_text_config_use_cache_false_passes(tmp_path, hybridcache_run):
    project = _variant(tmp_path, lambda c: c["text_config"].__setitem__("use_cache", False))
    code, result, _ = verify(project)
    assert code == 0 and result["status"] == "passed", result
    assert result["eval_loss"] is not None


def test_top_level_use_cache_false_still_fails(tmp_path, hybridcache_run):
    project = _variant(tmp_path, lambda c: c.__setitem__("use_cache", False))
    code, result, _ = verify(project)
    assert code == 1 and any(f["rule"] == "GD202" and f["state"] == "confirmed" for f in result["findings"])
    assert result["settings"]["top_level_use_cache"] is False


def test_a_pin_that_does_not_exist_is_one_line(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(EXAMPLES / "verify-hybridcache", project)
    (project / "requirements.txt").write_text("transformers==4.50.99\naccelerate==1.5.2\n")
    proc = gemma_doctor_process("verify", str(project), "--stack", "pinned", GEMMA_DOCTOR_CACHE=str(tmp_path / "cache"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith(
        "gemma-doctor: error: cannot build the pinned stack (accelerate==1.5.2, transformers==4.50.99)"
    )
    assert "no release matches transformers==4.50.99 for Python 3." in error
    assert not any((tmp_path / "cache" / "stacks").iterdir())  # the half-built environment is removed


def test_generate_still_uses_the_cache_on_4_50(hybridcache_run):
    from test_generate_cache import PROBE

    out = subprocess.run([str(_pinned_python()), "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "[4, 1, 1]", out.stderr[-2000:]
