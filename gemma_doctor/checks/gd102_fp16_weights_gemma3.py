"""GD102: float16 declared for a Gemma 3 model's weights: config dtype, load dtype or 4-bit compute dtype."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._precision import GEMMA4_OVERFLOW, OVERFLOW, swift_fp32_edits
from gemma_doctor.facts import where_set
from gemma_doctor.findings import Diagnostic, Fix, setting
from gemma_doctor.setup import Setup, dtype_name

_DECLARED = (
    ("config_dtype", "in config.json"),
    ("text_config_dtype", "in config.json"),
    ("load_dtype", "where the model is loaded"),
    ("bnb_compute_dtype", "as the 4-bit compute dtype"),
)


@rule("GD102")
def fp16_weights_gemma3(setup: Setup):
    gemma4 = setup.family_name == "gemma4"
    if not setup.is_gemma3 and not gemma4:
        return
    if gemma4 and setup.uses_unsloth:
        return  # Unsloth keeps its own float32 list for Gemma 4 (GD101)
    for name, what in _DECLARED:
        for fact in setup.all(name):
            if dtype_name(fact.value) != "float16":
                continue
            to_bf16 = setting(fact, "bfloat16")
            severity = "warning" if gemma4 else None
            if name in ("config_dtype", "text_config_dtype"):
                consequence = (
                    "transformers >= 5 and torch_dtype='auto' load these weights in fp16, and tools that "
                    "copy the config's dtype follow it"
                )
                loaded = setup.weights_dtype
                if loaded.dtype not in (None, "float16"):
                    # This run loads another dtype: the config's is a trap for the next load, not this run's failure.
                    severity = "warning"
                    consequence = f"this run loads them in {loaded.dtype} ({loaded.why}), but {consequence}"
                fix = Fix.of(
                    f'Set {fact.location.key} to "bfloat16", Gemma {"4" if gemma4 else "3"}\'s released dtype',
                    "safe",
                    to_bf16,
                )
            elif name == "bnb_compute_dtype":
                consequence = "every 4-bit matmul outputs fp16, so activations overflow as in plain fp16"
                fix = Fix.of(
                    "Use bnb_4bit_compute_dtype=bfloat16 (compute capability >= 8.0), else float32", "unsafe", to_bf16
                )
            elif setup.weights_dtype.dtype == "float32" and setup.first("peft_kbit_prepare") is not None:
                consequence = (
                    "prepare_model_for_kbit_training casts the weights back to float32 before training, "
                    "but any forward or evaluation of this float16 load before that overflows to NaN, and "
                    "the float16 round trip has already cut the bf16 range"
                )
                fix = Fix.of("Load in bfloat16 (compute capability >= 8.0), else float32", "unsafe", to_bf16)
            elif setup.flavour == "swift" and setup.precision.decided_by == "ms-swift":
                consequence = (
                    "the weights and activations are fp16, so the forward overflows to NaN, and ms-swift turns "
                    "fp16 mixed precision on from this dtype (from float32 too) where fp16 is unset"
                )
                if setup.gpu is not None and not setup.gpu.supports_bf16:
                    fix = Fix.of(
                        f"{setup.gpu.named()} has no bf16: set torch_dtype to float32 and fp16 to false (ms-swift "
                        "would turn fp16 on for float32 weights too)",
                        "unsafe",
                        *swift_fp32_edits(fact),
                    )
                else:
                    fix = Fix.of(
                        "Set torch_dtype to bfloat16 (compute capability >= 8.0; ms-swift then trains in bf16), "
                        "else float32 with fp16 set to false",
                        "unsafe",
                        to_bf16,
                    )
            else:
                consequence = "the weights and activations are fp16, so the forward overflows to NaN"
                fix = Fix.of("Load in bfloat16 (compute capability >= 8.0), else float32", "unsafe", to_bf16)
            source = f"{where_set(fact)} {what}" if fact.location.path else where_set(fact)  # the live model's own
            message = (
                f"float16 declared for a {setup.family_name} model ({source}): "
                f"{GEMMA4_OVERFLOW if gemma4 else OVERFLOW}; {consequence}."
            )
            # Gemma 4's overflow is inferred, not measured: a warning, as GD101 says it
            yield Diagnostic(fact.location, message, severity, fix)
