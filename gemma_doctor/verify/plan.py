"""What verify will run, derived from the same Setup that ``check`` builds. No torch here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from gemma_doctor.facts import ConfigTree, is_resolved
from gemma_doctor.setup import Setup, dtype_name, is_true
from gemma_doctor.setup.adapters import lora_arguments

MODEL_CLASSES = {
    "gemma3": "Gemma3ForConditionalGeneration",
    "gemma3_text": "Gemma3ForCausalLM",
    "gemma2": "Gemma2ForCausalLM",
    "gemma4": "Gemma4ForConditionalGeneration",
}
_ENV_SOURCES = ("accelerate_mixed_precision", "env_mixed_precision")
# The TRL trainers verify runs itself (verify/run.py); any other runs as transformers' Trainer, "not exercised".
TRL_TRAINERS = ("SFTTrainer", "DPOTrainer", "GRPOTrainer")


@dataclass
class VerifyPlan:
    family: str
    model_class: str
    weights_dtype: str  # float32 / bfloat16 / float16
    precision: str  # "bf16", "fp16" or "no"
    precision_source: str
    accelerate_env: str | None  # ACCELERATE_MIXED_PRECISION to set when the accelerate config decides
    use_cache: bool
    use_cache_level: str  # "text_config" or "root"
    top_level_use_cache: bool | None  # the multimodal root switch, kept to reproduce GD203
    gradient_checkpointing: bool
    attn_implementation: str
    evaluation: bool
    token_type_ids: bool  # whether batches carry them (TRL/Unsloth collators add zeros)
    trainer: str  # "trl.SFTTrainer" / "trl.DPOTrainer" / "trl.GRPOTrainer" or "transformers.Trainer": what verify runs
    project_trainer: str | None = None  # the class the project runs, where verify runs another
    arguments: dict = field(default_factory=dict)  # the project's own training-argument values
    lora: dict | None = None  # LoraConfig values; None when the project trains no adapter
    four_bit: bool = False
    bnb_compute_dtype: str | None = None
    kbit_prepare: bool = False
    unsloth: bool = False
    model_id: str | None = None
    # Gemma 4's layout, kept in the tiny model: shared K/V layers, experts, towers (setup.architecture)
    layout: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)

    def settings(self) -> dict:
        data = asdict(self)
        data.pop("config")
        return data


class PlanError(Exception):
    pass


def make_plan(setup: Setup) -> VerifyPlan:
    family = setup.family_name
    if family is None:
        family = "gemma3_text"
        notes = ["no model config or Gemma model id found: verifying a tiny gemma3_text model"]
    else:
        notes = []
    if family not in MODEL_CLASSES:
        raise PlanError(f"verify has no tiny model for the {family} family yet (supported: {', '.join(MODEL_CLASSES)})")
    config_fact = setup.first("model_config")
    tree = config_fact.value if config_fact else None
    config: dict = dict(tree.value) if isinstance(tree, ConfigTree) else {"model_type": family}
    precision = setup.precision
    mode = precision.mode if precision.mode in ("fp16", "bf16", "no") else "bf16"
    why = precision.why if precision.mode else "the project sets no precision: verify's default is bf16"
    accelerate_env = None
    if precision.fact is not None and precision.fact.name in _ENV_SOURCES:
        accelerate_env = mode
    weights = setup.weights_dtype.dtype
    if weights in (None, "auto"):
        weights = (
            dtype_name(
                (config.get("text_config") or {}).get("torch_dtype") or config.get("torch_dtype") or config.get("dtype")
            )
            or "bfloat16"
        )
        notes.append(f"the loading code does not say the weights' dtype: using the checkpoint's ({weights})")
    cache = setup.use_cache
    top = setup.first("code_use_cache") or setup.first("config_use_cache")
    checkpointing = bool(setup.truthy("gradient_checkpointing") or setup.first("code_gradient_checkpointing"))
    attention = setup.first("attn_implementation") or setup.first("config_attn_implementation")
    flavour = setup.flavour or "transformers"
    project_trainer = setup.trl_trainer
    trainer = f"trl.{project_trainer}" if project_trainer in TRL_TRAINERS else "transformers.Trainer"
    compute = setup.first("bnb_compute_dtype")
    model_id = setup.first("model_id")
    model_class = MODEL_CLASSES[family]
    layout: dict = {}
    if family == "gemma4":
        architecture = setup.architecture
        layout = {
            "kv_shared": architecture.shares_kv is True,
            "moe": is_true(architecture.moe.value),
            "towers": list(architecture.towers.value) if isinstance(architecture.towers.value, list) else [],
        }
        if config.get("model_type") == "gemma4_text":
            model_class = "Gemma4ForCausalLM"
    return VerifyPlan(
        family=family,
        model_class=model_class,
        weights_dtype=weights,
        precision=mode,
        precision_source=why,
        accelerate_env=accelerate_env,
        use_cache=cache.value is not False,  # unknown: the library default, on
        use_cache_level="text_config" if setup.multimodal else "root",
        top_level_use_cache=is_true(top.value) if (top is not None and setup.multimodal) else None,
        gradient_checkpointing=checkpointing,
        attn_implementation=str(attention.value) if attention is not None else "eager",
        evaluation=True,
        token_type_ids=flavour != "transformers" or bool(setup.uses_unsloth),
        trainer=trainer,
        project_trainer=project_trainer if project_trainer not in (None, *TRL_TRAINERS) else None,
        arguments=_arguments(setup),
        lora=_lora(setup),
        four_bit=bool(setup.truthy("load_in_4bit") or setup.truthy("quantization_bit")),
        bnb_compute_dtype=dtype_name(compute.value) if compute is not None and is_resolved(compute.value) else None,
        kbit_prepare=setup.first("peft_kbit_prepare") is not None,
        unsloth=setup.uses_unsloth is not None,
        model_id=str(model_id.value) if model_id is not None and isinstance(model_id.value, str) else None,
        layout=layout,
        config=config,
        notes=notes,
    )


# Training-argument values of the project that verify passes on as written; the rest (output,
# steps, batch sizes, evaluation schedule, precision) verify sets itself. Values that need a
# particular machine (tf32, use_cpu, deepspeed) are left out: the tiny step runs where it is.
_PASSED_ON = ("gradient_checkpointing", "use_cache", "fp16_full_eval", "bf16_full_eval")
# YAML adapter keys (TRL CLI, Axolotl, LLaMA-Factory) -> LoraConfig arguments.


def _arguments(setup: Setup) -> dict:
    values: dict = {}
    for name in _PASSED_ON:
        for fact in setup.all(name):
            scalar = isinstance(fact.value, (bool, int, float, str)) and is_resolved(fact.value)
            if fact.origin in ("training-args", "python") and fact.raw_key and scalar:
                values.setdefault(fact.raw_key, fact.value)
    reentrant = setup.first("use_reentrant")
    if reentrant is not None and isinstance(reentrant.value, bool):
        values["gradient_checkpointing_kwargs"] = {"use_reentrant": reentrant.value}
    return values


def _lora(setup: Setup) -> dict | None:
    if setup.first("peft") is None:
        return None
    return {name: value for name, (value, _fact) in lora_arguments(setup).items()}
