"""GD201-GD203 (use_cache and the HybridCache crash), and the training-argument rules
GD501, GD503 and GD601 that depend on the model class and version."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import Location
from gemma_doctor.findings import Diagnostic, Edit, Fix, set_value
from gemma_doctor.knowledge import version_boundary
from gemma_doctor.setup import HYBRID_CACHE_FAMILY, Setup, is_true

GEMMA_FAMILIES = HYBRID_CACHE_FAMILY + ("gemma3n", "gemma", "paligemma")
GENERATING_TRAINERS = ("GRPOTrainer", "RLOOTrainer", "OnlineDPOTrainer", "PPOTrainer")


def cache_fix(setup: Setup, title_reason: str) -> Fix | None:
    """Switch off use_cache where the language model reads it: the deciding fact, or config.json."""
    setting = setup.use_cache
    edits: list[Edit] = []
    if setting.fact is not None and setting.fact.origin != "model-config":
        edit = set_value(setting.fact, False)
        if edit:
            edits.append(edit)
    elif setting.config_target is not None:
        path, key_path = setting.config_target
        edits.append(Edit(path, "json", key_path, False))
    elif (loaded := setup.first("model_variable")) is not None and loaded.edit:  # no config.json: switch it off in code
        level = ".text_config" if setup.multimodal else ""
        edits.append(
            Edit(
                loaded.location.path,
                "python",
                loaded.edit[1],
                f"{loaded.value}.config{level}.use_cache = False",
                op="insert_after",
                cell=loaded.location.cell,
            )
        )
    if not edits:
        return None
    where = "text_config.use_cache" if setup.multimodal else "use_cache"
    return Fix(
        f"Set {where} to false{title_reason}; generate() still uses the cache through generation_config",
        "safe",
        tuple(edits),
    )


def cache_location(setup: Setup) -> Location:
    setting = setup.use_cache
    if setting.fact is not None:
        return setting.fact.location
    config = setup.first("model_config")
    if config is not None:
        key = "text_config" if setup.multimodal else None
        if key:
            present = setup.first("text_config_present")
            if present is not None:
                return present.location
        return config.location
    return training_location(setup)


def inferred(setup: Setup) -> str:
    """Say so when the model's layout (multimodal or text-only) comes from its id, not its config.json."""
    if setup.first("model_config") is None and setup.notes:
        return f" Note: {setup.notes[0]}."
    return ""


def training_location(setup: Setup) -> Location:
    """Where training is configured: the TrainingArguments/SFTConfig call, the trainer, or the recipe file."""
    fact = (
        setup.first("training_arguments_call")
        or setup.first("trainer_call")
        or next((f for f in setup.facts if f.origin == "training-args"), None)
    )
    return fact.location if fact else Location(None)


@rule("GD201")
def use_cache_in_training(setup: Setup):
    if not setup.is_training or setup.family_name not in GEMMA_FAMILIES:
        return
    if setup.trl_trainer in GENERATING_TRAINERS:
        return  # these trainers generate rollouts during training: the cache is used, not waste
    setting = setup.use_cache
    if setting.value is not True:
        return  # off, or unknown: never assumed on
    where = "text_config.use_cache" if setup.multimodal else "use_cache"
    # A training step builds no cache: Gemma 2/3 build one only when `not self.training`
    # (4.56.0 modeling_gemma3.py). So the cost is real only where evaluation or predict runs.
    evaluation = setup.evaluation
    if evaluation is not None:
        severity = "warning"
        cost = (
            "every evaluation/predict forward builds and returns a HybridCache it never uses (memory), and on "
            "transformers 4.50.x that crashes mixed-precision evaluation (GD202)"
        )
    else:
        severity = "info"
        cost = "nothing in this run reads it (no evaluation or predict step), so it only matters once one is added"
    if setting.unless:
        severity = "info"  # it may not be true for the run that happens: say so, at low severity
        cost += f"; {setting.unless}"
    message = f"{where} is true for a model being trained ({setting.why}): {cost}.{inferred(setup)}"
    fix = cache_fix(setup, " for training") or Fix(
        f"Set {where} = False on the model config after loading (model.config{'.text_config' if setup.multimodal else ''}"
        ".use_cache = False), or in the model's config.json",
        "display-only",
    )
    yield Diagnostic(cache_location(setup), message, severity, fix)


