"""GD702: LoRA target_modules that reach the vision or audio towers of a multimodal Gemma 4. The towers'
linears are Gemma4ClippableLinear wrappers that carry the language model's names (q_proj, o_proj,
down_proj, ...): PEFT raises on them, and "all-linear" adapts their inner linears instead."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import TEXT_CLASSES, chooses_lora_targets, text_only, towers_reached, training_location
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup
from gemma_doctor.setup.adapters import lora_arguments

LANGUAGE_MODEL_ONLY = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


def _fix(setup: Setup) -> Fix:
    default = versioned("peft", "gemma4_default_targets")
    advice = f"target_modules={LANGUAGE_MODEL_ONLY!r}, a regex limited to the language model"
    if setup.holds("peft", default.name):
        advice += f", or no target_modules (peft >= {default.since} then adapts the language model's q/v)"
    return Fix(f"Use {advice}", "display-only")


@rule("GD702")
def lora_targets_gemma4_towers(setup: Setup):
    if setup.family_name != "gemma4" or setup.first("peft") is None:
        return
    if chooses_lora_targets(setup):
        return
    towers = setup.architecture.towers
    if not towers.value or any(str(f.value) in TEXT_CLASSES for f in setup.all("model_class")):
        return  # no towers (none in the checkpoint, unknown, or a text class that does not build them)
    live = setup.first("tower_adapters")
    if live is not None:  # in-process: PEFT already built the adapter, so count where it went
        if text_only(setup):
            yield Diagnostic(
                live.location,
                f"the adapter has {live.value} LoRA modules in Gemma 4's towers ({towers.why}), in a text-only "
                "fine-tune: they are trained and saved for nothing.",
                "warning",
                _fix(setup),
            )
        return
    arguments = lora_arguments(setup)
    if "target_modules" not in arguments:
        return  # peft's own default for gemma4 (or its "please specify" error, which says what to do)
    target, fact = arguments["target_modules"]
    location = fact.location if fact.location.path else training_location(setup)
    if target == "all-linear":
        if not text_only(setup):
            return  # a vision or audio fine-tune may mean to adapt the towers
        yield Diagnostic(
            location,
            f'target_modules="all-linear" on a multimodal Gemma 4 ({towers.why}) adapts the towers too, in a '
            "text-only fine-tune: PEFT puts LoRA on the inner linear of every Gemma4ClippableLinear (measured on a "
            "tiny Gemma 4 with both towers: 21 of 42 LoRA modules sit in the vision and audio towers, 2 more in "
            "their embedders), which trains and saves weights the text task never uses.",
            "warning",
            _fix(setup),
        )
        return
    reached = towers_reached(target, [str(tower) for tower in towers.value] if isinstance(towers.value, list) else [])
    if not reached:
        return
    names = sorted({path.rsplit(".", 1)[-1] for path in reached})
    yield Diagnostic(
        location,
        f"target_modules {target!r} also names modules of Gemma 4's towers ({towers.why}): "
        f"{', '.join(names)} there are Gemma4ClippableLinear wrappers, and get_peft_model raises `ValueError: "
        "Target module Gemma4ClippableLinear(...) is not supported` (measured on the oldest and newest peft that "
        "know Gemma 4; use_clipped_linears=False does not change the class).",
        None,
        _fix(setup),
    )
