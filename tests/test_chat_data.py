"""Issue 22: the silent data bugs. What the code does with the tokenizer and the template is read as
facts (the idioms real scripts use), the tokenizer files of a model folder override the family's
tokens, and each rule's version boundaries are tested on both sides. The slow tests hold the rules'
claims to the real Gemma 3 tokenizer and TRL's own trainer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from gemma_doctor.sources import load_file


def facts_of(tmp_path: Path, code: str, name: str = "train.py") -> dict[str, list]:
    path = tmp_path / name
    path.write_text(code)
    found: dict[str, list] = {}
    for fact in load_file(path, name).facts:
        found.setdefault(fact.name, []).append(fact)
    return found


def rules_of(project: Path, *extra: str) -> dict[str, list[dict]]:
    report = run_cli("check", ".", "--env", "none", "--format", "json", "--exit-zero", *extra, cwd=project).json()
    assert report["errors"] == [], report["errors"]
    by_rule: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_rule.setdefault(finding["rule"], []).append(finding)
    return by_rule


LOAD = 'from transformers import AutoTokenizer\ntokenizer = AutoTokenizer.from_pretrained("google/gemma-3-1b-it")\n'


# --- the idioms, as facts -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # rendered, then tokenized with the tokenizer's BOS
        ("text = tokenizer.apply_chat_template(m, tokenize=False)\ntokenizer(text)\n", "chat_tokenized_with_bos"),
        ("tokenizer.encode(tokenizer.apply_chat_template(m, tokenize=False))\n", "chat_tokenized_with_bos"),
        (
            "texts = [tokenizer.apply_chat_template(c, tokenize=False) for c in cs]\ntokenizer(texts)\n",
            "chat_tokenized_with_bos",
        ),
        (
            "def r(m):\n    return tokenizer.apply_chat_template(m, tokenize=False)\np = r(x)\ntokenizer(text=p)\n",
            "chat_tokenized_with_bos",
        ),
        # one BOS: the tokenizer adds none, or the template's was stripped and the tokenizer adds it
        ("text = tokenizer.apply_chat_template(m, tokenize=False)\ntokenizer(text, add_special_tokens=False)\n", None),
        ('text = tokenizer.apply_chat_template(m, tokenize=False).removeprefix("<bos>")\ntokenizer(text)\n', None),
        ("ids = tokenizer.apply_chat_template(m, tokenize=True)\ntokenizer(ids)\n", None),
        ("text = 'plain text'\ntokenizer(text)\n", None),
        # none at all
        (
            'text = tokenizer.apply_chat_template(m, tokenize=False)[len("<bos>"):]\n'
            "tokenizer(text, add_special_tokens=False)\n",
            "chat_tokenized_without_bos",
        ),
        # stored as the dataset's text
        (
            'def row(e):\n    return {"text": tokenizer.apply_chat_template(e["m"], tokenize=False)}\n',
            "chat_text_field",
        ),
        (
            'def row(e):\n    e["text"] = tokenizer.apply_chat_template(e["m"], tokenize=False)\n    return e\n',
            "chat_text_field",
        ),
        (
            "from trl import SFTTrainer\ndef fmt(e):\n    return tokenizer.apply_chat_template(e['m'], tokenize=False)\n"
            "SFTTrainer(model=model, formatting_func=fmt)\n",
            "chat_text_field",
        ),
        (
            "def fmt(e):\n    return tokenizer.apply_chat_template(e['m'], tokenize=False)\n",
            None,
        ),  # no trainer takes it
        # the end of turn
        ("tokenizer.pad_token = tokenizer.eos_token\n", "pad_is_eos"),
        ("tokenizer.pad_token_id = tokenizer.eos_token_id\n", "pad_is_eos"),
        ("tokenizer.pad_token = '<pad>'\n", None),
        ("x = text + tokenizer.eos_token\n", "eos_appended"),
        ('x = f"{q} {a}{tokenizer.eos_token}"\n', "eos_appended"),
        (
            "from transformers import DataCollatorForLanguageModeling\nDataCollatorForLanguageModeling(tokenizer, mlm=False)\n",
            "lm_collator",
        ),
        (
            "from trl import DataCollatorForLanguageModeling\nDataCollatorForLanguageModeling(tokenizer, mlm=False)\n",
            None,
        ),
        ("import transformers\ntransformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)\n", "lm_collator"),
        ("model.generate(x, eos_token_id=tokenizer.eos_token_id)\n", "generate_eos_token_id"),
        ('s = text.split("<end_of_turn>")\n', "turn_token_literal"),
        # data
        (
            'row = {"prompt": [{"role": "user", "content": q}], "completion": [{"role": "assistant", "content": a}]}\n',
            "prompt_completion_rows",
        ),
        ('row = {"prompt": q, "completion": a}\n', None),  # plain text prompt-completion: not conversational
    ],
)
def test_chat_idioms_become_facts(tmp_path, code, expected):
    names = {"chat_tokenized_with_bos", "chat_tokenized_without_bos", "chat_text_field", "pad_is_eos"}
    names |= {"eos_appended", "lm_collator", "generate_eos_token_id", "turn_token_literal", "prompt_completion_rows"}
    found = set(facts_of(tmp_path, LOAD + code)) & names
    assert found == ({expected} if expected else set()), found


def test_a_local_jsonl_of_prompt_completion_messages_is_read_from_its_first_row(tmp_path):
    (tmp_path / "data").mkdir()
    row = {"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Hello"}]}
    (tmp_path / "data" / "train.jsonl").write_text(json.dumps(row) + "\n" + "{not json\n")
    code = LOAD + 'from datasets import load_dataset\nds = load_dataset("json", data_files="data/train.jsonl")\n'
    assert "prompt_completion_rows" in facts_of(tmp_path, code)
    (tmp_path / "data" / "train.jsonl").write_text(json.dumps({"messages": row["prompt"] + row["completion"]}) + "\n")
    assert "prompt_completion_rows" not in facts_of(tmp_path, code)


def test_tokenizer_files_are_read_as_text_with_their_lines(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "tokenizer_config.json").write_text(
        '{\n  "add_bos_token": false,\n  "eos_token": {"content": "<eos>"},\n  "chat_template": "{{ bos_token }}x"\n}\n'
    )
    (folder / "chat_template.jinja").write_text("{% generation %}y{% endgeneration %}")
    config = {f.name: f for f in load_file(folder / "tokenizer_config.json", "model/tokenizer_config.json").facts}
    assert config["tokenizer_add_bos"].value is False and config["tokenizer_add_bos"].location.line == 2
    assert config["tokenizer_eos_token"].value == "<eos>"
    assert config["tokenizer_chat_template"].location.line == 4
    jinja = load_file(folder / "chat_template.jinja", "model/chat_template.jinja").facts
    assert [f.name for f in jinja] == ["tokenizer_chat_template"]


# --- the rules, on both sides of their boundaries -----------------------------------------------------
SFT = """from trl import SFTConfig, SFTTrainer
trainer = SFTTrainer(model={model!r}, args=SFTConfig(output_dir="o", bf16=True{extra}), train_dataset=data)
trainer.train()
"""


def sft_project(tmp_path, pins: str, model="google/gemma-3-1b-it", extra=", assistant_only_loss=True", code=""):
    (tmp_path / "train.py").write_text(code + SFT.format(model=model, extra=extra))
    (tmp_path / "requirements.txt").write_text(pins)
    return tmp_path


@pytest.mark.parametrize(
    ("trl", "model", "fires"),
    [
        ("1.3.0", "google/gemma-3-1b-it", True),  # no training copy of the Gemma 3 template yet
        ("1.4.0", "google/gemma-3-1b-it", False),  # the stock template is swapped
        ("1.16.0", "google/gemma-4-E2B-it", True),  # none for Gemma 4
        (None, "google/gemma-3-1b-it", False),  # unpinned: the newest installs
    ],
)
def test_gd802_by_trl_release(tmp_path, trl, model, fires):
    pins = f"trl=={trl}\ntransformers==5.25.0\n" if trl else "transformers==5.25.0\n"
    assert ("GD802" in rules_of(sft_project(tmp_path, pins, model))) is fires


def test_gd802_a_template_with_generation_markers_is_silent_and_a_modified_one_is_not(tmp_path):
    folder = tmp_path / "base"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]}')
    project = sft_project(tmp_path, "trl==1.16.0\ntransformers==5.25.0\n", model="base")
    (folder / "chat_template.jinja").write_text("{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}")
    assert "GD802" in rules_of(project)  # not the stock template, no markers
    (folder / "chat_template.jinja").write_text("{% generation %}{{ messages[-1].content }}{% endgeneration %}")
    assert "GD802" not in rules_of(project)


@pytest.mark.parametrize(
    ("trl", "transformers", "fires"),
    [("0.27.0", "5.2.0", True), ("0.28.0", "5.2.0", False), ("0.27.0", "4.57.6", False)],
)
def test_gd805_needs_both_the_old_trl_and_transformers_5(tmp_path, trl, transformers, fires):
    rows = 'data = [{"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Yo"}]}]\n'
    project = sft_project(tmp_path, f"trl=={trl}\ntransformers=={transformers}\n", extra="", code=rows)
    assert ("GD805" in rules_of(project)) is fires


@pytest.mark.parametrize(
    ("transformers", "model", "fires"),
    [
        ("4.57.6", "google/gemma-3-4b-it", False),
        ("5.0.0", "google/gemma-3-4b-it", True),
        ("5.0.0", "google/gemma-3-1b-it", False),  # text-only checkpoint: the class's own layout
    ],
)
def test_gd307_text_class_on_a_multimodal_checkpoint_from_transformers_5(tmp_path, transformers, model, fires):
    (tmp_path / "infer.py").write_text(
        f"from transformers import Gemma3ForCausalLM\nmodel = Gemma3ForCausalLM.from_pretrained({model!r}, dtype='bfloat16')\n"
    )
    (tmp_path / "requirements.txt").write_text(f"transformers=={transformers}\n")
    assert ("GD307" in rules_of(tmp_path)) is fires


def test_gd307_reads_the_layout_from_a_local_config(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (tmp_path / "infer.py").write_text(
        "from transformers import Gemma3ForCausalLM\nGemma3ForCausalLM.from_pretrained('ckpt')\n"
    )
    (tmp_path / "requirements.txt").write_text("transformers==5.5.0\n")
    (folder / "config.json").write_text(
        '{"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"], "text_config": {}, "vision_config": {}}'
    )
    assert "GD307" in rules_of(tmp_path)
    (folder / "config.json").write_text('{"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]}')
    assert "GD307" not in rules_of(tmp_path)


LORA = """from peft import LoraConfig
from transformers import AutoModelForCausalLM
from trl import SFTConfig, SFTTrainer
model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", dtype="bfloat16")
SFTTrainer(model=model, args=SFTConfig(output_dir="o", bf16=True), peft_config=LoraConfig(r=8, {lora})).train()
"""


@pytest.mark.parametrize(
    ("lora", "peft", "fires"),
    [
        ('modules_to_save=["lm_head"]', "0.21.2", True),
        ('target_modules=["q_proj", "embed_tokens"]', "0.21.2", True),
        ('modules_to_save=["lm_head"], ensure_weight_tying=True', "0.21.2", False),
        ('modules_to_save=["lm_head"], ensure_weight_tying=True', "0.18.1", True),  # it raises on Gemma there
        ('target_modules="all-linear"', "0.21.2", False),
    ],
)
def test_gd705_tied_embeddings(tmp_path, lora, peft, fires):
    (tmp_path / "train.py").write_text(LORA.format(lora=lora))
    (tmp_path / "requirements.txt").write_text(f"peft=={peft}\ntrl==1.16.0\ntransformers==5.25.0\n")
    assert ("GD705" in rules_of(tmp_path)) is fires


def test_gd705_is_silent_on_an_untied_config(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text(
        '{"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"], "tie_word_embeddings": false}'
    )
    (tmp_path / "train.py").write_text(
        LORA.format(lora='modules_to_save=["lm_head"]').replace("google/gemma-3-1b-it", "m")
    )
    assert "GD705" not in rules_of(tmp_path)


def test_gd803_is_silent_under_unsloth_which_drops_the_second_bos(tmp_path):
    code = (
        "from trl import SFTConfig, SFTTrainer\n{load}\n"
        "def row(e):\n    return {{'text': tokenizer.apply_chat_template(e['m'], tokenize=False)}}\n"
        "SFTTrainer(model=model, processing_class=tokenizer, args=SFTConfig(output_dir='o', bf16=True)).train()\n"
    )
    plain = 'from transformers import AutoModelForCausalLM, AutoTokenizer\nmodel = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", dtype="bfloat16")\ntokenizer = AutoTokenizer.from_pretrained("google/gemma-3-1b-it")'
    unsloth = 'from unsloth import FastModel\nmodel, tokenizer = FastModel.from_pretrained("unsloth/gemma-3-1b-it")'
    (tmp_path / "train.py").write_text(code.format(load=plain))
    assert "GD803" in rules_of(tmp_path)
    (tmp_path / "train.py").write_text(code.format(load=unsloth))
    assert "GD803" not in rules_of(tmp_path)


def test_gd803_follows_the_tokenizer_files_add_bos_token(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text(
        '{"model_type": "gemma4", "architectures": ["Gemma4ForConditionalGeneration"], "text_config": {}}'
    )
    (tmp_path / "infer.py").write_text(
        "from transformers import AutoModelForCausalLM, AutoTokenizer\ntokenizer = AutoTokenizer.from_pretrained('m')\n"
        "model = AutoModelForCausalLM.from_pretrained('m')\n"
        "tokenizer(tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True))\n"
    )
    assert "GD803" not in rules_of(tmp_path)  # Gemma 4 without tokenizer files: whether it adds <bos> is unknown
    (folder / "tokenizer_config.json").write_text('{"add_bos_token": true, "chat_template": "{{ bos_token }}..."}')
    found = rules_of(tmp_path)["GD803"]
    assert "family's tokens" not in found[0]["message"]
    (folder / "tokenizer_config.json").write_text('{"add_bos_token": false}')
    assert "GD803" not in rules_of(tmp_path)


def test_gd801_axolotl_eot_tokens_and_the_eos_override(tmp_path):
    recipe = (
        "base_model: google/gemma-3-4b-it\nadapter: lora\nmicro_batch_size: 1\n"
        "datasets:\n  - path: d.jsonl\n    type: chat_template\n{extra}"
    )
    path = tmp_path / "recipe.yml"
    path.write_text(recipe.format(extra=""))
    assert "GD801" in rules_of(tmp_path)
    path.write_text(recipe.format(extra="eot_tokens:\n  - <eos>\n"))
    assert "GD801" in rules_of(tmp_path)  # the wrong token
    path.write_text(recipe.format(extra="eot_tokens:\n  - <end_of_turn>\n"))
    assert "GD801" not in rules_of(tmp_path)
    path.write_text(recipe.format(extra="special_tokens:\n  eos_token: <end_of_turn>\n"))
    assert "GD801" not in rules_of(tmp_path)  # eot_tokens default to the eos_token, now the turn end
    path.write_text(
        recipe.format(extra="").replace("gemma-3-4b-it", "gemma-4-E4B-it").replace("  - path", "  - path")
        + "eot_tokens:\n  - <end_of_turn>\n"
    )
    assert "GD801" in rules_of(tmp_path)  # Gemma 4 ends turns with <turn|>


def test_gd801_pad_is_eos_needs_the_masking_collator_and_an_eos_ending(tmp_path):
    base = (
        LOAD
        + "tokenizer.pad_token = tokenizer.eos_token\n"
        + "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments, DataCollatorForLanguageModeling\n"
        + "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it', dtype='bfloat16')\n"
        + "{text}\nTrainer(model=model, args=TrainingArguments(output_dir='o', bf16=True), "
        + "data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False)).train()\n"
    )
    (tmp_path / "train.py").write_text(base.format(text="t = [x + tokenizer.eos_token for x in xs]"))
    assert "GD801" in rules_of(tmp_path)
    (tmp_path / "train.py").write_text(
        base.format(text="t = [tokenizer.apply_chat_template(c, tokenize=True) for c in cs]")
    )
    assert "GD801" not in rules_of(tmp_path)  # chat sequences end in <end_of_turn>, never <eos>


def test_gd801_generation_config_of_a_chat_model(tmp_path):
    folder = tmp_path / "merged"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]}')
    (tmp_path / "serve.py").write_text(
        "from transformers import AutoModelForCausalLM, AutoTokenizer\ntok = AutoTokenizer.from_pretrained('merged')\n"
        "model = AutoModelForCausalLM.from_pretrained('merged')\n"
        "model.generate(**tok.apply_chat_template(m, add_generation_prompt=True, return_dict=True, return_tensors='pt'))\n"
    )
    (folder / "generation_config.json").write_text('{"eos_token_id": 1}')
    assert "GD801" in rules_of(tmp_path)
    (folder / "generation_config.json").write_text('{"eos_token_id": [1, 106]}')
    assert "GD801" not in rules_of(tmp_path)


def test_the_static_check_reads_tokenizer_files_without_jinja_or_tokenizers(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]}')
    (folder / "tokenizer_config.json").write_text('{"add_bos_token": true, "chat_template": "{{ bos_token }}"}')
    (folder / "chat_template.jinja").write_text("{{ bos_token }}")
    (tmp_path / "t.py").write_text(
        "from transformers import AutoModelForCausalLM, AutoTokenizer\ntokenizer = AutoTokenizer.from_pretrained('m')\n"
        "AutoModelForCausalLM.from_pretrained('m')\ntokenizer(tokenizer.apply_chat_template(x, tokenize=False))\n"
    )
    probe = (
        "import sys; from gemma_doctor.cli import main\n"
        "try:\n    main(['check', '.', '--env', 'none', '--exit-zero', '--quiet'])\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('torch', 'transformers', 'tokenizers', 'jinja2') if m in sys.modules]\n"
        "print('IMPORTED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "IMPORTED []" in out, out


@pytest.mark.parametrize(
    ("transformers", "targets", "fires"),
    [
        ("4.51.3", r'r".*language_model\.model\.layers\.\d+\.self_attn\.q_proj"', False),  # the old paths
        ("4.57.6", r'r".*language_model\.model\.layers\.\d+\.self_attn\.q_proj"', True),
        ("4.57.6", r'r".*model\.language_model\.layers\.\d+\.self_attn\.q_proj"', False),
        ("4.51.3", r'r".*model\.language_model\.layers\.\d+\.self_attn\.q_proj"', True),
        ("5.25.0", '["q_proj", "v_proj"]', False),  # bare names match every release
        ("5.25.0", '["model.vision_tower.vision_model.encoder.layers.3.self_attn.q_proj", "q_proj"]', True),
        ("5.5.0", '["model.vision_tower.vision_model.encoder.layers.3.self_attn.q_proj", "q_proj"]', False),
        ("5.10.0", '["model.vision_tower.vision_model.encoder.layers.3.self_attn.q_proj", "q_proj"]', False),  # between
        ("5.25.0", '"all-linear"', False),
    ],
)
def test_gd704_targets_against_the_release_paths(tmp_path, transformers, targets, fires):
    (tmp_path / "train.py").write_text(
        "from peft import LoraConfig\nfrom transformers import AutoModelForImageTextToText\nfrom trl import SFTConfig, SFTTrainer\n"
        'model = AutoModelForImageTextToText.from_pretrained("google/gemma-3-4b-it", dtype="bfloat16")\n'
        f"SFTTrainer(model=model, args=SFTConfig(output_dir='o', bf16=True), peft_config=LoraConfig(r=8, target_modules={targets})).train()\n"
    )
    (tmp_path / "requirements.txt").write_text(f"transformers=={transformers}\n")
    assert ("GD704" in rules_of(tmp_path)) is fires


def test_module_names_data_matches_this_transformers(tmp_path):
    """The generated paths of the installed release, where it is one of the generated ones, are what the
    classes build now: the data cannot drift from the script."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import subprocess
    import sys

    from conftest import ROOT

    data = json.loads((ROOT / "rules" / "data" / "module_names.json").read_text())
    stored = next((r for r in data["releases"] if r["generated_with"] == transformers.__version__), None)
    if stored is None:
        pytest.skip(f"no generated entry for transformers {transformers.__version__}")
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_module_names.py")], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == stored


