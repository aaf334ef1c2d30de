"""verify on the current stack (transformers 5.x, CPU): real Trainer steps on tiny models."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import EXAMPLES, FIXTURES, ROOT, gemma_doctor_process, run_cli

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


def _unpinned(tmp_path, example):
    """The example without its requirements.txt: the run then uses the project's own (installed) stack."""
    project = tmp_path / example
    shutil.copytree(EXAMPLES / example, project)
    (project / "requirements.txt").unlink(missing_ok=True)
    return project


def test_clean_project_passes_with_the_json_contract(tmp_path):
    code, result, stderr = verify(_unpinned(tmp_path, "gemma3-clean"))
    assert code == 0 and result["status"] == "passed" and result["run_status"] == "passed", result
    assert (
        set(result)
        >= {
            "version",
            "status",
            "run_status",
            "device",
            "versions",
            "stack",
            "settings",
            "exercised",
            "not_exercised",
            "steps",
            "eval_loss",
            "findings",
            "seconds",
        }
        and result["version"] == 2
    )
    assert result["versions"]["transformers"] == transformers.__version__
    assert result["stack"] == {"mode": "installed", "differences": []}
    assert result["settings"]["model_class"] == "Gemma3ForConditionalGeneration"
    assert result["settings"]["precision"] == "bf16" and result["settings"]["weights_dtype"] == "bfloat16"
    assert len(result["steps"]) == 2 and all(step["loss"] > 0 and step["grad_norm"] > 0 for step in result["steps"])
    assert result["eval_loss"] > 0 and result["findings"] == []
    assert "train step(s) with trl.SFTTrainer in bf16" in stderr  # progress goes to stderr; the recipe is TRL's
    assert result["seconds"] < 60


def test_pins_that_differ_make_the_verdict_inconclusive():
    """The issue's first case: 4.50.0 pinned, another installed. The pass on this stack proves nothing
    about GD202, so the verdict is not `passed`, and the difference is said first."""
    code, result, stderr = verify(EXAMPLES / "verify-hybridcache")
    assert code == 3 and result["status"] == "inconclusive", result
    assert result["run_status"] == "passed"
    assert result["stack"]["differences"][0] == (
        "the project pins transformers 4.50.0 (examples/verify-hybridcache/requirements.txt:1) "
        f"but {transformers.__version__} is installed"
    )
    assert stderr.splitlines()[0].endswith(result["stack"]["differences"][0])
    gd202 = next(f for f in result["findings"] if f["rule"] == "GD202")
    assert gd202["state"] == "not exercised" and "--stack pinned" in gd202["reason"]
    assert gd202["path"] == "examples/verify-hybridcache/model/config.json"


def test_fp16_on_cpu_is_not_exercised_and_not_passed(tmp_path):
    code, result, _ = verify(EXAMPLES / "gemma3-broken", "--device", "cpu")  # as the issue ran it: pins differ too
    assert code == 3 and result["status"] == "inconclusive"
    assert result["not_exercised"]["precision"].startswith("fp16 AMP is not available on the CPU")
    # Without its pins, fp16 is the first thing the GD101 claim lacks.
    code, result, _ = verify(_unpinned(tmp_path, "gemma3-broken"), "--device", "cpu")
    assert result["settings"]["precision"] == "fp16"
    assert code == 3 and result["status"] == "inconclusive", result
    assert result["not_exercised"]["precision"].startswith("fp16 AMP is not available on the CPU")
    gd101 = next(f for f in result["findings"] if f["rule"] == "GD101")
    assert gd101["state"] == "not exercised" and gd101["reason"].startswith("fp16 AMP is not available")
    assert result["next"].endswith("--weights")


def test_qlora_exercises_peft_but_not_4bit_on_cpu_and_points_to_weights():
    code, result, _stderr = verify(EXAMPLES / "verify-qlora", "--device", "cpu")
    assert code == 3 and result["status"] == "inconclusive", result
    assert result["settings"]["four_bit"] is True and result["settings"]["bnb_compute_dtype"] == "float16"
    assert result["settings"]["weights_dtype"] == "float32"  # prepare_model_for_kbit_training upcasts
    assert any(
        item.startswith("PEFT ") and "r=8" in item and "target_modules=['q_proj', 'v_proj']" in item
        for item in result["exercised"]
    ), result["exercised"]
    assert result["not_exercised"]["four_bit"] == "bitsandbytes needs CUDA: 4-bit loading was not exercised on the CPU"
    assert (
        result["next"]
        == "hf download google/gemma-3-1b-it && gemma-doctor verify " + str(EXAMPLES / "verify-qlora") + " --weights"
    )
    states = {f["rule"]: f["state"] for f in result["findings"]}
    assert states == {"GD101": "not exercised", "GD102": "not exercised"}


