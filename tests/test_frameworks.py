"""What the frameworks do before training starts (rules/data/versions.json), each side of every
version boundary: the finding follows the run that will really happen."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

GEMMA3_4B = json.dumps(
    {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "model_type": "gemma3",
        "text_config": {"model_type": "gemma3_text", "hidden_size": 2560},
        "vision_config": {"model_type": "siglip_vision_model"},
        "torch_dtype": "bfloat16",
    }
)
PALIGEMMA = {
    1: json.dumps(
        {
            "model_type": "paligemma",
            "architectures": ["PaliGemmaForConditionalGeneration"],
            "text_config": {"model_type": "gemma"},
            "torch_dtype": "bfloat16",
        }
    ),
    2: json.dumps(
        {
            "model_type": "paligemma",
            "architectures": ["PaliGemmaForConditionalGeneration"],
            "text_config": {"model_type": "gemma2"},
            "torch_dtype": "bfloat16",
        }
    ),
}


def check(tmp_path, files: dict[str, str], *args: str) -> dict:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return run_cli("check", str(tmp_path), "--env", "none", "--format", "json", "--exit-zero", *args).json()


def setup_of(tmp_path):
    """The Setup of the one run in ``tmp_path``, as the engine builds it (for what no rule states alone)."""
    from gemma_doctor.engine import Options
    from gemma_doctor.engine import check as engine_check

    return engine_check([tmp_path], Options(env="none", cwd=tmp_path)).projects[0].runs[0][1]


def rules(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["rule"], []).append(finding)
    return found


AXOLOTL = (
    "base_model: google/gemma-3-4b-it\nprocessor_type: AutoProcessor\ndatasets:\n  - path: x\n    type: chat_template\n"
    "val_set_size: 0.05\nmicro_batch_size: 1\nbf16: true\nadapter: lora\n"
)


@pytest.mark.parametrize("pin, crashes", [("axolotl==0.7.1\n", True), ("axolotl==0.8.0\n", False), ("", False)])
def test_axolotl_turns_the_cache_off_from_0_8(tmp_path, pin, crashes):
    report = check(tmp_path, {"train.yml": AXOLOTL, "requirements.txt": "transformers==4.50.3\n" + pin})
    assert ("GD202" in rules(report)) is crashes, report


def test_axolotl_bf16_auto_is_on_for_a_t4(tmp_path):
    report = check(tmp_path, {"train.yml": AXOLOTL.replace("bf16: true", "bf16: auto")}, "--gpu", "T4")
    gd104 = rules(report)["GD104"]
    assert "is_torch_bf16_gpu_available" in gd104[0]["message"]
    assert "GD104" not in rules(check(tmp_path, {}, "--gpu", "A100"))


LLAMAFACTORY = (
    "model_name_or_path: google/gemma-3-4b-it\nstage: sft\nfinetuning_type: lora\ntemplate: gemma3\n"
    "bf16: true\nval_size: 0.1\neval_strategy: steps\noutput_dir: o\n"
)


@pytest.mark.parametrize(
    "pin, found", [("llamafactory==0.9.2\n", {"GD306"}), ("llamafactory==0.9.3\n", set()), ("", set())]
)
def test_llamafactory_turns_the_cache_off_from_0_9_3(tmp_path, pin, found):
    """0.9.3 turns text_config.use_cache off too, so 4.50.0's HybridCache crash does not happen. 0.9.2, which
    turned off only the top-level switch, requires transformers <= 4.49.0: it cannot be installed beside 4.50.0
    (GD306), so its semantics are not reasoned from. Unpinned, pip picks the newest release that installs
    beside 4.50.0 (0.9.4 needs >= 4.51.0): 0.9.3, which turns it off."""
    report = check(tmp_path, {"sft.yaml": LLAMAFACTORY, "requirements.txt": "transformers==4.50.0\n" + pin})
    assert set(rules(report)) & {"GD202", "GD306"} == found, report


SFT_SCRIPT = (
    "import torch\nfrom transformers import AutoModelForCausalLM\nfrom trl import SFTConfig, SFTTrainer\n"
    "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it', torch_dtype=torch.bfloat16)\n"
    "args = SFTConfig(output_dir='o', bf16=True, eval_strategy='steps')\n"
    "trainer = SFTTrainer(model=model, args=args, train_dataset=d, eval_dataset=e)\n"
)


@pytest.mark.parametrize("trl, cached", [("0.21.0", True), ("0.22.0", False)])
def test_trl_sft_trainer_passes_use_cache_false_from_0_22(tmp_path, trl, cached):
    """Both TRL releases install beside transformers 4.55.4 (both need >= 4.55.0); only 0.22 turns the cache off.
    Beside 4.50.0, where the HybridCache crash lives, neither can be installed: that is GD306."""
    check(tmp_path, {"sft.py": SFT_SCRIPT, "requirements.txt": f"transformers==4.55.4\ntrl=={trl}\n"})
    setup = setup_of(tmp_path)
    assert setup.use_cache.value is cached, setup.use_cache.why


@pytest.mark.parametrize("trl, requested", [("0.18.2", False), ("0.19.0", True)])
def test_trl_bf16_default_from_0_19(tmp_path, trl, requested):
    script = SFT_SCRIPT.replace("bf16=True, ", "")
    report = check(tmp_path, {"sft.py": script, "requirements.txt": f"trl=={trl}\n"}, "--gpu", "T4")
    assert ("GD104" in rules(report)) is requested, report


@pytest.mark.parametrize("trl, weights", [("0.26.2", "with bf16 weights"), ("0.27.0", "with fp32 weights")])
def test_trl_string_load_dtype_decides_how_fp16_fails(tmp_path, trl, weights):
    script = (
        "from trl import SFTConfig, SFTTrainer\nargs = SFTConfig(output_dir='o', fp16=True)\n"
        "trainer = SFTTrainer(model='google/gemma-3-1b-it', args=args, train_dataset=d)\n"
    )
    report = check(tmp_path, {"sft.py": script, "requirements.txt": f"transformers==5.5.0\ntrl=={trl}\n"})
    assert weights in rules(report)["GD101"][0]["message"]


UNSLOTH = (
    "from unsloth import FastModel\nfrom trl import SFTConfig, SFTTrainer\n"
    "model, tokenizer = FastModel.from_pretrained(model_name='unsloth/gemma-3-4b-it', load_in_4bit=True)\n"
    "trainer = SFTTrainer(model=model, train_dataset=d, eval_dataset=e,\n"
    "                     args=SFTConfig(output_dir='o', eval_strategy='steps'{flags}))\n"
)


def test_unsloth_fp16_on_a_bf16_gpu_is_its_type_error(tmp_path):
    files = {"train.py": UNSLOTH.format(flags=", fp16=True"), "requirements.txt": "unsloth==2025.3.19\n"}
    on_a100 = rules(check(tmp_path, files, "--gpu", "A100"))["GD101"][0]
    assert on_a100["severity"] == "error" and "TypeError: Unsloth: Model is in bfloat16 precision" in on_a100["message"]
    on_t4 = rules(check(tmp_path, files, "--gpu", "T4"))["GD101"][0]
    assert on_t4["severity"] == "warning" and "float32" in on_t4["message"] and on_t4["fix"]["safety"] == "display-only"


def test_unsloth_picks_bf16_itself_on_a_bf16_gpu_unsloth_2223(tmp_path):
    """No fp16/bf16 in the file, trl pinned below 0.19: Unsloth's trainer patch still turns bf16
    on where the GPU has it, so the 4.50 evaluation crashes on an A100 and not on a T4."""
    files = {
        "train.py": UNSLOTH.format(flags=""),
        "requirements.txt": "unsloth==2025.3.19\nunsloth_zoo==2025.3.17\ntransformers==4.50.0\ntrl==0.15.2\n",
    }
    assert "GD202" in rules(check(tmp_path, files, "--gpu", "A100"))
    assert "GD202" not in rules(check(tmp_path, files, "--gpu", "T4"))
    unnamed = rules(check(tmp_path, files))["GD202"]
    assert [f["message"][:40] for f in unnamed] == ["On a GPU with bf16 (A100, L4, H100): tra"]


@pytest.mark.parametrize("unsloth, cached", [("2026.6.1", True), ("2026.6.2", False)])
def test_unsloth_turns_the_cache_off_from_2026_6_2(tmp_path, unsloth, cached):
    """unsloth_zoo's disable_use_cache ships in 2026.6.2; unsloth 2026.6.1 allows zoo 2026.6.1, without it."""
    files = {"train.py": UNSLOTH.format(flags=", bf16=True"), "requirements.txt": f"unsloth=={unsloth}\n"}
    check(tmp_path, files)
    setup = setup_of(tmp_path)
    assert setup.use_cache.value is cached, setup.use_cache.why


