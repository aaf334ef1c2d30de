"""Run the tiny model through the project's own trainer with the project's settings.

The step uses what the project uses (TRL's SFTTrainer, a PEFT adapter with the project's
LoraConfig values, 4-bit loading, the weights dtype the loader really gives) and records in
``Result.coverage`` what it could not use, and why: those findings stay "not exercised".
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import math
import os
import sys
import tempfile
import time
import traceback
import warnings

from gemma_doctor.knowledge import versioned
from gemma_doctor.verify import failures, tiny_model


class Result:
    def __init__(self) -> None:
        self.status = "error"
        self.steps: list[dict] = []
        self.eval_loss: float | None = None
        self.rule: str | None = None
        self.message: str | None = None
        self.error_type: str | None = None
        self.frame: str | None = None
        self.traceback: str | None = None
        self.device: str | None = None
        self.versions: dict[str, str] = {}
        # capability -> None (exercised, or nothing to exercise) or why it was not (verify/verdict.py)
        self.coverage: dict[str, str | None] = {}
        self.exercised: list[str] = []
        self.adapter_applied = False  # Unsloth applied the project's adapter itself


def progress(text: str) -> None:
    sys.stderr.write(f"gemma-doctor verify: {text}\n")
    sys.stderr.flush()


def dtype_keyword(transformers) -> str:
    """from_pretrained's weights-dtype argument: ``dtype`` from transformers 5, ``torch_dtype`` before."""
    return "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"


def run(plan, device: str = "auto", steps: int = 2, launched: bool = False) -> Result:
    """One short train + eval. Every file it writes lives in one temporary folder, removed on
    success, failure and Ctrl-C alike."""
    result = Result()
    # stdout is for the report: the Trainer's logs and Unsloth's banners go to stderr with the progress.
    with tempfile.TemporaryDirectory(prefix="gemma-doctor-verify-") as workdir, contextlib.redirect_stdout(sys.stderr):
        _run(plan, device, steps, launched, result, workdir)
    return result


