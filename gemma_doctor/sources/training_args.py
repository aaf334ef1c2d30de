"""Training arguments in JSON or YAML: HF TrainingArguments / TRL config dumps,
TRL CLI recipes, Axolotl, LLaMA-Factory and ms-swift (``swift sft --config``) YAML.

Every flavour's key names are mapped onto one vocabulary, keeping the key as
written (``raw_key``) so messages and fixes name what the user wrote.
"""

from __future__ import annotations

from gemma_doctor.facts import Fact, SourceResult

ORIGIN = "training-args"

# raw key -> its name in gemma_doctor/vocabulary.py, shared by every flavour and by the Python reader
ARGUMENT_KEYS = {
    "fp16": "fp16",
    "bf16": "bf16",
    "fp16_full_eval": "fp16_full_eval",
    "bf16_full_eval": "bf16_full_eval",
    "eval_strategy": "eval_strategy",
    "evaluation_strategy": "eval_strategy",
    "eval_steps": "eval_steps",
    "do_eval": "do_eval",
    "load_best_model_at_end": "load_best_model_at_end",
    "gradient_checkpointing": "gradient_checkpointing",
    # The new name in transformers 5.24 (read in its training_args.py); the old one stays a mirrored alias.
    "activation_checkpointing": "gradient_checkpointing",
    "use_cache": "use_cache",
    "attn_implementation": "attn_implementation",
    "torch_dtype": "load_dtype",
    "dtype": "load_dtype",
    "bnb_4bit_compute_dtype": "bnb_compute_dtype",
    "load_in_4bit": "load_in_4bit",
    "load_in_8bit": "load_in_8bit",
    "deepspeed": "deepspeed",
    "model_name_or_path": "model_id",
    "base_model": "model_id",
    "use_cpu": "use_cpu",
    "no_cuda": "use_cpu",
    "tf32": "tf32",
    "assistant_only_loss": "assistant_only_loss",
    "completion_only_loss": "completion_only_loss",
    "dataset_text_field": "dataset_text_field",
    "ddp_find_unused_parameters": "ddp_find_unused_parameters",
}
CHECKPOINTING_KWARGS = ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs")
# Adapter keys of the YAML flavours (TRL CLI, Axolotl, LLaMA-Factory): verify builds its LoraConfig from them.
_LORA = (
    "lora_r",
    "lora_rank",
    "lora_alpha",
    "lora_dropout",
    "lora_target_modules",
    "lora_target",
    "lora_target_parameters",
    "lora_target_linear",
    "lora_modules_to_save",
)
_AXOLOTL = {
    "val_set_size": "eval_split",
    "adapter": "peft",
    "processor_type": "processor_loaded",
    "evals_per_epoch": "evals_per_epoch",
    "flash_attention": "flag:flash_attention_2",
    "gemma4_hybrid_attn_impl": "gemma4_hybrid_attention",
    "sdp_attention": "flag:sdpa",
    "eager_attention": "flag:eager",
    "eot_tokens": "eot_tokens",
}
_LLAMAFACTORY = {
    "val_size": "eval_split",
    "finetuning_type": "llamafactory_finetuning_type",
    "pure_bf16": "bf16",
    "flash_attn": "llamafactory_flash_attn",
    "quantization_bit": "quantization_bit",
}
# ms-swift 3.x/4.x (SftArguments, RLHFArguments, ``swift sft --config``): ``model`` names the checkpoint,
# ``attn_impl`` the attention, ``tuner_type`` (4.x; ``train_type`` in 3.x) lora or full.
_SWIFT = {
    "model": "model_id",
    "attn_impl": "swift_attn_impl",
    "tuner_type": "swift_tuner_type",
    "train_type": "swift_tuner_type",
}
# attn_impl "flash_attn" is ms-swift's old name for flash_attention_2 (model_args.py, v4.4.1)
SWIFT_ATTENTION = {
    "flash_attn": "flash_attention_2",
    "flash_attention_2": "flash_attention_2",
    "sdpa": "sdpa",
    "eager": "eager",
}
SWIFT_KEYS = {**ARGUMENT_KEYS, **_SWIFT}  # the key map of an ms-swift arguments call or command line
_TRAINING_KEYS = {
    "output_dir",
    "learning_rate",
    "per_device_train_batch_size",
    "num_train_epochs",
    "max_steps",
    "gradient_accumulation_steps",
    "micro_batch_size",
    "lr_scheduler_type",
    "warmup_steps",
    "warmup_ratio",
    "optim",
    "optimizer",
    "logging_steps",
    "save_strategy",
    "dataset_name",
    "datasets",
    "dataset",
    "fp16",
    "bf16",
    "eval_strategy",
    "evaluation_strategy",
    "base_model",
    "stage",
    "finetuning_type",
    "tuner_type",
    "train_type",
}
_TRL_KEYS = {
    "dataset_text_field",
    "packing",
    "max_seq_length",
    "max_length",
    "completion_only_loss",
    "assistant_only_loss",
    "dataset_name",
    "beta",
    "num_generations",
    "use_peft",
    "lora_r",
}


def looks_like(value: dict) -> bool:
    return len(_TRAINING_KEYS.intersection(value)) >= 2 or (
        "model_name_or_path" in value and ("fp16" in value or "bf16" in value)
    )


