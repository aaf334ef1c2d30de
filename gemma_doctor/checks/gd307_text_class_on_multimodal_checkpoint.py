"""GD307: the text-only class (Gemma3ForCausalLM, Gemma4ForCausalLM) loaded from a multimodal checkpoint.
On transformers 5 the checkpoint's keys (model.language_model.*) do not match the class's (model.*), so
every language-model weight is missing and the model is freshly initialised; only a load report says so."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import where
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup

_TEXT_CLASSES = {"Gemma3ForCausalLM": "gemma3", "Gemma4ForCausalLM": "gemma4"}


def _multimodal(setup: Setup, family: str) -> str | None:
    """Why the checkpoint is the multimodal layout, or None."""
    model_type = setup.first("model_type")
    if model_type is not None:
        if model_type.value != family:
            return None  # gemma3_text / gemma4_text: the text-only layout, which this class loads
        return f"its config.json says model_type {family!r}, the multimodal layout ({model_type.location.path})"
    if setup.family_name != family:
        return None
    if family == "gemma3":
        return f"{setup.family[1].value if setup.family[1] else 'its id'} is a multimodal Gemma 3 (4B, 12B, 27B)"
    towers = setup.architecture.towers
    if towers.value:
        return towers.why
    return None


@rule("GD307")
def text_class_on_multimodal_checkpoint(setup: Setup):
    rule_fact = versioned("transformers", "text_class_skips_multimodal_weights")
    if setup.holds("transformers", rule_fact.name) is not True:
        return
    for fact in setup.all("model_class"):
        family = _TEXT_CLASSES.get(str(fact.value))
        if family is None or fact.origin != "python":
            continue
        why = _multimodal(setup, family)
        if why is None:
            continue
        version = setup.version("transformers")
        on = (
            f"transformers {version.version or version.spec} ({where(version)})"
            if version
            else "transformers 5 (the newest installs)"
        )
        yield Diagnostic(
            fact.location,
            f"{fact.value}.from_pretrained on a multimodal checkpoint ({why}), on {on}: the checkpoint keeps the "
            "language model under model.language_model.*, the text-only class looks for model.*, so every "
            "language-model weight is missing and the model trains (or answers) from random initialisation, with "
            f"only a load report printed (measured on tiny Gemma 3 and Gemma 4 checkpoints: every language-model "
            f"key missing from transformers {rule_fact.since} on; the 4.x line loads them).",
            None,
            Fix(
                f"Load with AutoModelForCausalLM, which gives {str(fact.value).replace('ForCausalLM', 'ForConditionalGeneration')} "
                "with its weights (LoRA targets then live under model.language_model)",
                "display-only",
            ),
        )