def test_sft_project_runs_trls_own_trainer():
    trl = pytest.importorskip("trl")
    code, result, stderr = verify(EXAMPLES / "verify-sft", "--device", "cpu")
    assert code == 0 and result["status"] == "passed", result
    assert result["settings"]["trainer"] == "trl.SFTTrainer" and result["versions"]["trl"] == trl.__version__
    assert "trl.SFTTrainer with the project's SFTConfig values: gradient_checkpointing=True" in result["exercised"]
    assert any("r=16" in item and "'all-linear'" in item for item in result["exercised"])
    assert "Building labels for train dataset" in stderr  # TRL's own dataset preparation ran


def ours(folder):
    return [path.name for path in folder.iterdir() if path.name.startswith("gemma-doctor-")]


def test_verify_leaves_no_temporary_folder(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = gemma_doctor_process("verify", str(EXAMPLES / "verify-sft"), "--format", "json", TMPDIR=str(temp))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ours(temp) == []  # torch may leave its own torchinductor_<user> cache there


def test_ctrl_c_removes_the_temporary_folder(tmp_path):
    """SIGINT once the run has started: the CLI exits 130 and the run's folder is gone."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "gemma_doctor", "verify", str(EXAMPLES / "verify-sft"), "--steps", "400"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, TMPDIR=str(temp)),
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "train step(s)" in line:
            break
    time.sleep(3)  # inside the training loop
    assert ours(temp)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    assert ours(temp) == []


def test_every_option_has_help_text():
    import argparse

    from gemma_doctor.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, command in sub.choices.items()
        for action in command._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []


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


def test_missing_extra_is_a_clean_usage_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    result = run_cli("verify", str(EXAMPLES / "gemma3-clean"))
    assert result.code == 2 and "pip install '.[verify]'" in result.err and "Traceback" not in result.err


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


def test_verdict_states_per_rule():
    from gemma_doctor.verify.verdict import judge

    error = {"rule": "GD202", "severity": "error", "message": "m"}
    covered = {"stack": None, "precision": None, "evaluation": None, "unsloth": None}
    assert judge([error], covered, "passed", None) == (
        "passed",
        [dict(error, state="refuted", reason="exercised, and the run passed")],
    )
    assert judge([error], covered, "failed", "GD202")[0] == "failed"
    assert judge([error], covered, "failed", "GD202")[1][0]["state"] == "confirmed"
    other_stack = dict(covered, stack="the run used another stack")
    assert judge([error], other_stack, "passed", None)[0] == "inconclusive"
    assert judge([], other_stack, "passed", None)[0] == "inconclusive"  # a pass on another stack proves little
    assert judge([], dict(covered, trainer="KTOTrainer ran as the Trainer"), "passed", None)[0] == "inconclusive"
    static = {"rule": "GD401", "severity": "error", "message": "m"}
    verdict, judged = judge([static], covered, "passed", None)
    assert verdict == "inconclusive" and judged[0]["state"] == "not exercised"
    warning = {"rule": "GD201", "severity": "warning", "message": "m"}
    assert judge([warning], covered, "passed", None)[0] == "passed"  # warnings never block the verdict
    verdict, judged = judge([], covered, "failed", "GD601")
    assert verdict == "failed" and judged[0]["rule"] == "GD601" and judged[0]["state"] == "confirmed"


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


def test_weights_uses_the_projects_checkpoint_from_the_hf_cache_and_times_each_phase(tmp_path):
    """verify --weights on a project: the checkpoint it names, as safetensors in the local cache (no GGUF)."""
    import torch

    from gemma_doctor.verify import tiny_model

    repo = tmp_path / "hub" / "models--google--gemma-3-1b-it"
    snapshot = repo / "snapshots" / "0123abc"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abc")
    tiny_model.text_model(torch, transformers, torch.float32).save_pretrained(snapshot)
    tiny_model.tokenizer(transformers).save_pretrained(snapshot)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gemma_doctor",
            "verify",
            str(EXAMPLES / "verify-qlora"),
            "--weights",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env=dict(os.environ, HF_HUB_CACHE=str(tmp_path / "hub")),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    phases = [phase["phase"] for phase in result["phases"]]
    assert phases[1:3] == [f"reading the safetensors weights in {snapshot}", "loading the tokenizer"]
    assert phases[-3:] == ["float32 forward with a hook on every layer", "float16 forward", "bfloat16 forward"]
    assert all(phase["seconds"] >= 0 for phase in result["phases"])
    assert f"reading the safetensors weights in {snapshot}: " in proc.stderr and "about 30 s" not in proc.stderr
    assert len(result["layers"]) == 2 and result["status"] == "passed"  # random tiny weights do not overflow


def test_weights_says_where_it_looked_when_the_checkpoint_is_missing(tmp_path):
    proc = gemma_doctor_process(
        "verify", str(EXAMPLES / "verify-qlora"), "--weights", timeout=120, HF_HUB_CACHE=str(tmp_path / "empty")
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"gemma-doctor: error: {EXAMPLES / 'verify-qlora'}: no *.safetensors weights here or in the Hugging Face "
        f"cache at {tmp_path / 'empty'} (the project names google/gemma-3-1b-it); download the checkpoint, or "
        "pass --gguf FILE for a GGUF model"
    )


@pytest.mark.parametrize("example, trainer", [("verify-dpo", "DPOTrainer"), ("verify-grpo", "GRPOTrainer")])
def test_dpo_and_grpo_projects_run_trls_own_trainers(example, trainer):
    pytest.importorskip("trl")
    code, result, _ = verify(EXAMPLES / example, "--device", "cpu")
    assert code == 0 and result["status"] == "passed", result
    assert result["settings"]["trainer"] == f"trl.{trainer}" and "trainer" not in result["not_exercised"]
    assert result["exercised"][0].startswith(f"trl.{trainer}") and len(result["steps"]) == 2


def test_another_trl_trainer_is_not_exercised(tmp_path):
    project = tmp_path / "kto"
    shutil.copytree(EXAMPLES / "verify-dpo", project)
    script = project / "train.py"
    script.write_text(script.read_text().replace("DPO", "KTO"))
    code, result, _ = verify(project, "--device", "cpu")
    assert code == 3 and result["status"] == "inconclusive" and result["run_status"] == "passed"
    assert result["settings"]["trainer"] == "transformers.Trainer"
    assert result["not_exercised"]["trainer"] == (
        "the project trains with TRL's KTOTrainer; verify ran transformers.Trainer in its place"
    )


def test_run_picks_one_training_run_of_several(tmp_path):
    project = tmp_path / "two"
    shutil.copytree(EXAMPLES / "verify-sft", project)
    shutil.copy(EXAMPLES / "verify-dpo/train.py", project / "dpo.py")
    code, result, _ = verify(project, "--run", "dpo.py", "--device", "cpu")
    assert code == 0 and result["run"].endswith("two/dpo.py") and result["settings"]["trainer"] == "trl.DPOTrainer"
    missing = gemma_doctor_process("verify", str(project), "--run", "nope.py")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert (
        missing.stderr.strip()
        .splitlines()[-1]
        .startswith(f"gemma-doctor: error: --run nope.py: no training run of {project} has that entry point (")
    )


def test_unsloth_without_a_gpu_or_install_is_not_exercised():
    code, result, _ = verify(EXAMPLES / "verify-unsloth", "--device", "cpu")
    assert code == 3 and result["status"] == "inconclusive" and result["settings"]["unsloth"] is True
    assert result["not_exercised"]["unsloth"] in (
        "Unsloth not installed: its precision override was not exercised",
        "Unsloth needs a GPU: its precision override was not exercised",
    )
    # The adapter the project gives Unsloth's get_peft_model is the one verify uses (PEFT here).
    assert any("r=8" in item and "target_modules=['q_proj', 'v_proj']" in item for item in result["exercised"])


_CONCURRENT_BUILD = """
import json, sys, time
from pathlib import Path
from gemma_doctor.verify import stack

log = Path(sys.argv[1])


def slow_install(command, pins, progress):  # the real install takes minutes; what matters is that it is held
    started = time.time()
    time.sleep(1.5)
    with log.open("a") as handle:
        handle.write(json.dumps([started, time.time()]) + "\\n")


stack._install = slow_install
stack._link_reused = lambda python, pins: []
lines = []
python = stack.build(["transformers==4.50.0"], lines.append)
print(json.dumps({"python": str(python), "exists": python.exists(), "progress": lines}))
"""


def test_two_builds_of_one_stack_at_once_install_it_once(tmp_path):
    """Two verify --stack pinned runs that need the same environment: the second waits for the first's
    build and uses it; neither removes the folder the other is installing into."""
    env = dict(os.environ, GEMMA_DOCTOR_CACHE=str(tmp_path / "cache"))
    log = tmp_path / "installs.jsonl"
    command = [sys.executable, "-c", _CONCURRENT_BUILD, str(log)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in "ab"]
    results = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), results
    outputs = [json.loads(out) for out, _err in results]
    assert all(output["exists"] for output in outputs) and outputs[0]["python"] == outputs[1]["python"]
    assert len(log.read_text().splitlines()) == 1  # installed once
    progress = [line for output in outputs for line in output["progress"]]
    assert any("waiting for another gemma-doctor run" in line for line in progress), progress
    assert any("built by the other run" in line for line in progress), progress
