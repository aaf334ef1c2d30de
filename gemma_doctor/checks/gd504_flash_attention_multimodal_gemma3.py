"""GD504: flash attention for a multimodal Gemma 3 trained on images."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import flash_attention
from gemma_doctor.findings import Diagnostic, Fix, setting
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD504")
def flash_attention_multimodal_gemma3(setup: Setup):
    if not setup.multimodal or not setup.is_training:
        return
    fact = flash_attention(setup)
    images = setup.first("processor_loaded")
    if fact is None or images is None:
        return  # text-only batches have no image tokens: nothing is lost
    refused = setup.holds("transformers", "flash_attention_refused_multimodal_gemma3")
    refused_since = versioned("transformers", "flash_attention_refused_multimodal_gemma3").since
    if refused:
        message = (
            f"flash attention for a multimodal Gemma 3 on transformers {setup.exact_version('transformers')}: "
            "Gemma3ForConditionalGeneration declares `_supports_flash_attn = False` (flash attention drops the "
            "bidirectional mask over image tokens), so loading with it fails."
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