def test_a_saved_adapter_a_merge_script_loads_is_judged_by_its_adapter_config(tmp_path):
    (tmp_path / "outputs" / "adapter").mkdir(parents=True)
    (tmp_path / "merge.py").write_text(
        "from peft import PeftModel\nfrom transformers import AutoModelForCausalLM\n"
        'base = AutoModelForCausalLM.from_pretrained("google/gemma-3-4b-it", dtype="bfloat16")\n'
        'PeftModel.from_pretrained(base, "outputs/adapter").merge_and_unload().save_pretrained("merged")\n'
    )
    config = {
        "base_model_name_or_path": "google/gemma-3-4b-it",
        "peft_type": "LORA",
        "target_modules": r".*language_model\.model\.layers\.\d+\.self_attn\.q_proj",
        "modules_to_save": ["lm_head"],
    }
    (tmp_path / "outputs" / "adapter" / "adapter_config.json").write_text(json.dumps(config, indent=1))
    (tmp_path / "requirements.txt").write_text("transformers==4.57.6\n")
    found = rules_of(tmp_path)
    assert found["GD704"][0]["path"] == "outputs/adapter/adapter_config.json"
    assert "trained with" in found["GD704"][0]["fix"]["title"]
    assert "GD705" in found
    (tmp_path / "requirements.txt").write_text("transformers==4.51.3\n")  # the release it was saved on
    assert "GD704" not in rules_of(tmp_path)


def test_gd801_a_pretrained_folder_trained_on_raw_text_keeps_its_eos(tmp_path):
    """A base model's folder ships the chat template too; a run that never speaks in turns stops at <eos>."""
    folder = tmp_path / "base"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]}')
    (folder / "generation_config.json").write_text('{"eos_token_id": 1}')
    (folder / "tokenizer_config.json").write_text('{"add_bos_token": true, "chat_template": "{{ bos_token }}..."}')
    (tmp_path / "train.py").write_text(
        "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        "model = AutoModelForCausalLM.from_pretrained('base', dtype='bfloat16')\n"
        "Trainer(model=model, args=TrainingArguments(output_dir='o', bf16=True), train_dataset=texts).train()\n"
    )
    assert "GD801" not in rules_of(tmp_path)


def test_strip_of_whitespace_keeps_the_rendered_bos(tmp_path):
    code = LOAD + "text = tokenizer.apply_chat_template(m, tokenize=False).strip()\ntokenizer(text)\n"
    assert "chat_tokenized_with_bos" in facts_of(tmp_path, code)
