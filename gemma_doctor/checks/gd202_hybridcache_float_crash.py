"""GD202: the HybridCache `.float()` crash of transformers 4.50.x in mixed-precision evaluation."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import cache_fix, cache_level, cache_location, inferred
from gemma_doctor.findings import Diagnostic, Fix, pip
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import HYBRID_CACHE_FAMILY, Setup


@rule("GD202")
def hybridcache_float_crash(setup: Setup):
    version = setup.version("transformers")
    if version is None or version.version is None or not setup.holds("transformers", "hybridcache_float_crash"):
        return
    if setup.family_name not in HYBRID_CACHE_FAMILY or not setup.mixed_precision_active:
        return
    if setup.uses_deepspeed is not None:
        return  # DeepSpeed owns the precision: accelerate installs no fp32-output wrapper (docs/evidence)
    evaluation = setup.evaluation
    setting = setup.use_cache
    if evaluation is None or setting.value is not True:
        return
    weights = setup.weights_dtype
    if weights.dtype == "float32":
        return  # fp32 weights give an fp32 cache, which accelerate leaves alone (docs/evidence)
    precision = setup.precision
    condition = "" if weights.dtype else ' if the weights load in bf16/fp16 (torch_dtype=torch.bfloat16 or "auto")'
    where = cache_level(setup)
    message = (
        f"transformers {version.version} + {precision.mode} mixed precision ({precision.why}) + evaluation "
        f"({evaluation.location.key or evaluation.raw_key or evaluation.name}) + {where}=true ({setting.why}): "
        f"the first evaluation crashes{condition} with `AttributeError: 'HybridCache' object has no attribute "
        "'float'` (accelerate calls .float() on the cache in the model outputs). Fixed in transformers "
        f"{versioned('transformers', 'hybridcache_float_crash').fixed_in}." + inferred(setup)
    )
    fixed_in = versioned("transformers", "hybridcache_float_crash").fixed_in
    fix = cache_fix(setup, "") or Fix.of(
        f"pip install 'transformers>={fixed_in}'", "display-only", pip("transformers", f">={fixed_in}")
    )
    yield Diagnostic(cache_location(setup), message, None, fix)
