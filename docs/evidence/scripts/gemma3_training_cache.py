"""GD201's evidence: does a Gemma 3 forward in training mode build a KV cache, and what does the
Trainer do to config.use_cache? A tiny Gemma3ForCausalLM built from a config, on the CPU.

    python docs/evidence/scripts/gemma3_training_cache.py     # one JSON line per case, with the versions
"""

import json
import tempfile
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import Gemma3ForCausalLM, Gemma3TextConfig, Trainer, TrainingArguments  # noqa: E402

transformers.logging.set_verbosity_error()


def show(**fields):
    fields.update(transformers=transformers.__version__, torch=torch.__version__.split("+")[0])
    print(json.dumps(fields), flush=True)


config = Gemma3TextConfig(
    vocab_size=96,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    num_key_value_heads=1,
    head_dim=16,
    sliding_window=4,
    max_position_embeddings=64,
)
torch.manual_seed(0)
model = Gemma3ForCausalLM(config)
ids = torch.randint(3, 96, (1, 12))
for checkpointing in (False, True):
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    for training in (True, False):
        model.train(training)
        for use_cache in (None, True, False):
            kwargs = {} if use_cache is None else {"use_cache": use_cache}
            cache = model(input_ids=ids, labels=ids, **kwargs).past_key_values
            show(
                mode="train" if training else "eval",
                checkpointing=checkpointing,
                use_cache="unset" if use_cache is None else use_cache,
                cache=type(cache).__name__ if cache is not None else None,
            )
model.config.use_cache = True
with tempfile.TemporaryDirectory() as out:
    Trainer(model=model, args=TrainingArguments(output_dir=out, report_to=[], use_cpu=True))
show(trainer_sets_config_use_cache_to=model.config.use_cache)
