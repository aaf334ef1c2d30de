"""One verdict from the static findings and what the tiny run exercised. No torch here.

Each static finding gets one state:

- ``confirmed``: the run failed the way the rule says;
- ``refuted``: everything the rule's claim depends on was exercised, and the run passed;
- ``not exercised``: something the claim depends on was not part of the run, with the reason.

The verdict is ``passed`` only when no error-level finding is confirmed or left unexercised
and the run used what the project uses (its stack, precision, trainer, adapter, 4-bit loading,
Unsloth); ``failed`` when the run failed; else ``inconclusive``.
"""

from __future__ import annotations

from collections.abc import Mapping

PASSED, FAILED, INCONCLUSIVE, ERROR = "passed", "failed", "inconclusive", "error"
EXIT_CODES = {PASSED: 0, FAILED: 1, ERROR: 2, INCONCLUSIVE: 3}
CONFIRMED, REFUTED, NOT_EXERCISED = "confirmed", "refuted", "not exercised"

# What each rule's claim depends on. A rule is refuted only when all of these were exercised.
# Keys of the run's coverage (verify/run.py): stack, precision, evaluation, trainer, peft, four_bit,
# unsloth, real_weights, gpu, launch, and "static" for claims no run can test (a config's schema, a
# key's name, a cost rather than a crash). A rule missing here is treated as "static".
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    # fp16 overflow comes from Gemma 3's trained weights: a tiny random model can crash in the
    # GradScaler (confirmed) but can never show that fp16 is safe.
    "GD101": ("stack", "precision", "unsloth", "real_weights"),
    "GD102": ("stack", "precision", "four_bit", "unsloth", "real_weights"),
    "GD103": ("launch",),  # the tiny step runs one precision; a conflict needs the project's own launch
    "GD104": ("gpu",),
    "GD105": ("stack", "trainer", "peft", "four_bit", "precision"),
    "GD201": ("static",),  # memory and speed, not a crash
    "GD202": ("stack", "precision", "evaluation", "unsloth"),
    # verify compares the training forward with the cached one on a tiny model with shared K/V layers
    "GD206": ("stack", "trainer", "unsloth"),
    "GD203": ("stack", "precision", "evaluation", "unsloth"),
    "GD301": ("stack",),
    "GD302": ("stack", "unsloth"),
    "GD303": ("stack", "unsloth"),
    "GD304": ("stack",),
    "GD305": ("stack",),
    "GD601": ("stack", "trainer"),
    "GD701": ("launch", "peft"),
    "GD702": ("stack", "peft"),  # get_peft_model on a tiny model with the project's towers
}
# What the project itself uses. A run that could not use one of them (another stack, fp16 on the CPU, the
# plain Trainer for a KTO project, no 4-bit without CUDA, no Unsloth) did not run the user's setup, so it
# cannot pass it, whatever the findings say.
PROJECT_USES = ("stack", "precision", "trainer", "peft", "four_bit", "unsloth")
STATIC_REASON = "a static finding: a short training step cannot confirm or refute it"


def judge(
    findings: list[dict],
    coverage: Mapping[str, str | None],
    run_status: str,
    run_rule: str | None,
) -> tuple[str, list[dict]]:
    """(verdict, findings with ``state`` and ``reason``). ``coverage`` maps each capability to
    None when the run exercised it, or to the reason it did not."""
    judged = []
    confirmed_any = False
    for finding in findings:
        state, reason = _state(finding["rule"], coverage, run_status, run_rule)
        confirmed_any = confirmed_any or state == CONFIRMED
        judged.append(dict(finding, state=state, reason=reason))
    if run_status == FAILED:
        if run_rule is not None and not confirmed_any:
            judged.append(
                {
                    "rule": run_rule,
                    "severity": "error",
                    "message": "found by the run only: the static check did not report it",
                    "state": CONFIRMED,
                    "reason": None,
                }
            )
        return FAILED, judged
    if run_status == ERROR:
        return ERROR, judged
    if any(coverage.get(capability) is not None for capability in PROJECT_USES):
        return INCONCLUSIVE, judged
    if any(f["severity"] == "error" and f["state"] != REFUTED for f in judged):
        return INCONCLUSIVE, judged
    return PASSED, judged


def _state(rule: str, coverage: Mapping[str, str | None], run_status: str, run_rule: str | None):
    if run_status == FAILED and run_rule == rule:
        return CONFIRMED, None
    needs = DEPENDS_ON.get(rule, ("static",))
    if needs == ("static",):
        return NOT_EXERCISED, STATIC_REASON
    for need in needs:
        reason = coverage.get(need, f"verify does not exercise {need.replace('_', ' ')}")
        if reason is not None:
            return NOT_EXERCISED, reason
    if run_status == PASSED:
        return REFUTED, "exercised, and the run passed"
    return NOT_EXERCISED, "the run failed before it could show this"
