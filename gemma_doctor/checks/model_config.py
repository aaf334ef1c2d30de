"""GD401-GD402: the model config.json itself."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import ConfigTree
from gemma_doctor.findings import Diagnostic, Edit, Fix
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


@rule("GD402")
def dtype_key_version(setup: Setup):
    version = setup.exact_version("transformers")
    if version is None or setup.known("transformers", "reads_dtype_key") is not False:
        return
    for name in ("config_dtype", "text_config_dtype"):
        for fact in setup.all(name):
            if fact.raw_key != "dtype":
                continue
            siblings = [f for f in setup.all(name) if f.raw_key == "torch_dtype"]
            if siblings:
                continue
            if not fact.edit:
                continue
            fmt, key_path = fact.edit
            yield Diagnostic(
                fact.location,
                f'config.json says "dtype": {fact.value!r}, a key transformers reads only '
                f"from 4.56.0; transformers {version} leaves config.torch_dtype None. from_pretrained("
                "torch_dtype='auto') still loads the weights' own dtype and a plain from_pretrained loads "
                "float32 either way (audit row 16), so only tools that read config.torch_dtype lose it.",
                None,
                Fix(
                    "Rename dtype to torch_dtype (4.56+ still reads torch_dtype)",
                    "safe",
                    (Edit(fact.location.path, fmt, key_path, "torch_dtype", op="rename"),),
                ),
            )
