"""GD505: does left padding in a training step give NaN on a tiny Gemma 3 (pad rows' logits, the loss, the
gradients)? Every attention row of a left pad token has all its keys masked, in every layer.

    python left_padding_nan.py [cpu|cuda]   # prints one line per (attention, dtype); writes nothing
"""

import sys

import torch
import transformers
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
dtypes = (torch.float32, torch.bfloat16) + ((torch.float16,) if device == "cuda" else ())
for impl in ("sdpa", "eager"):
    for dtype in dtypes:
        torch.manual_seed(0)
        cfg = Gemma3TextConfig(
            vocab_size=64,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=2,
            num_key_value_heads=1,
            head_dim=32,
            sliding_window=4,
            attn_implementation=impl,
        )
        model = Gemma3ForCausalLM(cfg).to(device=device, dtype=dtype).train()
        ids = torch.randint(1, 64, (2, 16), device=device)
        mask = torch.ones_like(ids)
        ids[0, :10], mask[0, :10] = 0, 0  # 10 tokens of left padding in row 0
        labels = ids.masked_fill(mask == 0, -100)
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        nan_grads = sum(int(torch.isnan(p.grad).any()) for p in model.parameters() if p.grad is not None)
        print(
            f"transformers {transformers.__version__} torch {torch.__version__} {device} {impl} {dtype}: "
            f"pad-row logits NaN {bool(torch.isnan(out.logits[0, :10]).any())}, "
            f"real-row logits NaN {bool(torch.isnan(out.logits[0, 10:]).any())}, loss {float(out.loss):.4f}, "
            f"parameters with a NaN gradient {nan_grads}",
            flush=True,
        )
