"""Issue 21: Gemma 4 judged with the same care as Gemma 3. Each version boundary of a Gemma 4 rule is
tested on both sides, and the data the rules match against is held to a real tiny Gemma 4."""

from __future__ import annotations

import json
import re

import pytest
from conftest import FIXTURES, run_cli

TRAINER = """import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained({model!r}, dtype=torch.bfloat16)
model = get_peft_model(model, LoraConfig(r=8, target_modules={targets}))
args = TrainingArguments(output_dir="out", bf16=True{extra})
Trainer(model=model, args=args, train_dataset=data).train()
"""
REGEX = 'r".*language_model.*\\\\.(q_proj|v_proj)"'


def found(project, *extra) -> dict[str, list[dict]]:
    report = run_cli("check", ".", "--env", "none", "--format", "json", "--exit-zero", *extra, cwd=project).json()
    assert report["errors"] == [], report["errors"]
    by_rule: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_rule.setdefault(finding["rule"], []).append(finding)
    return by_rule


def project(tmp_path, requirements: str, model="google/gemma-4-E2B-it", targets=REGEX, extra="", script=TRAINER):
    (tmp_path / "train.py").write_text(script.format(model=model, targets=targets, extra=extra))
    (tmp_path / "requirements.txt").write_text(requirements)
    return tmp_path


@pytest.mark.parametrize(
    ("transformers", "fires"),
    [("5.4.0", False), ("5.5.0", True), ("5.5.1", True), ("5.5.2", False), ("5.25.0", False)],
)
def test_gd206_on_both_sides_of_the_kv_sharing_window(tmp_path, transformers, fires):
    """5.4.0 cannot load Gemma 4 at all (GD301, not GD206); 5.5.0 and 5.5.1 train the wrong path; 5.5.2 fixed it."""
    rules = found(project(tmp_path, f"transformers=={transformers}\n"))
    assert ("GD206" in rules) is fires, rules
    assert ("GD301" in rules) is (transformers == "5.4.0"), rules


@pytest.mark.parametrize(
    ("model", "config", "fires"),
    [
        ("google/gemma-4-E2B-it", None, True),
        ("unsloth/gemma-4-E4B-it-unsloth-bnb-4bit", None, True),
        ("google/gemma-4-31B-it", None, False),  # shares no K/V
        ("google/gemma-4-26B-A4B-it", None, False),
        ("ckpt", {"num_kv_shared_layers": 20}, True),  # a local folder: its config.json decides
        ("ckpt", {"num_kv_shared_layers": 0}, False),
    ],
)
def test_gd206_asks_the_checkpoint_whether_it_shares_kv(tmp_path, model, config, fires):
    if config is not None:
        (tmp_path / model).mkdir()
        text = {"model_type": "gemma4_text", "hidden_size": 64, **config}
        (tmp_path / model / "config.json").write_text(
            json.dumps(
                {"model_type": "gemma4", "architectures": ["Gemma4ForConditionalGeneration"], "text_config": text}
            )
        )
    rules = found(project(tmp_path, "transformers==5.5.0\n", model=model))
    assert ("GD206" in rules) is fires, rules


@pytest.mark.parametrize(
    ("extra", "fires"),
    [
        ("", True),  # the Trainer's default: use_cache=False
        (", use_cache=True", False),  # the workaround
        (", use_cache=True, gradient_checkpointing=True", True),  # checkpointing drops the cache anyway
    ],
)
def test_gd206_counts_what_the_trainer_does_with_the_cache(tmp_path, extra, fires):
    rules = found(project(tmp_path, "transformers==5.5.1\n", extra=extra))
    assert ("GD206" in rules) is fires, rules


