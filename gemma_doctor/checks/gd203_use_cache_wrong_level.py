"""GD203: use_cache switched off only at the top of a multimodal Gemma 3 config, where the language
model does not read it."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.findings import Diagnostic, Fix, in_document, retarget
from gemma_doctor.setup import Setup, is_true


@rule("GD203")
def use_cache_wrong_level(setup: Setup):
    if not setup.multimodal:
        return
    top = [f for f in setup.all("config_use_cache") + setup.all("code_use_cache") if f.value is False]
    text = setup.first("code_text_use_cache") or setup.first("text_config_use_cache")
    if not top or (text is not None and not is_true(text.value)):
        return
    config = setup.first("model_config")
    for fact in top:
        message = (
            "use_cache is false only at the top level of a multimodal gemma3 config; the language model "
            "reads text_config.use_cache, which stays "
            + ("true" if text is not None else "true (the default)")
            + ". The switch has no effect: evaluation still builds a HybridCache."
        )
        # In code the assignment itself moves one level down; in config.json the text_config key is set.
        edit = retarget(fact, "text_config") if fact.name == "code_use_cache" else None
        edit = edit or in_document(config, ("text_config", "use_cache"), False)
        yield Diagnostic(fact.location, message, None, Fix.of("Set text_config.use_cache to false", "safe", edit))
