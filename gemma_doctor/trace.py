"""``check --trace``: the values of a run that the rules judged, each with where it was read, so a
finding can be followed back to the lines, framework overrides, versions and GPU that decided it.
One list per run (the Setup), attached to each of its findings; the same lines go into JSON's ``trace``."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the check path
if TYPE_CHECKING:
    from gemma_doctor.facts import Fact
    from gemma_doctor.setup import Setup

_PACKAGES = ("transformers", "accelerate", "trl", "peft", "unsloth", "unsloth_zoo", "torch")


def _at(fact: Fact | None) -> str:
    if fact is None:
        return "a default"
    where = fact.location.display()
    key = fact.raw_key or fact.name
    return f"{key} = {fact.value!r} at {where}"


def lines(setup: Setup) -> list[str]:
    out = []
    family, fact = setup.family
    out.append(f"model: {family or 'not placed'}, from {_at(fact)}")
    for note in setup.notes:
        out.append(f"note: {note}")
    if family == "gemma4":
        layout = setup.architecture
        for label, trait in (
            ("shared K/V layers", layout.kv_shared_layers),
            ("experts", layout.moe),
            ("towers", layout.towers),
            ("full-attention head dim", layout.global_head_dim),
        ):
            out.append(f"{label}: {trait.value!r} ({trait.why})")
    trainer = setup.trl_trainer or (setup.flavour or "transformers")
    out.append(f"training: {'yes' if setup.is_training else 'no (a model load only)'}; framework {trainer}")
    for package in _PACKAGES:
        version = setup.version(package)
        if version is not None:
            source = "installed" if version.origin == "installed" else version.location.display()
            out.append(f"{package}: {version.version or version.spec} ({source})")
    out.append(f"GPU: {setup.gpu.describe() if setup.gpu else 'none named'}")
    precision = setup.precision
    asked = "; ".join(f"{mode} asked by {_at(request)}" for mode, request in precision.requests) or "nothing asks"
    out.append(f"precision: {precision.mode or 'unknown'} ({precision.why}); {asked}")
    weights = setup.weights_dtype
    out.append(
        f"weights: {weights.dtype or 'unknown'} ({weights.why})"
        + (f", from {_at(weights.fact)}" if weights.fact is not None else "")
    )
    cache = setup.use_cache
    out.append(
        f"use_cache while training/evaluating: {cache.value!r} ({cache.why})"
        + (f", from {_at(cache.fact)}" if cache.fact is not None else "")
    )
    evaluation = setup.evaluation
    out.append(f"evaluation: {_at(evaluation) if evaluation is not None else 'none'}")
    return out
