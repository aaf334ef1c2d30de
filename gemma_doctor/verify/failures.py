"""What a failure during verify means: the exception text mapped to its rule."""

from __future__ import annotations

# (substring of the error, rule). Order matters: the first match wins.
KNOWN = [
    ("'HybridCache' object has no attribute 'float'", "GD202"),
    ("At most one of fp16 and bf16", "GD103"),
    ("mismatch TrainingArguments values", "GD103"),
    ("arg cannot be set to `bf16` when `fp16` is set in the DeepSpeed config", "GD103"),
    ("arg cannot be set to `fp16` when `bf16` is set in the DeepSpeed config", "GD103"),
    ("doesn't support bf16", "GD104"),
    ("does not support bf16", "GD104"),
    ("Attempting to unscale FP16 gradients", "GD101/GD102"),
    # Unsloth's patched trainer, fp16 asked for a model it loaded in bf16 (GD101's Unsloth case)
    ("Model is in bfloat16 precision but you want to use float16 precision", "GD101"),
    ("_amp_foreach_non_finite_check_and_unscale", "GD101"),
    ("token_type_ids` is required", "GD601"),
    ("token_type_ids is required", "GD601"),
    ("unexpected keyword argument 'evaluation_strategy'", "GD503"),
    ("requires `accelerate>=", "GD304"),
    ("Target module Gemma4ClippableLinear", "GD702"),
    ("FlashAttention forward only supports head dimension", "GD506"),
]


def classify(message: str, weights_dtype: str | None = None) -> str | None:
    for needle, rule in KNOWN:
        if needle in message:
            if rule == "GD101/GD102":
                return "GD102" if weights_dtype == "float16" else "GD101"
            return rule
    return None


def last_frame(traceback_obj) -> str | None:
    import traceback

    frames = traceback.extract_tb(traceback_obj)
    if not frames:
        return None
    frame = frames[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"
