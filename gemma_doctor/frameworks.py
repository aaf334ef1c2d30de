"""What the training frameworks change before training starts (``rules/data/frameworks.json``).

The Setup asks these questions; the answers carry the framework's own source as provenance
("use_cache: false, set by Axolotl, loaders/utils.py L63-71"). Version boundaries live in
the data as PEP 440 specifiers; this module only evaluates them.
"""

from __future__ import annotations

from gemma_doctor.knowledge import data
from gemma_doctor.pep440 import satisfies


def behaviour(framework: str, key: str) -> dict:
    return data("frameworks")[framework][key]


def applies(framework: str, key: str, version: str | None) -> bool | None:
    """Whether the behaviour is in this version of the framework. An unknown version is
    the framework's current release when the data says so (``assume``), else unknown (None)."""
    entry = behaviour(framework, key)
    if version is None:
        return True if entry.get("assume") else None
    try:
        return satisfies(version, entry["versions"])
    except ValueError:
        return None


def provenance(framework: str, key: str) -> str:
    entry = behaviour(framework, key)
    return f"{entry['why']} ({entry['cite']})" if "why" in entry else entry["cite"]


def trl_string_load_dtype(trl_version: str | None) -> str | None:
    """The dtype TRL loads a model named by a string in, when no dtype is given."""
    if trl_version is None:
        return None
    entry = behaviour("trl", "string_load_dtype")
    for dtype in ("float32", "auto"):
        try:
            if satisfies(trl_version, entry[dtype]):
                return dtype
        except ValueError:
            return None
    return None