@pytest.mark.parametrize(("zoo", "fires"), [("2026.6.6", True), ("2026.6.7", False), (None, False)])
def test_gd206_under_unsloth_turns_on_the_zoo_that_patches_it(tmp_path, zoo, fires):
    script = (FIXTURES / "GD206/fail-unsloth-old-zoo/finetune.py").read_text()
    (tmp_path / "finetune.py").write_text(script)
    pins = "transformers==5.5.0\ntrl==0.24.0\n" + (f"unsloth_zoo=={zoo}\n" if zoo else "")
    (tmp_path / "requirements.txt").write_text(pins)
    rules = found(tmp_path)
    assert ("GD206" in rules) is fires, rules
    if fires:
        [finding] = rules["GD206"]
        assert "unsloth_zoo>=2026.6.7" in json.dumps(finding["fix"])


def test_gd201_never_advises_turning_the_cache_off_on_gemma4(tmp_path):
    """GD201's advice (use_cache=False) is what breaks E2B on 5.5.0: it does not speak for Gemma 4."""
    rules = found(project(tmp_path, "transformers==5.5.0\n", extra=", use_cache=True"))
    assert "GD201" not in rules and "GD206" not in rules, rules


@pytest.mark.parametrize(("transformers", "fires"), [("5.9.0", True), ("5.10.1", False)])
def test_gd301_gemma4_unified_floor(tmp_path, transformers, fires):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text(
        (FIXTURES / "GD301/fail-gemma4-unified-on-5.9/model/config.json").read_text()
    )
    rules = found(project(tmp_path, f"transformers=={transformers}\n", model="model"))
    assert ("GD301" in rules) is fires, rules
    if fires:
        assert "gemma4_unified" in rules["GD301"][0]["message"]


@pytest.mark.parametrize(
    ("targets", "rule_severity"),
    [
        ('["q_proj", "v_proj"]', "error"),
        ('["o_proj"]', "error"),
        ('["post"]', "error"),  # an audio-tower name only
        ('"all-linear"', "warning"),
        (REGEX, None),
        ('["model.language_model.layers.0.self_attn.q_proj"]', None),  # a full path inside the language model
        ('["lm_head"]', None),
    ],
)
def test_gd702_matches_targets_the_way_peft_does(tmp_path, targets, rule_severity):
    rules = found(project(tmp_path, "transformers==5.25.0\npeft==0.21.2\n", targets=targets))
    assert [f["severity"] for f in rules.get("GD702", [])] == ([rule_severity] if rule_severity else []), rules


def test_gd702_is_silent_where_the_checkpoint_has_no_towers(tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "config.json").write_text(
        json.dumps({"model_type": "gemma4", "text_config": {"model_type": "gemma4_text"}, "vision_config": None})
    )
    rules = found(project(tmp_path, "transformers==5.25.0\n", model="text", targets='["q_proj", "v_proj"]'))
    assert "GD702" not in rules, rules
    # The audio-only checkpoint: a vision name is fine, an audio one is not.
    (tmp_path / "text" / "config.json").write_text(
        json.dumps({"model_type": "gemma4", "text_config": {"model_type": "gemma4_text"}, "audio_config": {"x": 1}})
    )
    assert "GD702" not in found(project(tmp_path, "transformers==5.25.0\n", model="text", targets='["o_proj"]'))
    assert "GD702" in found(project(tmp_path, "transformers==5.25.0\n", model="text", targets='["post"]'))


@pytest.mark.parametrize(
    ("lora", "fires"),
    [
        ('"all-linear"', True),
        ('"all-linear", target_parameters=["experts.gate_up_proj", "experts.down_proj"]', False),
    ],
)
def test_gd703_the_experts_need_target_parameters(tmp_path, lora, fires):
    rules = found(project(tmp_path, "transformers==5.25.0\n", model="google/gemma-4-26B-A4B-it", targets=lora))
    assert ("GD703" in rules) is fires, rules


