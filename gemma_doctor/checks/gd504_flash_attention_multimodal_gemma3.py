"""GD504: flash attention for a multimodal Gemma 3 trained on images."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import flash_attention
from gemma_doctor.findings import Diagnostic, Fix, setting
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup

# Classes that build Gemma3ForConditionalGeneration from a multimodal gemma3 config (AutoModelForCausalLM does
# since 4.50.1; the refusal is from 5.24, so that mapping holds wherever it matters).
_CONDITIONAL_GENERATION = {
    "Gemma3ForConditionalGeneration",
    "AutoModelForImageTextToText",
    "AutoModelForVision2Seq",
    "AutoModelForCausalLM",
}


@rule("GD504")
def flash_attention_multimodal_gemma3(setup: Setup):
    if not setup.multimodal or not setup.is_training:
        return
    fact = flash_attention(setup)
    if fact is None:
        return
    images = setup.first("processor_loaded")
    refused = setup.holds("transformers", "flash_attention_refused_multimodal_gemma3")
    refused_since = versioned("transformers", "flash_attention_refused_multimodal_gemma3").since
    # The refusal is by class, at load: a text-only fine-tune through a class that builds
    # Gemma3ForConditionalGeneration stops there too (measured on 5.25.0: ValueError at construction)
    loads = {str(f.value) for f in setup.all("model_class")}
    refusing = bool(loads & _CONDITIONAL_GENERATION)
    if images is None and not (refused and refusing):
        return  # text-only batches have no image tokens: nothing is lost
    if refused:
        text_only = " even for a text-only fine-tune" if images is None else ""
        message = (
            f"flash attention for a multimodal Gemma 3 on transformers {setup.exact_version('transformers')}: "
            "Gemma3ForConditionalGeneration declares `_supports_flash_attn = False` (flash attention drops the "
            f"bidirectional mask over image tokens), so loading with it fails{text_only}: `ValueError: "
            "Gemma3ForConditionalGeneration does not support Flash Attention 2 yet`."
        )
        severity = "error"
    else:
        version = setup.exact_version("transformers")
        message = (
            "flash attention for a multimodal Gemma 3 trained on images: flash attention cannot express the "
            "bidirectional attention Gemma 3 uses over an image's tokens, so transformers"
            f"{' ' + version if version else ' before ' + str(refused_since)} silently trains with a causal mask "
            f"over them ({refused_since} refuses it instead)."
        )
        severity = None
    # Only a value written as attn_implementation is swapped: Axolotl's flash_attention: true is a switch.
    edit = (
        setting(fact, "sdpa") if fact.name == "attn_implementation" and fact.raw_key == "attn_implementation" else None
    )
    yield Diagnostic(
        fact.location,
        message,
        severity,
        Fix.of(
            "Use sdpa (or eager) attention for multimodal Gemma 3 training on images",
            "unsafe" if edit else "display-only",
            edit,
        ),
    )
