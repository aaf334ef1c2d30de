"""GD704: LoRA target_modules held against the linear module paths of the Gemma class the project's
transformers builds (rules/data/module_names.json, generated per release on the meta device). A target
that names a path of another release (language_model.model.layers before 4.52, model.language_model.layers
after) matches nothing there: peft raises, or, beside targets that do match, that part goes unadapted."""

from __future__ import annotations

import re

from gemma_doctor.checks import rule
from gemma_doctor.checks._common import chooses_lora_targets
from gemma_doctor.checks._versions import where
from gemma_doctor.findings import Diagnostic, Fix
from gemma_doctor.knowledge import data
from gemma_doctor.pep440 import compare
from gemma_doctor.setup import Setup
from gemma_doctor.setup.adapters import lora_arguments

_LAYERS = 64  # layer indices a regex is tried on: every Gemma has fewer layers


def _class_of(setup: Setup) -> str | None:
    """The class whose module tree the adapter wraps: the loaded class, or what AutoModel gives the family."""
    for fact in setup.all("model_class"):
        if str(fact.value).startswith("Gemma"):
            return str(fact.value)
    family = setup.family_name
    if family in ("gemma3_text",):
        return "Gemma3ForCausalLM"
    if family == "gemma3":
        return "Gemma3ForConditionalGeneration"
    if family == "gemma2":
        return "Gemma2ForCausalLM"
    if family == "gemma4":
        return "Gemma4ForConditionalGeneration" if setup.architecture.towers.value else None
    return None


def _releases(version: str) -> list[dict]:
    """The generated releases that bound ``version``: the one at or below it and the one above (if any)."""
    releases = data("module_names")["releases"]
    below = [r for r in releases if compare(r["generated_with"], version) <= 0]
    above = [r for r in releases if compare(r["generated_with"], version) > 0]
    if not below:
        return []
    return [below[-1]] + ([above[0]] if above and compare(below[-1]["generated_with"], version) < 0 else [])


def _matches(target: str, names: list[str], regex: bool) -> list[str]:
    """PEFT's rule: a string is a full-match regex; a list entry matches a path equal to it or ending in .entry."""
    if regex:
        pattern = re.compile(target)
        found = []
        for name in names:
            candidates = [name.replace("{N}", str(i)) for i in range(_LAYERS)] if "{N}" in name else [name]
            if any(pattern.fullmatch(c) for c in candidates):
                found.append(name)
        return found
    shape = re.sub(r"\.\d+(?=\.|$)", ".{N}", target)
    return [n for n in names if n == shape or n.endswith("." + shape)]


def _nearest(entry: str, names: list[str]) -> str:
    """The path of this release most like ``entry``: most words in common, the same last name first."""
    words = set(re.split(r"[^a-z_]+", entry.lower())) - {""}
    last = re.split(r"[^a-z_]+", entry.lower().rstrip(")$"))[-1] if entry else ""

    def score(name: str) -> tuple[int, int]:
        parts = set(name.lower().split("."))
        return (int(name.endswith("." + last) or name == last), len(words & parts))

    return max(names, key=score)


@rule("GD704")
def lora_targets_miss(setup: Setup):
    trains = setup.is_training and setup.first("peft") is not None and not chooses_lora_targets(setup)
    if not trains and setup.first("adapter_saved") is None:  # nor loads a saved adapter (merge, inference)
        return
    target = lora_arguments(setup).get("target_modules")
    if target is None:
        return
    value, fact = target
    if value == "all-linear" or not isinstance(value, (str, list)):
        return
    version = setup.version("transformers")
    cls = _class_of(setup)
    if version is None or not version.version or cls is None:
        return
    releases = [r for r in _releases(version.version) if cls in r["classes"]]
    if not releases:
        return
    regex = isinstance(value, str)
    entries: list[str] = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
    missing: list[str] = []
    for entry in entries:
        try:
            if not any(_matches(entry, release["classes"][cls], regex) for release in releases):
                missing.append(entry)
        except re.error:
            return  # peft would raise on the pattern itself; not this rule's to say
    if not missing:
        return
    example = _nearest(missing[0], releases[-1]["classes"][cls])
    all_miss = len(missing) == len(entries)
    outcome = (
        'peft raises as it builds the adapter ("Target modules ... not found in the base model")'
        if all_miss
        else "those parts get no adapter, silently"
    )
    saved = fact.origin == "adapter"
    yield Diagnostic(
        fact.location,
        f"target_modules {', '.join(repr(m) for m in missing)} match no linear module of {cls} on transformers "
        f"{version.version} ({where(version)}): {outcome}. This release names them like {example.replace('{N}', '0')} "
        f"(generated from the class on the meta device: the paths move between releases).",
        None,
        Fix(
            "Load the saved adapter on the transformers it was trained with (its names are that release's), or retrain it"
            if saved
            else f"Write the targets as this release names them (e.g. {example.replace('{N}', '0').rsplit('.', 1)[-1]!r} "
            f"for every such layer, or a regex on {example.split('.layers.')[0]!r}), or pin the transformers the "
            "targets were written for",
            "display-only",
        ),
    )
