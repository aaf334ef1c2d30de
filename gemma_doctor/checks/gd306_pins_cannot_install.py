"""GD306: two pinned packages whose Requires-Dist exclude each other, so pip cannot install the stack (and
gemma-doctor does not reason from the semantics of a release that cannot be installed)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.setup import Setup


@rule("GD306")
def pins_cannot_install(setup: Setup):
    pin = setup.project_version("trl")
    if pin is None or pin.version is None:
        return
    for dependency, spec, other in setup.uninstallable_with("trl", pin):
        yield Diagnostic(
            pin.location,
            f"trl {pin.version} ({where(pin)}) requires {dependency}{spec}, but the project pins {dependency} "
            f"{other.version} ({where(other)}): pip cannot install both, so this stack never runs. The other rules "
            "take TRL's version as unknown here.",
            None,
            pip_fix(dependency, spec, f"what trl {pin.version} requires"),
        )
