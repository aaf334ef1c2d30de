"""GD503: `evaluation_strategy`, which transformers 4.51 removed."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.findings import Diagnostic, Fix, renamed
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD503")
def evaluation_strategy_removed(setup: Setup):
    for fact in setup.all("eval_strategy"):
        if fact.raw_key != "evaluation_strategy":
            continue
        removed = setup.holds("transformers", "evaluation_strategy_removed")
        if removed is False:
            continue
        version = setup.exact_version("transformers")
        since = versioned("transformers", "evaluation_strategy_removed").since
        if removed:
            message = (
                f"evaluation_strategy was removed in transformers {since} and this project uses {version}: "
                "`TypeError: __init__() got an unexpected keyword argument 'evaluation_strategy'`."
            )
            severity = "error"
        else:
            message = (
                f"evaluation_strategy is deprecated and was removed in transformers {since} "
                "(TypeError: unexpected keyword argument); use eval_strategy."
            )
            severity = "warning"
        yield Diagnostic(
            fact.location,
            message,
            severity,
            Fix.of("Rename evaluation_strategy to eval_strategy", "safe", renamed(fact, "eval_strategy")),
        )
