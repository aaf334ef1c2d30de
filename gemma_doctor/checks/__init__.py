"""Rule logic: pure functions of the Setup that yield Diagnostics.

A rule never opens a file, never prints and never knows whether a value came
from YAML or a notebook. The engine stamps each diagnostic with the rule's id,
name and severity from the catalogue, and applies selection and suppressions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gemma_doctor.findings import Diagnostic
from gemma_doctor.setup import Setup  # the engine has imported it already: no cost

RuleFunction = Callable[["Setup"], Iterable[Diagnostic]]
RULES: dict[str, RuleFunction] = {}


def rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    def register(function: RuleFunction) -> RuleFunction:
        RULES[rule_id] = function
        return function

    return register


def registered() -> dict[str, RuleFunction]:
    from gemma_doctor.checks import cache, model_config, precision, training, versions  # noqa: F401  (registration)

    return RULES
