"""GD306: two pinned packages whose Requires-Dist exclude each other, so pip cannot install the stack (and
gemma-doctor does not reason from the semantics of a release that cannot be installed)."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.setup import REQUIRES_TABLES, Setup

_NAMES = {"trl": "TRL", "llamafactory": "LLaMA-Factory"}


@rule("GD306")
def pins_cannot_install(setup: Setup):
    for package in REQUIRES_TABLES:
        pin = setup.project_version(package)
        if pin is None or pin.version is None:
            continue
        for dependency, spec, other in setup.uninstallable_with(package, pin):
            yield Diagnostic(
                pin.location,
                f"{package} {pin.version} ({where(pin)}) requires {dependency}{spec}, but the project pins "
                f"{dependency} {other.version} ({where(other)}): pip cannot install both, so this stack never "
                f"runs. The other rules take {_NAMES[package]}'s version as unknown here.",
                None,
                pip_fix(dependency, spec, f"what {package} {pin.version} requires"),
            )
