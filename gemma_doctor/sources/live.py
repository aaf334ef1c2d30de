"""The live process as one more source: a model, TrainingArguments (or a TRL config), the accelerator
state and the imported libraries turned into the same facts the files give, with provenance
("runtime: model.config.text_config.use_cache") and no file or line.

It only reads objects the user's process already made: torch, transformers and accelerate are
reached through ``sys.modules``, never imported here.
"""

from __future__ import annotations

import sys

from gemma_doctor.facts import RUNTIME_PREFIX, Fact, Location, VersionFact
from gemma_doctor.sources.model_config import LAYOUT_KEYS

ORIGIN = "training-args"  # what the Trainer will use, exactly as training arguments would say it
_VERSIONED = ("transformers", "accelerate", "trl", "peft", "torch", "unsloth", "unsloth_zoo", "timm", "bitsandbytes")


def _where(key: str) -> Location:
    return Location(None, key=RUNTIME_PREFIX + key)


def _fact(name: str, value: object, key: str, raw_key: str | None = None, origin: str = ORIGIN) -> Fact:
    return Fact(name, value, _where(key), origin, raw_key or key.rsplit(".", 1)[-1])


def versions() -> list[VersionFact]:
    found = []
    for package in _VERSIONED:
        module = sys.modules.get(package)
        version = getattr(module, "__version__", None) if module is not None else None
        if isinstance(version, str):
            found.append(
                VersionFact(
                    package,
                    version.split("+")[0],
                    f"=={version.split('+')[0]}",
                    _where(f"{package}.__version__"),
                    "runtime",
                )
            )
    return found


def model_facts(model) -> list[Fact]:
    facts: list[Fact] = []
    peft_model = None
    base = getattr(model, "get_base_model", None)
    if callable(base) and getattr(model, "peft_config", None):
        peft_model = model
        facts.append(_fact("peft", type(model).__name__, "model.peft_config"))
        model = base()
    facts.append(_fact("model_class", type(model).__name__, "type(model)", origin="runtime"))
    config = getattr(model, "config", None)
    if config is not None:
        facts.append(
            _fact("model_type", getattr(config, "model_type", None), "model.config.model_type", origin="runtime")
        )
        facts.append(
            _fact("config_use_cache", getattr(config, "use_cache", True), "model.config.use_cache", origin="runtime")
        )
        text = getattr(config, "text_config", None)
        if text is not None:
            facts.append(
                _fact(
                    "text_model_type",
                    getattr(text, "model_type", None),
                    "model.config.text_config.model_type",
                    origin="runtime",
                )
            )
            facts.append(
                _fact(
                    "text_config_use_cache",
                    getattr(text, "use_cache", True),
                    "model.config.text_config.use_cache",
                    origin="runtime",
                )
            )
        facts.extend(_layout_facts(config, text))
        attention = getattr(config, "_attn_implementation", None)
        if attention:
            facts.append(
                _fact("config_attn_implementation", attention, "model.config._attn_implementation", origin="runtime")
            )
        quantization = getattr(config, "quantization_config", None)
        compute = getattr(quantization, "bnb_4bit_compute_dtype", None) if quantization is not None else None
        if compute is not None:
            facts.append(
                _fact("bnb_compute_dtype", str(compute), "model.config.quantization_config.bnb_4bit_compute_dtype")
            )
        if getattr(model, "is_loaded_in_4bit", False):
            facts.append(_fact("load_in_4bit", True, "model.is_loaded_in_4bit"))
    facts.extend(_adapter_facts(peft_model, model))
    counts: dict[str, int] = {}
    for parameter in model.parameters():
        if parameter.is_floating_point():
            name = str(parameter.dtype).removeprefix("torch.")
            counts[name] = counts.get(name, 0) + parameter.numel()
    if counts:  # the dtype most weights are in: the one the precision matrix turns on
        dtype = max(counts, key=lambda name: counts[name])
        facts.append(_fact("load_dtype", dtype, "model parameters' dtype", raw_key="dtype"))
    # transformers 5 renamed the property (the old name warns); read whichever the class has.
    attribute = (
        "is_activation_checkpointing"
        if hasattr(type(model), "is_activation_checkpointing")
        else "is_gradient_checkpointing"
    )
    if getattr(model, attribute, False) is True:
        facts.append(_fact("code_gradient_checkpointing", True, "model.is_gradient_checkpointing"))
    return facts


def _layout_facts(config, text) -> list[Fact]:
    """Gemma 4's layout as the live model has it: shared K/V layers, experts, the full-attention head dim
    (popped into per_layer_config by transformers >= 5.2x, an attribute before) and the towers built."""
    if not str(getattr(config, "model_type", "")).startswith("gemma4"):
        return []
    language = text if text is not None else config
    facts = []
    for attribute, name in LAYOUT_KEYS:
        if attribute != "global_head_dim" and hasattr(language, attribute):  # the head dim is read below
            facts.append(_fact(name, getattr(language, attribute), f"model.config.{attribute}", origin="runtime"))
    view = getattr(language, "per_layer_config", None)  # a dict of overrides, or (5.2x) a view of layer configs
    try:
        layers = list(view.values()) if isinstance(view, dict) else list(view) if view is not None else []
    except Exception:  # noqa: BLE001 - a per-layer view of a release we do not know: no head dims from it
        layers = []
    head_dims = [
        head_dim
        for layer in layers
        if isinstance(
            head_dim := (layer.get("head_dim") if isinstance(layer, dict) else getattr(layer, "head_dim", None)), int
        )
    ]
    global_head_dim = getattr(language, "global_head_dim", None) or (max(head_dims) if head_dims else None)
    if isinstance(global_head_dim, int):
        facts.append(_fact("config_global_head_dim", global_head_dim, "model.config global_head_dim", origin="runtime"))
    if text is not None:
        towers = [name for name in ("vision", "audio") if getattr(config, f"{name}_config", None) is not None]
        facts.append(_fact("config_towers", towers, "model.config vision_config / audio_config", origin="runtime"))
    return facts


