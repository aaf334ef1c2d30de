"""GD301-GD304: library versions that cannot work together (facts.md §4, §8)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import VersionFact
from gemma_doctor.findings import Diagnostic, Edit, Fix
from gemma_doctor.knowledge import accelerate_minimum, data
from gemma_doctor.pep440 import compare, parse_specifier, satisfies
from gemma_doctor.setup import Setup


def pip_fix(package: str, spec: str, why: str) -> Fix:
    return Fix(f"pip install '{package}{spec}' ({why})", "display-only", (Edit(None, "pip", (package,), spec),))


def _where(fact: VersionFact) -> str:
    if fact.origin == "installed":
        return "installed"
    return f"pinned in {fact.location.path}" if fact.location.path else fact.origin


def unsloth_constraints(setup: Setup) -> dict | None:
    """What the Unsloth in use declares: its own installed metadata, else vendored data."""
    unsloth = setup.version("unsloth")
    if unsloth is None or unsloth.version is None:
        return None
    dist_info = unsloth.dist_info
    if dist_info:
        from gemma_doctor.sources.versions import requires_dist

        declared = dict(requires_dist(dist_info))
        if declared:
            zoo = next((op_version for op, op_version in parse_specifier(declared.get("unsloth_zoo", ""))
                        if op == ">="), None)
            return {"unsloth": unsloth.version, "transformers": declared.get("transformers", ""),
                    "trl": declared.get("trl", ""), "unsloth_zoo": zoo, "evidence": "its installed Requires-Dist"}
    entry = None
    for release in data("unsloth")["releases"]:
        try:
            if compare(release["unsloth"], unsloth.version) <= 0:
                entry = release
        except ValueError:
            return None
    if entry is None:
        return None
    return dict(entry, evidence=f"Unsloth {entry['unsloth']}+ pins ({entry['evidence']})")


@rule("GD301")
def transformers_too_old(setup: Setup):
    fact = setup.version("transformers")
    if fact is None or fact.version is None:
        return
    family = setup.family_name
    version = fact.version
    if family in ("gemma3", "gemma3_text") and setup.known("transformers", "loads_gemma3") is False:
        yield Diagnostic(fact.location, f"transformers {version} ({_where(fact)}) cannot load Gemma 3: support "
                         "arrived in 4.50.0; older versions fail with `KeyError: 'gemma3'` / 'does not recognize "
                         "this architecture'.", None, pip_fix("transformers", ">=4.51.0", "Gemma 3 needs >= 4.50.0; "
                                                               "4.50.x has the HybridCache eval crash"))
    elif family == "gemma3n" and setup.known("transformers", "loads_gemma3n") is False:
        yield Diagnostic(fact.location, f"transformers {version} ({_where(fact)}) cannot load Gemma 3n: support "
                         "arrived in 4.53.0.", None, pip_fix("transformers", ">=4.53.0", "Gemma 3n"))
    elif family == "gemma3" and setup.known("transformers", "auto_causal_lm_maps_multimodal_to_text"):
        auto = next((f for f in setup.all("model_class") if f.value == "AutoModelForCausalLM"), None)
        if auto is not None:
            yield Diagnostic(auto.location, "transformers 4.50.0 maps a multimodal gemma3 checkpoint loaded "
                             "through AutoModelForCausalLM to the text-only Gemma3ForCausalLM (fixed in 4.50.1).",
                             None, pip_fix("transformers", ">=4.51.0", "4.50.1 fixes the mapping; 4.51.0 the eval crash"))


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
            yield Diagnostic(fact.location, f"{package} {fact.version} ({_where(fact)}) is outside what Unsloth "
                             f"{constraints['unsloth']} declares ({package}{spec}; {constraints['evidence']}).", None,
                             pip_fix(package, spec, f"what Unsloth {constraints['unsloth']} supports"))


@rule("GD303")
def unsloth_zoo_mismatch(setup: Setup):
    constraints = unsloth_constraints(setup)
    if constraints is None or not constraints.get("unsloth_zoo"):
        return
    minimum = constraints["unsloth_zoo"]
    zoo = setup.version("unsloth_zoo")
    unsloth = setup.version("unsloth")
    if zoo is None or zoo.version is None:
        return
    try:
        too_old = compare(zoo.version, minimum) < 0
    except ValueError:
        return
    if too_old:
        yield Diagnostic(zoo.location, f"unsloth_zoo {zoo.version} ({_where(zoo)}) is older than the {minimum} that "
                         f"Unsloth {unsloth.version} needs ({constraints['evidence']}); the two are released together "
                         "and patch each other.", None,
                         Fix("pip install --upgrade unsloth unsloth_zoo (upgrade both together)", "display-only",
                             (Edit(None, "pip", ("unsloth_zoo",), f">={minimum}"),)))


@rule("GD304")
def accelerate_too_old(setup: Setup):
    transformers = setup.exact_version("transformers")
    accelerate = setup.version("accelerate")
    if transformers is None or accelerate is None or accelerate.version is None:
        return
    floor = accelerate_minimum(transformers)
    if floor is None:
        return
    minimum, _cite = floor
    try:
        too_old = compare(accelerate.version, minimum) < 0
    except ValueError:
        return
    if too_old:
        yield Diagnostic(accelerate.location, f"accelerate {accelerate.version} ({_where(accelerate)}) is below the "
                         f"{minimum} that transformers {transformers} requires: the Trainer refuses to start with "
                         f"'Using the `Trainer` with `PyTorch` requires `accelerate>={minimum}`'.", None,
                         pip_fix("accelerate", f">={minimum}", f"required by transformers {transformers}"))