def tiny_gemma4(towers: bool = True, moe: bool = False, shared: int = 2):
    """A real Gemma 4 at toy size: four layers (the last ``shared`` reuse the first ones' K/V), and the
    vision and audio towers (Gemma4ForConditionalGeneration) or none (Gemma4ForCausalLM)."""
    import transformers

    text = transformers.Gemma4TextConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        global_head_dim=32,
        hidden_size_per_layer_input=8,
        vocab_size_per_layer_input=128,
        layer_types=["sliding_attention", "full_attention"] * 2,
        num_kv_shared_layers=shared,
        **(
            {"enable_moe_block": True, "num_experts": 4, "top_k_experts": 2, "moe_intermediate_size": 16} if moe else {}
        ),
    )
    if not towers:
        return transformers.Gemma4ForCausalLM(text)
    vision = transformers.Gemma4VisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=16,
    )
    audio = transformers.Gemma4AudioConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        output_proj_dims=32,
        subsampling_conv_channels=[8, 8],
    )
    config = transformers.Gemma4Config(
        text_config=text.to_dict(), vision_config=vision.to_dict(), audio_config=audio.to_dict()
    )
    return transformers.Gemma4ForConditionalGeneration(config)


@pytest.mark.slow
def test_the_tower_module_paths_are_those_of_a_real_gemma4():
    """rules/data/model_families.json lists the towers' Gemma4ClippableLinear paths GD702 matches against:
    they must be those a real (tiny) Gemma4ForConditionalGeneration has on the installed transformers."""
    pytest.importorskip("transformers")
    from gemma_doctor.knowledge import data

    model = tiny_gemma4()
    real = {name for name, module in model.named_modules() if type(module).__name__ == "Gemma4ClippableLinear"}
    listed = data("model_families")["gemma4_tower_modules"]
    assert set(listed["vision"]) | set(listed["audio"]) == real
    assert all(re.search(r"\.vision_tower\.", p) for p in listed["vision"])
    assert all(re.search(r"\.audio_tower\.", p) for p in listed["audio"])
    assert not any("language_model" in p for p in real)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("towers", "moe", "lora", "rules"),
    [
        (True, False, {"target_modules": "all-linear"}, ["GD702"]),
        (True, False, {"target_modules": r".*language_model.*\.(q_proj|v_proj)"}, []),
        (False, True, {"target_modules": "all-linear"}, ["GD703"]),
        (False, True, {"target_modules": "all-linear", "target_parameters": ["experts.gate_up_proj"]}, []),
    ],
)
def test_the_callback_judges_the_adapter_peft_built(towers, moe, lora, rules):
    """In-process, PEFT has already built the adapter: the callback counts the LoRA modules it put in the
    towers (GD702) and reads target_parameters from the live peft_config (GD703)."""
    pytest.importorskip("peft")
    import peft
    from transformers import TrainingArguments

    from gemma_doctor.preflight import check_model

    model = peft.get_peft_model(tiny_gemma4(towers=towers, moe=moe, shared=0), peft.LoraConfig(r=4, **lora))
    args = TrainingArguments(output_dir="unused", use_cpu=True, report_to=[])
    found_rules = sorted({f.rule for f in check_model(model, args) if f.rule.startswith("GD70")})
    assert found_rules == rules


@pytest.mark.slow
def test_the_callback_reads_the_live_layout():
    from gemma_doctor.sources import live

    facts = {f.name: f.value for f in live.model_facts(tiny_gemma4(shared=2))}
    assert facts["config_kv_shared_layers"] == 2
    assert facts["config_towers"] == ["vision", "audio"]
    assert facts["config_global_head_dim"] == 32
    assert facts["config_moe_block"] is False