@rule("GD202")
def hybridcache_float_crash(setup: Setup):
    version = setup.version("transformers")
    if version is None or version.version is None or not setup.known("transformers", "hybridcache_float_crash"):
        return
    if setup.family_name not in HYBRID_CACHE_FAMILY or not setup.mixed_precision_active:
        return
    if setup.uses_deepspeed is not None:
        return  # DeepSpeed owns the precision: accelerate installs no fp32-output wrapper (audit row 9)
    evaluation = setup.evaluation
    setting = setup.use_cache
    if evaluation is None or setting.value is not True:
        return
    weights = setup.weights_dtype
    if weights.dtype == "float32":
        return  # fp32 weights give an fp32 cache, which accelerate leaves alone (repro.md §2)
    precision = setup.precision
    condition = "" if weights.dtype else ' if the weights load in bf16/fp16 (torch_dtype=torch.bfloat16 or "auto")'
    where = "text_config.use_cache" if setup.multimodal else "use_cache"
    message = (
        f"transformers {version.version} + {precision.mode} mixed precision ({precision.why}) + evaluation "
        f"({evaluation.location.key or evaluation.raw_key or evaluation.name}) + {where}=true ({setting.why}): "
        f"the first evaluation crashes{condition} with `AttributeError: 'HybridCache' object has no attribute "
        "'float'` (accelerate calls .float() on the cache in the model outputs). Fixed in transformers "
        f"{version_boundary('transformers', 'hybridcache_float_crash', 'fixed_in')}." + inferred(setup)
    )
    fixed_in = version_boundary("transformers", "hybridcache_float_crash", "fixed_in")
    fix = cache_fix(setup, "") or Fix(
        f"pip install 'transformers>={fixed_in}'",
        "display-only",
        (Edit(None, "pip", ("transformers",), f">={fixed_in}"),),
    )
    yield Diagnostic(cache_location(setup), message, None, fix)


@rule("GD203")
def use_cache_wrong_level(setup: Setup):
    if not setup.multimodal:
        return
    top = [f for f in setup.all("config_use_cache") + setup.all("code_use_cache") if f.value is False]
    text = setup.first("code_text_use_cache") or setup.first("text_config_use_cache")
    if not top or (text is not None and not is_true(text.value)):
        return
    config = setup.first("model_config")
    for fact in top:
        message = (
            "use_cache is false only at the top level of a multimodal gemma3 config; the language model "
            "reads text_config.use_cache, which stays "
            + ("true" if text is not None else "true (the default)")
            + ". The switch has no effect: evaluation still builds a HybridCache."
        )
        edits = []
        if fact.origin == "python" and fact.edit:
            fmt, key_path = fact.edit
            edits.append(
                Edit(
                    fact.location.path, fmt, key_path + ("text_config",), False, op="retarget", cell=fact.location.cell
                )
            )
        elif config is not None:
            edits.append(Edit(config.location.path, "json", ("text_config", "use_cache"), False))
        yield Diagnostic(fact.location, message, None, Fix("Set text_config.use_cache to false", "safe", tuple(edits)))


