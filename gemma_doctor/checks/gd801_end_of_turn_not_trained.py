"""GD801: the token that ends a Gemma turn is never trained, or generation is never told to stop at it.
The loss looks healthy either way; the fine-tuned model then does not stop talking."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import is_resolved
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import Setup
from gemma_doctor.setup.chat import INFERRED, family_tokens, has_tokenizer_files

# What says the run speaks in chat turns (a pretrained model's folder ships a template all the same).
_CHAT_USE = ("chat_rendered", "chat_dataset", "chat_text_field", "prompt_completion_rows", "assistant_only_loss")


@rule("GD801")
def end_of_turn_not_trained(setup: Setup):
    tokens = family_tokens(setup)
    if tokens is None:
        return
    turn_end, turn_id = tokens["turn_end"], tokens["turn_end_id"]
    inferred = "" if has_tokenizer_files(setup) else f" ({INFERRED})"
    if setup.is_training:
        yield from _pad_is_eos(setup)
        yield from _axolotl_eot(setup, turn_end, inferred)
    yield from _generation_eos(setup, turn_end, turn_id, inferred)
    if setup.family_name == "gemma4":
        said: set[tuple] = set()
        for fact in setup.all("turn_token_literal"):
            where = (fact.location.path, fact.location.line, fact.location.column, fact.location.cell)
            if where in said:  # an f-string's parts share its position
                continue
            said.add(where)
            yield Diagnostic(
                fact.location,
                f"{fact.value!r} on a Gemma 4 run: Gemma 4's chat template opens turns with <|turn> and ends them "
                f"with <turn|>; {fact.value} is Gemma 1-3's token and never occurs in a Gemma 4 chat, so what is "
                "matched, split or stopped on with it never happens (axolotl-ai-cloud/axolotl#3754).",
                None,
                Fix(
                    f"Use Gemma 4's tokens ({tokens['turn_start']} ... {turn_end}), or read them from the tokenizer",
                    "display-only",
                ),
            )


def _pad_is_eos(setup: Setup):
    pad = setup.first("pad_is_eos")
    collator = setup.first("lm_collator")
    appended = setup.first("eos_appended")
    if pad is None or collator is None or appended is None:
        return
    yield Diagnostic(
        pad.location,
        f"{pad.value} with transformers' DataCollatorForLanguageModeling(mlm=False) "
        f"(line {collator.location.line}), on sequences that end in <eos> ({appended.value}, line "
        f"{appended.location.line}): the collator masks every label equal to the pad id, so each real <eos> is "
        "masked too and the model never learns to end (measured on the real Gemma 3 tokenizer: labels "
        "[2, 9259, 1902, -100]). Gemma has its own <pad> (id 0); the idiom comes from Llama recipes, which have none.",
        None,
        Fix("Delete that line: Gemma's tokenizer already pads with <pad>", "display-only"),
    )


def _axolotl_eot(setup: Setup, turn_end: str, inferred: str):
    datasets = setup.all("chat_dataset")
    if not datasets or setup.flavour != "axolotl":
        return
    eot = setup.first("eot_tokens")
    if eot is not None and (not isinstance(eot.value, list) or turn_end in eot.value):
        return
    special = setup.first("special_eos_token")
    if special is not None and special.value == turn_end:
        return  # the eot default follows eos_token, which is the turn end
    said = f"eot_tokens {eot.value!r} lacks {turn_end}" if eot is not None else "no eot_tokens"
    yield Diagnostic(
        (eot or datasets[0]).location,
        f"An Axolotl chat_template dataset on a Gemma model with {said}: Axolotl then ends turns at the "
        f"tokenizer's eos_token, <eos>, which a Gemma chat template never writes; turns end with {turn_end}{inferred}. "
        f"So {turn_end} keeps label -100 in every example and the model never learns to stop. Axolotl warns "
        '"EOS token ... not found in chat_template" and trains on (read in its prompt_strategies/chat_template.py '
        "up to its main branch; axolotl-ai-cloud/axolotl#3754).",
        None,
        Fix(f'Add `eot_tokens: ["{turn_end}"]` at the top level of the config', "display-only"),
    )


def _generation_eos(setup: Setup, turn_end: str, turn_id: int, inferred: str):
    chat = next((setup.first(name) for name in _CHAT_USE if setup.first(name) is not None), None)
    if chat is None:
        return  # raw-text runs stop at <eos>, which is right for them, whatever template the folder ships
    for fact in setup.all("generation_eos_token_id"):
        ids = fact.value if isinstance(fact.value, list) else [fact.value]
        if all(isinstance(i, int) for i in ids) and turn_id not in ids:
            yield Diagnostic(
                fact.location,
                f"generation_config.json's eos_token_id is {fact.value!r}, without {turn_end} ({turn_id}){inferred}: "
                f"a chat model ends its turn with {turn_end}, so generate() runs on past it into a new turn (measured: "
                f"a tiny Gemma 3 trained by SFT emitted {turn_end} and kept going with eos_token_id=1; with [1, {turn_id}] "
                "it stopped).",
                None,
                Fix(f"Set eos_token_id to [1, {turn_id}] in generation_config.json", "display-only"),
            )
    for fact in setup.all("generate_eos_token_id"):
        if is_resolved(fact.value) and str(fact.value).endswith("eos_token_id") and "[" not in str(fact.value):
            yield Diagnostic(
                fact.location,
                f"generate(eos_token_id={fact.value}) on a Gemma chat: that is <eos> (1) alone, and it replaces the "
                f"generation config's list, so generation no longer stops at {turn_end} ({turn_id}){inferred}, "
                "where a chat turn ends (measured on a tiny Gemma 3: with eos_token_id=1 it ran on past the turn).",
                None,
                Fix(
                    f"Leave eos_token_id out (the generation config has [1, {turn_id}]), or pass "
                    f'[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("{turn_end}")]',
                    "display-only",
                ),
            )
