"""What fp16 does to a Gemma 3 run: the overflow, the failure each weights dtype gives, and what
Unsloth does instead. Shared by GD101 and GD102; not a rule."""

from __future__ import annotations

from gemma_doctor.findings import Edit, beside, setting
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup

OVERFLOW = (
    "Gemma 3 was pre-trained in bf16 and its residual stream passes fp16's maximum of 65504 "
    "(measured on Gemma 3 270M: 104,061 at layer 14, inf from layer 7, every logit NaN)"
)

# Gemma 4's fp16 overflow is reported, not measured here: its message says so, and only the GradScaler
# failure that follows from the weights' dtype (measured, whatever the model) makes it an error.
GEMMA4_OVERFLOW = (
    "Gemma 4 is released in bf16 like Gemma 3, and fp16 runs of it are reported to go NaN at the first step "
    "(unslothai/unsloth#5055; INFERRED: no measurement on real Gemma 4 weights here)"
)

# How fp16 mixed precision fails, by the dtype the weights load in (README precision matrix).
FP16_FAILURE = {
    "bfloat16": (
        "with bf16 weights ({why}) the first optimizer step crashes in the GradScaler: "
        "`\"_amp_foreach_non_finite_check_and_unscale_cuda\" not implemented for 'BFloat16'`"
    ),
    "float16": (
        "with fp16 weights ({why}) the GradScaler raises `ValueError: Attempting to unscale FP16 gradients.` "
        "and the forward overflows to NaN"
    ),
    "float32": (
        "with fp32 weights ({why}) the default loss scale of 65536 overflows the gradients, so steps are "
        "skipped until the scale falls below ~16k; larger Gemma 3 models are reported to go NaN"
    ),
    None: (
        "it crashes in the GradScaler when the weights are bf16 or fp16, and skips steps (NaN risk on larger "
        "models) when they are fp32"
    ),
}
# The same, where the optimizer steps LoRA adapters: their dtype, not the base weights', meets the GradScaler.
ADAPTER_FAILURE = {
    "bfloat16": (
        "the LoRA adapters being trained are bf16 ({why}), so the first optimizer step crashes in the GradScaler: "
        "`\"_amp_foreach_non_finite_check_and_unscale_cuda\" not implemented for 'BFloat16'`"
    ),
    "float16": (
        "the LoRA adapters being trained are fp16 ({why}), so the GradScaler raises `ValueError: Attempting to "
        "unscale FP16 gradients.`"
    ),
    "float32": (
        "the LoRA adapters being trained are fp32 ({why}), so the GradScaler does not raise; the forward still "
        "runs in fp16, where the default loss scale of 65536 overflows the gradients and steps are skipped (as "
        "measured with fp32 weights on 270M), and larger Gemma 3 models are reported to go NaN"
    ),
    None: "the LoRA adapters' dtype is not known here ({why}); whatever it is, the fp16 forward overflows",
}


def swift_fp32_edits(fact) -> list[Edit | None]:
    """Train an ms-swift run in fp32: float32 weights and fp16 set to false, beside ``fact`` (the load dtype,
    or the flag ms-swift derives from it). float32 alone is not enough: ms-swift turns fp16 on for it too."""
    load = setting(fact, "float32") if fact.name == "load_dtype" else beside(fact, "torch_dtype", "float32")
    return [load, beside(fact, "fp16", False)]


def fp16_failure(setup: Setup) -> str:
    """How fp16 mixed precision fails for what this run trains."""
    trained = setup.trained
    table = ADAPTER_FAILURE if trained.adapters else FP16_FAILURE
    return table.get(trained.dtype, table[None]).format(why=trained.why)


def unsloth_fp16_path(setup: Setup) -> tuple[str, str] | None:
    """(what Unsloth does with this fp16 request on Gemma 3, severity) when the run uses it
    (docs/evidence: Unsloth's precision patch). None: Unsloth is not in the run."""
    if not setup.uses_unsloth:
        return None
    precision = setup.precision
    who = precision.decided_by or "Unsloth"
    if precision.mode == "no" and precision.decided_by:
        version = setup.exact_version("unsloth")
        full = setup.first("unsloth_full_finetuning")
        if (
            full is not None
            and full.value is True
            and versioned("unsloth", "full_finetuning_fp16_nan").holds(version) is not False
        ):
            return (
                f"{who} with full_finetuning=True on a GPU without bf16: "
                f"{versioned('unsloth', 'full_finetuning_fp16_nan').provenance}"
                + (
                    ""
                    if version
                    else " (the project does not pin unsloth; releases from "
                    f"{versioned('unsloth', 'full_finetuning_fp16_nan').until} are fixed)"
                ),
                "error" if version else "warning",
            )
        how = (
            next(
                (
                    versioned("unsloth", key).why
                    for key in ("amp_off_float32_compute", "fp16_safe_lora_path")
                    if versioned("unsloth", key).holds(version)
                ),
                None,
            )
            if version
            else None
        )
        return (
            f"{who} switches Gemma 3 to training without mixed precision on this GPU ('Unsloth: Switching to "
            "float32 training since model cannot work with float16')"
            + (f": {how}" if how else "")
            + "; slower and more memory than bf16, but it runs",
            "warning",
        )
    if setup.gpu is not None and setup.gpu.supports_bf16:
        return (
            f"{who} stops the trainer: `TypeError: Unsloth: Model is in bfloat16 precision but you want to use "
            "float16 precision. Set fp16 to `False` and bf16 to `True`` (Unsloth loads Gemma 3 in bf16 on this GPU)",
            "error",
        )
    return None
