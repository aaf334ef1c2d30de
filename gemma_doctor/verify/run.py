"""Run the tiny model through the real Hugging Face Trainer with the project's settings."""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import sys
import tempfile
import time
import traceback
import warnings

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


def progress(text: str) -> None:
    sys.stderr.write(f"gemma-doctor verify: {text}\n")
    sys.stderr.flush()


def run(plan, device: str = "auto", steps: int = 2) -> Result:
    result = Result()
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

    try:
        import accelerate

        result.versions["accelerate"] = accelerate.__version__
    except ImportError:
        pass
    result.versions.update(
        torch=torch.__version__, transformers=transformers.__version__, python=sys.version.split()[0]
    )
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    result.device = torch.cuda.get_device_name(0) if use_cuda else "cpu"
    progress(f"import took {time.perf_counter() - started:.1f} s; device {result.device}")
    try:
        model, _ = tiny_model.build(plan, torch, transformers)
        if use_cuda:
            model = model.to("cuda")
        train_rows = tiny_model.dataset(plan, torch, max(2 * steps, 4))
        eval_rows = tiny_model.dataset(plan, torch, 2)
        arguments = _training_arguments(plan, transformers, use_cuda, steps)
    except Exception as exc:  # noqa: BLE001 - building the step failed: "failed" when it is a known setup error, else "error"
        _record(result, exc, plan)
        result.status = "failed" if result.rule else "error"
        return result

    class Recorder(transformers.TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" in logs:
                result.steps.append({"loss": _number(logs.get("loss")), "grad_norm": _number(logs.get("grad_norm"))})
            if "eval_loss" in logs:
                result.eval_loss = _number(logs["eval_loss"])

    progress(
        f"{steps} train step(s) in {plan.precision} with {plan.weights_dtype} weights, then evaluation "
        f"(use_cache={plan.use_cache} at {plan.use_cache_level})"
    )
    if plan.precision == "fp16" and not use_cuda:
        plan.notes.append(
            "fp16 is silently ignored on the CPU (no autocast, no scaler): this run did not exercise "
            "fp16; run verify on a GPU to see what fp16 does"
        )
    try:
        with contextlib.redirect_stdout(sys.stderr):  # the Trainer prints its logs; stdout is for the report
            trainer = transformers.Trainer(
                model=model,
                args=arguments,
                train_dataset=train_rows,
                eval_dataset=eval_rows,
                data_collator=transformers.default_data_collator,
                callbacks=[Recorder()],
            )
            trainer.train()
            if result.eval_loss is None:
                metrics = trainer.evaluate()
                result.eval_loss = _number(metrics.get("eval_loss"))
    except Exception as exc:  # noqa: BLE001 - any failure of the run is its result
        _record(result, exc, plan)
        result.status = "failed"
        return result
    values = [s["loss"] for s in result.steps] + [s["grad_norm"] for s in result.steps if s["grad_norm"] is not None]
    values.append(result.eval_loss)
    if len(result.steps) < 1 or any(v is None or not math.isfinite(v) for v in values):
        result.status = "failed"
        if plan.precision == "fp16" or plan.weights_dtype == "float16":
            result.rule = "GD102" if plan.weights_dtype == "float16" else "GD101"
        result.message = "non-finite loss or gradient norm: " + ", ".join(
            f"step {i + 1}: loss {s['loss']}, grad_norm {s['grad_norm']}" for i, s in enumerate(result.steps)
        )
        return result
    result.status = "passed"
    return result


def _training_arguments(plan, transformers, use_cuda: bool, steps: int):
    parameters = inspect.signature(transformers.TrainingArguments.__init__).parameters
    kwargs = dict(
        output_dir=tempfile.mkdtemp(prefix="gemma-doctor-verify-"),
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
    # TrainingArguments.use_cache (transformers 5, default False) is left at its default, as in
    # the user's run: the Trainer copies it to model.config.use_cache itself.
    return transformers.TrainingArguments(**kwargs)


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
