"""Rule logic: pure functions of the Setup that yield Diagnostics, one module per rule.

A rule never opens a file, never prints and never knows whether a value came from YAML or a
notebook. The engine stamps each diagnostic with the rule's id, name and severity from the
catalogue, and applies selection and suppressions.

Each rule lives in ``checks/<id>_<name>.py`` (``gd105_trl_qlora_bf16_adapters.py`` for GD105
``trl-qlora-bf16-adapters``), a name worked out from the catalogue entry, so a check imports the
modules of the selected rules only. Helpers that several rules share are in ``_common.py``,
``_precision.py`` and ``_versions.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from gemma_doctor.errors import UsageError
from gemma_doctor.findings import Diagnostic
from gemma_doctor.knowledge import catalogue
from gemma_doctor.setup import Setup  # the engine has imported it already: no cost

RuleFunction = Callable[["Setup"], Iterable[Diagnostic]]
RULES: dict[str, RuleFunction] = {}
# Rules the engine runs itself, on something other than a Setup (GD901: the suppression comments).
ENGINE_RULES = ("GD901",)


def rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    def register(function: RuleFunction) -> RuleFunction:
        RULES[rule_id] = function
        return function

    return register


def module_name(rule_id: str, name: str) -> str:
    """The module that holds a rule: its id and its name, as Python spells them."""
    return f"{rule_id.lower()}_{name.replace('-', '_')}"


def registered(rule_ids: Iterable[str] | None = None) -> dict[str, RuleFunction]:
    """The rule functions of ``rule_ids`` (default: every rule of the catalogue), importing only their modules."""
    docs = catalogue()
    wanted = list(docs) if rule_ids is None else list(rule_ids)
    for rule_id in wanted:
        if rule_id in RULES or rule_id in ENGINE_RULES:
            continue
        __import__(f"{__name__}.{module_name(rule_id, docs[rule_id].name)}")
    return {rule_id: RULES[rule_id] for rule_id in wanted if rule_id in RULES}


def unindexed_modules() -> list[str]:
    """Rule modules that the catalogue index does not name: a rule added without regenerating
    ``rules/index.json``."""
    known = {module_name(doc.id, doc.name) for doc in catalogue().values()}
    here = os.path.dirname(__file__)
    return sorted(
        name[:-3]
        for name in os.listdir(here)
        if name.startswith("gd") and name.endswith(".py") and name[:-3] not in known
    )


def check_index() -> None:
    """A one-line usage error, not an internal error, when a rule module is not in the index."""
    stale = unindexed_modules()
    if stale:
        raise UsageError(
            f"rule module{'s' if len(stale) > 1 else ''} {', '.join(stale)} not in rules/index.json: "
            "run `python scripts/new_rule.py --regenerate`"
        )