def test_transformers_5_trainer_turns_off_only_the_top_level_cache(tmp_path):
    script = (
        "from transformers import Trainer, TrainingArguments, AutoModelForImageTextToText\n"
        "model = AutoModelForImageTextToText.from_pretrained('./model')\n"
        "args = TrainingArguments(output_dir='o', bf16=True, eval_strategy='steps')\n"
        "trainer = Trainer(model=model, args=args)\n"
    )
    report = check(
        tmp_path, {"train.py": script, "model/config.json": GEMMA3_4B, "requirements.txt": "transformers==5.5.0\n"}
    )
    gd201 = rules(report)["GD201"][0]
    assert gd201["key"] == "text_config" or "text_config.use_cache" in gd201["message"]
    assert "turns off only the top-level use_cache" in gd201["message"]
    text_only = json.dumps({"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]})
    report = check(tmp_path, {"model/config.json": text_only})
    assert "GD201" not in rules(report)


@pytest.mark.parametrize("generation, crashes", [(1, False), (2, True)])
def test_hybridcache_crash_is_paligemma_2_only(tmp_path, generation, crashes):
    files = {
        "model/config.json": PALIGEMMA[generation],
        "requirements.txt": "transformers==4.50.0\n",
        "train.yaml": "model_name_or_path: ./model\noutput_dir: o\nlearning_rate: 1.0e-4\nbf16: true\n"
        "eval_strategy: steps\ntorch_dtype: bfloat16\n",
    }
    assert ("GD202" in rules(check(tmp_path, files))) is crashes


def test_hub_id_in_a_training_config_reads_the_cached_config(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    snapshot = cache / "models--google--gemma-3-4b-it" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (cache / "models--google--gemma-3-4b-it" / "refs").mkdir()
    (cache / "models--google--gemma-3-4b-it" / "refs" / "main").write_text("abc123")
    config = json.loads(GEMMA3_4B)
    config["text_config"]["use_cache"] = False
    (snapshot / "config.json").write_text(json.dumps(config))
    project = tmp_path / "project"
    files = {
        "train.yaml": "model_name_or_path: google/gemma-3-4b-it\noutput_dir: o\nlearning_rate: 1.0e-4\n"
        "bf16: true\neval_strategy: steps\ntorch_dtype: bfloat16\n",
        "requirements.txt": "transformers==4.50.0\n",
    }
    inferred = rules(check(project, files))["GD202"][0]
    assert "layout was inferred from the model id" in inferred["message"]
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert "GD202" not in rules(check(project, {}))  # the cached config says text_config.use_cache: false


def test_peft_kbit_prepare_upcasts_the_weights(tmp_path):
    script = (
        "import torch\nfrom peft import prepare_model_for_kbit_training\n"
        "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it', torch_dtype=torch.bfloat16)\n"
        "model = prepare_model_for_kbit_training(model)\n"
        "trainer = Trainer(model=model, args=TrainingArguments(output_dir='o', fp16=True))\n"
    )
    gd101 = rules(check(tmp_path, {"train.py": script}))["GD101"][0]
    assert "with fp32 weights" in gd101["message"] and "prepare_model_for_kbit_training" in gd101["message"]


def test_launch_line_brings_its_mixed_precision_and_configs(tmp_path):
    """`accelerate launch --mixed_precision=bf16 train.py`: the script sets no precision, the launch
    line does (it exports ACCELERATE_MIXED_PRECISION), so the 4.50 evaluation crash is real."""
    script = (
        "import torch\nfrom transformers import AutoModelForImageTextToText, Trainer, TrainingArguments\n"
        "model = AutoModelForImageTextToText.from_pretrained('google/gemma-3-4b-it', torch_dtype=torch.bfloat16)\n"
        "args = TrainingArguments(output_dir='o', eval_strategy='steps')\n"
        "Trainer(model=model, args=args).train()\n"
    )
    files = {"train.py": script, "requirements.txt": "transformers==4.50.0\n"}
    assert "GD202" not in rules(check(tmp_path, files))
    launch = "export HF_HOME=/data\naccelerate launch --num_processes=1 --mixed_precision=bf16 \\\n    train.py --max_steps=10\n"
    gd202 = rules(check(tmp_path, {"run.sh": launch}))["GD202"][0]
    assert "accelerate launch --mixed_precision=bf16 (" in gd202["message"] and gd202["run"].endswith("/train.py")


def test_launch_line_of_an_argument_parser_recipe_is_its_own_run(tmp_path):
    """TRL's sft.py style: the script parses SFTConfig from the command line (no call to read), so
    the launch line with its --fp16 and --model_name_or_path is the run."""
    recipe = (
        "from transformers import HfArgumentParser\nfrom trl import SFTConfig\n"
        "parser = HfArgumentParser((SFTConfig,))\n"
    )
    launch = "accelerate launch sft.py --model_name_or_path google/gemma-3-1b-it --fp16 True --output_dir o\n"
    report = check(tmp_path, {"sft.py": recipe, "train.sh": launch})
    gd101 = rules(report)["GD101"][0]
    assert gd101["run"].endswith("/train.sh:1") and gd101["path"].endswith("/train.sh") and gd101["line"] == 1


DDP_LORA_SCRIPT = (
    "import torch\nfrom peft import LoraConfig, get_peft_model\n"
    "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
    'model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", torch_dtype=torch.bfloat16)\n'
    "model = get_peft_model(model, LoraConfig(r=16))\n"
    'args = TrainingArguments(output_dir="out", bf16=True, {checkpointing})\n'
    "trainer = Trainer(model=model, args=args, train_dataset=dataset)\ntrainer.train()\n"
)
DDP_ACCELERATE = "distributed_type: MULTI_GPU\nmixed_precision: bf16\nnum_machines: 1\nnum_processes: 4\n"


@pytest.mark.parametrize(
    "checkpointing, reentrant",
    [
        ('activation_checkpointing=True, activation_checkpointing_kwargs={"use_reentrant": True}', True),
        ('activation_checkpointing=True, activation_checkpointing_kwargs={"use_reentrant": False}', False),
        ("activation_checkpointing=True", False),  # 5.x defaults use_reentrant to False
        ('activation_checkpointing=False, activation_checkpointing_kwargs={"use_reentrant": True}', False),
    ],
)
def test_transformers_5_activation_checkpointing_name_is_read(tmp_path, checkpointing, reentrant):
    # transformers 5.24 renamed gradient_checkpointing(_kwargs) to activation_checkpointing(_kwargs).
    files = {
        "train.py": DDP_LORA_SCRIPT.format(checkpointing=checkpointing),
        "accelerate.yaml": DDP_ACCELERATE,
        "requirements.txt": "transformers==5.24.0\npeft==0.18.0\n",
    }
    assert ("GD701" in rules(check(tmp_path, files))) is reentrant


# The audit of 2026-12-07: each corrected boundary, on both sides.
QLORA_DPO = (
    "import torch\nfrom peft import LoraConfig\nfrom transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
    "from trl import DPOConfig, DPOTrainer\n"
    "bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)\n"
    "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it', quantization_config=bnb, load_in_4bit=True)\n"
    "trainer = DPOTrainer(model=model, args=DPOConfig(output_dir='o', fp16=True), peft_config=LoraConfig(r=8))\n"
)


@pytest.mark.parametrize("trl, casts", [("0.28.0", False), ("0.29.0", True)])
def test_dpo_casts_qlora_adapters_from_0_29_only(tmp_path, trl, casts):
    report = check(tmp_path, {"dpo.py": QLORA_DPO, "requirements.txt": f"trl=={trl}\ntransformers==4.57.6\n"})
    assert ("GD105" in rules(report)) is casts


DDP_TRL = (
    "import torch\nfrom peft import LoraConfig\nfrom transformers import AutoModelForCausalLM\n"
    "from trl import SFTConfig, SFTTrainer\n"
    "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it', torch_dtype=torch.bfloat16)\n"
    "args = SFTConfig(output_dir='o', bf16=True, gradient_checkpointing=True)\n"
    "trainer = SFTTrainer(model=model, args=args, peft_config=LoraConfig(r=8), train_dataset=d)\n"
)


@pytest.mark.parametrize("trl, reentrant", [("0.26.2", True), ("0.27.0", False)])
def test_trl_sets_non_reentrant_checkpointing_itself_from_0_27(tmp_path, trl, reentrant):
    files = {
        "train.py": DDP_TRL,
        "accelerate.yaml": "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_processes: 2\n",
        "requirements.txt": f"transformers==4.57.6\ntrl=={trl}\n",
    }
    assert ("GD701" in rules(check(tmp_path, files))) is reentrant


DDP_KBIT = (
    "import torch\nfrom peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training\n"
    "from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments\n"
    "bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)\n"
    "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it', quantization_config=bnb)\n"
    "model = get_peft_model(prepare_model_for_kbit_training(model), LoraConfig(r=8))\n"
    "Trainer(model=model, args=TrainingArguments(output_dir='o', bf16=True{extra}), train_dataset=d).train()\n"
)


@pytest.mark.parametrize(
    "transformers, peft, extra, reentrant",
    [
        ("5.25.0", "0.21.2", "", True),  # measured: {} kwargs, torch's reentrant default
        ("5.25.0", "0.22.0", "", False),  # measured: use_reentrant=False
        ("5.25.0", "0.21.2", ", gradient_checkpointing=True", False),  # the Trainer re-enables with its default
        ("5.0.0", "0.21.2", "", True),
        ("4.57.6", "0.22.0", "", True),  # transformers 4's own default is reentrant
    ],
)
def test_peft_kbit_preparation_alone_checkpoints_reentrant_before_0_22(tmp_path, transformers, peft, extra, reentrant):
    """Audit row 63, measured (docs/evidence/scripts/kbit_reentrant.py): on transformers 5, a PEFT before 0.22
    that alone turns checkpointing on passes empty kwargs, and torch checkpoints reentrant."""
    files = {
        "train.py": DDP_KBIT.format(extra=extra),
        "accelerate.yaml": "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nnum_processes: 2\n",
        "requirements.txt": f"transformers=={transformers}\npeft=={peft}\n",
    }
    assert ("GD701" in rules(check(tmp_path, files))) is reentrant


@pytest.mark.parametrize("unsloth, nan", [("2025.9.6", False), ("2025.9.7", True), ("2026.7.1", False)])
def test_unsloth_full_finetuning_fp16_window(unsloth, nan):
    from gemma_doctor.knowledge import holds

    assert holds("unsloth", "full_finetuning_fp16_nan", unsloth) is nan


@pytest.mark.parametrize("unsloth, patched", [("2025.2.5", False), ("2025.2.6", True)])
def test_unsloth_precision_patch_from_2025_2_6(unsloth, patched):
    from gemma_doctor.knowledge import holds

    assert holds("unsloth", "precision_patch", unsloth) is patched


# The same SFT run on a multimodal Gemma 3, which the HybridCache crash reaches.
TRL_SCRIPT = SFT_SCRIPT.replace("AutoModelForCausalLM", "AutoModelForImageTextToText").replace(
    "gemma-3-1b", "gemma-3-4b"
)


@pytest.mark.parametrize("transformers, installable", [("4.50.0", False), ("4.55.4", True)])
def test_pins_that_cannot_install_are_gd306_and_no_semantics_come_from_them(tmp_path, transformers, installable):
    """trl 0.22.0 requires transformers >= 4.55.0: beside 4.50.0 that is GD306, and TRL's version is unknown
    to the other rules, so GD202 is not hidden by TRL 0.22's use_cache=False."""
    report = check(tmp_path, {"sft.py": TRL_SCRIPT, "requirements.txt": f"trl==0.22.0\ntransformers=={transformers}\n"})
    found = rules(report)
    assert ("GD306" in found) is not installable
    assert ("GD202" in found) is not installable  # 4.55.4 has no HybridCache crash anyway


# A package with its training in pkg/train.py, run as the console script pyproject names (`uv run
# gemma-train`), as `python -m pkg.train`, or through `uv run python`: the launch line's flags reach it.
PACKAGE_TRAIN = (
    "import torch\nfrom transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments\n"
    "def main():\n"
    "    (args,) = HfArgumentParser((TrainingArguments,)).parse_args_into_dataclasses()\n"
    '    model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", torch_dtype=torch.bfloat16)\n'
    "    Trainer(model=model, args=args, train_dataset=None).train()\n"
)
PACKAGE = {
    "pyproject.toml": '[project]\nname = "pkg"\n[project.scripts]\ngemma-train = "pkg:main"\n',
    "src/pkg/__init__.py": "from pkg.train import main\n\n__all__ = ['main']\n",
    "src/pkg/train.py": PACKAGE_TRAIN,
}


@pytest.mark.parametrize(
    "line",
    [
        "uv run gemma-train \\\n  --output_dir out \\\n  --fp16 true",
        "poetry run gemma-train --output_dir out \\\n  --fp16 true",
        "gemma-train --output_dir out \\\n  --fp16 true",
        "PYTHONPATH=src python -m pkg.train --output_dir out \\\n  --fp16 true",
        "uv run --with trl python src/pkg/train.py --output_dir out \\\n  --fp16 true",
        "uv run python3.11 -m pkg.train --output_dir out \\\n  --fp16 true",
    ],
)
def test_a_launch_line_reaches_the_package_it_runs_and_points_at_its_flag(tmp_path, line):
    report = check(tmp_path, {**PACKAGE, "train.sh": f"#!/bin/sh\nset -e\n{line}\n"})
    gd101 = rules(report)["GD101"]
    assert len(gd101) == 1 and gd101[0]["run"].endswith("src/pkg/train.py")
    flag_line = 3 + line.count("\n")  # below the shebang and `set -e`, on the launch line's last line
    assert gd101[0]["path"].endswith("train.sh") and (gd101[0]["line"], gd101[0]["column"]) == (flag_line, 3)
    assert gd101[0]["key"] == "--fp16" and "(--fp16 = True)" in gd101[0]["message"]


def test_a_launch_line_with_bf16_or_a_command_of_someone_else_adds_nothing(tmp_path):
    """`--bf16 true` is no fp16; a command no [project.scripts] names (`trl sft`, `accelerate config`)
    is not the package's run, whatever its flags."""
    lines = "uv run gemma-train --bf16 true\ntrl sft --model_name_or_path google/gemma-3-1b-it --fp16 true\n"
    report = check(tmp_path, {**PACKAGE, "train.sh": lines})
    assert "GD101" not in rules(report)
    runs = {finding["run"] for finding in report["findings"]}
    assert not any(run.endswith("train.sh:2") for run in runs)


SWIFT_YAML = """model: google/gemma-3-1b-it
tuner_type: lora
dataset: data/train.jsonl
{dtype}learning_rate: 1.0e-4
output_dir: output
"""


@pytest.mark.parametrize(
    ("dtype", "gpu", "expected"),
    [
        # float16 weights: GD102 on the line, which also says that ms-swift turns fp16 on from it (no second
        # finding there); TRL's bf16 default does not apply to ms-swift, so no GD104 on a T4
        ("torch_dtype: float16\n", "T4", {"GD102": [4]}),
        # float32 weights: ms-swift still turns fp16 on (model_args.py _init_mixed_precision)
        ("torch_dtype: float32\n", "A100", {"GD101": [4]}),
        ("torch_dtype: bfloat16\n", "A100", {}),
        # unset: the checkpoint's bfloat16, so bf16 on a T4
        ("", "T4", {"GD104": [1]}),
        ("bf16: false\n", "T4", {}),
    ],
)
def test_ms_swift_sets_the_precision_from_the_weights_dtype(tmp_path, dtype, gpu, expected):
    report = check(
        tmp_path, {"sft.yaml": SWIFT_YAML.format(dtype=dtype), "requirements.txt": "ms-swift==4.4.1\n"}, "--gpu", gpu
    )
    found = {rule: [f["line"] for f in items] for rule, items in rules(report).items() if rule != "GD902"}
    assert found == expected, report
    for finding in report["findings"]:
        if finding["rule"] in ("GD101", "GD102", "GD104"):
            assert "ms-swift" in finding["message"], finding


def test_ms_swift_before_3_is_not_read_with_the_3_x_semantics(tmp_path):
    report = check(
        tmp_path,
        {"sft.yaml": SWIFT_YAML.format(dtype="torch_dtype: float32\n"), "requirements.txt": "ms-swift==2.6.0\n"},
        "--gpu",
        "A100",
    )
    assert "GD101" not in rules(report), report


SWIFT_SCRIPT = """{imports}


def build_args():
    return {arguments}(
        model="google/gemma-3-1b-it",
        tuner_type="lora",
        dataset="data/train.jsonl",
        torch_dtype="float16",
    )


if __name__ == "__main__":
    {main}
"""


@pytest.mark.parametrize(
    ("imports", "arguments", "main", "expected"),
    [
        ("from swift import SftArguments, SwiftSft", "SftArguments", "SwiftSft(build_args()).main()", [9]),
        ("from swift.llm import TrainArguments, sft_main", "TrainArguments", "sft_main(build_args())", [9]),
        # a TrainArguments of the project's own is not ms-swift's: no run is made of it
        ("from myproject.args import TrainArguments", "TrainArguments", "print(build_args())", []),
    ],
)
def test_ms_swift_arguments_in_python(tmp_path, imports, arguments, main, expected):
    report = check(
        tmp_path, {"train.py": SWIFT_SCRIPT.format(imports=imports, arguments=arguments, main=main)}, "--gpu", "T4"
    )
    assert [f["line"] for f in rules(report).get("GD102", [])] == expected, report
    assert "GD101" not in rules(report) and "GD104" not in rules(report), report


LORA_SCRIPT = """from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it"{load})
model = get_peft_model(model, LoraConfig(r=8, target_modules=["q_proj", "v_proj"]))
args = TrainingArguments(output_dir="out", fp16=True)
Trainer(model=model, args=args, train_dataset=data).train()
"""


@pytest.mark.parametrize(
    ("load", "pins", "says"),
    [
        # transformers 4.x's bnb quantizer loads the rest in float16 when torch_dtype is unset; PEFT's adapters are fp32
        (
            ", quantization_config=BitsAndBytesConfig(load_in_4bit=True)",
            "transformers==4.52.4\npeft==0.17.0\n",
            ["LoRA adapters being trained are fp32", "loads the non-quantized weights in float16"],
        ),
        # transformers 5 loads the checkpoint's dtype whatever the quantizer
        (
            ", quantization_config=BitsAndBytesConfig(load_in_4bit=True)",
            "transformers==5.5.2\npeft==0.18.1\n",
            ["LoRA adapters being trained are fp32", "checkpoint dtype (bfloat16)"],
        ),
        # PEFT before 0.12 gives the adapters the base weights' dtype: bf16, and the GradScaler crash
        (', torch_dtype="bfloat16"', "transformers==4.52.4\npeft==0.11.1\n", ["LoRA adapters being trained are bf16"]),
        (', torch_dtype="bfloat16"', "transformers==4.52.4\npeft==0.12.0\n", ["LoRA adapters being trained are fp32"]),
    ],
)
def test_gd101_names_the_failure_of_what_is_trained(tmp_path, load, pins, says):
    report = check(tmp_path, {"train.py": LORA_SCRIPT.format(load=load), "requirements.txt": pins}, "--gpu", "A100")
    (finding,) = rules(report)["GD101"]
    for phrase in says:
        assert phrase in finding["message"], finding["message"]
    assert "Attempting to unscale FP16" not in finding["message"]


@pytest.mark.parametrize(("trl", "adapters"), [("1.6.0", "fp32"), ("1.7.0", "bf16")])
def test_trl_keeps_the_adapters_in_the_base_dtype_under_zero3_from_1_7(tmp_path, trl, adapters):
    script = (
        "from peft import LoraConfig\nfrom trl import SFTConfig, SFTTrainer\n\n"
        'args = SFTConfig(output_dir="o", fp16=True, deepspeed="ds.json", model_init_kwargs={"torch_dtype": "bfloat16"})\n'
        'SFTTrainer(model="google/gemma-3-1b-it", args=args, peft_config=LoraConfig(r=8), train_dataset=d).train()\n'
    )
    files = {
        "train.py": script,
        "ds.json": json.dumps({"zero_optimization": {"stage": 3}, "fp16": {"enabled": "auto"}}),
        "requirements.txt": f"trl=={trl}\ntransformers==5.5.2\npeft==0.18.1\n",
    }
    (finding,) = rules(check(tmp_path, files, "--gpu", "A100"))["GD101"]
    assert f"LoRA adapters being trained are {adapters}" in finding["message"], finding["message"]


@pytest.mark.parametrize(
    ("script", "fires"),
    [
        ('from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained("./model")\n', True),
        # TRL's trainer loads a string through AutoModelForCausalLM too (trl 0.16.0 sft_trainer.py L297)
        ('from trl import SFTTrainer\nSFTTrainer(model="./model", train_dataset=d).train()\n', True),
        (
            "from transformers import AutoModelForImageTextToText\n"
            'm = AutoModelForImageTextToText.from_pretrained("./model")\n',
            False,
        ),
    ],
)
def test_gd301_warns_where_4_50_0_loads_multimodal_gemma3_as_text_only(tmp_path, script, fires):
    files = {
        "train.py": script,
        "model/config.json": GEMMA3_4B,
        "requirements.txt": "transformers==4.50.0\ntrl==0.16.0\n",
    }
    found = rules(check(tmp_path, files)).get("GD301", [])
    assert [(f["severity"], "text-only" in f["message"]) for f in found] == ([("warning", True)] if fires else [])


@pytest.mark.parametrize(
    ("load", "transformers", "severity", "loads"),
    [
        (", torch_dtype=torch.bfloat16", "4.51.3", "warning", "bfloat16"),
        ("", "4.51.3", "warning", "float32"),  # transformers 4.x loads float32 without torch_dtype
        ("", "5.5.2", "error", None),  # transformers 5 loads the config's dtype: this run is fp16
    ],
)
def test_gd102_on_the_config_is_an_error_only_where_this_run_loads_it(tmp_path, load, transformers, severity, loads):
    """Newcomer 3.10: config.json says float16, the script loads bfloat16 on 4.51.3: this run is fine, the
    next load with torch_dtype='auto' (or transformers 5) is not."""
    config = json.loads(GEMMA3_4B)
    config["torch_dtype"] = "float16"
    script = (
        "import torch\nfrom transformers import AutoModelForImageTextToText, Trainer, TrainingArguments\n"
        f'model = AutoModelForImageTextToText.from_pretrained("./model"{load})\n'
        'Trainer(model=model, args=TrainingArguments(output_dir="o", bf16=True), train_dataset=d).train()\n'
    )
    pins = f"transformers=={transformers}\n"
    files = {"train.py": script, "model/config.json": json.dumps(config), "requirements.txt": pins}
    found = [f for f in rules(check(tmp_path, files)).get("GD102", []) if f["path"].endswith("config.json")]
    assert [f["severity"] for f in found] == [severity], found
    assert ("this run loads them in" in found[0]["message"]) is (loads is not None)
    if loads:
        assert f"this run loads them in {loads}" in found[0]["message"]


SWIFT_SHELL = """#!/bin/bash
CUDA_VISIBLE_DEVICES=0 \\
swift sft \\
    --model google/gemma-3-4b-it \\
    --train_type lora \\
    --dataset data/train.jsonl \\
    {dtype}--output_dir output

swift infer --adapters output/checkpoint-100
"""


@pytest.mark.parametrize(
    ("dtype", "gpu", "expected"),
    [
        ("--torch_dtype float16 \\\n    ", "A100", {"GD102": [(7, 5)]}),
        ("--torch_dtype bfloat16 \\\n    ", "T4", {"GD104": [(7, 5)]}),
        ("--torch_dtype bfloat16 \\\n    ", "A100", {}),
        ("", "T4", {"GD104": [(3, 1)]}),  # the checkpoint's bfloat16: located at the command
        ("--torch_dtype float32 --fp16 false \\\n    ", "T4", {}),
    ],
)
def test_a_swift_sft_line_is_a_run_of_its_own(tmp_path, dtype, gpu, expected):
    """ms-swift's documented use is its CLI: each `swift sft` line is a run, its flags its SftArguments, each
    finding located at the flag (`swift infer` trains nothing)."""
    files = {"train.sh": SWIFT_SHELL.format(dtype=dtype), "requirements.txt": "ms-swift==3.8.0\ntransformers==4.56.1\n"}
    report = check(tmp_path, files, "--gpu", gpu)
    found = {rule: [(f["line"], f["column"]) for f in items] for rule, items in rules(report).items()}
    assert found == expected, report
    for finding in report["findings"]:
        assert finding["fix"] is None or finding["fix"]["safety"] == "display-only"  # a shell line is not rewritten


LLAMAFACTORY_RECIPE = """model_name_or_path: {model}
stage: sft
do_train: true
finetuning_type: lora
lora_target: all
dataset: alpaca_en_demo
template: {template}
output_dir: saves/lora
bf16: true
"""


@pytest.mark.parametrize(
    ("model", "template", "pins", "expected"),
    [
        # LLaMA-Factory 0.9.4 requires transformers<=4.57.1: no release it installs with loads Gemma 4 (5.5.0)
        ("google/gemma-4-E2B-it", "gemma4", "llamafactory==0.9.4\n", ["GD301 requirements.txt:1"]),
        ("google/gemma-4-E2B-it", "gemma4", "llamafactory==0.9.5\n", []),  # <=5.6.0 reaches 5.5.0
        # 0.9.2 requires transformers<=4.49.0, a release before Gemma 3 (4.50.0)
        ("google/gemma-3-1b-it", "gemma3", "llamafactory==0.9.2\n", ["GD301 requirements.txt:1"]),
        ("google/gemma-3-1b-it", "gemma3", "llamafactory==0.9.3\n", []),
        # the project's own range and the window leave nothing: pip cannot resolve it, nothing is claimed here
        ("google/gemma-4-E2B-it", "gemma4", "llamafactory==0.9.4\ntransformers>=5.5.0\n", []),
        # both pinned, and they exclude each other: GD306, and the window is not reasoned from
        ("google/gemma-3-1b-it", "gemma3", "llamafactory==0.9.4\ntransformers==5.5.4\n", ["GD306 requirements.txt:1"]),
        ("google/gemma-3-1b-it", "gemma3", "llamafactory==0.9.5\ntransformers==5.5.4\n", []),
    ],
)
def test_llamafactorys_transformers_window_bounds_the_run(tmp_path, model, template, pins, expected):
    (tmp_path / "sft.yaml").write_text(LLAMAFACTORY_RECIPE.format(model=model, template=template))
    (tmp_path / "requirements.txt").write_text(pins)
    report = run_cli("check", ".", "--env", "none", "--format", "json", "--exit-zero", cwd=tmp_path).json()
    found = sorted(
        f"{f['rule']} {f['path']}:{f['line']}" for f in report["findings"] if f["rule"] in ("GD301", "GD306")
    )
    assert found == expected, report["findings"]


@pytest.mark.parametrize(("unsloth", "fires"), [("2026.3.18", True), ("2026.4.1", False)])
def test_an_unsloth_whose_window_predates_gemma4_is_what_stops_the_run(tmp_path, unsloth, fires):
    """Unsloth 2026.3.x requires transformers<=5.3.0; Gemma 4 needs 5.5.0 (rules/data/unsloth.json)."""
    (tmp_path / "train.py").write_text(
        "from unsloth import FastModel\n"
        'model, tokenizer = FastModel.from_pretrained("unsloth/gemma-4-E2B-it", load_in_4bit=True)\n'
    )
    (tmp_path / "requirements.txt").write_text(f"unsloth=={unsloth}\n")
    report = run_cli("check", ".", "--env", "none", "--format", "json", "--exit-zero", cwd=tmp_path).json()
    gd301 = [f for f in report["findings"] if f["rule"] == "GD301"]
    assert bool(gd301) is fires, report["findings"]
    if fires:
        assert "transformers<=5.3.0" in gd301[0]["message"] or "<=5.3.0" in gd301[0]["message"]


FA2_TEXT_ONLY = (
    "from transformers import {cls}, Trainer, TrainingArguments\n"
    "model = {cls}.from_pretrained('./model', attn_implementation='flash_attention_2')\n"
    "Trainer(model=model, args=TrainingArguments(output_dir='o', bf16=True), train_dataset=d).train()\n"
)


@pytest.mark.parametrize(
    "transformers, cls, refused",
    [
        ("5.25.0", "AutoModelForCausalLM", True),  # builds Gemma3ForConditionalGeneration: refused at load
        ("5.25.0", "Gemma3ForConditionalGeneration", True),
        ("5.23.0", "AutoModelForCausalLM", False),  # before the refusal, text-only batches lose nothing
        ("5.25.0", "Gemma3ForCausalLM", False),  # the text class takes flash attention
    ],
)
def test_gd504_on_5_24_refuses_flash_attention_by_class_even_text_only(tmp_path, transformers, cls, refused):
    """Audit row 55, measured on 5.25.0: Gemma3ForConditionalGeneration raises `does not support Flash Attention 2
    yet` at construction, whatever the data; Gemma3ForCausalLM asks only for the package."""
    files = {
        "train.py": FA2_TEXT_ONLY.format(cls=cls),
        "model/config.json": GEMMA3_4B,
        "requirements.txt": f"transformers=={transformers}\n",
    }
    found = rules(check(tmp_path, files)).get("GD504", [])
    assert bool(found) is refused, found
    if refused:
        assert "even for a text-only fine-tune" in found[0]["message"] and found[0]["severity"] == "error"


TRL_UNPINNED = (
    "import torch\nfrom transformers import AutoModelForCausalLM\nfrom trl import SFTConfig, SFTTrainer\n"
    "model = AutoModelForCausalLM.from_pretrained('./model', torch_dtype=torch.bfloat16)\n"
    "SFTTrainer(model=model, args=SFTConfig(output_dir='o', eval_strategy='steps'), train_dataset=d, eval_dataset=e)\n"
)


@pytest.mark.parametrize(
    "pins, bf16_default, cache_crash",
    [
        # every TRL that installs beside 4.50.0 is <= 0.18.2: no bf16 default, and none turns the cache off
        ("transformers==4.50.0\n", False, True),
        # beside 4.57.6 TRL 0.12.0 to 1.16.0 install: the range straddles 0.19.0, said so in the message
        ("transformers==4.57.6\n", True, False),
        ("transformers==4.57.6\ntrl<0.19\n", False, False),  # the project's own range keeps it below
    ],
)
def test_an_unpinned_trl_is_the_releases_that_install_beside_the_pins(tmp_path, pins, bf16_default, cache_crash):
    files = {"train.py": TRL_UNPINNED, "model/config.json": GEMMA3_4B, "requirements.txt": pins}
    report = check(tmp_path, files, "--gpu", "T4")
    gd104 = [f for f in report["findings"] if f["rule"] == "GD104" and "TRL >=" in f["message"]]
    assert bool(gd104) is bf16_default, report["findings"]
    if gd104:
        assert "a fresh install gets 1.16.0" in gd104[0]["message"]
    # with bf16 asked, 4.50.0's HybridCache crash is there unless the TRL that runs turns the cache off (>= 0.22)
    files["train.py"] = TRL_UNPINNED.replace("output_dir='o'", "output_dir='o', bf16=True")
    assert ("GD202" in rules(check(tmp_path, files, "--gpu", "A100"))) is cache_crash
