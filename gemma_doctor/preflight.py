"""In-process preflight: the same rules on the live Trainer, before step one.

    from gemma_doctor.preflight import GemmaDoctorCallback
    trainer.add_callback(GemmaDoctorCallback())

At ``on_train_begin`` (before the first step) the callback turns the live model, arguments,
accelerator, tokenizer and library versions into facts (sources/live.py), applies the same
framework semantics, and runs the same rules. An error finding raises ``GemmaDoctorError``, whose
message is the findings in the text format; warnings go through ``warnings`` once each. Nothing is
unknown here: the values are the run's own.

Importing this module imports nothing heavy: torch, transformers and accelerate are only reached
through ``sys.modules``, where the user's training script has already put them.

Options: ``GemmaDoctorCallback(on_error="raise" | "warn", ignore=["GD201"], probe=False)``, the
project's ``[tool.gemma-doctor]`` (select, ignore, severity) found from the working directory, and
``GEMMA_DOCTOR=off`` to disable it.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from gemma_doctor.engine import Options, run_rules
from gemma_doctor.findings import Finding
from gemma_doctor.sources import live

_TRL_TRAINERS = {
    "SFTConfig": "SFTTrainer",
    "DPOConfig": "DPOTrainer",
    "GRPOConfig": "GRPOTrainer",
    "KTOConfig": "KTOTrainer",
    "ORPOConfig": "ORPOTrainer",
    "RewardConfig": "RewardTrainer",
}


class GemmaDoctorError(RuntimeError):
    """The run would fail or train wrongly: the findings, in gemma-doctor's text format."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__(render(findings))  # the first line is the first finding, as in a traceback's last line


class GemmaDoctorWarning(UserWarning):
    pass


