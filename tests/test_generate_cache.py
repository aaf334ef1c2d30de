"""The claim behind GD201's fix safety: with config.use_cache=False for training,
generate() still decodes incrementally with a KV cache when the model has a
generation_config (Google's Gemma 3 checkpoints ship generation_config.json).
Run on the installed transformers here; tests/test_verify_old_stack.py runs the
same probe on transformers 4.50.0."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.slow

PROBE = """
import torch, transformers
config = transformers.Gemma3TextConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
    num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=64, sliding_window=8,
    pad_token_id=0, bos_token_id=2, eos_token_id=1)
torch.manual_seed(0)
model = transformers.Gemma3ForCausalLM(config).eval()
model.generation_config = transformers.GenerationConfig(bos_token_id=2, eos_token_id=[1, 106], pad_token_id=0,
    cache_implementation="hybrid", top_k=64, top_p=0.95)  # the shape of Gemma 3's generation_config.json
model.config.use_cache = False  # what `gemma-doctor fix` writes for training
lengths = []
forward = model.forward
def counting_forward(*args, **kwargs):
    lengths.append(kwargs["input_ids"].shape[1])
    return forward(*args, **kwargs)
model.forward = counting_forward
ids = torch.tensor([[2, 10, 11, 12]])
model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=3, do_sample=False)
print(lengths)
"""


def test_generate_still_decodes_with_the_cache():
    namespace: dict = {}
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(PROBE, namespace)
    # 4 prompt tokens once, then one new token per step: the cache is in use.
    assert buffer.getvalue().strip() == "[4, 1, 1]"
