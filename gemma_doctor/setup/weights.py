"""The dtype the weights really load in, per framework and transformers version: it decides how fp16
fails and whether the HybridCache crash fires."""

from __future__ import annotations

from gemma_doctor.facts import Fact, is_resolved
from gemma_doctor.knowledge import versioned
from gemma_doctor.records import record
from gemma_doctor.setup.precision import argument_flag
from gemma_doctor.setup.values import HALF, dtype_name, is_true

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the check path
if TYPE_CHECKING:
    from gemma_doctor.setup import Setup


@record(slots=True)
class WeightsDtype:
    dtype: str | None  # "bfloat16", "float16", "float32", or None when unknown
    fact: Fact | None
    why: str


def effective(setup: Setup) -> WeightsDtype:
    """The dtype the weights load in: it decides how fp16 fails and whether the
    HybridCache bug fires (README precision matrix)."""
    upcast = setup.first("peft_kbit_prepare")
    if upcast is not None and setup.holds("peft", "kbit_prepare_upcasts"):
        loaded = setup.first("load_dtype")
        how = (
            f"loaded in {dtype_name(loaded.value)}, then "
            if loaded is not None and isinstance(loaded.value, str)
            else ""
        )
        return WeightsDtype(
            "float32",
            upcast,
            f"{how}PEFT's prepare_model_for_kbit_training casts the non-4-bit "
            "weights to float32 (" + versioned("peft", "kbit_prepare_upcasts").cite + ")",
        )
    explicit = next((f for f in setup.all("load_dtype")), None)
    if explicit is not None:
        if not is_resolved(explicit.value):
            return WeightsDtype(None, explicit, f"loaded with {explicit.raw_key or 'dtype'}={explicit.value!r}")
        dtype = dtype_name(explicit.value)
        if dtype == "auto":
            dtype = checkpoint_dtype(setup)
            return WeightsDtype(dtype, explicit, f"loaded with dtype 'auto' (the checkpoint's {dtype or 'dtype'})")
        if dtype in HALF or dtype == "float32":
            return WeightsDtype(dtype, explicit, f"loaded with {explicit.raw_key or 'dtype'}={dtype}")
    loader = setup.first("unsloth_loader")
    if loader is not None:
        if setup.gpu is None:
            return WeightsDtype(None, loader, "Unsloth loads bfloat16 on a GPU with bf16, float16 on older GPUs")
        dtype = "bfloat16" if setup.gpu.supports_bf16 else "float16"
        return WeightsDtype(dtype, loader, f"Unsloth loads {dtype} on {setup.gpu.named()}")
    if setup.flavour == "axolotl":  # resolve_dtype: torch_dtype from bf16/fp16 (docs/evidence/frameworks.md)
        for mode, dtype in (("bf16", "bfloat16"), ("fp16", "float16")):
            fact = argument_flag(setup, mode)
            if fact is not None:
                return WeightsDtype(dtype, fact, f"Axolotl loads the weights in {dtype} when {mode} is on")
        return WeightsDtype("float32", None, "Axolotl loads float32 when neither bf16 nor fp16 is on")
    if setup.flavour == "llamafactory":  # loads in its compute dtype (docs/evidence/frameworks.md)
        fact = argument_flag(setup, "bf16")
        return WeightsDtype("bfloat16" if fact else "float16", fact, "LLaMA-Factory loads in its compute dtype")
    if setup.flavour == "swift":  # get_default_torch_dtype: the checkpoint's dtype, else by GPU (frameworks.md)
        dtype = checkpoint_dtype(setup)
        if dtype is not None:
            return WeightsDtype(
                dtype, None, f"ms-swift loads the checkpoint's dtype ({dtype}) when torch_dtype is unset"
            )
        if setup.gpu is None:
            return WeightsDtype(None, None, "ms-swift loads bf16 on a GPU with bf16, fp16 on older GPUs")
        dtype = "bfloat16" if setup.gpu.supports_bf16 else "float16"
        return WeightsDtype(dtype, None, f"ms-swift loads {dtype} on {setup.gpu.named()}")
    bnb = next((f for f in setup.all("load_in_4bit") + setup.all("load_in_8bit") if is_true(f.value)), None)
    if bnb is not None and setup.holds("transformers", "bnb_unset_dtype_float16"):
        return WeightsDtype(
            "float16",
            bnb,
            "transformers 4.x's bitsandbytes quantizer loads the non-quantized weights in float16 when torch_dtype "
            "is unset",
        )
    string_load = next((f for f in setup.all("model_load") if f.raw_key == "trl-string"), None)
    if string_load is not None:
        trl_dtype = (
            "float32"
            if setup.holds("trl", "string_load_float32")
            else "auto"
            if setup.holds("trl", "string_load_auto")
            else None
        )
        if trl_dtype == "float32":
            return WeightsDtype(
                "float32",
                string_load,
                f"TRL {setup.exact_version('trl')} loads a model named by a "
                "string in float32 (" + versioned("trl", "string_load_float32").cite + ")",
            )
        if trl_dtype == "auto":
            dtype = checkpoint_dtype(setup)
            return WeightsDtype(
                dtype,
                string_load,
                f"TRL {setup.exact_version('trl')} loads a model named by a string with dtype 'auto' ({dtype})",
            )
    if setup.holds("transformers", "major_5"):
        dtype = checkpoint_dtype(setup) or "bfloat16"
        return WeightsDtype(dtype, None, f"transformers >= 5 loads the checkpoint dtype ({dtype}) by default")
    plain = setup.first("plain_from_pretrained")
    if plain is not None and setup.exact_version("transformers"):
        return WeightsDtype("float32", plain, "transformers 4.x from_pretrained loads float32 without torch_dtype")
    return WeightsDtype(None, None, "the loading code does not say")


