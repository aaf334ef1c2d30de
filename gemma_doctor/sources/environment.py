"""The environment of the checking process: ACCELERATE_MIXED_PRECISION, which accelerate launch exports."""

from __future__ import annotations

from gemma_doctor.facts import Fact, Location


def environment_facts(environ: dict[str, str]) -> list[Fact]:
    value = environ.get("ACCELERATE_MIXED_PRECISION")
    if value is None:
        return []
    location = Location(None, key="ACCELERATE_MIXED_PRECISION")
    return [Fact("env_mixed_precision", value, location, "environment", raw_key="ACCELERATE_MIXED_PRECISION")]