def flavour(value: dict) -> str:
    if "base_model" in value or "micro_batch_size" in value or ("adapter" in value and "datasets" in value):
        return "axolotl"
    if "stage" in value and ("finetuning_type" in value or "template" in value):
        return "llamafactory"
    if is_swift(value):
        return "swift"
    if _TRL_KEYS.intersection(value):
        return "trl"
    return "transformers"


def swift_setting(name: str, raw_value: object) -> tuple[str, object] | None:
    """What an ms-swift key (``_SWIFT``'s swift_* names) means in the vocabulary, or None."""
    if name == "swift_tuner_type":  # lora, longlora, adalora, vera, ...: adapters over frozen weights
        return ("peft", raw_value) if isinstance(raw_value, str) and raw_value != "full" else None
    implementation = SWIFT_ATTENTION.get(raw_value) if isinstance(raw_value, str) else None
    return ("attn_implementation", implementation) if implementation else None


def is_swift(value: dict) -> bool:
    """ms-swift's own keys: its tuner switch beside ``model`` or ``dataset`` (no other framework reads them)."""
    return ("tuner_type" in value or "train_type" in value) and ("model" in value or "dataset" in value)


def facts_from(doc) -> SourceResult:
    result = SourceResult(kind="training-args")
    value = doc.value
    kind = flavour(value)
    mapping = dict(ARGUMENT_KEYS)
    if kind == "axolotl":
        mapping.update(_AXOLOTL)
    elif kind == "llamafactory":
        mapping.update(_LLAMAFACTORY)
    elif kind == "swift":
        mapping.update(_SWIFT)
    facts = result.facts
    # Addressed at the document's root, so a framework default can be written out beside the other keys.
    facts.append(Fact("trainer_flavour", kind, doc.location(()), ORIGIN, edit=(doc.format, ())))
    for raw_key, raw_value in value.items():
        if raw_key in _LORA and raw_value is not None:
            facts.append(doc.fact("lora_setting", (raw_key,), ORIGIN))
        name = mapping.get(raw_key)
        if name is None:
            continue
        if name.startswith("flag:"):
            if raw_value is True:  # Axolotl's boolean attention switches
                facts.append(doc.fact("attn_implementation", (raw_key,), ORIGIN, value=name[5:]))
            continue
        if name == "llamafactory_finetuning_type":
            if raw_value in ("lora", "oft"):
                facts.append(doc.fact("peft", (raw_key,), ORIGIN))
            continue
        if name.startswith("swift_"):
            meant = swift_setting(name, raw_value)
            if meant is not None:
                facts.append(doc.fact(meant[0], (raw_key,), ORIGIN, value=meant[1]))
            continue
        if name == "llamafactory_flash_attn":
            implementation = (
                {"fa2": "flash_attention_2", "sdpa": "sdpa", "disabled": "eager"}.get(raw_value)
                if isinstance(raw_value, str)
                else None
            )
            if implementation:
                facts.append(doc.fact("attn_implementation", (raw_key,), ORIGIN, value=implementation))
            continue
        if raw_value is not None:
            facts.append(doc.fact(name, (raw_key,), ORIGIN))
    for kwargs_key in CHECKPOINTING_KWARGS:
        checkpointing_kwargs = value.get(kwargs_key)
        if isinstance(checkpointing_kwargs, dict) and "use_reentrant" in checkpointing_kwargs:
            facts.append(doc.fact("use_reentrant", (kwargs_key, "use_reentrant"), ORIGIN))
    if kind == "axolotl":
        _axolotl_chat(doc, value, facts)
    if isinstance(value.get("use_peft"), bool) and value["use_peft"]:  # TRL CLI recipes
        facts.append(doc.fact("peft", ("use_peft",), ORIGIN))
    model_kwargs = value.get("model_init_kwargs")
    if isinstance(model_kwargs, dict):  # TRL: SFTConfig(model_init_kwargs={"torch_dtype": ...})
        for raw_key in ("torch_dtype", "dtype", "attn_implementation", "use_cache"):
            if raw_key in model_kwargs:
                name = ARGUMENT_KEYS[raw_key]
                facts.append(doc.fact(name, ("model_init_kwargs", raw_key), ORIGIN))
    return result


def _axolotl_chat(doc, value: dict, facts: list) -> None:
    """Axolotl's chat datasets and what ends their turns: ``datasets[].type: chat_template`` (the
    strategy that trains the eot_tokens) and ``special_tokens.eos_token``, which the eot default follows."""
    special = value.get("special_tokens")
    if isinstance(special, dict) and isinstance(special.get("eos_token"), str):
        facts.append(doc.fact("special_eos_token", ("special_tokens", "eos_token"), ORIGIN))
    datasets = value.get("datasets")
    if not isinstance(datasets, list):
        return
    for index, dataset in enumerate(datasets):
        if isinstance(dataset, dict) and dataset.get("type") == "chat_template":
            path = dataset.get("path")
            facts.append(
                doc.fact(
                    "chat_dataset", ("datasets", index, "type"), ORIGIN, value=path if isinstance(path, str) else ""
                )
            )
