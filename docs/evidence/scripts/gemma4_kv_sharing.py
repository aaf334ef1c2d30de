"""GD206's evidence: on Gemma 4 with shared K/V layers (E2B, E4B), does a forward without a cache
give the same logits as one with it? A tiny Gemma4ForCausalLM built from a config, on the CPU.

    python docs/evidence/scripts/gemma4_kv_sharing.py 4    # num_kv_shared_layers=4 (0 is the control)

One JSON line per case, with the versions. "max_diff" is the largest |logit - reference|, where the
reference is an eval-mode forward with use_cache=True (the path generate() takes). Then a Trainer with
default arguments trains 30 steps on one sequence, and the eval loss is taken on both paths.
"""

import json
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import Gemma4ForCausalLM, Gemma4TextConfig, Trainer, TrainingArguments  # noqa: E402

transformers.logging.set_verbosity_error()
shared = int(sys.argv[1]) if len(sys.argv) > 1 else 4


def show(**fields):
    fields.update(transformers=transformers.__version__, num_kv_shared_layers=shared)
    print(json.dumps(fields), flush=True)


def build():
    torch.manual_seed(0)
    config = Gemma4TextConfig(
        vocab_size=96,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=6,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        global_head_dim=32,
        hidden_size_per_layer_input=8,
        vocab_size_per_layer_input=96,
        sliding_window=4,
        num_kv_shared_layers=shared,
        layer_types=["sliding_attention", "full_attention"] * 3,
    )
    return Gemma4ForCausalLM(config)


model = build()
ids = torch.randint(3, 96, (2, 16))  # longer than the sliding window
model.eval()
with torch.no_grad():
    reference = model(input_ids=ids, use_cache=True).logits
for checkpointing in (False, True):
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    for training in (False, True):
        model.train(training)
        for use_cache in (True, False):
            with torch.no_grad():
                out = model(input_ids=ids, use_cache=use_cache)
            show(
                case="forward",
                checkpointing=checkpointing,
                training=training,
                use_cache=use_cache,
                max_diff=round(float((out.logits - reference).abs().max()), 4),
                cache_returned=out.past_key_values is not None,
            )


class OneSequence(torch.utils.data.Dataset):
    def __init__(self, row):
        self.row = row

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return {"input_ids": self.row, "labels": self.row}


model = build()
row = torch.randint(3, 96, (24,))
with tempfile.TemporaryDirectory() as out:
    args = TrainingArguments(
        out,
        max_steps=30,
        per_device_train_batch_size=4,
        learning_rate=3e-3,
        report_to=[],
        logging_steps=10,
        save_strategy="no",
        use_cpu=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=OneSequence(row))
    trainer.train()
    show(case="trainer", config_use_cache_after_init=model.config.use_cache, use_cache_arg=args.use_cache)
model.eval()
with torch.no_grad():
    losses = {c: float(model(input_ids=row[None], labels=row[None], use_cache=c).loss) for c in (True, False)}
show(case="trained", eval_loss_with_cache=round(losses[True], 4), eval_loss_without_cache=round(losses[False], 4))
