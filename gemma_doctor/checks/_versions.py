"""Helpers of the version rules (GD301-GD306): pip advice, where a pin was read, and what an Unsloth
release declares. Nothing here is a rule."""

from __future__ import annotations

from gemma_doctor.facts import VersionFact
from gemma_doctor.findings import Fix, pip
from gemma_doctor.knowledge import data, release_range, versioned
from gemma_doctor.pep440 import parse_specifier, version_key
from gemma_doctor.setup import Setup, requires_of


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
        "evidence": f"the Requires-Dist of Unsloth {window['from']}-{window['to']}",
    }


def transformers_windows(setup: Setup) -> list[tuple[str, VersionFact, str, str]]:
    """(framework, its pin, the transformers it requires, where that is read) for each framework the project
    pins exactly whose Requires-Dist bounds transformers: Unsloth and LLaMA-Factory (generated data)."""
    found = []
    unsloth = unsloth_constraints(setup)
    pin = setup.version("unsloth")
    if unsloth is not None and unsloth["transformers"] and pin is not None:
        found.append(("unsloth", pin, unsloth["transformers"], unsloth["evidence"]))
    pin = setup.version("llamafactory")
    if pin is not None and pin.version is not None and pin.origin != "installed":
        row = requires_of("llamafactory", pin.version)
        if row is not None and row["transformers"]:
            evidence = f"the Requires-Dist of LLaMA-Factory {row['from']}"
            found.append(("llamafactory", pin, row["transformers"], evidence))
    return found


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
