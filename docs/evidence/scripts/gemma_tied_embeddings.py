"""GD705's evidence: LoRA's modules_to_save on a Gemma model, whose lm_head is tied to embed_tokens.
A tiny Gemma3ForCausalLM (tie_word_embeddings=True) gets a trained copy of lm_head (or a LoRA on it), is
merged, saved and loaded again: does the merged model still compute what the adapter model did, and is the
trained head what the reloaded model uses?

    python docs/evidence/scripts/gemma_tied_embeddings.py    # one JSON line per case, with the versions
"""

import json
import tempfile
import warnings

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model

transformers.logging.set_verbosity_error()


def show(**fields):
    fields.update(transformers=transformers.__version__, peft=peft.__version__)
    print(json.dumps(fields), flush=True)


def tiny():
    torch.manual_seed(0)
    config = transformers.Gemma3TextConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=1,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=8,
        layer_types=["full_attention"],
        tie_word_embeddings=True,
    )
    return transformers.Gemma3ForCausalLM(config)


def case(label, **lora):
    model = tiny()
    lora.setdefault("target_modules", ["q_proj"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = get_peft_model(model, LoraConfig(r=2, **lora))
        except Exception as exc:  # noqa: BLE001 - the error is the result
            show(case=label, raised=f"{type(exc).__name__}: {str(exc)[:200]}")
            return
    said = sorted(
        {str(w.message)[:160] for w in caught if "tie" in str(w.message).lower() or "tied" in str(w.message).lower()}
    )
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    for name, parameter in model.named_parameters():
        if "lora_B" in name:  # LoRA's B starts at zero; a value, as after real training, makes the merge matter
            torch.nn.init.normal_(parameter.data, std=0.1)
    ids = torch.tensor([[2, 5, 6, 7, 8]])
    for _ in range(3):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    with torch.no_grad():
        before = model(input_ids=ids).logits
    merged = model.merge_and_unload()
    with torch.no_grad():
        after = merged(input_ids=ids).logits
    head = merged.get_output_embeddings().weight.detach().clone()
    embed = merged.get_input_embeddings().weight.detach().clone()
    with tempfile.TemporaryDirectory() as folder:
        merged.save_pretrained(folder)
        reloaded = transformers.AutoModelForCausalLM.from_pretrained(folder)
        with open(f"{folder}/config.json") as handle:
            config = json.load(handle)
    show(
        case=label,
        warnings=said,
        merged_head_equals_embeddings=torch.equal(head, embed),
        merged_model_equals_adapter_model=bool(torch.allclose(before, after, atol=1e-4)),
        saved_tie_word_embeddings=config.get("tie_word_embeddings"),
        reloaded_head_is_trained_head=torch.equal(reloaded.get_output_embeddings().weight, head),
        reloaded_head_equals_saved_embeddings=torch.equal(reloaded.get_output_embeddings().weight, embed),
    )


case("modules_to_save=['lm_head']", modules_to_save=["lm_head"])
case("modules_to_save=['embed_tokens']", modules_to_save=["embed_tokens"])
case("modules_to_save=['lm_head'], ensure_weight_tying=True", modules_to_save=["lm_head"], ensure_weight_tying=True)
case("target_modules=['q_proj', 'lm_head']", target_modules=["q_proj", "lm_head"])
case("target_modules=['q_proj'] only")
