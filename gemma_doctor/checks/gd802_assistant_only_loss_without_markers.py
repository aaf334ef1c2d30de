"""GD802: ``assistant_only_loss=True`` needs a chat template with ``{% generation %}`` markers, and no
stock Gemma template has them. TRL raises at the start, except where it swaps in its own training copy
(Gemma 3's stock template, byte for byte, from trl 1.4.0)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import training_location
from gemma_doctor.checks._versions import where
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import data, versioned
from gemma_doctor.setup import Setup, is_true
from gemma_doctor.setup.chat import chat_template, has_generation_markers

_GEMMA3 = ("gemma3", "gemma3_text")


@rule("GD802")
def assistant_only_loss_without_markers(setup: Setup):
    asked = next((f for f in setup.all("assistant_only_loss") if is_true(f.value)), None)
    if asked is None or setup.trl_trainer != "SFTTrainer" or setup.family_name not in (*_GEMMA3, "gemma4"):
        return
    template = chat_template(setup)
    if template is not None and has_generation_markers(str(template.value)):
        return
    swap = versioned("trl", "gemma3_training_template")
    trl = setup.version("trl")
    said_trl = f"trl {trl.version or trl.spec} ({where(trl)})" if trl is not None else "TRL"
    if setup.family_name in _GEMMA3:
        if setup.holds("trl", swap.name) is not True:
            if setup.holds("trl", swap.name) is None:
                return  # a TRL the project does not pin installs at its newest, which swaps the stock template
            why = (
                f"{said_trl} has no training copy of Gemma 3's template (it ships from {swap.since}), so SFTTrainer raises "
                'before the first step: RuntimeError "... at least one example has no assistant tokens" or, in the '
                'releases just before, ValueError "... not training-compatible" (measured on three releases)'
            )
        elif template is not None and not _stock(str(template.value), "gemma3"):
            why = (
                f"the model's template ({template.location.path}) is not byte-identical to the stock Gemma 3 one, which is "
                f'the only one {said_trl} swaps for its training copy, so SFTTrainer raises ValueError "... not '
                f'training-compatible" (measured: the stock template plus one newline raises from {swap.since} on)'
            )
        else:
            return
    else:
        known = data("versions")["knowledge"]["known_through"]["trl"]
        why = (
            f"TRL has no training copy of the Gemma 4 template "
            f'(none through trl {known}, the newest checked), so SFTTrainer raises ValueError "... not '
            "training-compatible\" before the first step (measured with TRL's own copy of the Gemma 4 template)"
        )
    yield Diagnostic(
        asked.location if asked.location.path else training_location(setup),
        f"assistant_only_loss=True on a Gemma chat template without {{% generation %}} markers: {why}. "
        "Stacks that build the mask without raising train on nothing (huggingface/trl#5471).",
        None,
        Fix(
            "Train on prompt/completion rows (completion_only_loss, TRL's default for them), or give the tokenizer a "
            "template with {% generation %} ... {% endgeneration %} around the assistant turns",
            "display-only",
        ),
    )


def _stock(template: str, family: str) -> bool:
    import hashlib  # here, not at import: the check's startup stays lean

    digest = hashlib.sha256(template.encode("utf-8")).hexdigest()
    return digest == data("chat_tokens")["trl_stock_templates"].get(family)
