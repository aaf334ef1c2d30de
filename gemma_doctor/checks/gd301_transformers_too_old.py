"""GD301: a transformers release that cannot load the model family (or maps it to the wrong class)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, upgrade, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.setup import Setup


@rule("GD301")
def transformers_too_old(setup: Setup):
    fact = setup.version("transformers")
    if fact is None or fact.version is None:
        return
    family = setup.family_name
    version = fact.version
    if family in ("gemma3", "gemma3_text") and setup.known("transformers", "loads_gemma3") is False:
        yield Diagnostic(
            fact.location,
            f"transformers {version} ({where(fact)}) cannot load Gemma 3: support "
            "arrived in 4.50.0; older versions fail with `KeyError: 'gemma3'` / 'does not recognize "
            "this architecture'.",
            None,
            pip_fix(
                "transformers",
                ">=" + upgrade("loads_gemma3"),
                "Gemma 3 needs >= 4.50.0; 4.50.x has the HybridCache eval crash",
            ),
        )
    elif family == "gemma3n" and setup.known("transformers", "loads_gemma3n") is False:
        yield Diagnostic(
            fact.location,
            f"transformers {version} ({where(fact)}) cannot load Gemma 3n: support arrived in 4.53.0.",
            None,
            pip_fix("transformers", ">=" + upgrade("loads_gemma3n"), "Gemma 3n"),
        )
    elif family == "gemma3" and setup.known("transformers", "auto_causal_lm_maps_multimodal_to_text"):
        auto = next((f for f in setup.all("model_class") if f.value == "AutoModelForCausalLM"), None)
        if auto is not None:
            yield Diagnostic(
                auto.location,
                "transformers 4.50.0 maps a multimodal gemma3 checkpoint loaded "
                "through AutoModelForCausalLM to the text-only Gemma3ForCausalLM (fixed in 4.50.1).",
                None,
                pip_fix(
                    "transformers",
                    ">=" + upgrade("auto_causal_lm_maps_multimodal_to_text"),
                    "4.50.1 fixes the mapping; 4.51.0 the eval crash",
                ),
            )
