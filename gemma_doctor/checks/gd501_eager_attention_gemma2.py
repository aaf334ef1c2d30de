"""GD501: Gemma 2 trained with sdpa attention, which drops its attention soft-cap (or is refused)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import training_location
from gemma_doctor.findings import Diagnostic, Fix, setting
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD501")
def eager_attention_gemma2(setup: Setup):
    if setup.family_name != "gemma2" or not setup.is_training:
        return
    fact = setup.first("attn_implementation") or setup.first("config_attn_implementation")
    value = str(fact.value) if fact is not None else None
    if value not in (None, "sdpa"):
        return
    if setup.uses_unsloth is not None:
        return  # Unsloth applies Gemma 2's soft-cap in its own attention (docs/evidence)
    if value is None and setup.holds("transformers", "gemma2_default_sdpa") is not True:
        return  # 4.45-4.47 default to eager, >= 5.21 too; an unknown version: nothing to claim
    if fact is not None and value == "sdpa" and setup.holds("transformers", "gemma2_sdpa_refused"):
        message = (
            f"transformers {setup.exact_version('transformers')} refuses sdpa for Gemma 2 (it cannot soft-cap "
            "the attention logits): from_pretrained raises `ValueError: Gemma2ForCausalLM does not support an "
            "attention implementation through torch.nn.functional.scaled_dot_product_attention yet`."
        )
        edit = setting(fact, "eager")
        yield Diagnostic(
            fact.location,
            message,
            "error",
            Fix.of('Set attn_implementation to "eager"', "safe" if edit else "display-only", edit),
        )
        return
    said = "attn_implementation is sdpa" if value else "attn_implementation is not set, so transformers picks sdpa"
    message = (
        f"Gemma 2 is trained with sdpa attention ({said}): the sdpa path has no soft-cap argument, so "
        "Gemma 2's attention logit soft-capping (attn_logit_softcapping) is silently dropped. Use eager (or flash_attention_2 "
        f"with flash-attn >= {versioned('flash_attn', 'softcap').since}, which passes the soft-cap)."
    )
    location = fact.location if fact else training_location(setup)
    edit = setting(fact, "eager")
    yield Diagnostic(
        location,
        message,
        None,
        Fix.of('Set attn_implementation to "eager" (slower, more memory)', "unsafe" if edit else "display-only", edit),
    )
