"""GD803: a chat rendered with ``tokenize=False`` and then tokenized with the tokenizer's BOS added
starts with two ``<bos>``: every Gemma chat template writes one, and the tokenizer adds another."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import Setup
from gemma_doctor.setup.chat import INFERRED, adds_bos, template_writes_bos

MEASURED = "measured on the real Gemma 3 tokenizer: the ids start [2, 2, 105, ...]"


@rule("GD803")
def double_bos(setup: Setup):
    if not setup.family_name or not setup.family_name.startswith("gemma"):
        return
    adds, why_adds = adds_bos(setup)
    if adds is not True or template_writes_bos(setup) is False:
        return
    inferred = f" ({INFERRED})" if why_adds == INFERRED else ""
    for fact in setup.all("chat_tokenized_with_bos"):
        yield Diagnostic(
            fact.location,
            f"{fact.value} tokenizes a chat rendered with apply_chat_template(tokenize=False): the template "
            "already writes <bos>, and the tokenizer adds its own (add_special_tokens defaults to True), so "
            f"every sequence starts with two <bos>{inferred}; {MEASURED}. "
            "Gemma is sensitive to its BOS: training and generation both see an input the model never saw.",
            None,
            Fix(
                "Pass add_special_tokens=False to that call, or let apply_chat_template tokenize "
                "(tokenize=True, return_dict=True)",
                "display-only",
            ),
        )
    if setup.trl_trainer != "SFTTrainer" or setup.uses_unsloth is not None:
        # Unsloth's SFTTrainer tokenizes a text that already has <bos> without special tokens
        return
    for fact in setup.all("chat_text_field"):
        yield Diagnostic(
            fact.location,
            f"{fact.value} as the dataset's text, which SFTTrainer tokenizes with the tokenizer's <bos> added: "
            f"each example starts with two <bos>{inferred} (measured with SFTTrainer on the real Gemma 3 tokenizer: "
            "[2, 2, 105, ...]).",
            None,
            Fix(
                'Give SFTTrainer the conversation itself ({"messages": [...]}), which it renders and '
                'tokenizes once, or strip the rendered "<bos>" (text.removeprefix("<bos>"))',
                "display-only",
            ),
        )
