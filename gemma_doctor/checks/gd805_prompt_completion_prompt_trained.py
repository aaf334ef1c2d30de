"""GD805: trl < 0.28 on transformers >= 5 trains the prompt of conversational prompt-completion rows.
It masks len(apply_chat_template(prompt, tokenize=True)) tokens, and on transformers 5 that call returns a
2-key BatchEncoding: 2 tokens are masked, and the rest of the prompt is trained, with no warning."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD805")
def prompt_completion_prompt_trained(setup: Setup):
    if setup.trl_trainer != "SFTTrainer" or not (setup.family_name or "").startswith("gemma"):
        return
    rows = setup.first("prompt_completion_rows")
    if rows is None:
        return
    if any(f.value is False for f in setup.all("completion_only_loss")):
        return  # the whole sequence is trained on purpose
    bug = versioned("trl", "prompt_completion_masks_by_len")
    if (
        setup.holds("trl", bug.name) is not True
        or setup.holds("transformers", "chat_template_returns_dict") is not True
    ):
        return
    trl, transformers = setup.version("trl"), setup.version("transformers")
    assert trl is not None and transformers is not None  # holds() answered from them
    yield Diagnostic(
        rows.location,
        f"Conversational prompt-completion data ({rows.value}) with trl {trl.version or trl.spec} ({where(trl)}) on "
        f"transformers {transformers.version or transformers.spec} ({where(transformers)}): this trl masks "
        "len(apply_chat_template(prompt, tokenize=True)) tokens, and transformers 5 returns a 2-key BatchEncoding "
        "there, so only 2 tokens are masked and the whole prompt is trained, silently (measured with SFTTrainer on "
        f"the real Gemma 3 tokenizer: the labels cover the user turn; trl {bug.fixed_in} trains only the completion).",
        None,
        pip_fix("trl", f">={bug.fixed_in}", "it masks the prompt by its token ids"),
    )