def checkpoint_dtype(setup: Setup) -> str | None:
    for name in ("text_config_dtype", "config_dtype"):
        fact = setup.first(name)
        if fact is not None:
            return dtype_name(fact.value)
    return "bfloat16" if setup.is_gemma3 else None


@record(slots=True)
class Trained:
    """The parameters the optimizer steps, whose gradients the GradScaler unscales: the weights in a full
    fine-tune, the LoRA adapters otherwise."""

    dtype: str | None
    why: str
    adapters: bool


# Each TRL trainer casts a quantized model's adapters to bfloat16 from its own release (versions.json).
TRL_ADAPTER_CASTS = {
    "SFTTrainer": "qlora_adapters_bf16",
    "GRPOTrainer": "qlora_adapters_bf16",
    "RewardTrainer": "qlora_adapters_bf16",
    "RLOOTrainer": "qlora_adapters_bf16_rloo",
    "DPOTrainer": "qlora_adapters_bf16_dpo",
    "KTOTrainer": "qlora_adapters_bf16_kto",
}


def quantized(setup: Setup) -> bool:
    return any(is_true(f.value) for f in setup.all("load_in_4bit") + setup.all("load_in_8bit"))


def trl_adapter_cast(setup: Setup):
    """(the versions.json entry, whether it holds for this TRL: True, False or None when unpinned) where the
    run's TRL trainer is one that casts a quantized model's LoRA adapters to bfloat16; else None."""
    if setup.trl_trainer is None or setup.first("peft") is None or not quantized(setup) or setup.uses_unsloth:
        return None
    entry = TRL_ADAPTER_CASTS.get(setup.trl_trainer)
    if entry is None:
        return None
    casts = versioned("trl", entry)
    return casts, casts.holds(setup.exact_version("trl"))


def trained(setup: Setup) -> Trained:
    weights = setup.weights_dtype
    if setup.first("peft") is None or setup.uses_unsloth:
        return Trained(weights.dtype, weights.why, False)
    cast = trl_adapter_cast(setup)
    if cast is not None and cast[1] is True:
        return Trained("bfloat16", cast[0].provenance, True)
    zero3 = any(str(f.value) == "3" for f in setup.all("deepspeed_zero_stage"))
    if (
        zero3
        and not quantized(setup)
        and setup.trl_trainer in ("SFTTrainer", "DPOTrainer", "GRPOTrainer", "RewardTrainer", "RLOOTrainer")
        and setup.holds("trl", "zero3_adapters_base_dtype")
    ):
        why = (
            f"under ZeRO-3 TRL {setup.exact_version('trl') or ''} keeps them in the base weights' dtype: {weights.why}"
        )
        return Trained(weights.dtype, why.replace("TRL  ", "TRL "), True)
    if setup.holds("peft", "adapters_fp32") is not False:
        return Trained("float32", f"PEFT upcasts them to float32; the base weights: {weights.why}", True)
    if quantized(setup):  # created in float32: a 4-bit base has no float dtype for them to follow
        return Trained("float32", "PEFT < 0.12 creates them in float32 beside quantized weights", True)
    return Trained(weights.dtype, f"PEFT < 0.12 gives them the base weights' dtype ({weights.why})", True)
