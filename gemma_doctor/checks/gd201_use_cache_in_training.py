"""GD201: use_cache on, at the level the language model reads, for a model being trained."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import (
    GEMMA_FAMILIES,
    GENERATING_TRAINERS,
    cache_fix,
    cache_level,
    cache_location,
    inferred,
)
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD201")
def use_cache_in_training(setup: Setup):
    if not setup.is_training or setup.family_name not in GEMMA_FAMILIES:
        return
    if setup.trl_trainer in GENERATING_TRAINERS:
        return  # these trainers generate rollouts during training: the cache is used, not waste
    setting = setup.use_cache
    if setting.value is not True:
        return  # off, or unknown: never assumed on
    where = cache_level(setup)
    # A training step builds no cache: Gemma 2/3 build one only when `not self.training`
    # (4.56.0 modeling_gemma3.py). So the cost is real only where evaluation or predict runs.
    evaluation = setup.evaluation
    if evaluation is not None:
        severity = "warning"
        cost = (
            "every evaluation/predict forward builds and returns a HybridCache it never uses (memory), and on "
            f"transformers {versioned('transformers', 'hybridcache_float_crash').range} that crashes mixed-precision "
            "evaluation (GD202)"
        )
    else:
        severity = "info"
        cost = "nothing in this run reads it (no evaluation or predict step), so it only matters once one is added"
    if setting.unless:
        severity = "info"  # it may not be true for the run that happens: say so, at low severity
        cost += f"; {setting.unless}"
    message = f"{where} is true for a model being trained ({setting.why}): {cost}.{inferred(setup)}"
    fix = cache_fix(setup, " for training") or Fix.of(
        f"Set {where} = False on the model config after loading (model.config{'.text_config' if setup.multimodal else ''}"
        ".use_cache = False), or in the model's config.json",
        "display-only",
    )
    yield Diagnostic(cache_location(setup), message, severity, fix)
