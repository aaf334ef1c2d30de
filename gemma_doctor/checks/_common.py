"""Helpers that several rules share: where a finding points, the cache fix, and how a run is
quantized or distributed. Nothing here is a rule."""

from __future__ import annotations

import re

from gemma_doctor.facts import Location, read_at_run_time
from gemma_doctor.findings import Fix, disable_cache_after, in_document, setting
from gemma_doctor.knowledge import data
from gemma_doctor.setup import HYBRID_CACHE_FAMILY, Setup, weights

GEMMA_FAMILIES = HYBRID_CACHE_FAMILY + ("gemma3n", "gemma", "paligemma")
# Trainers that generate rollouts while they train: the cache is used there, not wasted.
GENERATING_TRAINERS = ("GRPOTrainer", "RLOOTrainer", "OnlineDPOTrainer", "PPOTrainer")


def cache_level(setup: Setup) -> str:
    """The name of the switch the language model reads."""
    return "text_config.use_cache" if setup.multimodal else "use_cache"


def cache_fix(setup: Setup, title_reason: str) -> Fix | None:
    """Switch off use_cache where the language model reads it: the deciding fact, or config.json,
    or, with neither, a line after the model load in code."""
    setting_ = setup.use_cache
    if setting_.fact is not None and setting_.fact.origin != "model-config":
        edit = setting(setting_.fact, False)
    elif setting_.config_target is not None:
        edit = in_document(setup.first("model_config"), setting_.config_target, False)
    else:
        edit = disable_cache_after(setup.first("model_variable"), "text_config" if setup.multimodal else None)
    if edit is None:
        if setting_.fact is not None and read_at_run_time(setting_.fact):
            # The live run (the preflight callback) has no file to edit: the line `fix` writes in a script.
            return Fix.of(
                f"Add `model.config.{cache_level(setup)} = False` before trainer.train(){title_reason} (the line "
                "gemma-doctor fix writes after the load); generate() still uses the cache through generation_config",
                "display-only",
            )
        return None
    return Fix.of(
        f"Set {cache_level(setup)} to false{title_reason}; generate() still uses the cache through generation_config",
        "safe",
        edit,
    )


def training_location(setup: Setup) -> Location:
    """Where training is configured: the TrainingArguments/SFTConfig call, the trainer, the recipe file,
    or a loop of the script's own; else where the model is loaded."""
    fact = (
        setup.first("training_arguments_call")
        or setup.first("trainer_call")
        or next((f for f in setup.facts if f.origin == "training-args"), None)
        or setup.first("training_loop")
        or setup.first("model_load")
        or setup.first("model_class")
    )
    return fact.location if fact else Location(None)


def cache_location(setup: Setup) -> Location:
    setting_ = setup.use_cache
    if setting_.fact is not None:
        return setting_.fact.location
    config = setup.first("model_config")
    if config is not None:
        if setup.multimodal:
            present = setup.first("text_config_present")
            if present is not None:
                return present.location
        return config.location
    # Nothing in the files says use_cache: the finding points where cache_fix writes its line, after the load.
    variable = setup.first("model_variable")
    return variable.location if variable is not None else training_location(setup)


def inferred(setup: Setup) -> str:
    """Say so when the model's layout (multimodal or text-only) comes from its id, not its config.json."""
    if setup.first("model_config") is None and setup.notes:
        return f" Note: {setup.notes[0]}."
    return ""


def quantized(setup: Setup) -> bool:
    return weights.quantized(setup)


def flash_attention(setup: Setup):
    """The fact that asks for flash attention, if any."""
    for fact in setup.all("attn_implementation") + setup.all("config_attn_implementation"):
        if str(fact.value) in ("flash_attention_2", "flash_attention_3"):
            return fact
    return None


def distributed(setup: Setup):
    """The fact that makes the run use several processes (DDP), if any."""
    for fact in setup.all("num_processes"):
        try:
            if int(str(fact.value)) > 1:
                return fact
        except ValueError:
            continue
    return next((f for f in setup.all("distributed_type") if str(f.value).upper() in ("MULTI_GPU", "MULTI_NPU")), None)


def chooses_lora_targets(setup: Setup) -> bool:
    """Unsloth (FastModel.get_peft_model's finetune_*_layers) and LLaMA-Factory build the LoRA target list
    themselves, limited to the language model unless asked: the adapter rules do not judge theirs."""
    return setup.first("unsloth_loader") is not None or setup.flavour == "llamafactory"


def checkpointing(setup: Setup, unsloth: bool = True):
    """The fact that turns gradient checkpointing on, if any: the training arguments, code, PEFT's
    prepare_model_for_kbit_training, TRL's SFTConfig default, and (``unsloth``) Unsloth's loader, which
    checkpoints by default (use_gradient_checkpointing="unsloth")."""
    found = (
        setup.truthy("gradient_checkpointing")
        or setup.first("code_gradient_checkpointing")
        or (setup.truthy("peft_kbit_checkpointing") if quantized(setup) else None)
        or (setup.first("unsloth_loader") if unsloth else None)
    )
    if (
        found is None
        and setup.trl_trainer == "SFTTrainer"
        and setup.holds("trl", "gradient_checkpointing_default")
        and not setup.all("gradient_checkpointing")
    ):
        found = setup.first("trainer_call") or setup.first("training_arguments_call")
    return found


# Gemma 4's towers, shared by GD702 (LoRA targets) and GD706 (DDP).
# Classes that build no towers, whatever the checkpoint holds (the text model alone).
TEXT_CLASSES = ("Gemma4ForCausalLM", "Gemma4TextModel")
# What loads a model for images or audio: then adapting the towers may be the point. (Gemma 4's own
# class is what AutoModelForCausalLM returns too, so it says nothing of the task; a processor does.)
MULTIMODAL_CLASSES = ("AutoModelForImageTextToText", "AutoModelForVision2Seq")


def towers_reached(target: object, towers: list[str]) -> list[str]:
    """The tower modules a target_modules value matches, as PEFT matches them: a string is a regex
    matched against the whole module path; a list entry matches a path it equals or ends with."""
    paths = [path for tower in towers for path in data("model_families")["gemma4_tower_modules"].get(tower, [])]
    if isinstance(target, str):
        try:
            pattern = re.compile(target)
        except re.error:
            return []
        return [path for path in paths if pattern.fullmatch(path)]
    if isinstance(target, (list, tuple)):
        keys = [str(key) for key in target]
        return [path for path in paths if any(path == key or path.endswith("." + key) for key in keys)]
    return []


def text_only(setup: Setup) -> bool:
    loads = {str(f.value) for f in setup.all("model_class")}
    return not loads.intersection(MULTIMODAL_CLASSES) and setup.first("processor_loaded") is None
