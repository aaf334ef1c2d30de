"""GD101: fp16 mixed precision on a Gemma 3 model, and how it fails for this run's weights."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._precision import GEMMA4_OVERFLOW, OVERFLOW, fp16_failure, unsloth_fp16_path
from gemma_doctor.findings import Diagnostic, Edit, Fix, beside, in_document, setting
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup, is_true


def _bf16_advice(setup: Setup) -> tuple[str, str]:
    """(advice, fix safety) for moving off fp16, by target GPU."""
    gpu = setup.gpu
    unsloth = (
        f"Unsloth >= {versioned('unsloth', 'fp16_safe_lora_path').since} with unsloth_zoo >= "
        f"{versioned('unsloth_zoo', 'gemma3_fp16_patches').since}"
    )
    if setup.family_name == "gemma4":  # Unsloth's fp16-safe path is Gemma 3's
        unsloth = "Unsloth, which trains Gemma 4 in float32 there"
    if gpu is None:
        return (
            "Use bf16 on a GPU with compute capability >= 8.0 (A100, L4, H100, RTX 30xx/40xx); on older GPUs "
            f"(T4, V100) train in fp32 or use {unsloth}"
        ), "unsafe"
    if gpu.supports_bf16:
        return f"Use bf16: {gpu.named()} supports it.", "safe"
    named = gpu.named()
    gpu_has_no_bf16 = f"{named[0].upper()}{named[1:]} has no bf16"
    safe_path = ", which has an fp16-safe Gemma 3 path." if setup.family_name != "gemma4" else "."
    weights = setup.weights_dtype.dtype
    load_edit = _fp32_load_edit(setup)
    if weights != "float32" and not setup.uses_unsloth and load_edit is None:
        # Turning fp16 off alone would leave these weights in their dtype (bf16 with torch_dtype="auto"): an
        # emulated-bf16 run, not the fp32 one the title promises. No load says its dtype to rewrite: advice.
        loaded = f"the weights load in {weights}" if weights else "the weights' load dtype is not known here"
        return (
            f"{gpu_has_no_bf16}: train in fp32, which needs both fp16 off and the model loaded with "
            f"torch_dtype=torch.float32 ({loaded}), or use {unsloth}{safe_path}"
        ), "display-only"
    load = " and the model loaded in float32" if load_edit is not None else ""
    return f"{gpu_has_no_bf16}: train in fp32 (fp16 off{load}), or use {unsloth}{safe_path}", "unsafe"


def _fp32_load_edit(setup: Setup) -> Edit | None:
    """On a GPU without bf16, the edit that loads bf16/fp16 weights in float32 where the project says the
    load dtype in a place a writer can change (a YAML key, a from_pretrained keyword); None elsewhere."""
    weights = setup.weights_dtype
    if weights.dtype in ("float32", None) or weights.fact is None or weights.fact.name != "load_dtype":
        return None
    return setting(weights.fact, "float32")


def _switch_edits(setup: Setup, fact) -> list[Edit | None]:
    """Edits that turn an fp16 request into bf16 (or fp32 on a GPU without bf16: fp16 off, and the load
    dtype float32 where the weights would otherwise stay bf16)."""
    use_bf16 = setup.gpu is None or setup.gpu.supports_bf16
    name = fact.name
    if name in ("fp16", "fp16_full_eval"):
        return [
            setting(fact, False),
            beside(fact, "bf16" if name == "fp16" else "bf16_full_eval", True) if use_bf16 else None,
            _fp32_load_edit(setup) if not use_bf16 and name == "fp16" else None,
        ]
    if name == "accelerate_mixed_precision":
        return [setting(fact, "bf16" if use_bf16 else "no")]
    if name == "deepspeed_fp16":  # the fp16 block's enabled key, and the bf16 block's beside it
        return [setting(fact, False), in_document(fact, ("bf16", "enabled"), True) if use_bf16 else None]
    return []


@rule("GD101")
def fp16_on_gemma3(setup: Setup):
    gemma4 = setup.family_name == "gemma4"
    if not setup.is_gemma3 and not gemma4:
        return
    if gemma4 and setup.uses_unsloth:
        return  # Unsloth keeps its own float32 list for Gemma 4 (rules/GD101.yaml); not judged here
    precision = setup.precision
    # Every fp16 that training arguments ask for (a project can hold several scripts or
    # calls), plus the accelerate/DeepSpeed/env source when it is what takes effect.
    targets = [fact for fact in setup.all("fp16") + setup.all("fp16_full_eval") if is_true(fact.value)]
    if precision.mode == "fp16" and precision.fact is not None and precision.fact not in targets:
        targets.append(precision.fact)
    weights = setup.weights_dtype
    unsloth = unsloth_fp16_path(setup)
    if setup.uses_unsloth and unsloth is None and setup.gpu is None:
        return  # Unsloth decides from the GPU: the engine judges each kind of GPU
    for fact in targets:
        if fact.origin == "swift-default" and weights.dtype == "float16":
            continue  # ms-swift's fp16 comes from the float16 torch_dtype that GD102 reports on the same line
        full_eval = fact.name == "fp16_full_eval"
        if full_eval:
            failure = "the whole model is cast to fp16 for evaluation, so eval logits and loss overflow to NaN"
        elif setup.runs_on_cpu:
            failure = (
                "on the CPU accelerate ignores fp16 silently (no autocast, no scaler), so it does nothing here; "
                "the same arguments on a GPU would train in fp16"
            )
        else:
            failure = fp16_failure(setup)
        advice, safety = _bf16_advice(setup)
        severity = None
        if unsloth is not None and not full_eval:
            failure, severity = unsloth
            if severity == "warning":
                advice = (
                    "Leave it to Unsloth, which picks Gemma 3's precision itself (do not force fp16 back); "
                    "set bf16/fp16 explicitly if the file should say what really runs"
                )
        if setup.runs_on_cpu and not full_eval and unsloth is None:
            severity = "info"  # nothing fails on this device: say it, do not stop a CPU smoke test over it
        elif gemma4 and severity is None and setup.trained.dtype != "bfloat16" and not full_eval:
            severity = "warning"  # the crash is certain only when bf16 parameters are trained; the overflow is inferred
        asked = (
            f"fp16, which ms-swift turns on from the weights' {weights.dtype} where fp16 is unset"
            if fact.origin == "swift-default"
            else f"{fact.raw_key or fact.name} = {setup.describe_value(fact)}"
        )
        message = (
            f"fp16 on a {setup.family_name} model ({asked}): {GEMMA4_OVERFLOW if gemma4 else OVERFLOW}; {failure}."
        )
        # Where Unsloth overrides fp16 for Gemma 3, do not "fix" its notebook pattern.
        edits = [] if unsloth is not None and unsloth[1] == "warning" else _switch_edits(setup, fact)
        fix = Fix.of(advice, safety if any(edits) else "display-only", *edits)
        yield Diagnostic(fact.location, message, severity, fix)