def _run(plan, device: str, steps: int, launched: bool, result: Result, workdir: str) -> None:
    started = time.perf_counter()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("WANDB_DISABLED", "true")
    if plan.accelerate_env:
        os.environ["ACCELERATE_MIXED_PRECISION"] = plan.accelerate_env
    progress("importing torch and transformers")
    warnings.filterwarnings("ignore")
    import torch
    import transformers

    for name in ("accelerate", "trl", "peft", "bitsandbytes"):
        try:
            result.versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - an optional package that is missing or broken is simply not used
            pass
    result.versions.update(
        torch=torch.__version__, transformers=transformers.__version__, python=sys.version.split()[0]
    )
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    result.device = torch.cuda.get_device_name(0) if use_cuda else "cpu"
    result.coverage = _coverage(plan, use_cuda, torch, result, launched)
    progress(f"import took {time.perf_counter() - started:.1f} s; device {result.device}")
    try:
        model = _model(plan, torch, transformers, use_cuda, result, workdir)
        trainer_class, arguments = _trainer(plan, transformers, use_cuda, steps, workdir, result)
        train_rows = tiny_model.dataset(plan, torch, max(2 * steps, 4))
        eval_rows = tiny_model.dataset(plan, torch, 2)
    except Exception as exc:  # noqa: BLE001 - building the step failed: "failed" when it is a known setup error, else "error"
        _record(result, exc, plan)
        result.status = "failed" if result.rule else "error"
        return

    class Recorder(transformers.TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" in logs:
                result.steps.append({"loss": _number(logs.get("loss")), "grad_norm": _number(logs.get("grad_norm"))})
            if "eval_loss" in logs:
                result.eval_loss = _number(logs["eval_loss"])

    progress(
        f"{steps} train step(s) with {plan.trainer} in {plan.precision} with {plan.weights_dtype} weights, then "
        f"evaluation (use_cache={plan.use_cache} at {plan.use_cache_level})"
    )
    try:
        trainer = _make_trainer(
            plan, trainer_class, model, arguments, train_rows, eval_rows, Recorder(), transformers, result
        )
        trainer.train()
        if result.eval_loss is None:
            metrics = trainer.evaluate()
            result.eval_loss = _number(metrics.get("eval_loss"))
    except Exception as exc:  # noqa: BLE001 - any failure of the run is its result
        _record(result, exc, plan)
        result.status = "failed"
        return
    values = [s["loss"] for s in result.steps] + [s["grad_norm"] for s in result.steps if s["grad_norm"] is not None]
    values.append(result.eval_loss)
    if len(result.steps) < 1 or any(v is None or not math.isfinite(v) for v in values):
        result.status = "failed"
        if plan.precision == "fp16" or plan.weights_dtype == "float16":
            result.rule = "GD102" if plan.weights_dtype == "float16" else "GD101"
        result.message = "non-finite loss or gradient norm: " + ", ".join(
            f"step {i + 1}: loss {s['loss']}, grad_norm {s['grad_norm']}" for i, s in enumerate(result.steps)
        )
        return
    if _shared_kv_differs(plan, trainer, torch, result):
        return
    result.status = "passed"


def _shared_kv_differs(plan, trainer, torch, result: Result) -> bool:
    """Gemma 4 with shared K/V layers (GD206): the forward the training ran (train mode, with the trainer's
    cache and checkpointing settings) against the forward generate() runs (eval mode, use_cache=True).
    A crash-free run can still have trained the wrong path; only comparing the two shows it."""
    if plan.family != "gemma4" or not plan.layout.get("kv_shared"):
        return False
    model = trainer.model
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(2)
    ids = torch.randint(3, tiny_model._FIRST_SPECIAL, (2, tiny_model.SEQUENCE), generator=generator).to(device)
    # TRL's SFTTrainer (>= 0.22) passes use_cache=False to every forward; the Trainer passes nothing, and
    # the model reads the config the Trainer reset from TrainingArguments.use_cache.
    passes_no_cache = plan.trainer == "trl.SFTTrainer" and bool(
        versioned("trl", "sft_use_cache_off").holds(result.versions.get("trl"))
    )
    kwargs = {"use_cache": False} if passes_no_cache else {}
    dropouts = [(m, m.p) for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    for module, _p in dropouts:
        module.p = 0.0  # LoRA's dropout would make two train-mode forwards differ by itself
    try:
        with torch.no_grad():
            model.train()
            trained = model(input_ids=ids, **kwargs).logits.float()
            model.eval()
            served = model(input_ids=ids, use_cache=True).logits.float()
    finally:
        for module, p in dropouts:
            module.p = p
    difference = float((trained - served).abs().max())
    limit = 1e-3 * max(1.0, float(served.abs().max()))
    result.exercised.append(
        f"Gemma 4 shared K/V layers: the training forward against the cached forward, max |logit difference| "
        f"{difference:.4g}"
    )
    if difference <= limit:
        return False
    result.status = "failed"
    result.rule = "GD206"
    result.message = (
        f"the training forward (train mode, {'use_cache=False' if kwargs else 'the cache as the trainer set it'}"
        f"{', gradient checkpointing' if plan.gradient_checkpointing else ''}) gives logits that differ from the "
        f"cached forward generate() runs by up to {difference:.4g}: the shared K/V layers computed their own K/V"
    )
    return True


def _coverage(plan, use_cuda: bool, torch, result: Result, launched: bool) -> dict[str, str | None]:
    """What this run can exercise on this machine; the model and trainer steps fill in the rest."""
    coverage: dict[str, str | None] = {"evaluation": None}
    coverage["precision"] = (
        "fp16 AMP is not available on the CPU (the Trainer silently trains in float32 there): run verify on a GPU"
        if plan.precision == "fp16" and not use_cuda
        else None
    )
    coverage["gpu"] = (
        None
        if use_cuda and not torch.cuda.is_bf16_supported()
        else f"bf16 support depends on the GPU that trains; this run used {result.device}"
    )
    coverage["launch"] = (
        None
        if launched
        else "verify ran one process: `gemma-doctor verify --launch` runs the project's own accelerate launch"
    )
    coverage["trainer"] = (
        f"the project trains with TRL's {plan.project_trainer}; verify ran {plan.trainer} in its place"
        if plan.project_trainer
        else None
    )
    coverage["peft"] = None
    coverage["four_bit"] = None
    if plan.four_bit:
        if not use_cuda:
            coverage["four_bit"] = "bitsandbytes needs CUDA: 4-bit loading was not exercised on the CPU"
        elif "bitsandbytes" not in result.versions:
            coverage["four_bit"] = "bitsandbytes is not installed: 4-bit loading was not exercised"
    coverage["unsloth"] = None
    if plan.unsloth:
        if importlib.util.find_spec("unsloth") is None:
            coverage["unsloth"] = "Unsloth not installed: its precision override was not exercised"
        elif not use_cuda:
            coverage["unsloth"] = "Unsloth needs a GPU: its precision override was not exercised"
    return coverage


_DTYPES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32"}


def _model(plan, torch, transformers, use_cuda: bool, result: Result, workdir: str):
    model, _config = tiny_model.build(plan, torch, transformers)
    if plan.unsloth and result.coverage["unsloth"] is None:
        return _unsloth_model(plan, model, transformers, result, workdir)
    if plan.four_bit and result.coverage["four_bit"] is None:
        # Through from_pretrained, as the project loads it: save the tiny model, load it back in 4-bit.
        folder = _saved(model, workdir)
        compute = getattr(torch, _DTYPES.get(plan.bnb_compute_dtype or "", "float32"))
        quantization = transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_compute_dtype=compute, bnb_4bit_quant_type="nf4"
        )
        dtype_key = dtype_keyword(transformers)
        weights = getattr(torch, _DTYPES.get(plan.weights_dtype, "float32"))
        model = getattr(transformers, plan.model_class).from_pretrained(
            folder, quantization_config=quantization, device_map={"": 0}, **{dtype_key: weights}
        )
        result.exercised.append(f"4-bit loading (bitsandbytes, compute dtype {plan.bnb_compute_dtype or 'float32'})")
        if plan.kbit_prepare:
            import peft

            model = peft.prepare_model_for_kbit_training(model)
            result.exercised.append("peft.prepare_model_for_kbit_training")
    elif use_cuda:
        model = model.to("cuda")
    if plan.lora is not None and not plan.trainer.startswith("trl."):
        model = _with_adapter(model, plan, result)
    return model


def _saved(model, workdir: str) -> str:
    """The tiny model written to the run's folder, for loaders that read it back from disk."""
    folder = os.path.join(workdir, "tiny-model")
    # A real config's cache_implementation with use_cache off fails the generation config's validation
    # on save; generation plays no part in the training step.
    model.generation_config.cache_implementation = None
    model.save_pretrained(folder)
    return folder


def _unsloth_model(plan, model, transformers, result: Result, workdir: str):
    """Through Unsloth, as the project loads it: FastModel.from_pretrained of the tiny model saved to disk,
    with dtype=None (Unsloth picks it), and the adapter through FastModel.get_peft_model. Unsloth's patched
    TRL trainer then decides the precision itself (docs/evidence/README.md; GD101's Unsloth cases)."""
    # Unsloth compiles its kernels into ./unsloth_compiled_cache unless told otherwise: keep it in the run's folder.
    os.environ.setdefault("UNSLOTH_COMPILE_LOCATION", os.path.join(workdir, "unsloth_compiled_cache"))
    import unsloth

    folder = _saved(model, workdir)
    tiny_model.tokenizer(transformers).save_pretrained(folder)
    four_bit = plan.four_bit and result.coverage["four_bit"] is None
    model, _tokenizer = unsloth.FastModel.from_pretrained(
        folder, max_seq_length=4 * tiny_model.SEQUENCE, load_in_4bit=four_bit, dtype=None
    )
    done = f"Unsloth {unsloth.__version__} FastModel.from_pretrained (dtype=None: {model.dtype}"
    done += ", 4-bit)" if four_bit else ")"
    if plan.lora is not None:
        parameters = inspect.signature(unsloth.FastModel.get_peft_model).parameters
        open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())  # (*args, **kwargs)
        values = {
            k: v
            for k, v in plan.lora.items()
            if (open_ended or k in parameters) and not (k == "target_modules" and isinstance(v, str))
        }
        model = unsloth.FastModel.get_peft_model(model, **values)
        done += f" and FastModel.get_peft_model({', '.join(f'{k}={v!r}' for k, v in sorted(values.items()))})"
        result.adapter_applied = True
    result.exercised.append(done)
    return model