@pytest.mark.parametrize(
    ("recipe", "fires"),
    [
        ("flash_attention: true\n", True),  # Axolotl's switch
        ("attn_implementation: flash_attention_2\ngemma4_hybrid_attn_impl: true\n", False),
        ("attn_implementation: sdpa\n", False),
    ],
)
def test_gd506_axolotl_flash_attention_and_its_hybrid(tmp_path, recipe, fires):
    (tmp_path / "g4.yaml").write_text(
        "base_model: google/gemma-4-26B-A4B\nadapter: lora\nlora_target_parameters: [experts.down_proj]\n"
        "datasets:\n  - path: d.jsonl\n    type: chat_template\noutput_dir: out\n" + recipe
    )
    assert ("GD506" in found(tmp_path)) is fires


@pytest.mark.parametrize(("head_dim", "fires"), [(512, True), (256, False), (None, True)])
def test_gd506_reads_the_head_dim_from_the_checkpoint(tmp_path, head_dim, fires):
    """A config.json's global_head_dim decides; without one, Gemma4TextConfig's default (512)."""
    text = {"model_type": "gemma4_text"} | ({"global_head_dim": head_dim} if head_dim else {})
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps({"model_type": "gemma4", "text_config": text}))
    (tmp_path / "infer.py").write_text(
        "from transformers import AutoModelForCausalLM\n"
        'model = AutoModelForCausalLM.from_pretrained("m", attn_implementation="flash_attention_2")\n'
    )
    assert ("GD506" in found(tmp_path)) is fires


@pytest.mark.parametrize(
    ("load", "lora", "severity"),
    [
        (
            "",
            False,
            "error",
        ),  # transformers 5 loads the checkpoint's bf16 and trains it: the GradScaler crash is certain
        (", dtype=torch.float32", False, "warning"),  # only the inferred overflow is left
        ("", True, "warning"),  # PEFT trains fp32 adapters over the bf16 weights: no crash, the overflow is inferred
    ],
)
def test_gd101_on_gemma4_is_as_certain_as_its_evidence(tmp_path, load, lora, severity):
    script = TRAINER.replace("dtype=torch.bfloat16", load.removeprefix(", ") or "device_map='auto'")
    if not lora:
        script = script.replace("model = get_peft_model(model, LoraConfig(r=8, target_modules={targets}))\n", "")
    rules = found(project(tmp_path, "transformers==5.25.0\n", extra=", fp16=True", script=script))
    assert [f["severity"] for f in rules.get("GD101", [])] == [severity], rules
    assert "INFERRED" in rules["GD101"][0]["message"]
    assert ("LoRA adapters being trained are fp32" in rules["GD101"][0]["message"]) is lora


def test_gd101_leaves_gemma4_to_unsloth(tmp_path):
    script = (FIXTURES / "GD206/fail-unsloth-old-zoo/finetune.py").read_text()
    (tmp_path / "finetune.py").write_text(script.replace("max_steps=60,", "max_steps=60, fp16=True,"))
    (tmp_path / "requirements.txt").write_text("transformers==5.25.0\n")
    assert "GD101" not in found(tmp_path)


@pytest.mark.parametrize(
    ("unsloth", "zoo", "fires"),
    [
        ("2026.4.2", "2026.4.2", False),  # its own list holds gemma4
        ("2026.4.3", "2026.7.1", True),  # its own list, without gemma4: the zoo's is not read
        ("2026.5.4", None, True),
        ("2026.5.5", "2026.5.3", True),  # the zoo's list (the oldest zoo it installs with), without gemma4
        ("2026.6.9", "2026.6.7", True),  # the zoo's list, without gemma4
        ("2026.6.9", "2026.7.1", False),  # the zoo's list, with gemma4
        ("2026.6.9", None, False),  # a fresh zoo
        ("2026.7.1", "2026.6.7", False),  # its own gemma4, unioned in
        ("2026.10.9", "2026.6.7", False),
        (None, None, False),
    ],
)
def test_gd104_follows_unsloths_float32_list_for_gemma4(tmp_path, unsloth, zoo, fires):
    """Where Unsloth's FORCE_FLOAT32 list, as this Unsloth builds it with this zoo, holds gemma4, Unsloth trains
    Gemma 4 in float32 on a T4, and bf16=torch.cuda.is_bf16_supported() (True there with current torch) asks for
    nothing that runs (docs/evidence/GD104.md, read in every wheel)."""
    script = (FIXTURES / "GD206/fail-unsloth-old-zoo/finetune.py").read_text()
    script = "import torch\n" + script.replace("max_steps=60,", "max_steps=60, bf16=torch.cuda.is_bf16_supported(),")
    (tmp_path / "finetune.py").write_text(script)
    pins = "transformers==5.5.0\ntrl==0.24.0\n" + (f"unsloth=={unsloth}\n" if unsloth else "")
    pins += f"unsloth_zoo=={zoo}\n" if zoo else ""
    (tmp_path / "requirements.txt").write_text(pins)
    assert ("GD104" in found(tmp_path, "--gpu", "T4")) is fires


