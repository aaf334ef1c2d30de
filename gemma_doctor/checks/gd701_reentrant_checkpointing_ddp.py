"""GD701: reentrant gradient checkpointing on a PEFT model under DDP."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import checkpointing as checkpointing_on
from gemma_doctor.checks._common import distributed
from gemma_doctor.facts import is_resolved
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import Setup, is_true


@rule("GD701")
def reentrant_checkpointing_ddp(setup: Setup):
    if not setup.is_training or setup.first("peft") is None or setup.uses_deepspeed is not None:
        return
    ddp = distributed(setup)
    if ddp is None:
        return
    checkpointing = checkpointing_on(setup, unsloth=False)
    if checkpointing is None:
        return
    if any(f.value is False for f in setup.all("ddp_find_unused_parameters")):
        return  # measured: reentrant checkpoints of a PEFT model train under DDP without the unused-parameter search
    if (
        setup.family_name == "gemma4"
        and setup.flavour == "axolotl"
        and setup.holds("axolotl", "gemma4_ddp_rewrites") is not False
    ):
        return  # Axolotl sets use_reentrant=False for Gemma 4 itself (versions.json axolotl.gemma4_ddp_rewrites)
    explicit = next((f for f in setup.all("use_reentrant") if is_resolved(f.value)), None)
    if explicit is not None:
        if not is_true(explicit.value):
            return
        why = "use_reentrant is set to True"
    else:
        default = setup.holds("transformers", "reentrant_checkpointing_default")
        if not default:
            return  # 5.x defaults to False; an unknown version claims nothing
        if setup.trl_trainer is not None and setup.holds("trl", "non_reentrant_default") is not False:
            return  # TRL (from its non_reentrant_default release; unpinned, maybe) sets use_reentrant=False itself
        why = f"transformers {setup.exact_version('transformers')} defaults use_reentrant to True"
    message = (
        f"gradient checkpointing with reentrant checkpoints ({why}) on a PEFT model under DDP "
        f"({ddp.raw_key or ddp.name} = {ddp.value}): the Trainer gives a PEFT model (not a PreTrainedModel) "
        "find_unused_parameters=True, and DDP then sees the checkpointed layers re-run in backward and fails "
        "at the first step with `RuntimeError: Expected to mark a variable ready only once` (measured on a tiny "
        "Gemma 4, two processes; peft#313, accelerate#389)."
    )
    yield Diagnostic(
        checkpointing.location,
        message,
        None,
        Fix('Pass gradient_checkpointing_kwargs={"use_reentrant": False}', "display-only"),
    )
