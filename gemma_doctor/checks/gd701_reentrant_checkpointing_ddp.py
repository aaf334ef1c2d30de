"""GD701: reentrant gradient checkpointing on a PEFT model under DDP."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import checkpointing as checkpointing_on
from gemma_doctor.checks._common import distributed
from gemma_doctor.facts import is_resolved
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.setup import Setup, is_true


def _only_peft_prepares(setup: Setup, checkpointing) -> bool:
    """Checkpointing that only PEFT's prepare_model_for_kbit_training turns on (no Trainer that re-enables it
    with transformers' own kwargs), with a PEFT whose empty kwargs leave torch's reentrant default."""
    if checkpointing.name != "peft_kbit_checkpointing" or setup.truthy("gradient_checkpointing"):
        return False
    if setup.first("code_gradient_checkpointing") is not None:
        return False
    trl_default = (
        setup.trl_trainer == "SFTTrainer"
        and setup.holds("trl", "gradient_checkpointing_default") is not False
        and not setup.all("gradient_checkpointing")
    )
    return not trl_default and setup.holds("peft", "kbit_checkpointing_kwargs_none") is False


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
        if default is False and _only_peft_prepares(setup, checkpointing):
            # 5.x's False default reaches only None kwargs: a PEFT before 0.22 passes {} (measured)
            peft = setup.exact_version("peft")
            why = (
                f"only prepare_model_for_kbit_training turns it on, and peft {peft} passes empty checkpointing "
                "kwargs, which transformers 5 hands to torch without its use_reentrant=False, so torch checkpoints "
                "reentrant"
            )
        elif not default:
            return  # 5.x defaults to False; an unknown version claims nothing
        elif setup.trl_trainer is not None and setup.holds("trl", "non_reentrant_default") is not False:
            return  # TRL (from its non_reentrant_default release; unpinned, maybe) sets use_reentrant=False itself
        else:
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
