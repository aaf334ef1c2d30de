"""GD401: a model config.json that cannot be read, or that is off the Gemma schema."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import ConfigTree
from gemma_doctor.findings import Diagnostic
from gemma_doctor.setup import Setup
from gemma_doctor.shapes import ShapeProblem, problems

_GEMMA_TYPES = {"gemma", "gemma2", "gemma3", "gemma3_text", "gemma3n", "gemma3n_text", "paligemma"}


def _problems(config: dict) -> list[ShapeProblem]:
    """config.json against rules/schemas/model-config.schema.json, plus the one cross-field check
    JSON Schema cannot state: layer_types has one entry per layer."""
    found = problems("model-config", config)
    for prefix in ((), ("text_config",)):
        scope = config.get(prefix[0]) if prefix else config
        if not isinstance(scope, dict):
            continue
        layer_types, layers = scope.get("layer_types"), scope.get("num_hidden_layers")
        key = (*prefix, "layer_types")
        if not isinstance(layer_types, list) or not isinstance(layers, int) or isinstance(layers, bool):
            continue
        if len(layer_types) != layers and not any(p.key_path[: len(key)] == key for p in found):
            message = f"{'.'.join(key)} has {len(layer_types)} entries but num_hidden_layers is {layers}"
            found.append(ShapeProblem(key, message))
    return found


@rule("GD401")
def invalid_model_config(setup: Setup):
    for fact in setup.all("model_config_invalid"):
        yield Diagnostic(
            fact.location, f"config.json cannot be read: {fact.value}. transformers' from_pretrained fails on it."
        )
    for fact in setup.all("model_config"):
        tree = fact.value
        if not isinstance(tree, ConfigTree) or str(tree.value.get("model_type")) not in _GEMMA_TYPES:
            continue
        for problem in _problems(tree.value):
            root = "" if problem.key_path else "(root) "
            yield Diagnostic(
                tree.locate(problem.key_path), f"config.json {root}{problem.message} (JSON pointer {problem.pointer})."
            )
