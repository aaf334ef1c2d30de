"""Helpers of the version rules (GD301-GD306): pip advice, where a pin was read, and what an Unsloth
release declares. Nothing here is a rule."""

from __future__ import annotations

from gemma_doctor.facts import VersionFact
from gemma_doctor.findings import Fix, pip
from gemma_doctor.knowledge import data, release_range, versioned
from gemma_doctor.pep440 import parse_specifier, version_key
from gemma_doctor.setup import Setup


def pip_fix(package: str, spec: str, why: str) -> Fix:
    return Fix.of(f"pip install '{package}{spec}' ({why})", "display-only", pip(package, spec))


def where(fact: VersionFact) -> str:
    if fact.origin == "installed":
        return "installed"
    return f"pinned in {fact.location.path}" if fact.location.path else fact.origin


def unsloth_constraints(setup: Setup) -> dict | None:
    """What the Unsloth in use declares: its installed Requires-Dist, else the generated data
    (rules/data/unsloth.json, every release's Requires-Dist). None for a release the data does not know."""
    unsloth = setup.version("unsloth")
    if unsloth is None or unsloth.version is None:
        return None
    if unsloth.requires:
        declared = unsloth.requires
        return {
            "unsloth": unsloth.version,
            "transformers": declared.get("transformers", ""),
            "trl": declared.get("trl", ""),
            "unsloth_zoo": minimum(declared.get("unsloth_zoo", "")),
            "evidence": "its installed Requires-Dist",
        }
    table = data("unsloth")
    window = release_range(table["windows"], unsloth.version, table["releases"])
    zoo = release_range(table["unsloth_zoo_minimum"], unsloth.version, table["releases"])
    if window is None:
        return None
    return {
        "unsloth": unsloth.version,
        "transformers": window["transformers"],
        "trl": window["trl"],
        "unsloth_zoo": zoo["minimum"] if zoo else None,
        "evidence": f"the Requires-Dist of Unsloth {window['from']}-{window['to']}, rules/data/unsloth.json",
    }


def minimum(specifier: str) -> str | None:
    try:
        lows = [version for op, version in parse_specifier(specifier) if op in (">=", "==")]
    except ValueError:
        return None
    return max(lows, key=version_key) if lows else None


def upgrade(fact: str) -> str:
    release = versioned("transformers", fact).upgrade_to
    if release is None:
        raise KeyError(f"versions.json transformers.{fact} names no release to upgrade to")
    return release
