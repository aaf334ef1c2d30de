"""GD902: a run that was not judged, because its model is a family gemma-doctor has no rules for, or
could not be placed at all. Silence about such a run would read as a pass."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import training_location
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import data
from gemma_doctor.setup import Setup


def _loads_a_model(setup: Setup) -> bool:
    """A run this rule speaks for: one that trains, or loads a model."""
    return setup.is_training or bool(setup.all("model_load"))


@rule("GD902")
def not_covered(setup: Setup):
    if not _loads_a_model(setup):
        return
    family, fact = setup.family
    table = data("model_families")
    if family in table["covered"] or family == "other":
        return  # judged: a Gemma family with rules, or a model the table places outside them
    location = fact.location if fact is not None else training_location(setup)
    if location.path is None:  # a run named by its launch line, say: point at a file it reads
        location = next((f.location for f in setup.facts if f.location.path is not None), location)
    if family in table["not_covered"]:
        said = f"{fact.value}" if fact is not None else family
        yield Diagnostic(
            location,
            f"this run's model ({said}) is {table['not_covered'][family]}: no rule judged this run, so no finding "
            "here is not a pass.",
            None,
            Fix("Check the run by hand for now (see `gemma-doctor rule GD902`)", "display-only"),
        )
        return
    if not setup.is_training:
        return  # an inference or merge script whose model cannot be placed has no training rule to miss
    loads = [f for f in setup.all("model_load") + setup.all("model_id") if isinstance(f.value, str)]
    named = f" ({loads[0].value!r})" if loads else ""
    yield Diagnostic(
        loads[0].location if loads else location,
        f"the model this run loads{named} could not be placed: no config.json of it was found beside the "
        "project or in the Hugging Face cache, and its id names no family, so no rule judged this run.",
        None,
        Fix(
            "Keep the model's config.json in the project (a local folder it loads, or the nearest config), or "
            "check with the model in the Hugging Face cache",
            "display-only",
        ),
    )
