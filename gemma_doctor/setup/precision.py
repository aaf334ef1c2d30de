"""The precision a run will really use, and who decides it: the training arguments, the accelerate
config or environment, DeepSpeed, TRL's default, Axolotl, or Unsloth's trainer patch."""

from __future__ import annotations

from gemma_doctor.facts import Fact, is_resolved
from gemma_doctor.knowledge import unsloth_lists_gemma4, versioned
from gemma_doctor.records import field, record
from gemma_doctor.setup.values import dtype_name, is_true

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the check path
if TYPE_CHECKING:
    from gemma_doctor.setup import Setup


@record(slots=True)
class Precision:
    """The mixed precision the run will actually use, and why."""

    mode: str | None  # "fp16", "bf16", "no", or None when nothing says or it cannot be resolved
    fact: Fact | None
    why: str
    requests: list[tuple[str, Fact]] = field(default_factory=list)  # every source that asks for a mode
    unknown: bool = False  # a flag that decides it could not be resolved statically
    decided_by: str | None = None  # the framework that overrode the files ("Unsloth 2025.3.19")


def flag(setup: Setup, name: str) -> tuple[Fact | None, Fact | None]:
    """(the fact that turns ``name`` on, an unresolved fact for it) from the training arguments."""
    unresolved = None
    for fact in setup.all(name):
        if fact.value == "auto":
            if name == "bf16" and setup.flavour == "axolotl":
                return fact, None  # Axolotl: is_torch_bf16_gpu_available(), True on any current GPU
            continue
        if not is_resolved(fact.value):
            unresolved = unresolved or fact
            continue
        if is_true(fact.value):
            return fact, None
    return None, unresolved


def argument_flag(setup: Setup, name: str) -> Fact | None:
    return flag(setup, name)[0]


def effective(setup: Setup) -> Precision:
    requests: list[tuple[str, Fact]] = []
    for mode in ("fp16", "bf16"):
        for name in (mode, f"{mode}_full_eval"):
            requests.extend(
                (mode, fact)
                for fact in setup.all(name)
                if is_true(fact.value) or (fact.value == "auto" and mode == "bf16" and setup.flavour == "axolotl")
            )
    for fact in setup.all("accelerate_mixed_precision") + setup.all("env_mixed_precision"):
        mode = str(fact.value).lower()
        if mode in ("fp16", "bf16"):
            requests.append((mode, fact))
    for mode in ("fp16", "bf16"):
        for fact in setup.all(f"deepspeed_{mode}"):
            if fact.value is True:
                requests.append((mode, fact))
    default = setup.trl_bf16_default
    if default is not None:
        requests.append(("bf16", default))
    swift = swift_default(setup)
    if swift is not None:
        requests.append((swift.name, swift))
    unsloth = unsloth_precision(setup, requests)
    if unsloth is not None:
        return unsloth

    fp16, fp16_unknown = flag(setup, "fp16")
    bf16, bf16_unknown = flag(setup, "bf16")
    if fp16 is not None and bf16 is not None:
        if setup.flavour == "axolotl":  # resolve_dtype: bf16 wins, fp16 is turned off
            return Precision("bf16", bf16, "Axolotl turns fp16 off when bf16 is on", requests, decided_by="Axolotl")
        return Precision("bf16", bf16, "both fp16 and bf16 are set", requests)
    if fp16 is not None:
        return Precision("fp16", fp16, "training arguments set fp16", requests)
    if bf16 is not None:
        if bf16.value == "auto":
            return Precision("bf16", bf16, versioned("axolotl", "bf16_auto").provenance, requests, decided_by="Axolotl")
        return Precision("bf16", bf16, "training arguments set bf16", requests)
    unresolved = fp16_unknown or bf16_unknown
    if unresolved is not None:
        return Precision(
            None,
            unresolved,
            f"{unresolved.raw_key or unresolved.name} = {unresolved.value!r} cannot be resolved statically",
            requests,
            unknown=True,
        )
    if default is not None:
        return Precision("bf16", default, "TRL >= 0.19 configs default bf16 to True", requests, decided_by="TRL")
    if swift is not None:
        return Precision(swift.name, swift, swift_why(setup, swift.name), requests, decided_by="ms-swift")
    # TrainingArguments override ACCELERATE_MIXED_PRECISION only when fp16 or bf16 is
    # True; otherwise the accelerate config / env var wins (docs/evidence/README.md).
    for name in ("accelerate_mixed_precision", "env_mixed_precision"):
        source = setup.first(name)
        if source is not None and str(source.value).lower() in ("fp16", "bf16", "no"):
            fact = source
            mode = str(fact.value).lower()
            if name.startswith("accelerate"):
                why = "the accelerate config sets mixed_precision"
            elif fact.origin == "launch":
                why = f"accelerate launch --mixed_precision={mode} ({fact.location.display()})"
            else:
                why = "ACCELERATE_MIXED_PRECISION is set"
            return Precision(mode, fact, why, requests)
    for mode in ("fp16", "bf16"):
        enabling = next((f for f in setup.all(f"deepspeed_{mode}") if f.value is True), None)
        if enabling is not None:
            return Precision(mode, enabling, f"the DeepSpeed config enables {mode}", requests)
    if any(f.name in ("fp16", "bf16") for f in setup.facts):
        return Precision("no", setup.first("fp16") or setup.first("bf16"), "fp16 and bf16 are off", requests)
    return Precision(None, None, "no source sets a precision", requests)


