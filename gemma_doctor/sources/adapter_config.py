"""A saved PEFT adapter's ``adapter_config.json``: what a merge, inference or resumed run loads. Its LoRA
targets and saved modules are judged against the transformers that loads it (GD704, GD705)."""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.facts import Fact, SourceResult
from gemma_doctor.sources.document import parse_document

ORIGIN = "adapter"
_KEYS = ("target_modules", "modules_to_save", "ensure_weight_tying", "r", "lora_alpha")


def load(path: Path, display: str) -> SourceResult:
    doc = parse_document(path, display)
    result = SourceResult(kind="adapter-config")
    value = doc.value
    if not isinstance(value, dict) or value.get("peft_type") not in (None, "LORA"):
        return result
    result.facts.append(Fact("adapter_saved", display, doc.location(()), ORIGIN))
    for key in _KEYS:
        if value.get(key) is not None:
            result.facts.append(doc.fact("lora_setting", (key,), ORIGIN))
    base = value.get("base_model_name_or_path")
    if isinstance(base, str) and base:
        result.facts.append(doc.fact("model_id", ("base_model_name_or_path",), ORIGIN))
    return result