def _lora_config(plan, result: Result):
    try:
        import peft
    except ImportError:
        result.coverage["peft"] = "PEFT is not installed: the project's adapter was not exercised"
        return None
    accepted = inspect.signature(peft.LoraConfig.__init__).parameters
    values = {k: v for k, v in (plan.lora or {}).items() if k in accepted}
    values.setdefault("target_modules", "all-linear")
    values.setdefault("task_type", "CAUSAL_LM")
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted(values.items()))
    result.exercised.append(f"PEFT {peft.__version__} LoraConfig({shown})")
    return peft.LoraConfig(**values)


def _with_adapter(model, plan, result: Result):
    config = _lora_config(plan, result)
    if config is None:
        return model
    import peft

    return peft.get_peft_model(model, config)


def _trainer(plan, transformers, use_cuda: bool, steps: int, workdir: str, result: Result):
    """(trainer class, its arguments): TRL's SFTTrainer with an SFTConfig when the project uses it."""
    trainer_class, arguments_class = transformers.Trainer, transformers.TrainingArguments
    name = plan.trainer.removeprefix("trl.")
    if plan.trainer.startswith("trl."):
        try:
            import trl
        except ImportError:
            result.coverage["trainer"] = f"TRL is not installed: transformers' Trainer ran in place of {name}"
        else:
            trainer_class = getattr(trl, name)
            arguments_class = getattr(trl, name.replace("Trainer", "Config"))
    parameters = inspect.signature(arguments_class.__init__).parameters
    kwargs = {k: v for k, v in plan.arguments.items() if k in parameters}
    passed_on = dict(kwargs)
    kwargs.update(
        output_dir=os.path.join(workdir, "output"),
        max_steps=steps,
        per_device_train_batch_size=2,
        per_device_eval_batch_size=2,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        fp16=plan.precision == "fp16",
        bf16=plan.precision == "bf16",
        gradient_checkpointing=plan.gradient_checkpointing,
        learning_rate=1e-3,
    )
    strategy_key = "eval_strategy" if "eval_strategy" in parameters else "evaluation_strategy"
    kwargs[strategy_key] = "steps"
    kwargs["eval_steps"] = steps
    if not use_cuda:
        kwargs["use_cpu" if "use_cpu" in parameters else "no_cuda"] = True
    if "max_length" in parameters:
        kwargs["max_length"] = tiny_model.SEQUENCE
    if "num_generations" in parameters:  # GRPO: two completions of four tokens per prompt
        kwargs.update(num_generations=2, max_completion_length=4)
    name = f"{trainer_class.__module__.split('.')[0]}.{trainer_class.__name__}"
    if plan.trainer.startswith("trl.") and trainer_class.__module__.split(".")[0] != "trl":
        name = f"{plan.trainer} (patched: {trainer_class.__name__})"  # Unsloth swaps in its compiled trainer
    if passed_on:
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(passed_on.items()))
        result.exercised.append(f"{name} with the project's {arguments_class.__name__} values: {shown}")
    else:
        result.exercised.append(name)
    # TrainingArguments.use_cache (transformers 5, default False) stays the project's or the default,
    # as in the user's run: the Trainer copies it to model.config.use_cache itself.
    return trainer_class, arguments_class(**kwargs)


