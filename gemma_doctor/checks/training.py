"""Training-time pitfalls of Gemma fine-tuning beyond precision and the cache (knowledge/audit.md,
"missing checks"): GD105 (TRL's bf16 QLoRA adapters under fp16), GD504 (flash attention and
Gemma 3's image mask), GD505 (left padding with sliding windows), GD701 (reentrant checkpointing
under DDP with PEFT)."""

from __future__ import annotations

from gemma_doctor import frameworks
from gemma_doctor.checks import rule
from gemma_doctor.checks.cache import training_location
from gemma_doctor.facts import is_resolved
from gemma_doctor.findings import Diagnostic, Fix, set_value
from gemma_doctor.setup import HYBRID_CACHE_FAMILY, Setup, is_true


def _quantized(setup: Setup) -> bool:
    return any(is_true(f.value) for f in setup.all("load_in_4bit") + setup.all("load_in_8bit"))


@rule("GD105")
def trl_qlora_bf16_adapters(setup: Setup):
    if setup.trl_trainer is None or setup.first("peft") is None or not _quantized(setup):
        return
    if setup.precision.mode != "fp16" or setup.uses_unsloth:
        return
    trl = setup.exact_version("trl")
    applies = frameworks.applies("trl", "qlora_adapters_bf16", trl)
    if applies is False:
        return
    fact = setup.precision.fact
    condition = "" if applies else " if the TRL that runs is >= 0.26 (the project does not pin trl)"
    message = (
        f"QLoRA with fp16 under TRL{' ' + trl if trl else ''}: "
        f"{frameworks.provenance('trl', 'qlora_adapters_bf16')}{condition}. bf16 adapter weights under fp16 "
        "mixed precision are the measured 'bf16 weights + fp16' case: the GradScaler fails with "
        "`\"_amp_foreach_non_finite_check_and_unscale_cuda\" not implemented for 'BFloat16'` (or the GPU "
        "emulates bf16 slowly)."
    )
    yield Diagnostic(
        fact.location if fact is not None else training_location(setup),
        message,
        None,
        Fix(
            "Train in bf16 on a GPU that has it; on a T4/V100 pin trl < 0.26 for fp16 QLoRA, or train "
            "the adapters in fp32",
            "display-only",
        ),
    )


def _flash_attention(setup: Setup):
    for fact in setup.all("attn_implementation") + setup.all("config_attn_implementation"):
        if str(fact.value) in ("flash_attention_2", "flash_attention_3"):
            return fact
    return None


@rule("GD504")
def flash_attention_multimodal_gemma3(setup: Setup):
    if not setup.multimodal or not setup.is_training:
        return
    fact = _flash_attention(setup)
    images = setup.first("processor_loaded")
    if fact is None or images is None:
        return  # text-only batches have no image tokens: nothing is lost
    refused = setup.known("transformers", "flash_attention_refused_multimodal_gemma3")
    if refused:
        message = (
            f"flash attention for a multimodal Gemma 3 on transformers {setup.exact_version('transformers')}: "
            "Gemma3ForConditionalGeneration declares `_supports_flash_attn = False` (flash attention drops the "
            "bidirectional mask over image tokens), so loading with it fails."
        )
        severity = "error"
    else:
        version = setup.exact_version("transformers")
        message = (
            "flash attention for a multimodal Gemma 3 trained on images: flash attention cannot express the "
            "bidirectional attention Gemma 3 uses over an image's tokens, so transformers"
            f"{' ' + version if version else ' before 5.24'} silently trains with a causal mask over them "
            "(5.24 refuses it instead)."
        )
        severity = None
    edits = (
        tuple(e for e in [set_value(fact, "sdpa")] if e)
        if fact.name == "attn_implementation" and fact.raw_key == "attn_implementation"
        else ()
    )
    yield Diagnostic(
        fact.location,
        message,
        severity,
        Fix(
            "Use sdpa (or eager) attention for multimodal Gemma 3 training on images",
            "unsafe" if edits else "display-only",
            edits,
        ),
    )


@rule("GD505")
def left_padding_in_training(setup: Setup):
    if not setup.is_training or setup.family_name not in HYBRID_CACHE_FAMILY:
        return
    if setup.trl_trainer is not None or setup.flavour in ("axolotl", "llamafactory"):
        return  # their collators pad on the right whatever the tokenizer says (trl#4497)
    fact = next((f for f in setup.all("padding_side") if is_resolved(f.value) and str(f.value) == "left"), None)
    if fact is None:
        return
    message = (
        "the tokenizer pads on the left while training with the plain Trainer, whose collators follow the "
        "tokenizer: with Gemma's 512/1024-token sliding windows, a row of long left padding can leave an "
        "attention row with every key masked, which gives NaN on the GPU (transformers#45491; for Gemma 2 "
        "with sdpa, transformers#32390). Left padding is for batched generation, not training."
    )
    yield Diagnostic(
        fact.location,
        message,
        None,
        Fix(
            'Pad on the right for training (tokenizer.padding_side = "right"); switch to left only to generate',
            "display-only",
        ),
    )


def _distributed(setup: Setup):
    for fact in setup.all("num_processes"):
        try:
            if int(str(fact.value)) > 1:
                return fact
        except ValueError:
            continue
    return next((f for f in setup.all("distributed_type") if str(f.value).upper() in ("MULTI_GPU", "MULTI_NPU")), None)


@rule("GD701")
def reentrant_checkpointing_ddp(setup: Setup):
    if not setup.is_training or setup.first("peft") is None or setup.uses_deepspeed is not None:
        return
    ddp = _distributed(setup)
    if ddp is None:
        return
    checkpointing = (
        setup.truthy("gradient_checkpointing")
        or setup.first("code_gradient_checkpointing")
        or setup.first("peft_kbit_prepare")
    )
    if (
        checkpointing is None
        and setup.trl_trainer == "SFTTrainer"
        and frameworks.applies("trl", "gradient_checkpointing_default", setup.exact_version("trl"))
        and not setup.all("gradient_checkpointing")
    ):
        checkpointing = setup.first("trainer_call") or setup.first("training_arguments_call")
    if checkpointing is None:
        return
    explicit = next((f for f in setup.all("use_reentrant") if is_resolved(f.value)), None)
    if explicit is not None:
        if not is_true(explicit.value):
            return
        why = "use_reentrant is set to True"
    else:
        default = setup.known("transformers", "reentrant_checkpointing_default")
        if not default:
            return  # 5.x defaults to False; an unknown version claims nothing
        why = f"transformers {setup.exact_version('transformers')} defaults use_reentrant to True"
    message = (
        f"gradient checkpointing with reentrant checkpoints ({why}) on a PEFT model under DDP "
        f"({ddp.raw_key or ddp.name} = {ddp.value}): DDP sees the frozen base re-run in backward and fails "
        "with `RuntimeError: Expected to mark a variable ready only once` (peft#313, accelerate#389)."
    )
    yield Diagnostic(
        checkpointing.location,
        message,
        None,
        Fix('Pass gradient_checkpointing_kwargs={"use_reentrant": False}', "display-only"),
    )
