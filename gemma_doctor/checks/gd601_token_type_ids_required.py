"""GD601: transformers 5.0-5.5 multimodal Gemma 3 trained on text-only batches without token_type_ids."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import Location
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup

# Classes a project loads to train on images: with TRL >= 0.24 they mean image columns, the vision collator.
_IMAGE_CLASSES = ("AutoModelForImageTextToText", "AutoModelForVision2Seq")


@rule("GD601")
def token_type_ids_required(setup: Setup):
    if not setup.multimodal or not setup.is_training or setup.flavour not in ("transformers", "trl", None):
        return
    # Unsloth's collator adds token_type_ids (unsloth#4017); TRL's text collator does not (trl#5807).
    if setup.uses_unsloth or not setup.holds("transformers", "token_type_ids_required"):
        return
    if setup.flavour == "trl" and setup.first("processor_loaded") is not None:
        # TRL's vision collator adds token_type_ids. Before trl 0.24 a processor chose it; from 0.24 image
        # columns in the dataset do, which the files do not show: a processor alone proves nothing there.
        if setup.holds("trl", "vision_collator_by_dataset") is False:
            return
        if not setup.exact_version("trl") or any(str(f.value) in _IMAGE_CLASSES for f in setup.all("model_class")):
            return  # an unpinned TRL, or an image-text class (the run trains on images): nothing to claim
    model_class = setup.first("model_class")
    if model_class is not None and "CausalLM" in str(model_class.value) and "Auto" not in str(model_class.value):
        return
    anchor = model_class or setup.first("trainer_call") or setup.first("model_config")
    location = anchor.location if anchor is not None else Location(None)
    required = versioned("transformers", "token_type_ids_required")
    yield Diagnostic(
        location,
        f"transformers {required.range} Gemma3ForConditionalGeneration requires token_type_ids when training: "
        "text-only batches without them raise `ValueError: token_type_ids is required as a model input "
        "when training`.",
        None,
        Fix(
            "Add zero token_type_ids to text-only batches (Unsloth's collator and TRL's vision collator do; "
            "TRL's text collator does not, trl#5807), or upgrade to transformers >= "
            f"{required.fixed_in} (not Gemma3ForCausalLM on this checkpoint: on transformers 5 it loads none of its weights, GD307)",
            "display-only",
        ),
    )
