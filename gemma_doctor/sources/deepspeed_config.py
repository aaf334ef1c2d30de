"""DeepSpeed JSON: ``fp16.enabled`` and ``bf16.enabled`` (true, false or "auto"), and the ZeRO stage."""

from __future__ import annotations

from gemma_doctor.facts import SourceResult

SCHEMA = "deepspeed"  # rules/schemas/deepspeed.schema.json, checked by structured.load
ORIGIN = "deepspeed"


def looks_like(value: dict) -> bool:
    if "zero_optimization" in value or "train_micro_batch_size_per_gpu" in value:
        return True
    return isinstance(value.get("fp16"), dict) or isinstance(value.get("bf16"), dict)


def facts_from(doc) -> SourceResult:
    result = SourceResult(kind="deepspeed")
    for section, name in (("fp16", "deepspeed_fp16"), ("bf16", "deepspeed_bf16"), ("bfloat16", "deepspeed_bf16")):
        if isinstance(doc.get((section,)), dict) and doc.has((section, "enabled")):
            result.facts.append(doc.fact(name, (section, "enabled"), ORIGIN))
    if isinstance(doc.get(("zero_optimization",)), dict) and doc.has(("zero_optimization", "stage")):
        result.facts.append(doc.fact("deepspeed_zero_stage", ("zero_optimization", "stage"), ORIGIN))
    result.facts.append(doc.fact("deepspeed_config_file", (), ORIGIN, value=doc.display))
    return result
