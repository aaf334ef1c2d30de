"""GD304: accelerate below what the transformers release requires (generated data)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.knowledge import accelerate_minimum
from gemma_doctor.pep440 import compare
from gemma_doctor.setup import Setup


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
            f"accelerate {accelerate.version} ({where(accelerate)}) is below the "
            f"{minimum} that transformers {transformers} requires: the Trainer refuses to start with "
            f"'Using the `Trainer` with `PyTorch` requires `accelerate>={minimum}`'.",
            None,
            pip_fix("accelerate", f">={minimum}", f"required by transformers {transformers}"),
        )
