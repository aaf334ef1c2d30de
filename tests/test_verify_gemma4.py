"""verify on Gemma 4 (issue 21): the tiny model keeps the project's shared K/V layers and towers, and a
differential run (the training forward against the cached one) finds GD206, a bug that never crashes.
On the project's own pinned stack: failed with GD206 confirmed on transformers 5.5.0, passed on 5.5.2."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import FIXTURES, STACK_CACHE, gemma_doctor_process

pytestmark = pytest.mark.slow
pytest.importorskip("transformers")


def verify(path, *extra: str):
    proc = gemma_doctor_process(
        "verify", str(path), "--format", "json", *extra, timeout=540, GEMMA_DOCTOR_CACHE=str(STACK_CACHE)
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc.returncode, json.loads(proc.stdout)


def test_pinned_to_5_5_0_the_differential_run_confirms_gd206():
    code, result = verify(FIXTURES / "GD206/fail-trainer-default-cache-off", "--stack", "pinned")
    assert code == 1 and result["status"] == "failed", result
    assert result["versions"]["transformers"] == "5.5.0" and result["versions"]["peft"] == "0.19.1"
    assert [(f["rule"], f["state"]) for f in result["findings"]] == [("GD206", "confirmed")]
    assert "differ from the cached forward" in result["message"]
    assert len(result["steps"]) == 2  # it trained without a crash: only the comparison shows the harm


def test_pinned_to_5_5_2_the_same_project_passes(tmp_path):
    project = tmp_path / "e2b"
    shutil.copytree(FIXTURES / "GD206/fail-trainer-default-cache-off", project)
    pins = (project / "requirements.txt").read_text().replace("transformers==5.5.0", "transformers==5.5.2")
    (project / "requirements.txt").write_text(pins)
    code, result = verify(project, "--stack", "pinned")
    assert code == 0 and result["status"] == "passed", result
    assert result["versions"]["transformers"] == "5.5.2" and result["findings"] == []
    assert any("max |logit difference| 0" in line for line in result["exercised"])


def test_bare_lora_names_on_the_towers_are_confirmed_by_peft():
    code, result = verify(FIXTURES / "GD702/fail-bare-names-multimodal")
    assert code == 1 and result["status"] == "failed", result
    assert "Gemma4ClippableLinear" in result["message"]
    assert ("GD702", "confirmed") in [(f["rule"], f["state"]) for f in result["findings"]]


def test_a_language_model_regex_trains(tmp_path):
    code, result = verify(FIXTURES / "GD702/pass-language-model-regex")
    assert result["run_status"] == "passed", result  # inconclusive overall: 4-bit needs CUDA
    assert result["status"] == "inconclusive" and code == 3


def test_without_trl_the_trainer_in_its_place_still_gets_the_adapter(tmp_path):
    """On a machine without TRL, verify runs transformers' Trainer for an SFTTrainer project; the adapter TRL
    would have added must still be built, so PEFT's Gemma4ClippableLinear error still confirms GD702 (seen
    on an H100 whose image has no TRL, where the adapter had been skipped)."""
    shadow = tmp_path / "no-trl" / "trl"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("TRL hidden for this test")\n')
    proc = gemma_doctor_process(
        "verify",
        str(FIXTURES / "GD702/fail-bare-names-multimodal"),
        "--format",
        "json",
        timeout=300,
        PYTHONPATH=str(tmp_path / "no-trl"),
    )
    result = json.loads(proc.stdout)
    assert "TRL is not installed" in result["not_exercised"]["trainer"]
    assert "Gemma4ClippableLinear" in result["message"], result
    assert ("GD702", "confirmed") in [(f["rule"], f["state"]) for f in result["findings"]]
