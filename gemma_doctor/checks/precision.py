"""GD101-GD104: precision on Gemma 3 (README precision matrix, facts.md §2-§3, §6)."""

from __future__ import annotations

from gemma_doctor import frameworks
from gemma_doctor.checks import rule
from gemma_doctor.facts import is_resolved
from gemma_doctor.filekinds import YAML
from gemma_doctor.findings import Diagnostic, Edit, Fix, set_value, sibling_edit
from gemma_doctor.setup import Setup, dtype_name, is_true

OVERFLOW = (
    "Gemma 3 was pre-trained in bf16 and its residual stream passes fp16's maximum of 65504 "
    "(measured on Gemma 3 270M: 104,061 at layer 14, inf from layer 7, every logit NaN)"
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


def unsloth_fp16_path(setup: Setup) -> tuple[str, str] | None:
    """(what Unsloth does with this fp16 request on Gemma 3, severity) when the run uses it
    (knowledge/audit.md rows 37-39). None: Unsloth is not in the run."""
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
            and frameworks.applies("unsloth", "full_finetuning_fp16_nan", version) is not False
        ):
            return (
                f"{who} with full_finetuning=True on a GPU without bf16: "
                f"{frameworks.provenance('unsloth', 'full_finetuning_fp16_nan')}"
                + ("" if version else " (the project does not pin unsloth; releases from 2026.7.1 are fixed)"),
                "error" if version else "warning",
            )
        how = (
            next(
                (
                    frameworks.behaviour("unsloth", key)["why"]
                    for key in ("amp_off_float32_compute", "fp16_safe_lora_path")
                    if frameworks.applies("unsloth", key, version)
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


def _bf16_advice(setup: Setup) -> tuple[str, str]:
    """(advice, fix safety) for moving off fp16, by target GPU."""
    gpu = setup.gpu
    if gpu is None:
        return (
            "Use bf16 on a GPU with compute capability >= 8.0 (A100, L4, H100, RTX 30xx/40xx); on older GPUs "
            "(T4, V100) train in fp32 or use Unsloth >= 2025.3.15 with unsloth_zoo >= 2025.3.13"
        ), "unsafe"
    if gpu.supports_bf16:
        return f"Use bf16: the {gpu.describe()} supports it.", "safe"
    return (
        f"The {gpu.describe()} has no bf16: train in fp32 (fp16 off), or use Unsloth >= 2025.3.15 with "
        "unsloth_zoo >= 2025.3.13, which has an fp16-safe Gemma 3 path."
    ), "unsafe"


def _switch_edits(setup: Setup, fact) -> list[Edit]:
    """Edits that turn an fp16 request into bf16 (or fp32 on a GPU without bf16)."""
    use_bf16 = setup.gpu is None or setup.gpu.supports_bf16
    edits: list[Edit | None] = []
    name = fact.name
    if name in ("fp16", "fp16_full_eval"):
        edits.append(set_value(fact, False))
        if use_bf16:
            edits.append(sibling_edit(fact, "bf16" if name == "fp16" else "bf16_full_eval", True))
    elif name == "accelerate_mixed_precision":
        edits.append(set_value(fact, "bf16" if use_bf16 else "no"))
    elif name == "deepspeed_fp16":
        edits.append(set_value(fact, False))
        if use_bf16 and fact.edit:
            edits.append(Edit(fact.location.path, fact.edit[0], ("bf16", "enabled"), True))
    return [edit for edit in edits if edit is not None]


@rule("GD101")
def fp16_on_gemma3(setup: Setup):
    if not setup.is_gemma3:
        return
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
        full_eval = fact.name == "fp16_full_eval"
        if full_eval:
            failure = "the whole model is cast to fp16 for evaluation, so eval logits and loss overflow to NaN"
        elif setup.runs_on_cpu:
            failure = "on the CPU accelerate ignores fp16 silently (no autocast, no scaler), so it does nothing here"
        else:
            failure = FP16_FAILURE.get(weights.dtype, FP16_FAILURE[None]).format(why=weights.why)
        advice, safety = _bf16_advice(setup)
        severity = None
        if unsloth is not None and not full_eval:
            failure, severity = unsloth
            if severity == "warning":
                advice = (
                    "Leave it to Unsloth, which picks Gemma 3's precision itself (do not force fp16 back); "
                    "set bf16/fp16 explicitly if the file should say what really runs"
                )
        message = (
            f"fp16 on a {setup.family_name} model ({fact.raw_key or fact.name} = {setup.describe_value(fact)}): "
            f"{OVERFLOW}; {failure}."
        )
        # Where Unsloth overrides fp16 for Gemma 3, do not "fix" its notebook pattern (facts.md P21).
        edits = [] if unsloth is not None and unsloth[1] == "warning" else _switch_edits(setup, fact)
        fix = Fix(advice, safety if edits else "display-only", tuple(edits))
        yield Diagnostic(fact.location, message, severity, fix)


@rule("GD102")
def fp16_weights_gemma3(setup: Setup):
    if not setup.is_gemma3:
        return
    for name, what in (
        ("config_dtype", "config.json"),
        ("text_config_dtype", "config.json"),
        ("load_dtype", "the model is loaded"),
        ("bnb_compute_dtype", "the 4-bit compute dtype"),
    ):
        for fact in setup.all(name):
            if dtype_name(fact.value) != "float16":
                continue
            if name in ("config_dtype", "text_config_dtype"):
                consequence = (
                    "transformers >= 5 and torch_dtype='auto' load these weights in fp16, and tools that "
                    "copy the config's dtype follow it"
                )
                fix = Fix(
                    f'Set {fact.location.key} to "bfloat16", Gemma 3\'s pre-training dtype',
                    "safe",
                    tuple(e for e in [set_value(fact, "bfloat16")] if e),
                )
            elif name == "bnb_compute_dtype":
                consequence = "every 4-bit matmul outputs fp16, so activations overflow as in plain fp16"
                fix = Fix(
                    "Use bnb_4bit_compute_dtype=bfloat16 (compute capability >= 8.0), else float32",
                    "unsafe",
                    tuple(e for e in [set_value(fact, "bfloat16")] if e),
                )
            elif setup.weights_dtype.dtype == "float32" and setup.first("peft_kbit_prepare") is not None:
                consequence = (
                    "prepare_model_for_kbit_training casts the weights back to float32 before training, "
                    "but any forward or evaluation of this float16 load before that overflows to NaN, and "
                    "the float16 round trip has already cut the bf16 range"
                )
                fix = Fix(
                    "Load in bfloat16 (compute capability >= 8.0), else float32",
                    "unsafe",
                    tuple(e for e in [set_value(fact, "bfloat16")] if e),
                )
            else:
                consequence = "the weights and activations are fp16, so the forward overflows to NaN"
                fix = Fix(
                    "Load in bfloat16 (compute capability >= 8.0), else float32",
                    "unsafe",
                    tuple(e for e in [set_value(fact, "bfloat16")] if e),
                )
            message = f"float16 declared for a {setup.family_name} model ({fact.location.key or fact.raw_key} in {what}): {OVERFLOW}; {consequence}."
            yield Diagnostic(fact.location, message, None, fix)


@rule("GD103")
def conflicting_precision(setup: Setup):
    flavour = setup.flavour
    for flag, both_message in (
        ("", "At most one of fp16 and bf16 can be True, but not both"),
        ("_full_eval", "At most one of fp16 and bf16 can be True for full eval, but not both"),
    ):
        fp16 = [f for f in setup.all(f"fp16{flag}") if is_true(f.value)]
        bf16 = [f for f in setup.all(f"bf16{flag}") if is_true(f.value)]
        for fact in fp16:
            partner = next((f for f in bf16 if f.location.path == fact.location.path), None)
            if partner is None:
                continue
            if flavour == "axolotl" and not flag:
                yield Diagnostic(
                    fact.location,
                    "fp16 and bf16 are both true; Axolotl silently turns fp16 off, so bf16 "
                    "wins. Remove fp16 to say what runs.",
                    "warning",
                    Fix("Set fp16 to false", "safe", tuple(e for e in [set_value(fact, False)] if e)),
                )
            else:
                yield Diagnostic(
                    fact.location,
                    f"fp16{flag} and bf16{flag} are both true: TrainingArguments raises "
                    f"`ValueError: {both_message}` before the first step.",
                    "error",
                    Fix(
                        f"Keep bf16{flag} and set fp16{flag} to false",
                        "safe",
                        tuple(e for e in [set_value(fact, False)] if e),
                    ),
                )
    yield from _deepspeed_mismatch(setup)
    yield from _accelerate_disagreement(setup)


def _deepspeed_mismatch(setup: Setup):
    """Transformers compares hard-coded DeepSpeed fp16/bf16 with TrainingArguments and raises (facts.md P9)."""
    if not setup.is_training or (setup.flavour in ("axolotl", "llamafactory") and not setup.all("fp16")):
        return
    if any(
        not is_resolved(f.value)
        for name in ("fp16", "bf16", "fp16_full_eval", "bf16_full_eval")
        for f in setup.all(name)
    ):
        return  # a flag that cannot be resolved is not False: nothing to claim (issue 9, "unknown is not False")
    for mode in ("fp16", "bf16"):
        args_on = any(is_true(f.value) for f in setup.all(mode)) or any(
            is_true(f.value) for f in setup.all(f"{mode}_full_eval")
        )
        if mode == "bf16" and setup.trl_bf16_default is not None:
            args_on = True
        for fact in setup.all(f"deepspeed_{mode}"):
            if not isinstance(fact.value, bool) or fact.value == args_on:
                continue
            message = (
                f"DeepSpeed {mode}.enabled is hard-coded to {str(fact.value).lower()} but the training arguments "
                f"have {mode}={args_on}: transformers raises `ValueError: Please correct the following DeepSpeed "
                "config values that mismatch TrainingArguments values`."
            )
            yield Diagnostic(
                fact.location,
                message,
                "error",
                Fix(
                    f'Set {mode}.enabled to "auto" so DeepSpeed follows the training arguments',
                    "unsafe",
                    tuple(e for e in [set_value(fact, "auto")] if e),
                ),
            )


def _accelerate_disagreement(setup: Setup):
    """TrainingArguments override ACCELERATE_MIXED_PRECISION only when fp16 or bf16 is True (facts.md P10)."""
    args_mode = None
    for mode in ("fp16", "bf16"):
        if any(is_true(f.value) for f in setup.all(mode) if f.origin != "trl-default"):
            args_mode = mode
    explicit_off = any(f.value is False for f in setup.all("fp16")) or any(f.value is False for f in setup.all("bf16"))
    for name in ("accelerate_mixed_precision", "env_mixed_precision"):
        for fact in setup.all(name):
            mode = str(fact.value).lower()
            source = "the accelerate config" if name.startswith("accelerate") else "ACCELERATE_MIXED_PRECISION"
            if args_mode and mode != args_mode:
                if args_mode == "fp16" and setup.is_gemma3:  # don't align towards fp16 on Gemma 3 (GD101)
                    fix = Fix("Fix GD101 in the training arguments; then both can say bf16", "display-only")
                elif args_mode == "bf16" and setup.gpu is not None and not setup.gpu.supports_bf16:
                    # GD104 turns bf16 off on this GPU: aligning towards bf16 would undo its fix (fuzz D19).
                    fix = Fix(
                        "Fix GD104 in the training arguments first (this GPU has no bf16); then make both say the same",
                        "display-only",
                    )
                else:
                    fix = Fix(
                        f"Set mixed_precision to {args_mode} so both say what runs",
                        "safe",
                        tuple(e for e in [set_value(fact, args_mode)] if e),
                    )
                yield Diagnostic(
                    fact.location,
                    f"{source} says mixed_precision={mode} but the training arguments set "
                    f"{args_mode}=True; the training arguments win, so this setting is ignored.",
                    "warning",
                    fix,
                )
            elif args_mode is None and explicit_off and mode in ("fp16", "bf16") and setup.is_training:
                yield Diagnostic(
                    fact.location,
                    f"{source} says mixed_precision={mode} while the training arguments "
                    f"have fp16 and bf16 off; {source} wins (TrainingArguments override it only when a "
                    f"flag is True), so {mode} autocast is active although the script looks like fp32.",
                    "warning",
                    Fix(
                        "Make them agree: set mixed_precision to no, or set the flag in the training arguments",
                        "display-only",
                    ),
                )


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
            # torch (audit row 24; torch 2.2.2 returned False on a V100, pytorch#124996).
            message = (
                f"bf16: auto on the target {gpu.describe()}: {frameworks.provenance('axolotl', 'bf16_auto')}, "
                "so bf16 is turned on although this GPU has no native bf16 (needs compute capability >= 8.0): "
                "expect slow emulated bf16 or kernel errors."
            )
            edits = tuple(e for e in [set_value(fact, False)] if e)
            yield Diagnostic(
                fact.location,
                message,
                None,
                Fix("Set bf16: false (and fp16: false for fp32 training on Gemma 3)", "unsafe", edits),
            )
            continue
        if fact.origin == "trl-default":
            message = (
                f"TRL >= 0.19 configs turn bf16 on by default, and the target {gpu.describe()} has no native "
                "bf16 (needs >= 8.0). torch.cuda.is_bf16_supported() counts emulation and says True on a T4, "
                "so transformers may not stop it: expect slow emulated bf16 or kernel errors."
            )
            edits = tuple(
                e
                for e in [Edit(fact.location.path, "yaml", ("bf16",), False)]
                if fact.location.path and fact.location.path.endswith(YAML)
            )
            yield Diagnostic(fact.location, message, None, Fix("Set bf16 to false explicitly", "unsafe", edits))
            continue
        message = (
            f"bf16 requested ({fact.location.key or fact.raw_key} = {setup.describe_value(fact)}) on the target {gpu.describe()}, "
            "which has no native bf16 (needs compute capability >= 8.0). Transformers checks "
            "torch.cuda.is_bf16_supported(), which counts emulation and says True on a T4 with current torch "
            "(torch 2.2.2 said False on a V100, pytorch#124996), so it may not raise: expect slow emulated "
            "bf16 or kernel errors."
        )
        value = "no" if fact.name in ("accelerate_mixed_precision", "env_mixed_precision") else False
        edits = tuple(e for e in [set_value(fact, value)] if e)
        yield Diagnostic(
            fact.location,
            message,
            None,
            Fix("Turn bf16 off (fp32 training), or train on an Ampere or newer GPU", "unsafe", edits),
        )