def test_gd102_on_gemma4_is_a_warning_marked_inferred(tmp_path):
    script = TRAINER.replace("dtype=torch.bfloat16", "dtype=torch.float16")
    rules = found(project(tmp_path, "transformers==5.25.0\n", script=script))
    [finding] = rules["GD102"]
    assert finding["severity"] == "warning" and "INFERRED" in finding["message"]


def test_gd206_a_loop_of_the_scripts_own_keeps_the_configs_cache(tmp_path):
    """No Trainer resets use_cache in a plain PyTorch loop: the model reads its config's use_cache (true), so
    only gradient checkpointing or use_cache=False there drops the cache."""
    loop = """import torch
from transformers import AutoModelForCausalLM

model = AutoModelForCausalLM.from_pretrained("google/gemma-4-E2B-it", dtype=torch.bfloat16)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
for batch in batches:
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
"""
    (tmp_path / "loop.py").write_text(loop)
    (tmp_path / "requirements.txt").write_text("transformers==5.5.0\n")
    assert "GD206" not in found(tmp_path)
    (tmp_path / "loop.py").write_text(
        loop.replace("optimizer = ", "model.gradient_checkpointing_enable()\noptimizer = ")
    )
    assert "GD206" in found(tmp_path)


DDP_SCRIPT = """from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model = AutoModelForCausalLM.from_pretrained("google/gemma-4-E2B-it")
{peft}args = TrainingArguments(output_dir="out", bf16=True{extra})
Trainer(model=model, args=args, train_dataset=data).train()
"""
ACCELERATE_DDP = "distributed_type: {kind}\nnum_processes: {n}\n"
ALL_LINEAR = 'model = get_peft_model(model, LoraConfig(r=8, target_modules="all-linear"))\n'
LANGUAGE_ONLY = f"model = get_peft_model(model, LoraConfig(r=8, target_modules={REGEX}))\n"


@pytest.mark.parametrize(
    ("peft", "extra", "processes", "fires"),
    [
        (ALL_LINEAR, ", ddp_find_unused_parameters=False", 2, True),
        (ALL_LINEAR, ", ddp_find_unused_parameters=True", 2, False),
        (ALL_LINEAR, "", 2, False),  # the Trainer gives a PeftModel find_unused_parameters=True
        (ALL_LINEAR, ", ddp_find_unused_parameters=False", 1, False),  # one process: no DDP
        (LANGUAGE_ONLY, ", ddp_find_unused_parameters=False", 2, False),  # the towers train nothing
        ("", ", gradient_checkpointing=True", 2, True),  # full fine-tune: off under checkpointing by default
        ("", "", 2, False),  # full fine-tune without checkpointing: on by default
    ],
)
def test_gd706_gemma4_towers_under_ddp_without_the_unused_parameter_search(tmp_path, peft, extra, processes, fires):
    (tmp_path / "train.py").write_text(DDP_SCRIPT.format(peft=peft, extra=extra))
    kind = "MULTI_GPU" if processes > 1 else "NO"
    (tmp_path / "accelerate.yaml").write_text(ACCELERATE_DDP.format(kind=kind, n=processes))
    (tmp_path / "requirements.txt").write_text("transformers==5.5.2\npeft==0.18.1\n")
    assert ("GD706" in found(tmp_path)) is fires