@rule("GD501")
def eager_attention_gemma2(setup: Setup):
    if setup.family_name != "gemma2" or not setup.is_training:
        return
    fact = setup.first("attn_implementation") or setup.first("config_attn_implementation")
    value = str(fact.value) if fact is not None else None
    if value not in (None, "sdpa"):
        return
    if setup.uses_unsloth is not None:
        return  # Unsloth applies Gemma 2's soft-cap in its own attention (audit, GD501)
    if value is None and setup.known("transformers", "gemma2_default_sdpa") is not True:
        return  # 4.45-4.47 default to eager, >= 5.21 too; an unknown version: nothing to claim
    if fact is not None and value == "sdpa" and setup.known("transformers", "gemma2_sdpa_refused"):
        message = (
            f"transformers {setup.exact_version('transformers')} refuses sdpa for Gemma 2 (it cannot soft-cap "
            "the attention logits): from_pretrained raises `ValueError: Gemma2ForCausalLM does not support an "
            "attention implementation through torch.nn.functional.scaled_dot_product_attention yet`."
        )
        edits = tuple(e for e in [set_value(fact, "eager")] if e)
        yield Diagnostic(
            fact.location,
            message,
            "error",
            Fix('Set attn_implementation to "eager"', "safe" if edits else "display-only", edits),
        )
        return
    said = "attn_implementation is sdpa" if value else "attn_implementation is not set, so transformers picks sdpa"
    message = (
        f"Gemma 2 is trained with sdpa attention ({said}): the sdpa path has no soft-cap argument, so "
        "Gemma 2's attention logit soft-capping (50.0) is silently dropped. Use eager (or flash_attention_2 "
        "with flash-attn >= 2.6, which passes the soft-cap)."
    )
    location = fact.location if fact else training_location(setup)
    edits = tuple(e for e in [set_value(fact, "eager")] if e) if fact else ()
    yield Diagnostic(
        location,
        message,
        None,
        Fix('Set attn_implementation to "eager" (slower, more memory)', "unsafe" if edits else "display-only", edits),
    )


@rule("GD503")
def evaluation_strategy_removed(setup: Setup):
    for fact in setup.all("eval_strategy"):
        if fact.raw_key != "evaluation_strategy":
            continue
        removed = setup.known("transformers", "evaluation_strategy_removed")
        if removed is False:
            continue
        version = setup.exact_version("transformers")
        if removed:
            message = (
                f"evaluation_strategy was removed in transformers 4.51.0 and this project uses {version}: "
                "`TypeError: __init__() got an unexpected keyword argument 'evaluation_strategy'`."
            )
            severity = "error"
        else:
            message = (
                "evaluation_strategy is deprecated and was removed in transformers 4.51.0 "
                "(TypeError: unexpected keyword argument); use eval_strategy."
            )
            severity = "warning"
        edit = None
        if fact.edit:
            fmt, key_path = fact.edit
            edit = Edit(fact.location.path, fmt, key_path, "eval_strategy", op="rename", cell=fact.location.cell)
        yield Diagnostic(
            fact.location,
            message,
            severity,
            Fix("Rename evaluation_strategy to eval_strategy", "safe", (edit,) if edit else ()),
        )


@rule("GD601")
def token_type_ids_required(setup: Setup):
    if not setup.multimodal or not setup.is_training or setup.flavour not in ("transformers", "trl", None):
        return
    # Unsloth's collator adds token_type_ids (unsloth#4017); TRL's text collator does not (trl#5807, audit row 31).
    if setup.uses_unsloth or not setup.known("transformers", "token_type_ids_required"):
        return
    if setup.flavour == "trl" and setup.first("processor_loaded") is not None:
        return  # a processor makes TRL use its vision collator, which adds token_type_ids (audit row 31)
    model_class = setup.first("model_class")
    if model_class is not None and "CausalLM" in str(model_class.value) and "Auto" not in str(model_class.value):
        return
    anchor = model_class or setup.first("trainer_call") or setup.first("model_config")
    location = anchor.location if anchor is not None else Location(None)
    yield Diagnostic(
        location,
        "transformers 5.0-5.5 Gemma3ForConditionalGeneration requires token_type_ids when training: "
        "text-only batches without them raise `ValueError: token_type_ids is required as a model input "
        "when training`.",
        None,
        Fix(
            "Add zero token_type_ids to text-only batches (Unsloth's collator and TRL's vision collator do; "
            "TRL's text collator does not, trl#5807), train "
            "text-only with Gemma3ForCausalLM, or upgrade to transformers >= 5.6.0",
            "display-only",
        ),
    )
