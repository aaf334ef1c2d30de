"""GD804: a chat rendered with ``tokenize=False``, stripped of its ``<bos>`` (the usual cure for GD803),
and then tokenized with ``add_special_tokens=False``: both cures at once leave no ``<bos>`` at all."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import Setup


@rule("GD804")
def missing_bos(setup: Setup):
    if not (setup.family_name or "").startswith("gemma"):
        return
    for fact in setup.all("chat_tokenized_without_bos"):
        yield Diagnostic(
            fact.location,
            f"{fact.value} with add_special_tokens=False, on a chat whose <bos> was stripped: the sequence starts "
            "with <start_of_turn> and no <bos> at all (measured on the real Gemma 3 tokenizer: [105, 2364, ...]). "
            "Gemma is trained with <bos> first and degrades badly without it (EleutherAI/lm-evaluation-harness#1465: "
            "accuracy fell to almost nothing; unslothai/notebooks#251).",
            None,
            Fix(
                'Keep one of the two: strip "<bos>" and let the tokenizer add it, or keep it and pass add_special_tokens=False',
                "display-only",
            ),
        )
