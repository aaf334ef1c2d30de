"""GD305: Gemma 3n with a timm that has no MobileNetV5 encoder."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.checks._versions import pip_fix, where
from gemma_doctor.findings import Diagnostic
from gemma_doctor.knowledge import versioned
from gemma_doctor.setup import Setup


@rule("GD305")
def timm_for_gemma3n(setup: Setup):
    if setup.family_name != "gemma3n":
        return
    timm = setup.version("timm")
    if timm is None or timm.version is None or setup.holds("timm", "mobilenetv5") is not False:
        return
    upgrade_to = versioned("timm", "mobilenetv5").upgrade_to
    yield Diagnostic(
        timm.location,
        f"timm {timm.version} ({where(timm)}) has no `mobilenetv5_300m_enc`, Gemma 3n's "
        f"vision encoder (added in timm {upgrade_to}): loading the model fails with `RuntimeError: "
        "Unknown model (mobilenetv5_300m_enc)` (transformers#39208).",
        None,
        pip_fix("timm", f">={upgrade_to}", "Gemma 3n's MobileNetV5 vision encoder"),
    )
