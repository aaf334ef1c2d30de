"""Which checkpoint mode prepare_model_for_kbit_training leaves on transformers 5.x (audit row 63, GD701).

    python kbit_reentrant.py   # on the installed transformers and peft; prints the kwargs and torch's warnings

Measured 2026-12-08 with torch 2.13.0 (CPU): peft 0.21.2 leaves {} on transformers 5.0.0 and 5.25.0, and torch
warns that use_reentrant should be passed (it checkpoints reentrant); peft 0.22.0 leaves use_reentrant=False. A
Trainer that re-enables checkpointing afterwards gives use_reentrant=False on every one.
"""

import warnings

import peft
import torch
import transformers
from peft import prepare_model_for_kbit_training
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

cfg = Gemma3TextConfig(
    vocab_size=64,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    head_dim=16,
    sliding_window=8,
)
for trainer_too in (False, True):
    model = Gemma3ForCausalLM(cfg)
    model.is_loaded_in_4bit = True  # what a bitsandbytes load sets: peft then checkpoints it
    model = prepare_model_for_kbit_training(model)
    if trainer_too:  # what the Trainer's gradient_checkpointing=True does after: its own kwargs (None)
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=None)
    fn = model.model.layers[0]._gradient_checkpointing_func
    print(
        transformers.__version__,
        peft.__version__,
        torch.__version__,
        "trainer re-enables" if trainer_too else "kbit prep only",
        "kwargs:",
        getattr(fn, "keywords", None),
    )
    model.train()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = model(input_ids=torch.randint(0, 64, (1, 6)), labels=torch.randint(0, 64, (1, 6)))
        out.loss.backward()
    print("  warnings:", [str(w.message) for w in caught if "reentrant" in str(w.message).lower()])
