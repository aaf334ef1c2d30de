"""GD301-GD304: library versions that cannot work together (facts.md §4, §8)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import VersionFact
from gemma_doctor.findings import Diagnostic, Edit, Fix
from gemma_doctor.knowledge import accelerate_minimum, data, release_range, version_boundary
from gemma_doctor.pep440 import compare, parse_specifier, satisfies, version_key
from gemma_doctor.setup import Setup


def pip_fix(package: str, spec: str, why: str) -> Fix:
    return Fix(f"pip install '{package}{spec}' ({why})", "display-only", (Edit(None, "pip", (package,), spec),))


def _where(fact: VersionFact) -> str:
    if fact.origin == "installed":
        return "installed"
    return f"pinned in {fact.location.path}" if fact.location.path else fact.origin


def unsloth_constraints(setup: Setup) -> dict | None:
    """What the Unsloth in use declares: its installed Requires-Dist, else the generated data
    (rules/data/unsloth.json, every release's Requires-Dist). None for a release the data does not know."""
    unsloth = setup.version("unsloth")
    if unsloth is None or unsloth.version is None:
        return None
    if unsloth.requires:
        declared = unsloth.requires
        return {
            "unsloth": unsloth.version,
            "transformers": declared.get("transformers", ""),
            "trl": declared.get("trl", ""),
            "unsloth_zoo": _minimum(declared.get("unsloth_zoo", "")),
            "evidence": "its installed Requires-Dist",
        }
    table = data("unsloth")
    window = release_range(table["windows"], unsloth.version, table["releases"])
    zoo = release_range(table["unsloth_zoo_minimum"], unsloth.version, table["releases"])
    if window is None:
        return None
    return {
        "unsloth": unsloth.version,
        "transformers": window["transformers"],
        "trl": window["trl"],
        "unsloth_zoo": zoo["minimum"] if zoo else None,
        "evidence": f"the Requires-Dist of Unsloth {window['from']}-{window['to']}, rules/data/unsloth.json",
    }


def _minimum(specifier: str) -> str | None:
    try:
        lows = [version for op, version in parse_specifier(specifier) if op in (">=", "==")]
    except ValueError:
        return None
    return max(lows, key=version_key) if lows else None


def upgrade(fact: str) -> str:
    return version_boundary("transformers", fact, "upgrade_to")


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
            f"transformers {version} ({_where(fact)}) cannot load Gemma 3: support "
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
            f"transformers {version} ({_where(fact)}) cannot load Gemma 3n: support arrived in 4.53.0.",
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


@rule("GD302")
def unsloth_transformers_mismatch(setup: Setup):
    constraints = unsloth_constraints(setup)
    if constraints is None:
        return
    for package in ("transformers", "trl"):
        fact = setup.version(package)
        spec = constraints.get(package) or ""
        if fact is None or fact.version is None or not spec:
            continue
        try:
            fits = satisfies(fact.version, spec)
        except ValueError:
            continue
        if not fits:
            yield Diagnostic(
                fact.location,
                f"{package} {fact.version} ({_where(fact)}) is outside what Unsloth "
                f"{constraints['unsloth']} declares ({package}{spec}; {constraints['evidence']}).",
                None,
                pip_fix(package, spec, f"what Unsloth {constraints['unsloth']} supports"),
            )


@rule("GD303")
def unsloth_zoo_mismatch(setup: Setup):
    constraints = unsloth_constraints(setup)
    if constraints is None or not constraints.get("unsloth_zoo"):
        return
    minimum = constraints["unsloth_zoo"]
    zoo = setup.version("unsloth_zoo")
    if zoo is None or zoo.version is None:
        return
    try:
        too_old = compare(zoo.version, minimum) < 0
    except ValueError:
        return
    if too_old:
        yield Diagnostic(
            zoo.location,
            f"unsloth_zoo {zoo.version} ({_where(zoo)}) is older than the {minimum} that "
            f"Unsloth {constraints['unsloth']} needs ({constraints['evidence']}); the two are released together "
            "and patch each other.",
            None,
            Fix(
                "pip install --upgrade unsloth unsloth_zoo (upgrade both together)",
                "display-only",
                (Edit(None, "pip", ("unsloth_zoo",), f">={minimum}"),),
            ),
        )


@rule("GD304")
def accelerate_too_old(setup: Setup):
    transformers = setup.exact_version("transformers")
    accelerate = setup.version("accelerate")
    if transformers is None or accelerate is None or accelerate.version is None:
        return
    minimum = accelerate_minimum(transformers)
    if minimum is None:
        return
    try:
        too_old = compare(accelerate.version, minimum) < 0
    except ValueError:
        return
    if too_old:
        yield Diagnostic(
            accelerate.location,
            f"accelerate {accelerate.version} ({_where(accelerate)}) is below the "
            f"{minimum} that transformers {transformers} requires: the Trainer refuses to start with "
            f"'Using the `Trainer` with `PyTorch` requires `accelerate>={minimum}`'.",
            None,
            pip_fix("accelerate", f">={minimum}", f"required by transformers {transformers}"),
        )


@rule("GD305")
def timm_for_gemma3n(setup: Setup):
    if setup.family_name != "gemma3n":
        return
    timm = setup.version("timm")
    if timm is None or timm.version is None or setup.known("timm", "mobilenetv5") is not False:
        return
    upgrade_to = version_boundary("timm", "mobilenetv5", "upgrade_to")
    yield Diagnostic(
        timm.location,
        f"timm {timm.version} ({_where(timm)}) has no `mobilenetv5_300m_enc`, Gemma 3n's "
        f"vision encoder (added in timm {upgrade_to}): loading the model fails with `RuntimeError: "
        "Unknown model (mobilenetv5_300m_enc)` (transformers#39208).",
        None,
        pip_fix("timm", f">={upgrade_to}", "Gemma 3n's MobileNetV5 vision encoder"),
    )
