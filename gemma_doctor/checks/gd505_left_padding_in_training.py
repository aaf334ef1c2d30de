"""GD505: left padding while training Gemma 2/3 with the plain Trainer."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import is_resolved
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import HYBRID_CACHE_FAMILY, Setup


@rule("GD505")
def left_padding_in_training(setup: Setup):
    if not setup.is_training or setup.family_name not in HYBRID_CACHE_FAMILY:
        return
    if setup.trl_trainer is not None or setup.flavour in ("axolotl", "llamafactory"):
        return  # their collators pad on the right whatever the tokenizer says (trl#4497)
    fact = next((f for f in setup.all("padding_side") if is_resolved(f.value) and str(f.value) == "left"), None)
    if fact is None:
        return
    message = (
        "the tokenizer pads on the left while training with the plain Trainer, whose collators follow the "
        "tokenizer: each left pad token's attention row then has every key masked, in every layer, and the "
        "softmax over an all-masked row gives NaN on the GPU (reported on transformers 5 in "
        "unslothai/unsloth#9848; for Gemma 2 with sdpa, transformers#32390). Left padding is for batched "
        "generation, not training."
    )
    yield Diagnostic(
        fact.location,
        message,
        None,
        Fix(
            'Pad on the right for training (tokenizer.padding_side = "right"); switch to left only to generate',
            "display-only",
        ),
    )
