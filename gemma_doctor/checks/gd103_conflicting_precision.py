"""GD103: precision settings that contradict each other (fp16 and bf16 both on, hard-coded DeepSpeed
values, an accelerate config that wins or loses silently)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import is_resolved
from gemma_doctor.findings import Diagnostic, Fix, setting
from gemma_doctor.setup import Setup, is_true


@rule("GD103")
def conflicting_precision(setup: Setup):
    flavour = setup.flavour
    for flag, both_message in (
        ("", "At most one of fp16 and bf16 can be True, but not both"),
        ("_full_eval", "At most one of fp16 and bf16 can be True for full eval, but not both"),
    ):
        fp16 = [f for f in setup.all(f"fp16{flag}") if is_true(f.value)]
        bf16 = [f for f in setup.all(f"bf16{flag}") if is_true(f.value)]
        for fact in fp16:
            partner = next((f for f in bf16 if f.location.path == fact.location.path), None)
            if partner is None:
                continue
            if flavour == "axolotl" and not flag:
                yield Diagnostic(
                    fact.location,
                    "fp16 and bf16 are both true; Axolotl silently turns fp16 off, so bf16 "
                    "wins. Remove fp16 to say what runs.",
                    "warning",
                    Fix.of("Set fp16 to false", "safe", setting(fact, False)),
                )
            else:
                yield Diagnostic(
                    fact.location,
                    f"fp16{flag} and bf16{flag} are both true: TrainingArguments raises "
                    f"`ValueError: {both_message}` before the first step.",
                    "error",
                    Fix.of(
                        f"Keep bf16{flag} and set fp16{flag} to false",
                        "safe",
                        setting(fact, False),
                    ),
                )
    yield from _deepspeed_mismatch(setup)
    yield from _accelerate_disagreement(setup)


def _deepspeed_mismatch(setup: Setup):
    """Transformers compares hard-coded DeepSpeed fp16/bf16 with TrainingArguments and raises (docs/evidence: DeepSpeed and the training arguments)."""
    if not setup.is_training or (setup.flavour in ("axolotl", "llamafactory") and not setup.all("fp16")):
        return
    if any(
        not is_resolved(f.value)
        for name in ("fp16", "bf16", "fp16_full_eval", "bf16_full_eval")
        for f in setup.all(name)
    ):
        return  # a flag that cannot be resolved is not False: nothing to claim (issue 9, "unknown is not False")
    for mode in ("fp16", "bf16"):
        args_on = any(is_true(f.value) for f in setup.all(mode)) or any(
            is_true(f.value) for f in setup.all(f"{mode}_full_eval")
        )
        if mode == "bf16" and setup.trl_bf16_default is not None:
            args_on = True
        for fact in setup.all(f"deepspeed_{mode}"):
            if not isinstance(fact.value, bool) or fact.value == args_on:
                continue
            message = (
                f"DeepSpeed {mode}.enabled is hard-coded to {str(fact.value).lower()} but the training arguments "
                f"have {mode}={args_on}: transformers raises `ValueError: Please correct the following DeepSpeed "
                "config values that mismatch TrainingArguments values`."
            )
            yield Diagnostic(
                fact.location,
                message,
                "error",
                Fix.of(
                    f'Set {mode}.enabled to "auto" so DeepSpeed follows the training arguments',
                    "unsafe",
                    setting(fact, "auto"),
                ),
            )


def _accelerate_disagreement(setup: Setup):
    """TrainingArguments override ACCELERATE_MIXED_PRECISION only when fp16 or bf16 is True (docs/evidence: who wins, accelerate or the training arguments)."""
    args_mode = None
    for mode in ("fp16", "bf16"):
        if any(is_true(f.value) for f in setup.all(mode) if f.origin != "trl-default"):
            args_mode = mode
    explicit_off = any(f.value is False for f in setup.all("fp16")) or any(f.value is False for f in setup.all("bf16"))
    for name in ("accelerate_mixed_precision", "env_mixed_precision"):
        for fact in setup.all(name):
            mode = str(fact.value).lower()
            source = "the accelerate config" if name.startswith("accelerate") else "ACCELERATE_MIXED_PRECISION"
            if args_mode and mode != args_mode:
                if args_mode == "fp16" and setup.is_gemma3:  # don't align towards fp16 on Gemma 3 (GD101)
                    fix = Fix.of("Fix GD101 in the training arguments; then both can say bf16", "display-only")
                elif args_mode == "bf16" and setup.gpu is not None and not setup.gpu.supports_bf16:
                    # GD104 turns bf16 off on this GPU: aligning towards bf16 would undo its fix (fuzz D19).
                    fix = Fix.of(
                        "Fix GD104 in the training arguments first (this GPU has no bf16); then make both say the same",
                        "display-only",
                    )
                else:
                    fix = Fix.of(
                        f"Set mixed_precision to {args_mode} so both say what runs",
                        "safe",
                        setting(fact, args_mode),
                    )
                yield Diagnostic(
                    fact.location,
                    f"{source} says mixed_precision={mode} but the training arguments set "
                    f"{args_mode}=True; the training arguments win, so this setting is ignored.",
                    "warning",
                    fix,
                )
            elif args_mode is None and explicit_off and mode in ("fp16", "bf16") and setup.is_training:
                yield Diagnostic(
                    fact.location,
                    f"{source} says mixed_precision={mode} while the training arguments "
                    f"have fp16 and bf16 off; {source} wins (TrainingArguments override it only when a "
                    f"flag is True), so {mode} autocast is active although the script looks like fp32.",
                    "warning",
                    Fix.of(
                        "Make them agree: set mixed_precision to no, or set the flag in the training arguments",
                        "display-only",
                    ),
                )
