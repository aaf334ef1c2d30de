"""The LoRA arguments a run trains with, as LoraConfig spells them, from whichever source set them:
LoraConfig(...) / get_peft_model(...) in code, or the adapter keys of a YAML recipe (TRL CLI, Axolotl,
LLaMA-Factory). verify builds its adapter from these, and the adapter rules judge them."""

from __future__ import annotations

from gemma_doctor.facts import Fact, is_resolved

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the check path
if TYPE_CHECKING:
    from gemma_doctor.setup import Setup

# YAML adapter keys -> LoraConfig arguments.
_LORA_NAMES = {
    "lora_r": "r",
    "lora_rank": "r",
    "lora_target_modules": "target_modules",
    "lora_target": "target_modules",
    "lora_target_parameters": "target_parameters",
    "lora_target_linear": "target_modules",  # Axolotl's switch for "all-linear"
    "lora_modules_to_save": "modules_to_save",
}


def _normalized(raw_key: str, name: str, value: object) -> object:
    if raw_key == "lora_target_linear":
        return "all-linear" if value is True else None
    if raw_key == "lora_target" and isinstance(value, str) and value != "all-linear":
        # LLaMA-Factory writes "all" or "q_proj,v_proj"
        return "all-linear" if value == "all" else [part.strip() for part in value.split(",") if part.strip()]
    return value


def lora_arguments(setup: Setup) -> dict[str, tuple[object, Fact]]:
    """LoraConfig argument -> (its value, the fact that set it); the first source that sets one wins."""
    found: dict[str, tuple[object, Fact]] = {}
    for fact in setup.all("lora_setting"):
        if not is_resolved(fact.value) or fact.raw_key is None:
            continue
        name = _LORA_NAMES.get(fact.raw_key, fact.raw_key)
        value = _normalized(fact.raw_key, name, fact.value)
        if value is not None:
            found.setdefault(name, (value, fact))
    return found