AXOLOTL_GEMMA4_DDP = """base_model: google/gemma-4-E2B-it
adapter: lora
lora_target_linear: true
gradient_checkpointing: true
gradient_checkpointing_kwargs:
  use_reentrant: true
datasets:
  - path: d.jsonl
    type: chat_template
output_dir: out
"""


@pytest.mark.parametrize(("axolotl", "fires"), [("0.16.0", True), ("0.17.0", False)])
def test_axolotl_rewrites_gemma4_ddp_from_0_17(tmp_path, axolotl, fires):
    """Axolotl >= 0.17.0 sets use_reentrant=False and ddp_find_unused_parameters=True for Gemma 4 (axolotl#3584):
    the reentrant checkpointing this recipe asks for is not what runs (GD701)."""
    (tmp_path / "train.yaml").write_text(AXOLOTL_GEMMA4_DDP)
    (tmp_path / "accelerate.yaml").write_text(ACCELERATE_DDP.format(kind="MULTI_GPU", n=2))
    (tmp_path / "requirements.txt").write_text(f"axolotl=={axolotl}\ntransformers==5.5.2\n")
    assert ("GD701" in found(tmp_path)) is fires


def test_gd701_is_silent_where_ddp_searches_no_unused_parameters(tmp_path):
    """Measured: reentrant checkpointing of a PEFT model trains under DDP with find_unused_parameters=False."""
    script = DDP_SCRIPT.format(
        peft=LANGUAGE_ONLY,
        extra=', gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": True}{more}',
    )
    (tmp_path / "accelerate.yaml").write_text(ACCELERATE_DDP.format(kind="MULTI_GPU", n=2))
    (tmp_path / "requirements.txt").write_text("transformers==5.5.2\npeft==0.18.1\n")
    (tmp_path / "train.py").write_text(script.replace("{more}", ""))
    assert "GD701" in found(tmp_path)
    (tmp_path / "train.py").write_text(script.replace("{more}", ", ddp_find_unused_parameters=False"))
    assert "GD701" not in found(tmp_path)


@pytest.mark.parametrize(
    ("prepare", "fires"),
    [
        ("model = prepare_model_for_kbit_training(model)\n", True),  # it checkpoints a quantized model by default
        ("model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)\n", False),
        (
            "model = prepare_model_for_kbit_training(model, "
            'activation_checkpointing_kwargs={"use_reentrant": False})\n',
            False,
        ),
        ("model.activation_checkpointing_enable()\n", True),  # the 5.23 name of gradient_checkpointing_enable
    ],
)
def test_checkpointing_turned_on_in_code_is_read_with_its_kwargs(tmp_path, prepare, fires):
    """GD701 on a QLoRA run under DDP: prepare_model_for_kbit_training checkpoints unless
    use_gradient_checkpointing=False, with the use_reentrant its kwargs give (transformers 4.x: reentrant)."""
    script = (
        "from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training\n"
        "from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments\n\n"
        'model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", '
        "quantization_config=BitsAndBytesConfig(load_in_4bit=True))\n"
        f"{prepare}"
        'model = get_peft_model(model, LoraConfig(r=8, target_modules=["q_proj", "v_proj"]))\n'
        'Trainer(model=model, args=TrainingArguments(output_dir="o", bf16=True), train_dataset=d).train()\n'
    )
    (tmp_path / "train.py").write_text(script)
    (tmp_path / "accelerate.yaml").write_text(ACCELERATE_DDP.format(kind="MULTI_GPU", n=2))
    (tmp_path / "requirements.txt").write_text("transformers==4.57.6\npeft==0.17.0\n")
    assert ("GD701" in found(tmp_path)) is fires
