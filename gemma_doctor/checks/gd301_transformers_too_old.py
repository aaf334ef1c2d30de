"""GD301: a transformers release that cannot load the model family (or maps it to the wrong class)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, upgrade, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD301")
def transformers_too_old(setup: Setup):
    fact = setup.version("transformers")
    if fact is None or fact.version is None:
        return
    family = setup.family_name
    version = fact.version
    gemma3, gemma3n = versioned("transformers", "loads_gemma3"), versioned("transformers", "loads_gemma3n")
    crash = versioned("transformers", "hybridcache_float_crash")
    mapping = versioned("transformers", "auto_causal_lm_maps_multimodal_to_text")
    if family in ("gemma3", "gemma3_text") and setup.holds("transformers", "loads_gemma3") is False:
        yield Diagnostic(
            fact.location,
            f"transformers {version} ({where(fact)}) cannot load Gemma 3: support "
            f"arrived in {gemma3.since}; older versions fail with `KeyError: 'gemma3'` / 'does not recognize "
            "this architecture'.",
            None,
            pip_fix(
                "transformers",
                ">=" + upgrade("loads_gemma3"),
                f"Gemma 3 needs >= {gemma3.since}; {crash.range} has the HybridCache eval crash",
            ),
        )
    elif family == "gemma3n" and setup.holds("transformers", "loads_gemma3n") is False:
        yield Diagnostic(
            fact.location,
            f"transformers {version} ({where(fact)}) cannot load Gemma 3n: support arrived in {gemma3n.since}.",
            None,
            pip_fix("transformers", ">=" + upgrade("loads_gemma3n"), "Gemma 3n"),
        )
    elif family == "gemma3" and setup.holds("transformers", "auto_causal_lm_maps_multimodal_to_text"):
        auto = next((f for f in setup.all("model_class") if f.value == "AutoModelForCausalLM"), None)
        if auto is not None:
            yield Diagnostic(
                auto.location,
                f"transformers {version} maps a multimodal gemma3 checkpoint loaded "
                f"through AutoModelForCausalLM to the text-only Gemma3ForCausalLM (fixed in {mapping.fixed_in}).",
                None,
                pip_fix(
                    "transformers",
                    ">=" + upgrade("auto_causal_lm_maps_multimodal_to_text"),
                    f"{mapping.fixed_in} fixes the mapping; {crash.fixed_in} the eval crash",
                ),
            )
