"""The chat side of a run: the family's special tokens, the chat template it renders with, and
whether its tokenizer adds ``<bos>``. The tokenizer files of the model folder decide where the run has
them; otherwise the family's tokens come from rules/data/chat_tokens.json, and messages say so."""

from __future__ import annotations

from gemma_doctor.facts import Fact
from gemma_doctor.knowledge import data

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the check path
if TYPE_CHECKING:
    from gemma_doctor.setup import Setup

INFERRED = "the family's tokens, as no tokenizer_config.json of the model was found"


def family_tokens(setup: Setup) -> dict | None:
    """The special tokens of the run's Gemma family (rules/data/chat_tokens.json), or None."""
    family = setup.family_name
    if family is None:
        return None
    return data("chat_tokens")["families"].get(family)


def has_tokenizer_files(setup: Setup) -> bool:
    return any(fact.origin == "tokenizer" for fact in setup.facts)


def chat_template(setup: Setup) -> Fact | None:
    """The template apply_chat_template uses: chat_template.jinja where the folder has one (transformers
    prefers it), else tokenizer_config.json's or chat_template.json's."""
    templates = setup.all("tokenizer_chat_template")
    return next(
        (f for f in templates if (f.location.path or "").endswith(".jinja")), templates[0] if templates else None
    )


def has_generation_markers(template: str) -> bool:
    """``{% generation %}`` (any whitespace control): what assistant masks are built from."""
    import re

    return re.search(r"\{%-?\s*generation\s*-?%\}", template) is not None


def adds_bos(setup: Setup) -> tuple[bool | None, str]:
    """Whether the tokenizer adds <bos> to a string, and why: its tokenizer_config.json, else the family."""
    fact = setup.first("tokenizer_add_bos")
    if fact is not None and isinstance(fact.value, bool):
        return fact.value, f"add_bos_token: {str(fact.value).lower()} in {fact.location.path}"
    tokens = family_tokens(setup)
    if tokens is None:
        return None, ""
    return tokens["adds_bos"], INFERRED


def template_writes_bos(setup: Setup) -> bool | None:
    template = chat_template(setup)
    if template is not None:
        return "bos_token" in str(template.value) or "<bos>" in str(template.value)
    tokens = family_tokens(setup)
    return None if tokens is None else tokens["template_writes_bos"]