def _make_trainer(plan, trainer_class, model, arguments, train_rows, eval_rows, recorder, transformers, result):
    if trainer_class is transformers.Trainer:
        if plan.lora is not None and plan.trainer.startswith("trl.") and not result.adapter_applied:
            # TRL was to add the adapter (peft_config) but is not installed: the Trainer in its place gets the
            # project's adapter through PEFT itself, so the adapter is still exercised
            model = _with_adapter(model, plan, result)
        return transformers.Trainer(
            model=model,
            args=arguments,
            train_dataset=train_rows,
            eval_dataset=eval_rows,
            data_collator=transformers.default_data_collator,
            callbacks=[recorder],
        )
    import datasets

    # Each TRL trainer gets the rows its own data preparation expects; the tiny tokenizer splits on
    # whitespace, so "t5 t9" is two tokens of the tiny vocabulary.
    def words(row, start: int, count: int) -> str:
        return " ".join(f"t{int(token)}" for token in row["input_ids"][start : start + count])

    def table(rows):
        if trainer_class.__name__ == "DPOTrainer":
            items = [{"prompt": words(r, 0, 6), "chosen": words(r, 6, 5), "rejected": words(r, 11, 5)} for r in rows]
        elif trainer_class.__name__ == "GRPOTrainer":
            items = [{"prompt": words(r, 0, 6)} for r in rows]
        elif plan.unsloth and result.coverage["unsloth"] is None:  # Unsloth's SFT path tokenizes "text" itself
            items = [{"text": words(r, 0, tiny_model.SEQUENCE)} for r in rows]
        else:  # SFTTrainer: pre-tokenized rows skip its tokenization; its own collator builds the batches
            items = [{"input_ids": r["input_ids"].tolist()} for r in rows]
        return datasets.Dataset.from_list(items)

    options: dict = {}
    if plan.lora is not None and not result.adapter_applied:
        config = _lora_config(plan, result)
        if config is not None:
            options["peft_config"] = config
    if trainer_class.__name__ == "DPOTrainer" and "peft_config" not in options:
        import copy

        options["ref_model"] = copy.deepcopy(model)  # TRL would load it again by name: nothing to load here
    if trainer_class.__name__ == "GRPOTrainer":
        options["reward_funcs"] = lambda completions, **_: [float(len(completion)) for completion in completions]
    return trainer_class(
        model=model,
        args=arguments,
        train_dataset=table(train_rows),
        eval_dataset=table(eval_rows),
        processing_class=tiny_model.tokenizer(transformers),
        callbacks=[recorder],
        **options,
    )


def _record(result: Result, exc: BaseException, plan) -> None:
    message = " ".join(str(exc).split())
    result.error_type = type(exc).__name__
    result.message = f"{type(exc).__name__}: {message}"
    result.rule = failures.classify(message, plan.weights_dtype)
    result.frame = failures.last_frame(exc.__traceback__)
    result.traceback = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _number(value):
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