def unsloth_precision(setup: Setup, requests: list[tuple[str, Fact]]) -> Precision | None:
    """Unsloth's trainer patch picks the precision itself (versions.json unsloth.precision_patch)."""
    if not setup.unsloth_decides:
        return None
    version = setup.exact_version("unsloth")
    if versioned("unsloth", "precision_patch").holds(version) is False:
        return None
    who = f"Unsloth {version}" if version else "Unsloth"
    if setup.gpu is None:
        return Precision(None, None, f"{who} picks the precision from the GPU", requests, unknown=True, decided_by=who)
    load = setup.first("load_dtype")
    load_fp16 = load is not None and dtype_name(load.value) == "float16"
    listed = (
        versioned("unsloth", "gemma3_forced_float32").holds(version) is not False
        if setup.is_gemma3
        else setup.family_name == "gemma4"
        and unsloth_lists_gemma4(version, setup.exact_version("unsloth_zoo")) is not False
    )
    forced = listed and (load_fp16 or not setup.gpu.supports_bf16)
    fp16, _ = flag(setup, "fp16")
    bf16, _ = flag(setup, "bf16")
    if forced:
        return Precision(
            "no",
            fp16 or bf16,
            f"{who} switches {'Gemma 4' if setup.family_name == 'gemma4' else 'Gemma 3'} to float32 training on "
            "this GPU ('Unsloth: "
            "Switching to float32 training since model cannot work with float16')",
            requests,
            decided_by=who,
        )
    if fp16 is None and bf16 is None:
        mode = "fp16" if load_fp16 or not setup.gpu.supports_bf16 else "bf16"
        return Precision(
            mode,
            None,
            f"{who} turns on {mode} when neither flag is set ({versioned('unsloth', 'precision_patch').cite})",
            requests,
            decided_by=who,
        )
    return None  # the flags stand; a mismatch with the model dtype is GD101/GD103's to judge


def trl_bf16_default(setup: Setup) -> Fact | None:
    """TRL >= 0.19: every config's bf16 defaults to ``not fp16`` when unset (docs/evidence/audit.md).
    Unsloth replaces it and picks the precision itsetup."""
    trl_config = next((f for f in setup.all("trainer_flavour") if f.value in ("trl", "trl-sft")), None)
    if trl_config is None or setup.all("bf16") or argument_flag(setup, "fp16") or setup.uses_unsloth:
        return None
    if setup.flavour != "trl":
        return None
    if not all(is_resolved(f.value) for f in setup.all("fp16")):
        return None
    if setup.holds("trl", "bf16_default") is False:
        return None  # a TRL before the default (pinned, or every release that installs beside the pins)
    edit = (trl_config.edit[0], ("bf16",)) if trl_config.edit else None  # where bf16 would be written
    return Fact("bf16", True, trl_config.location, "trl-default", raw_key="bf16", edit=edit)


# ms-swift's _init_mixed_precision: float16 and float32 weights turn fp16 on, bfloat16 weights bf16.
SWIFT_MODES = {"float16": "fp16", "float32": "fp16", "bfloat16": "bf16"}


def swift_default(setup: Setup) -> Fact | None:
    """ms-swift >= 3.0 sets a flag left unset from the weights' dtype (docs/evidence/frameworks.md), so
    ``torch_dtype: float16`` (or float32) is an fp16 run. The flag is placed where that dtype comes from."""
    if setup.flavour != "swift" or setup.holds("ms_swift", "precision_from_torch_dtype") is False:
        return None
    weights = setup.weights_dtype
    mode = SWIFT_MODES.get(weights.dtype or "")
    if mode is None or setup.all(mode) or not all(is_resolved(f.value) for f in setup.all("load_dtype")):
        return None
    arguments = next((f for f in setup.all("trainer_flavour") if f.value == "swift"), None)
    where = weights.fact if weights.fact is not None and weights.fact.name == "load_dtype" else arguments
    if where is None:
        return None
    edit = (arguments.edit[0], (mode,)) if arguments is not None and arguments.edit else None  # a file's root key
    return Fact(mode, True, where.location, "swift-default", raw_key=mode, edit=edit)


def swift_why(setup: Setup, mode: str) -> str:
    return (
        f"ms-swift turns {mode} on when it is unset, from the weights' dtype ({setup.weights_dtype.dtype}: "
        f"{setup.weights_dtype.why})"
    )


def mixed_precision_active(setup: Setup) -> bool:
    mode = setup.precision.mode
    if mode == "fp16" and setup.runs_on_cpu:
        return False  # accelerate ignores fp16 on the CPU (docs/evidence/hybridcache.md)
    return mode in ("fp16", "bf16")


def runs_on_cpu(setup: Setup) -> bool:
    return setup.truthy("use_cpu") is not None
