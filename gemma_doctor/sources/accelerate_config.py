"""Accelerate config YAML (``accelerate config`` / ``default_config.yaml``)."""

from __future__ import annotations

from gemma_doctor.facts import SourceResult

SCHEMA = "accelerate"  # rules/schemas/accelerate.schema.json, checked by structured.load
ORIGIN = "accelerate-config"
_MARKERS = {"compute_environment", "distributed_type", "num_processes", "machine_rank", "main_training_function"}


def looks_like(value: dict) -> bool:
    return bool(_MARKERS.intersection(value)) and "output_dir" not in value


def facts_from(doc) -> SourceResult:
    result = SourceResult(kind="accelerate-config")
    if "mixed_precision" in doc.value:
        result.facts.append(doc.fact("accelerate_mixed_precision", ("mixed_precision",), ORIGIN))
    for key, name in (("distributed_type", "distributed_type"), ("num_processes", "num_processes")):
        if key in doc.value:
            result.facts.append(doc.fact(name, (key,), ORIGIN))
    if isinstance(doc.get(("deepspeed_config",)), dict) and doc.has(("deepspeed_config", "zero_stage")):
        result.facts.append(doc.fact("deepspeed_zero_stage", ("deepspeed_config", "zero_stage"), ORIGIN))
    ds_file = doc.get(("deepspeed_config", "deepspeed_config_file"))
    if ds_file:
        result.facts.append(doc.fact("deepspeed", ("deepspeed_config", "deepspeed_config_file"), ORIGIN))
    return result
