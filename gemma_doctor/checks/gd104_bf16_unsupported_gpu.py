"""GD104: bf16 asked for (by the files, by TRL's default, by Axolotl's `bf16: auto` or by ms-swift from
bf16 weights) on a GPU without native bf16."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._precision import swift_fp32_edits
from gemma_doctor.findings import Diagnostic, Fix, setting
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD104")
def bf16_unsupported_gpu(setup: Setup):
    gpu = setup.gpu
    if gpu is None or gpu.supports_bf16:
        return
    precision = setup.precision
    if precision.mode == "no" and precision.decided_by:
        return  # e.g. Unsloth switched this Gemma 3 run to float32 on this GPU
    seen = set()
    for mode, fact in precision.requests:
        if mode != "bf16" or id(fact) in seen:
            continue
        seen.add(id(fact))
        if fact.value == "auto" and fact.name == "bf16":
            # Axolotl resolves "auto" with torch.cuda.is_bf16_supported(), True on a T4 with current
            # torch (docs/evidence; an older torch returned False on a V100, pytorch#124996).
            message = (
                f"bf16: auto on {gpu.named()}: {versioned('axolotl', 'bf16_auto').provenance}, "
                "so bf16 is turned on although this GPU has no native bf16 (needs compute capability >= 8.0): "
                "expect slow emulated bf16 or kernel errors."
            )
            yield Diagnostic(
                fact.location,
                message,
                None,
                Fix.of(
                    "Set bf16: false (and fp16: false for fp32 training on Gemma 3)", "unsafe", setting(fact, False)
                ),
            )
            continue
        if fact.origin == "trl-default":
            since = versioned("trl", "bf16_default").since
            condition = ""
            possible = setup.possible_versions("trl")
            if setup.holds("trl", "bf16_default") is None and possible:  # unpinned: the releases that fit straddle it
                condition = (
                    f" (the project pins no trl, and TRL {possible[0]} to {possible[-1]} install beside its "
                    f"transformers {setup.exact_version('transformers')}: a fresh install gets {possible[-1]}, "
                    "which does)"
                )
            message = (
                f"TRL >= {since} configs turn bf16 on by default{condition}, and {gpu.named()} has no native "
                "bf16 (needs >= 8.0). torch.cuda.is_bf16_supported() counts emulation and says True on a T4, "
                "so transformers may not stop it: expect slow emulated bf16 or kernel errors."
            )
            fix = Fix.of("Set bf16 to false explicitly", "unsafe", setting(fact, False))
            yield Diagnostic(fact.location, message, None, fix)
            continue
        if fact.origin == "swift-default":
            message = (
                f"ms-swift turns bf16 on where it is unset, from the weights' bfloat16 ({setup.weights_dtype.why}), "
                f"and {gpu.named()} has no native bf16 (needs >= 8.0). torch.cuda.is_bf16_supported() counts "
                "emulation and says True on a T4, so transformers may not stop it: expect slow emulated bf16 or "
                "kernel errors."
            )
            fix = Fix.of(
                "Train in fp32: set torch_dtype to float32 and fp16 to false (ms-swift turns fp16 on for float32 "
                "weights where fp16 is unset)",
                "unsafe",
                *swift_fp32_edits(fact),
            )
            yield Diagnostic(fact.location, message, None, fix)
            continue
        message = (
            f"bf16 requested on {gpu.named()}, which has no native bf16 (needs compute capability >= 8.0): "
            f"{fact.location.key or fact.raw_key} = {setup.describe_value(fact)}. Transformers checks "
            "torch.cuda.is_bf16_supported(), which counts emulation and says True on a T4 with current torch "
            "(an older torch said False on a V100, pytorch#124996), so it may not raise: expect slow emulated "
            "bf16 or kernel errors."
        )
        value = "no" if fact.name in ("accelerate_mixed_precision", "env_mixed_precision") else False
        yield Diagnostic(
            fact.location,
            message,
            None,
            Fix.of("Turn bf16 off (fp32 training), or train on an Ampere or newer GPU", "unsafe", setting(fact, value)),
        )
