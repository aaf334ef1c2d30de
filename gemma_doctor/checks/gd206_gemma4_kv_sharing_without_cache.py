"""GD206: Gemma 4 with shared K/V layers (E2B, E4B) trained without a cache on a transformers whose
shared layers read their K/V only from the cache: training optimises a forward inference never runs."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import checkpointing, training_location
from gemma_doctor.checks._versions import pip_fix, where
from gemma_doctor.facts import Fact
from gemma_doctor.findings import Diagnostic
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup
from gemma_doctor.setup.cache import framework_cache_override


def _without_cache(setup: Setup) -> tuple[str, Fact | None] | None:
    """Why the training forward runs with no cache, and the fact that says so; None when it keeps one.

    Gradient checkpointing drops the cache in training whatever use_cache says (measured:
    past_key_values comes back None), so it is asked first."""
    on = checkpointing(setup)
    if on is not None:
        if on.name == "unsloth_loader":
            said = 'Unsloth\'s loader checkpoints by default, use_gradient_checkpointing="unsloth"'
        elif on.name in ("trainer_call", "training_arguments_call"):
            said = "SFTConfig's default"
        else:
            said = on.raw_key or on.name
        return f"gradient checkpointing is on ({said}), and it drops the cache in training whatever use_cache says", on
    setting = setup.use_cache
    if setting.value is not False:
        return None
    if setting.fact is None and framework_cache_override(setup) is None:
        trainer = (
            setup.first("trainer_call")
            or setup.first("training_arguments_call")
            or any(fact.origin == "training-args" for fact in setup.facts)
        )
        if not trainer:
            return None  # a loop of the script's own: the model reads its config's use_cache, true by default
        return "use_cache is off (the transformers 5 Trainer passes TrainingArguments.use_cache, default False)", None
    return f"use_cache is off ({setting.why})", setting.fact


@rule("GD206")
def gemma4_kv_sharing_without_cache(setup: Setup):
    if not setup.is_training or setup.family_name != "gemma4":
        return
    shared = setup.architecture.kv_shared_layers
    if setup.architecture.shares_kv is not True:
        return
    bug = versioned("transformers", "gemma4_kv_sharing_needs_cache")
    if setup.holds("transformers", bug.name) is not True:
        return
    unsloth = setup.uses_unsloth is not None and setup.first("unsloth_loader") is not None
    if unsloth and setup.holds("unsloth_zoo", "gemma4_kv_sharing_patch") is not False:
        return  # a zoo that carries the shared K/V itself, or one the project does not pin (a fresh install does)
    cause = _without_cache(setup)
    if cause is None:
        return
    why, cause_fact = cause
    version = setup.version("transformers")
    assert version is not None  # holds() answered from it
    patch = versioned("unsloth_zoo", "gemma4_kv_sharing_patch")
    message = (
        f"transformers {version.version or version.spec} ({where(version)}) and a Gemma 4 model with shared K/V "
        f"layers ({shared.why}), trained without a cache: {why}. On {bug.range} a shared layer reads its K/V "
        "only from the cache; without one it computes its own from weights no checkpoint trained, so the loss "
        "falls on a forward that generate() never runs (measured on a tiny Gemma 4, whose logits change when the cache is off; "
        f"huggingface/transformers#45242, fixed in {bug.fixed_in})."
    )
    if unsloth:
        message += (
            f" Unsloth's zoo releases of that time pin transformers below the fix; unsloth_zoo >= {patch.since} "
            "carries the shared K/V itself."
        )
        fix = pip_fix("unsloth_zoo", f">={patch.since}", "it patches the shared K/V for training")
    else:
        why_fix = "shared layers get their K/V without a cache"
        if setup.flavour not in ("axolotl", "llamafactory"):  # they turn the cache off themselves
            why_fix += "; on a pin that cannot move, keep the cache: TrainingArguments(use_cache=True) with gradient checkpointing off"
        fix = pip_fix("transformers", f">={bug.fixed_in}", why_fix)
    location = version.location if version.location.path else None
    if location is None:
        location = cause_fact.location if cause_fact is not None else training_location(setup)
    yield Diagnostic(location, message, None, fix)
