"""GD703: LoRA on a Gemma 4 mixture of experts (26B-A4B) with no target_parameters: the experts are
3-D parameters, not linears, so target_modules (all-linear included) never reaches them."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import chooses_lora_targets, training_location
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import Setup, is_true
from gemma_doctor.setup.adapters import lora_arguments

EXPERT_PARAMETERS = ["experts.gate_up_proj", "experts.down_proj"]


@rule("GD703")
def moe_experts_not_targeted(setup: Setup):
    if not setup.is_training or setup.family_name != "gemma4" or setup.first("peft") is None:
        return
    moe = setup.architecture.moe
    if not is_true(moe.value):
        return
    if chooses_lora_targets(setup):
        return
    arguments = lora_arguments(setup)
    if "target_parameters" in arguments:
        return
    target = arguments.get("target_modules")
    location = target[1].location if target is not None and target[1].location.path else training_location(setup)
    said = f"target_modules={target[0]!r}" if target is not None else "peft's default targets"
    yield Diagnostic(
        location,
        f"LoRA on a Gemma 4 mixture of experts ({moe.why}) with {said} and no target_parameters: the experts "
        "are 3-D parameters (experts.gate_up_proj, experts.down_proj), not linears, so no adapter reaches them "
        '(measured on a tiny MoE Gemma 4: "all-linear" adapts attention, the dense MLP and the router, and '
        "leaves every expert untrained). Most of the model's feed-forward capacity then stays frozen.",
        None,
        Fix(
            f"Add target_parameters={EXPERT_PARAMETERS!r} to the LoraConfig (Axolotl: lora_target_parameters), "
            "or accept an attention-only adapter",
            "display-only",
        ),
    )
