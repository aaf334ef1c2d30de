"""GD506: flash_attention_2 on Gemma 4, whose full-attention layers use a head dim (global_head_dim,
512 by default) above the flash-attn kernel's limit of 256. transformers checks the support flag,
the package, the dtype and the device, not the head dim, so the load passes and the forward fails."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import flash_attention
from gemma_doctor.findings import Diagnostic, Fix, setting
from gemma_doctor.setup import Setup, is_true

KERNEL_HEAD_DIM_LIMIT = 256  # flash-attn csrc/flash_attn/flash_api.cpp: TORCH_CHECK(head_size <= 256, ...)


@rule("GD506")
def gemma4_flash_attention_head_dim(setup: Setup):
    if setup.family_name != "gemma4":
        return
    fact = flash_attention(setup)
    if fact is None or str(fact.value) != "flash_attention_2":
        return
    if any(is_true(f.value) for f in setup.all("gemma4_hybrid_attention")):
        return  # Axolotl runs only the sliding layers under flash attention, the full ones under sdpa
    head_dim = setup.architecture.global_head_dim
    if not isinstance(head_dim.value, int) or head_dim.value <= KERNEL_HEAD_DIM_LIMIT:
        return
    message = (
        f"flash_attention_2 on Gemma 4, whose full-attention layers use head dim {head_dim.value} ({head_dim.why}): "
        f"the flash-attn kernel accepts at most {KERNEL_HEAD_DIM_LIMIT} and the first forward fails with "
        "`RuntimeError: FlashAttention forward only supports head dimension at most 256`. transformers does not "
        "check the head dim when it loads the model, so nothing fails before that step."
    )
    axolotl = setup.flavour == "axolotl"
    edit = (
        setting(fact, "sdpa") if fact.name == "attn_implementation" and fact.raw_key == "attn_implementation" else None
    )
    advice = "Use sdpa attention" + (
        " (or keep flash attention for the sliding layers with gemma4_hybrid_attn_impl: true)" if axolotl else ""
    )
    yield Diagnostic(fact.location, message, None, Fix.of(advice, "unsafe" if edit else "display-only", edit))
