"""GD401-GD402: the model config.json itself."""

from __future__ import annotations

from gemma_doctor.checks import rule
from gemma_doctor.facts import ConfigTree
from gemma_doctor.findings import Diagnostic, Edit, Fix
from gemma_doctor.setup import Setup

_DTYPES = {"bfloat16", "float16", "float32", "float64", "auto", "int8", "uint8", "float8_e4m3fn", "float8_e5m2"}
_POSITIVE_INTS = (
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "max_position_embeddings",
    "sliding_window",
)
_LAYER_TYPES = {"sliding_attention", "full_attention"}
_GEMMA_TYPES = {"gemma", "gemma2", "gemma3", "gemma3_text", "gemma3n", "gemma3n_text", "paligemma"}


def _problems(tree) -> list[tuple[tuple, str]]:
    """(key path, problem) for every way a Gemma config breaks its schema."""
    config = tree.value
    problems: list[tuple[tuple, str]] = []
    model_type = config.get("model_type")
    if "architectures" in config and not (
        isinstance(config["architectures"], list) and all(isinstance(a, str) for a in config["architectures"])
    ):
        problems.append((("architectures",), "must be a list of class names"))
    scopes: list[tuple[tuple, dict]] = [((), config)]
    if model_type in ("gemma3", "paligemma", "gemma3n"):
        text = config.get("text_config")
        if text is None and model_type == "gemma3":
            problems.append(
                (
                    (),
                    "model_type gemma3 (multimodal) needs a text_config object; text-only checkpoints use "
                    "model_type gemma3_text",
                )
            )
        elif text is not None and not isinstance(text, dict):
            problems.append((("text_config",), "must be an object"))
        elif isinstance(text, dict):
            scopes.append((("text_config",), text))
        vision = config.get("vision_config")
        if vision is not None and not isinstance(vision, dict):
            problems.append((("vision_config",), "must be an object"))
    for prefix, scope in scopes:
        if "use_cache" in scope and not isinstance(scope["use_cache"], bool):
            problems.append((prefix + ("use_cache",), f"must be true or false, not {scope['use_cache']!r}"))
        for key in ("torch_dtype", "dtype"):
            if (
                key in scope
                and scope[key] is not None
                and (not isinstance(scope[key], str) or scope[key] not in _DTYPES)
            ):
                problems.append((prefix + (key,), f"is not a torch dtype name: {scope[key]!r}"))
        for key in _POSITIVE_INTS:
            value = scope.get(key)
            if (
                key in scope
                and value is not None
                and (isinstance(value, bool) or not isinstance(value, int) or value <= 0)
            ):
                problems.append((prefix + (key,), f"must be a positive integer, not {value!r}"))
        layer_types = scope.get("layer_types")
        if layer_types is not None:
            if not isinstance(layer_types, list) or not all(item in _LAYER_TYPES for item in layer_types):
                problems.append((prefix + ("layer_types",), "must list 'sliding_attention' / 'full_attention'"))
            elif isinstance(scope.get("num_hidden_layers"), int) and len(layer_types) != scope["num_hidden_layers"]:
                problems.append(
                    (
                        prefix + ("layer_types",),
                        f"has {len(layer_types)} entries but num_hidden_layers is {scope['num_hidden_layers']}",
                    )
                )
    return problems


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
        for key_path, problem in _problems(tree):
            location = tree.locate(key_path)
            pointer = "/" + "/".join(str(part) for part in key_path)
            yield Diagnostic(
                location, f"config.json {'.'.join(map(str, key_path)) or '(root)'} {problem} (JSON pointer {pointer})."
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
