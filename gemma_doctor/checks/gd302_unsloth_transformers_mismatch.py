"""GD302: transformers or TRL outside the window the Unsloth release declares."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, unsloth_constraints, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.pep440 import satisfies
from gemma_doctor.setup import Setup


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
                f"{package} {fact.version} ({where(fact)}) is outside what Unsloth "
                f"{constraints['unsloth']} declares ({package}{spec}; {constraints['evidence']}).",
                None,
                pip_fix(package, spec, f"what Unsloth {constraints['unsloth']} supports"),
            )