def _adapter_facts(peft_model, model) -> list[Fact]:
    """The adapter as PEFT built it: the expert parameters it targets, and the adapters it put in the towers
    (the live form of what GD702 and GD703 judge from the LoraConfig)."""
    if peft_model is None:
        return []
    facts = []
    config = next(iter(peft_model.peft_config.values()), None)
    parameters = getattr(config, "target_parameters", None)
    if parameters:
        facts.append(
            _fact("lora_setting", list(parameters), "model.peft_config.target_parameters", "target_parameters")
        )
    in_towers = sum(
        1
        for name, _module in model.named_modules()
        if name.endswith(".lora_A") and (".vision_tower." in name or ".audio_tower." in name)
    )
    if in_towers:
        facts.append(_fact("tower_adapters", in_towers, "LoRA modules in the towers"))
    return facts


def args_facts(args) -> list[Fact]:
    facts: list[Fact] = []
    kind = type(args).__name__
    module = type(args).__module__.split(".")[0]
    facts.append(_fact("training_arguments_call", kind, f"type(args) = {kind}"))
    facts.append(
        _fact(
            "trainer_flavour",
            "trl" if module == "trl" or kind.endswith("Config") else "transformers",
            f"type(args) = {kind}",
        )
    )
    fields = getattr(args, "__dataclass_fields__", {})
    # transformers 5 renamed gradient_checkpointing to activation_checkpointing (the old name warns).
    checkpointing = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    for attribute, name in (
        ("fp16", "fp16"),
        ("bf16", "bf16"),
        ("fp16_full_eval", "fp16_full_eval"),
        ("bf16_full_eval", "bf16_full_eval"),
        ("do_eval", "do_eval"),
        ("load_best_model_at_end", "load_best_model_at_end"),
        ("use_cpu", "use_cpu"),
        (checkpointing, "gradient_checkpointing"),
    ):
        if attribute in fields or hasattr(type(args), attribute):
            facts.append(_fact(name, bool(getattr(args, attribute)), f"args.{attribute}"))
    strategy = getattr(args, "eval_strategy", None)
    if strategy is not None:
        facts.append(_fact("eval_strategy", str(getattr(strategy, "value", strategy)), "args.eval_strategy"))
    kwargs = getattr(args, "gradient_checkpointing_kwargs", None) or {}
    if "use_reentrant" in kwargs:
        facts.append(
            _fact("use_reentrant", kwargs["use_reentrant"], "args.gradient_checkpointing_kwargs.use_reentrant")
        )
    if getattr(args, "deepspeed", None):
        facts.append(_fact("deepspeed", str(args.deepspeed), "args.deepspeed"))
    if hasattr(args, "use_cache"):  # transformers 5 TrainingArguments: the Trainer sets the top-level switch
        facts.append(_fact("use_cache", bool(args.use_cache), "args.use_cache"))
    device = getattr(args, "device", None)
    if device is not None and getattr(device, "type", None) == "cpu":
        facts.append(_fact("use_cpu", True, "args.device"))
    return facts


def accelerator_facts() -> list[Fact]:
    """AcceleratorState, when accelerate made one: its distributed type and process count."""
    state_module = sys.modules.get("accelerate.state")
    state_class = getattr(state_module, "AcceleratorState", None) if state_module else None
    if state_class is None or not getattr(state_class, "_shared_state", None):
        return []
    try:
        state = state_class()
        distributed = str(getattr(state, "distributed_type", ""))
        processes = getattr(state, "num_processes", 1)
        mixed = str(getattr(state, "mixed_precision", "") or "")
    except Exception:  # noqa: BLE001 - an uninitialised state tells nothing
        return []
    facts = [
        _fact("distributed_type", distributed.rsplit(".", 1)[-1], "AcceleratorState().distributed_type"),
        _fact("num_processes", processes, "AcceleratorState().num_processes"),
    ]
    if mixed in ("fp16", "bf16", "no"):  # what accelerate will really autocast in (the env var's effect included)
        facts.append(_fact("env_mixed_precision", mixed, "AcceleratorState().mixed_precision", origin="environment"))
    return facts


def processing_facts(processing_class) -> list[Fact]:
    if processing_class is None:
        return []
    facts = []
    name = type(processing_class).__name__
    if name.endswith("Processor"):
        facts.append(_fact("processor_loaded", name, "processing_class"))
    tokenizer = getattr(processing_class, "tokenizer", processing_class)
    side = getattr(tokenizer, "padding_side", None)
    if side:
        facts.append(_fact("padding_side", side, "processing_class.padding_side"))
    return facts


def gpu():
    """The GPU the process trains on (torch already imported), or None on the CPU."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    from gemma_doctor.knowledge import Gpu

    major, minor = torch.cuda.get_device_capability()
    return Gpu(torch.cuda.get_device_name(), (major, minor))
