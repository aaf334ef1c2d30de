"""GD303: unsloth_zoo older than what the Unsloth release needs."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import unsloth_constraints, where
from gemma_doctor.findings import Diagnostic, Fix, pip
from gemma_doctor.pep440 import compare
from gemma_doctor.setup import Setup


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
            f"unsloth_zoo {zoo.version} ({where(zoo)}) is older than the {minimum} that "
            f"Unsloth {constraints['unsloth']} needs ({constraints['evidence']}); the two are released together "
            "and patch each other.",
            None,
            Fix.of(
                "pip install --upgrade unsloth unsloth_zoo (upgrade both together)",
                "display-only",
                pip("unsloth_zoo", f">={minimum}"),
            ),
        )
