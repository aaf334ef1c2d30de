"""Every fact name gemma-doctor knows: one line each, with the type of its value, the sources that
emit it, and what it means. Sources emit only these names and rules ask only for these; a name not
here is a typo (under ``GEMMA_DOCTOR_STRICT_FACTS=1``, which the tests set, asking for one raises).

A value may also be ``Unknown`` (it could not be resolved statically) or a ``MachineValue`` (it
depends on the GPU): the type below is what it is once resolved.
"""

from __future__ import annotations

import os

# The kinds of source, as a fact's ``origin`` names them.
TRAINING_ARGS, PYTHON, MODEL_CONFIG, ACCELERATE, DEEPSPEED = (
    "training-args",
    "python",
    "model-config",
    "accelerate-config",
    "deepspeed",
)
LAUNCH, LIVE, ENVIRONMENT, GENERATION = "launch", "live", "environment", "generation-config"
TOKENIZER, ADAPTER = "tokenizer", "adapter"
PYPROJECT = "pyproject"
_ARGS = (TRAINING_ARGS, PYTHON, LIVE)

# name -> (type of the value, the sources that emit it, what it means)
FACTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    # precision
    "fp16": ("bool", (*_ARGS, LAUNCH), "fp16 mixed precision asked for in the training arguments"),
    "bf16": ("bool | 'auto'", (*_ARGS, LAUNCH), "bf16 mixed precision asked for ('auto': Axolotl's GPU test)"),
    "fp16_full_eval": ("bool", _ARGS, "the whole model cast to fp16 for evaluation"),
    "bf16_full_eval": ("bool", _ARGS, "the whole model cast to bf16 for evaluation"),
    "tf32": ("bool", _ARGS, "TF32 matmuls"),
    "accelerate_mixed_precision": ("str", (ACCELERATE, LIVE), "the accelerate config's mixed_precision"),
    "env_mixed_precision": (
        "str",
        (ENVIRONMENT, LAUNCH),
        "ACCELERATE_MIXED_PRECISION, or accelerate launch --mixed_precision",
    ),
    "deepspeed_fp16": ("bool | 'auto'", (DEEPSPEED,), "a DeepSpeed config's fp16.enabled"),
    "deepspeed_bf16": ("bool | 'auto'", (DEEPSPEED,), "a DeepSpeed config's bf16.enabled"),
    "use_cpu": ("bool", _ARGS, "training on the CPU (use_cpu, no_cuda)"),
    # the weights
    "load_dtype": ("dtype name", (*_ARGS,), "the dtype from_pretrained loads the weights in (torch_dtype, dtype)"),
    "bnb_compute_dtype": ("dtype name", _ARGS, "bitsandbytes' bnb_4bit_compute_dtype"),
    "load_in_4bit": ("bool", _ARGS, "a 4-bit quantized load"),
    "load_in_8bit": ("bool", _ARGS, "an 8-bit quantized load"),
    "quantization_bit": ("int", (TRAINING_ARGS,), "LLaMA-Factory's quantization_bit"),
    "plain_from_pretrained": ("class name", (PYTHON,), "a from_pretrained call that gives no dtype"),
    "peft_kbit_prepare": ("bool", (PYTHON,), "prepare_model_for_kbit_training is called"),
    "peft_kbit_checkpointing": ("bool", (PYTHON,), "prepare_model_for_kbit_training's use_gradient_checkpointing"),
    "config_dtype": ("dtype name", (MODEL_CONFIG,), "config.json's torch_dtype or dtype"),
    "text_config_dtype": ("dtype name", (MODEL_CONFIG,), "config.json's text_config.torch_dtype or dtype"),
    # the model
    "model_config": ("ConfigTree", (MODEL_CONFIG,), "a whole model config.json (GD401 validates its shape)"),
    "model_config_invalid": ("str", (MODEL_CONFIG,), "why a model config.json cannot be read"),
    "model_type": ("str", (MODEL_CONFIG, LIVE), "config.json's model_type"),
    "text_model_type": ("str", (MODEL_CONFIG, LIVE), "config.json's text_config.model_type"),
    "architectures": ("list[str]", (MODEL_CONFIG,), "config.json's architectures"),
    "text_config_present": ("bool", (MODEL_CONFIG,), "config.json has a text_config"),
    "config_kv_shared_layers": ("int", (MODEL_CONFIG, LIVE), "num_kv_shared_layers: the last layers reuse K/V"),
    "config_global_head_dim": ("int", (MODEL_CONFIG, LIVE), "global_head_dim: the full-attention layers' head dim"),
    "config_moe_block": ("bool", (MODEL_CONFIG, LIVE), "enable_moe_block: mixture-of-experts layers"),
    "config_towers": ("list[str]", (MODEL_CONFIG, LIVE), "the non-null vision_config / audio_config of the model"),
    "model_id": ("str", (TRAINING_ARGS, PYTHON, MODEL_CONFIG, LAUNCH, ADAPTER), "a model id or folder the run names"),
    "model_load": ("str", (PYTHON,), "a model a from_pretrained call (or a trainer, by string) loads"),
    "model_class": ("class name", (PYTHON, LIVE), "the class a model is loaded with"),
    "model_variable": ("str", (PYTHON,), "the variable a model load binds (where a fix can add a line)"),
    "unsloth_loader": ("class name", (PYTHON,), "a model loaded through Unsloth (FastModel, ...)"),
    "unsloth_import": ("bool", (PYTHON,), "the script imports unsloth"),
    "unsloth_full_finetuning": ("bool", (PYTHON,), "Unsloth's full_finetuning=True"),
    "processor_loaded": (
        "class name | str",
        (PYTHON, TRAINING_ARGS),
        "a processor is loaded (Axolotl's processor_type)",
    ),
    "padding_side": ("str", (PYTHON,), "the tokenizer's padding side"),
    "exits_on_gpu": ("bool", (PYTHON,), "a guard that ends the script on the GPU where its test holds"),
    # the cache
    "use_cache": ("bool", (*_ARGS,), "TrainingArguments(use_cache=...), or model_init_kwargs' use_cache"),
    "config_use_cache": ("bool", (MODEL_CONFIG, LIVE), "config.json's top-level use_cache"),
    "text_config_use_cache": ("bool", (MODEL_CONFIG, LIVE), "config.json's text_config.use_cache"),
    "code_use_cache": ("bool", (PYTHON,), "model.config.use_cache = ... in code, or from_pretrained(use_cache=...)"),
    "code_text_use_cache": ("bool", (PYTHON,), "model.config.text_config.use_cache = ... in code"),
    "generation_cache_implementation": ("str", (GENERATION,), "generation_config.json's cache_implementation"),
    "generation_use_cache": ("bool", (GENERATION,), "generation_config.json's use_cache"),
    # training and evaluation
    "trainer_flavour": (
        "str",
        (TRAINING_ARGS, PYTHON, LIVE),
        "transformers, trl, axolotl, llamafactory or swift (ms-swift)",
    ),
    "trainer_call": ("class name", (PYTHON, LIVE), "a Trainer class instantiated (Trainer, SFTTrainer, ...)"),
    "training_arguments_call": ("class name", (PYTHON,), "a TrainingArguments / TRL config instantiated"),
    "training_loop": ("str", (PYTHON,), "a training loop of the script's own: loss.backward(), optimizer.step()"),
    "eval_strategy": ("str", _ARGS, "eval_strategy (or the removed evaluation_strategy)"),
    "eval_steps": ("int", _ARGS, "eval_steps"),
    "do_eval": ("bool", _ARGS, "do_eval"),
    "load_best_model_at_end": ("bool", _ARGS, "load_best_model_at_end (it evaluates)"),
    "eval_split": (
        "float | int",
        (TRAINING_ARGS,),
        "a validation split (Axolotl's val_set_size, LLaMA-Factory's val_size)",
    ),
    "evals_per_epoch": ("int", (TRAINING_ARGS,), "Axolotl's evals_per_epoch"),
    "eval_call": ("str", (PYTHON,), "trainer.evaluate() or .predict() in code"),
    "eval_dataset": ("bool", (PYTHON,), "an eval_dataset passed to the trainer"),
    "gradient_checkpointing": ("bool", _ARGS, "gradient (activation) checkpointing in the training arguments"),
    "code_gradient_checkpointing": ("bool", (PYTHON,), "model.gradient_checkpointing_enable() in code"),
    "use_reentrant": ("bool", _ARGS, "gradient_checkpointing_kwargs' use_reentrant"),
    "ddp_find_unused_parameters": ("bool", _ARGS, "DDP's find_unused_parameters, as the training arguments set it"),
    "attn_implementation": ("str", (*_ARGS,), "the attention implementation asked for"),
    "config_attn_implementation": ("str", (MODEL_CONFIG, LIVE), "config.json's attn_implementation"),
    "gemma4_hybrid_attention": (
        "bool",
        (TRAINING_ARGS,),
        "Axolotl's gemma4_hybrid_attn_impl: flash attention for sliding layers, sdpa for full ones",
    ),
    "peft": ("str", (TRAINING_ARGS, PYTHON, LIVE), "an adapter is trained (LoraConfig, peft_config, adapter: lora)"),
    "lora_setting": (
        "object",
        (TRAINING_ARGS, PYTHON, LIVE, ADAPTER),
        "a LoRA argument (r, lora_alpha, target_modules, ...)",
    ),
    "adapter_saved": ("str", (ADAPTER,), "a saved adapter's adapter_config.json the run loads"),
    "adapter_load": ("str", (PYTHON,), "PeftModel.from_pretrained(model, PATH): the adapter folder a run loads"),
    "tower_adapters": ("int", (LIVE,), "how many LoRA modules a live PEFT model has in Gemma 4's towers"),
    # chat data: the tokenizer files, the template, what the code does with them (GD801-GD805)
    "tokenizer_chat_template": (
        "str",
        (TOKENIZER,),
        "the chat template (tokenizer_config.json or chat_template.jinja)",
    ),
    "tokenizer_add_bos": ("bool", (TOKENIZER,), "tokenizer_config.json's add_bos_token"),
    "tokenizer_eos_token": ("str", (TOKENIZER,), "the tokenizer's eos_token (tokenizer_config / special_tokens_map)"),
    "tokenizer_pad_token": ("str", (TOKENIZER,), "the tokenizer's pad_token (tokenizer_config / special_tokens_map)"),
    "generation_eos_token_id": ("int | list[int]", (GENERATION,), "generation_config.json's eos_token_id"),
    "config_tie_word_embeddings": ("bool", (MODEL_CONFIG,), "config.json's tie_word_embeddings (or text_config's)"),
    "assistant_only_loss": ("bool", (TRAINING_ARGS, PYTHON), "TRL's assistant_only_loss"),
    "completion_only_loss": ("bool", (TRAINING_ARGS, PYTHON), "TRL's completion_only_loss"),
    "dataset_text_field": ("str", (TRAINING_ARGS, PYTHON), "TRL's dataset_text_field"),
    "eot_tokens": ("list[str]", (TRAINING_ARGS,), "Axolotl's eot_tokens: the tokens that end a turn"),
    "special_eos_token": ("str", (TRAINING_ARGS,), "Axolotl's special_tokens.eos_token"),
    "chat_dataset": ("str", (TRAINING_ARGS,), "an Axolotl dataset of type chat_template (its path)"),
    "chat_rendered": (
        "'text' | 'ids'",
        (PYTHON,),
        "apply_chat_template(...): rendered to text (tokenize=False) or ids",
    ),
    "chat_tokenized_once": (
        "str",
        (PYTHON,),
        "rendered chat text tokenized with one <bos> (stripped, or no special tokens)",
    ),
    "data_file": ("str", (PYTHON,), "a local dataset file load_dataset reads (its path)"),
    "chat_tokenized_with_bos": ("str", (PYTHON,), "rendered chat text tokenized with the tokenizer's BOS added"),
    "chat_tokenized_without_bos": (
        "str",
        (PYTHON,),
        "rendered chat stripped of <bos>, tokenized without special tokens",
    ),
    "chat_text_field": ("str", (PYTHON,), "rendered chat text stored as a dataset's text (TRL tokenizes it)"),
    "pad_is_eos": ("str", (PYTHON,), "tokenizer.pad_token = tokenizer.eos_token (or the ids)"),
    "lm_collator": ("class name", (PYTHON,), "transformers' DataCollatorForLanguageModeling: it masks pad labels"),
    "eos_appended": ("str", (PYTHON,), "text + tokenizer.eos_token: sequences that end in <eos>"),
    "generate_eos_token_id": ("str", (PYTHON,), "generate(eos_token_id=...) given in code"),
    "turn_token_literal": ("str", (PYTHON,), "a Gemma 1-3 turn token (<end_of_turn>) written in code"),
    "prompt_completion_rows": ("str", (PYTHON,), "conversational prompt/completion rows built in code"),
    # distributed
    "deepspeed": ("str | dict", (TRAINING_ARGS, ACCELERATE, LAUNCH, LIVE), "a DeepSpeed config the run names"),
    "deepspeed_config_file": ("str", (DEEPSPEED,), "this file is a DeepSpeed config"),
    "deepspeed_zero_stage": ("int | 'auto'", (DEEPSPEED, ACCELERATE), "the ZeRO stage (zero_optimization.stage)"),
    "distributed_type": ("str", (ACCELERATE, LIVE), "the accelerate config's distributed_type"),
    "num_processes": ("int | str", (ACCELERATE, LAUNCH, LIVE), "how many processes train"),
    "launch": ("dict", (LAUNCH,), "a launch line: the script, module or command it runs, and its options"),
    "swift_run": ("list[Fact]", (LAUNCH,), "a `swift sft ...` line: a run of its own, its flags its arguments"),
    "console_script": (
        "dict",
        (PYPROJECT,),
        "a [project.scripts] entry: {'name': the command, 'target': 'package.module:function'}",
    ),
}

STRICT = os.environ.get("GEMMA_DOCTOR_STRICT_FACTS") == "1"


def declared(name: str) -> str:
    """``name`` itself, once known to be declared (strict mode); a typo raises rather than finding nothing."""
    if STRICT and name not in FACTS:
        raise KeyError(f"fact {name!r} is not declared in gemma_doctor/vocabulary.py")
    return name
