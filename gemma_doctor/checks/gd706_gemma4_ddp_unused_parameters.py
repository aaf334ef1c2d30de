"""GD706: Gemma 4 under DDP with trainable parameters that a text-only step never uses (its vision and
audio towers), while DDP's find_unused_parameters is off: the second step raises."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import (
    TEXT_CLASSES,
    checkpointing,
    distributed,
    text_only,
    towers_reached,
    training_location,
)
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup
from gemma_doctor.setup.adapters import lora_arguments


def _unused_in_towers(setup: Setup, towers: list[str]) -> str | None:
    """What makes tower parameters trainable in a text-only run, or None."""
    if setup.first("peft") is None:
        return "a full fine-tune trains the towers too"
    target = lora_arguments(setup).get("target_modules")
    if target is None:
        return None  # peft's default for gemma4 is the language model's q/v
    if target[0] == "all-linear":
        return 'LoRA on "all-linear" adapts the towers\' linears'
    if towers_reached(target[0], towers):
        return "the LoRA targets reach the towers"
    return None


def _find_unused_off(setup: Setup):
    """(the fact that turns find_unused_parameters off, why) where DDP runs with it off, else None."""
    explicit = next((f for f in setup.all("ddp_find_unused_parameters") if isinstance(f.value, bool)), None)
    if explicit is not None:
        return (explicit, "ddp_find_unused_parameters = False") if explicit.value is False else None
    if setup.flavour == "axolotl" and setup.holds("axolotl", "gemma4_ddp_rewrites") is not False:
        return None  # Axolotl turns it on for Gemma 4 (versions.json axolotl.gemma4_ddp_rewrites)
    on = checkpointing(setup, unsloth=False)
    if setup.first("peft") is None and on is not None:
        # The Trainer's default for a PreTrainedModel: off under gradient checkpointing (a PeftModel gets on)
        return (
            on,
            f"it is unset and gradient checkpointing is on ({versioned('transformers', 'ddp_find_unused_default').cite})",
        )
    return None


@rule("GD706")
def gemma4_ddp_unused_parameters(setup: Setup):
    if setup.family_name != "gemma4" or not setup.is_training or setup.uses_deepspeed is not None:
        return
    ddp = distributed(setup)
    towers = setup.architecture.towers
    if not isinstance(towers.value, list) or not towers.value or ddp is None:
        return
    if any(str(f.value) in TEXT_CLASSES for f in setup.all("model_class")):
        return
    if not text_only(setup):
        return  # images or audio go through the towers, so their parameters get gradients
    trainable = _unused_in_towers(setup, towers.value)
    off = _find_unused_off(setup)
    if trainable is None or off is None:
        return
    fact, why = off
    message = (
        f"Gemma 4 under DDP ({ddp.raw_key or ddp.name} = {ddp.value}) with find_unused_parameters off ({why}): "
        f"{trainable} ({towers.why}), and a text-only step gives them no gradient, so DDP raises at the second "
        "step: `RuntimeError: Expected to have finished reduction in the prior iteration before starting a new "
        "one` (measured on a tiny Gemma 4, two processes)."
    )
    yield Diagnostic(
        fact.location if fact.location.path else training_location(setup),
        message,
        None,
        Fix(
            "Set ddp_find_unused_parameters=True (with use_reentrant=False under gradient checkpointing, GD701), "
            "or train only the language model (a LoRA regex limited to language_model)",
            "display-only",
        ),
    )
