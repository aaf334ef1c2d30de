"""GD105: QLoRA with fp16 through a TRL that casts the adapters to bf16."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import training_location
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import Setup
from gemma_doctor.setup.weights import trl_adapter_cast


@rule("GD105")
def trl_qlora_bf16_adapters(setup: Setup):
    cast = trl_adapter_cast(setup)
    if cast is None or setup.precision.mode != "fp16":
        return
    casts, applies = cast
    if applies is False:
        return
    trl = setup.exact_version("trl")
    fact = setup.precision.fact
    condition = "" if applies else f" if the TRL that runs is {casts.range} (the project does not pin trl)"
    message = (
        f"QLoRA with fp16 under TRL{' ' + trl if trl else ''}: "
        f"{casts.provenance}{condition}. bf16 adapter weights under fp16 "
        "mixed precision are the measured 'bf16 weights + fp16' case: the GradScaler fails with "
        "`\"_amp_foreach_non_finite_check_and_unscale_cuda\" not implemented for 'BFloat16'` (or the GPU "
        "emulates bf16 slowly)."
    )
    yield Diagnostic(
        fact.location if fact is not None else training_location(setup),
        message,
        None,
        Fix(
            f"Train in bf16 on a GPU that has it; on a T4/V100 pin trl < {casts.since} for fp16 QLoRA, or train "
            "the adapters in fp32",
            "display-only",
        ),
    )
