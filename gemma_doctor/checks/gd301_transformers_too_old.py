"""GD301: a transformers release that cannot load the model family (or maps it to the wrong class)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, transformers_windows, upgrade, where
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import data, versioned
from gemma_doctor.setup import Setup, fits


def _floor(setup: Setup) -> tuple[str, str] | None:
    """(the versions.json entry of the first transformers that loads this run's family, the family's name)."""
    family = setup.family_name
    if family in ("gemma3", "gemma3_text"):
        return "loads_gemma3", "Gemma 3"
    if family == "gemma3n":
        return "loads_gemma3n", "Gemma 3n"
    if family == "gemma4":
        return _gemma4_floor(setup)
    return None


def _gemma4_floor(setup: Setup) -> tuple[str, str]:
    if setup.architecture.unified:
        return "loads_gemma4_unified", "the Gemma 4 12B unified model (gemma4_unified)"
    return "loads_gemma4", "Gemma 4"


def _window_too_old(setup: Setup):
    """A framework pinned where transformers is not: the transformers it lets pip install is the run's, and
    where none of those releases loads the family, the framework is what stops the run."""
    floor = _floor(setup)
    if floor is None:
        return
    entry, what = floor
    known = data("accelerate_minimum")["releases"]  # every transformers release the data knows
    asked = setup.version("transformers")
    own = asked.spec if asked is not None and asked.spec else ""  # the project's own range, where it gives one
    for package, pin, spec, evidence in transformers_windows(setup):
        allowed = [v for v in known if fits(v, spec) and (not own or fits(v, own))]
        if allowed and not any(versioned("transformers", entry).holds(v) for v in allowed):
            since = versioned("transformers", entry).since
            yield Diagnostic(
                pin.location,
                f"{package} {pin.version} ({where(pin)}) requires transformers{spec} ({evidence}), and no such "
                f"release can load {what}: support arrived in transformers {since}, so the model fails to load "
                "with 'does not recognize this architecture'.",
                None,
                Fix.of(
                    f"Upgrade {package} to a release whose transformers window reaches {since} or later", "display-only"
                ),
            )


@rule("GD301")
def transformers_too_old(setup: Setup):
    fact = setup.version("transformers")
    if fact is None or fact.version is None:
        yield from _window_too_old(setup)
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
    elif family == "gemma4":
        entry, what = _gemma4_floor(setup)
        floor = versioned("transformers", entry)
        if setup.holds("transformers", entry) is False:
            yield Diagnostic(
                fact.location,
                f"transformers {version} ({where(fact)}) cannot load {what}: support arrived in {floor.since}; "
                "older versions fail with 'does not recognize this architecture'.",
                None,
                pip_fix("transformers", ">=" + upgrade(entry), _upgrade_why(what, str(floor.since), upgrade(entry))),
            )
    elif family == "gemma3" and setup.holds("transformers", "auto_causal_lm_maps_multimodal_to_text"):
        # A script's AutoModelForCausalLM, or TRL's for a model named by a string: every TRL that installs
        # beside 4.50.0 (<= 0.18.2) loads it that way (trl 0.16.0 sft_trainer.py L297, 0.18.2 L430).
        auto = next((f for f in setup.all("model_class") if f.value == "AutoModelForCausalLM"), None)
        string = next((f for f in setup.all("model_load") if f.raw_key == "trl-string"), None)
        load = auto or string
        if load is not None:
            how = (
                "through AutoModelForCausalLM" if auto else "by name in TRL's trainer, which uses AutoModelForCausalLM,"
            )
            yield Diagnostic(
                load.location,
                f"transformers {version} loads a multimodal gemma3 checkpoint {how} as the text-only "
                "Gemma3ForCausalLM: the language model's weights load, and the vision tower's are left unused "
                "(measured on a tiny Gemma 3: 0 missing keys, 34 unused), so the run trains and saves a "
                f"text-only model and cannot take images (fixed in {mapping.fixed_in}).",
                "warning",
                pip_fix(
                    "transformers",
                    ">=" + upgrade("auto_causal_lm_maps_multimodal_to_text"),
                    f"{mapping.fixed_in} fixes the mapping; {crash.fixed_in} the eval crash",
                ),
            )


def _upgrade_why(what: str, since: str, upgrade_to: str) -> str:
    if upgrade_to == since:
        return f"{what} needs >= {since}"
    kv = versioned("transformers", "gemma4_kv_sharing_needs_cache")
    return f"{what} needs >= {since}; {kv.range} trains E2B/E4B wrong without a cache, GD206"