def render(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        where = finding.location.key or finding.location.display()
        lines.append(f"{finding.rule} [{finding.severity}] {finding.message} ({where})")
        if finding.fix:
            label = {"safe": "fix", "unsafe": "fix (unsafe)", "display-only": "advice"}[finding.fix.safety]
            lines.append(f"  = {label}: {finding.fix.title}")
        lines.append(f"  = see: gemma-doctor rule {finding.rule}")  # the doc ships in the wheel; docs/ does not
    return "\n".join(lines)


def _options(ignore: list[str] | None) -> Options:
    """The project's [tool.gemma-doctor] selection, found from the working directory, plus ``ignore``."""
    from gemma_doctor.requests import CheckRequest

    try:
        from gemma_doctor.settings import resolve

        options = resolve(CheckRequest(), [Path.cwd()]).options
    except Exception:  # noqa: BLE001 - a broken config must not stop training; the static check reports it
        options = Options()
    options.ignore = list(options.ignore) + [rule.upper() for rule in (ignore or [])]
    return options


def _facts(model, args, processing_class=None, trainer_class: str | None = None, live_accelerator: bool = False):
    facts = list(live.model_facts(model)) if model is not None else []
    if args is not None:
        facts += live.args_facts(args)
        trl_trainer = _TRL_TRAINERS.get(type(args).__name__)
        if trainer_class or trl_trainer:
            facts.append(live._fact("trainer_call", trainer_class or trl_trainer, "type(trainer)", origin="runtime"))
    if live_accelerator:  # the singleton is the run's only once its Trainer has made its Accelerator
        facts += live.accelerator_facts()
    facts += live.processing_facts(processing_class)
    if sys.modules.get("unsloth") is not None:
        facts.append(live._fact("unsloth_import", True, "sys.modules['unsloth']", origin="runtime"))
    return facts


def check_model(
    model,
    args=None,
    processing_class=None,
    ignore: list[str] | None = None,
    trainer_class: str | None = None,
    live_accelerator: bool = False,
) -> list[Finding]:
    """The findings for a live model (and its TrainingArguments, if any)."""
    from gemma_doctor.setup import Setup

    facts = _facts(model, args, processing_class, trainer_class, live_accelerator)
    setup = Setup(facts, live.versions(), live.gpu())
    return sorted(run_rules(setup, _options(ignore)), key=lambda f: (f.rule, f.message))


def check(trainer, ignore: list[str] | None = None) -> list[Finding]:
    """The findings for a live Trainer (TRL's and Unsloth's trainers are Trainers too)."""
    names = [cls.__name__ for cls in type(trainer).__mro__]
    trainer_class = next((name for name in names if name in _TRL_TRAINERS.values()), None)
    return check_model(
        trainer.model,
        trainer.args,
        getattr(trainer, "processing_class", None),
        ignore,
        trainer_class,
        live_accelerator=getattr(trainer, "accelerator", None) is not None,
    )


class GemmaDoctorCallback:
    """A TrainerCallback (duck-typed, so importing it needs no transformers) that checks the run at
    ``on_train_begin``. ``probe=True`` adds a one-batch forward in the run's precision for fp16 Gemma 3."""

    def __init__(self, on_error: str = "raise", ignore: list[str] | None = None, probe: bool = False) -> None:
        if on_error not in ("raise", "warn"):
            raise ValueError("on_error must be 'raise' or 'warn'")
        self.on_error = on_error
        self.ignore = ignore
        self.probe = probe
        self.trainer = None  # set by the Axolotl plugin, which has the trainer
        self.findings: list[Finding] = []
        self._warned: set[tuple] = set()

    def __getattr__(self, name: str):
        if name.startswith("on_"):  # every other Trainer event: nothing to do
            return _no_event
        raise AttributeError(name)

    def on_train_begin(self, args, state, control, model=None, processing_class=None, train_dataloader=None, **kwargs):
        if os.environ.get("GEMMA_DOCTOR", "").lower() == "off":
            return None
        if self.trainer is not None:
            findings = check(self.trainer, self.ignore)
        else:
            findings = check_model(
                model, args, processing_class or kwargs.get("tokenizer"), self.ignore, live_accelerator=True
            )
        if self.probe and model is not None and train_dataloader is not None:
            findings += probe_overflow(model, args, train_dataloader)
        self.findings = findings
        errors = [f for f in findings if f.severity == "error"]
        if errors and self.on_error == "raise":
            raise GemmaDoctorError(errors)
        for finding in findings:
            key = (finding.rule, finding.message)
            if key not in self._warned and (finding.severity != "info"):
                self._warned.add(key)
                warnings.warn(render([finding]), GemmaDoctorWarning, stacklevel=2)
        return None


def _no_event(*_args, **_kwargs):
    return None


def probe_overflow(model, args, train_dataloader) -> list[Finding]:
    """One batch forward in fp16 under ``no_grad``: the first decoder layer whose output is not finite.
    Only for fp16 runs of Gemma 3, where the overflow lives in the trained weights."""
    torch = sys.modules.get("torch")
    if torch is None or not getattr(args, "fp16", False):
        return []
    from gemma_doctor.facts import Location
    from gemma_doctor.findings import Fix

    config = getattr(model, "config", None)
    if str(getattr(config, "model_type", "")) not in ("gemma3", "gemma3_text", "gemma3n"):
        return []
    layers = None
    for candidate in ("model.language_model.layers", "model.layers", "language_model.model.layers"):
        node = model
        for part in candidate.split("."):
            node = getattr(node, part, None)
            if node is None:
                break
        if node is not None:
            layers = node
            break
    if layers is None:
        return []
    batch = next(iter(train_dataloader))
    first_bad: list[int] = []
    hooks = []
    for index, layer in enumerate(layers):

        def hook(_module, _inputs, output, index=index):
            tensor = output[0] if isinstance(output, tuple) else output
            if not first_bad and not torch.isfinite(tensor).all():
                first_bad.append(index)

        hooks.append(layer.register_forward_hook(hook))
    device = next(model.parameters()).device
    try:
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
            model(**{k: v.to(device) for k, v in batch.items() if hasattr(v, "to")})
    finally:
        for handle in hooks:
            handle.remove()
    if not first_bad:
        return []
    from gemma_doctor.knowledge import catalogue

    doc = catalogue()["GD101"]
    message = (
        f"fp16 probe: decoder layer {first_bad[0]} of the real weights produced inf/NaN on the first training "
        "batch: Gemma 3's activations pass fp16's maximum of 65504."
    )
    return [
        Finding(
            "GD101",
            doc.name,
            "error",
            Location(None, key="runtime: fp16 probe"),
            message,
            Fix("Train in bf16 on a GPU with compute capability >= 8.0, else fp32", "display-only"),
        )
    ]
