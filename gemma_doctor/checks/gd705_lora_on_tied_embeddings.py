"""GD705: lm_head or embed_tokens trained beside a LoRA adapter on a Gemma model, whose lm_head is tied
to embed_tokens. PEFT trains a separate copy, and the merged model's head no longer equals its
embeddings: servers and exporters that read one matrix for both serve the untrained one."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup, is_true
from gemma_doctor.setup.adapters import lora_arguments

_TIED = ("lm_head", "embed_tokens")


def _named(value: object) -> list[str]:
    names = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
    return [name for name in names if isinstance(name, str) and name.rsplit(".", 1)[-1] in _TIED]


@rule("GD705")
def lora_on_tied_embeddings(setup: Setup):
    if not (setup.family_name or "").startswith("gemma"):
        return
    trains = setup.is_training and setup.first("peft") is not None
    if not trains and setup.first("adapter_saved") is None:  # nor merges or serves a saved adapter
        return
    tied = setup.first("config_tie_word_embeddings")
    if tied is not None and tied.value is False:
        return
    arguments = lora_arguments(setup)
    tying = arguments.get("ensure_weight_tying")
    if tying is not None and is_true(tying[0]) and setup.holds("peft", "ensure_weight_tying_gemma") is not False:
        return
    for argument in ("modules_to_save", "target_modules"):
        if argument not in arguments:
            continue
        value, fact = arguments[argument]
        names = _named(value)
        if not names:
            continue
        fixed = versioned("peft", "ensure_weight_tying_gemma")
        said = "tie_word_embeddings is true in its config.json" if tied is not None else "Gemma ties them by default"
        if argument == "modules_to_save":
            what = (
                "PEFT trains a separate copy, and the merged model's head no longer equals its embeddings (measured on "
                "a tiny tied Gemma 3 with each peft tried: the merged checkpoint holds two different matrices). "
                "Gemma's servers and exporters read one matrix for both, so the trained one is dropped or the "
                "checkpoint is refused (vllm-project/vllm#16555, huggingface/peft#2972)."
            )
            fix = Fix(
                f"Pass ensure_weight_tying=True to the LoraConfig (peft >= {fixed.upgrade_to}), or leave the embeddings "
                "frozen and use Gemma's reserved <unused*> tokens instead of new rows",
                "display-only",
            )
        else:
            what = (
                "a LoRA on that one shared matrix is merged into it, so the merged model applies the head's update to "
                "the input embeddings too and no longer computes what the adapter model did (measured on a tiny tied "
                "Gemma 3 with each peft tried: the merged model's logits differ from the adapter model's)."
            )
            fix = Fix(
                f"Drop {' and '.join(names)} from target_modules, or serve the adapter unmerged",
                "display-only",
            )
        yield Diagnostic(
            fact.location,
            f"{argument}={names!r} on a Gemma model whose lm_head is embed_tokens ({said}): {what}",
            None,
            fix,
        )
