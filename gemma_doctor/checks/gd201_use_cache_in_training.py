"""GD201: a training forward that builds a KV cache nobody reads: use_cache on, at the level the
language model reads, for a model trained on a transformers that builds one in training mode."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import (
    GEMMA_FAMILIES,
    GENERATING_TRAINERS,
    cache_fix,
    cache_level,
    cache_location,
    checkpointing,
)
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD201")
def use_cache_in_training(setup: Setup):
    """Measured (docs/evidence/GD201.md): on transformers 4.x a training forward returns no cache, so the
    switch costs nothing while training; from 5.0 it builds a DynamicCache, about twice its K/V size in
    peak memory per step, with no measurable time. Evaluation's cache is GD202's when it crashes, and no
    measured cost otherwise: this rule says nothing about it."""
    if not setup.is_training or setup.family_name not in GEMMA_FAMILIES:
        return
    if setup.trl_trainer in GENERATING_TRAINERS:
        return  # these trainers generate rollouts during training: the cache is used, not waste
    setting = setup.use_cache
    if setting.value is not True or setting.unless:
        return  # off, unknown, or turned off by a TRL the project may run: nothing to claim
    builds = versioned("transformers", "training_forward_builds_cache")
    if setup.holds("transformers", builds.name) is not True or checkpointing(setup):
        return
    where = cache_level(setup)
    message = (
        f"{where} is true for a model being trained ({setting.why}): on transformers "
        f"{setup.exact_version('transformers')} every training forward builds a DynamicCache nobody reads "
        f"(from {builds.since}; measured: about twice the K/V size in peak memory per step, no measurable time)."
    )
    fix = cache_fix(setup, " for training") or Fix.of(
        f"Set {where} = False on the model config after loading (model.config{'.text_config' if setup.multimodal else ''}"
        ".use_cache = False), or in the model's config.json",
        "display-only",
    )
    yield Diagnostic(cache_location(setup), message, None, fix)
