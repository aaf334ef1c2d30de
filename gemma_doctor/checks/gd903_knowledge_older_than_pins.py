"""GD903: a version the project pins that is newer than the releases this gemma-doctor's data knows, so
its version rules may be incomplete for it."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import data
from gemma_doctor.pep440 import compare
from gemma_doctor.setup import Setup


@rule("GD903")
def knowledge_older_than_pins(setup: Setup):
    knowledge = data("versions")["knowledge"]
    for package, newest in knowledge["known_through"].items():
        pin = setup.project_version(package)
        if pin is None or pin.version is None:
            continue  # only a version the project itself fixes: an installed one is the user's machine
        try:
            newer = compare(pin.version, newest) > 0
        except ValueError:
            continue
        if newer:
            yield Diagnostic(
                pin.location,
                f"{package} {pin.version} is newer than this release's knowledge ({knowledge['checked']}: "
                f"through {package} {newest}): version rules may be incomplete for it.",
                None,
                Fix("Upgrade gemma-doctor, or check that release's notes by hand", "display-only"),
            )
