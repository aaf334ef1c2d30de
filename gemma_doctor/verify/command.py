"""``gemma-doctor verify [PATH]``: the static check, the tiny run on the project's stack and
settings, and one verdict that says which findings the run confirmed, refuted or left
unexercised (verify/verdict.py). Exit codes: 0 passed, 1 failed, 2 error, 3 inconclusive."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from gemma_doctor.errors import UsageError
from gemma_doctor.verify.verdict import ERROR, EXIT_CODES, judge

INSTALL_HINT = (
    "gemma-doctor verify needs torch, transformers and accelerate: "
    "pip install '.[verify]' from a clone of gemma-doctor (install torch first for the build you want)"
)
CONTRACT = 2  # the JSON report's version (docs/verify.md)


def _require_extra() -> None:
    """A usage error (exit 2, one line) when torch, transformers or accelerate is not installed."""
    missing = [name for name in ("torch", "transformers", "accelerate") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")


def project_setup(path: Path, options, entry: str | None = None, announce=None):
    """(entry point, Setup) of one training run of the project, with its pins and the installed versions,
    as ``check`` builds it: the run whose entry point ends with ``entry``, else the first."""
    from gemma_doctor.discovery import walk
    from gemma_doctor.engine import Project, Report, load_project

    project = Project(walk(path) if path.is_dir() else [path])
    load_project(project, options, Report())
    if not project.runs:
        raise UsageError(f"{path}: nothing gemma-doctor reads here")
    entries = [run.entry for run, _setup in project.runs if run.entry]
    if entry is not None:
        chosen = [(run, setup) for run, setup in project.runs if run.entry and run.entry.endswith(entry)]
        if not chosen:
            raise UsageError(f"--run {entry}: no training run of {path} has that entry point ({', '.join(entries)})")
        return chosen[0][0].entry, chosen[0][1]
    if len(entries) > 1 and announce is not None:
        announce(
            f"{len(entries)} training runs: verifying {entries[0]}; --run picks another ({', '.join(entries[1:])})"
        )
    return project.runs[0][0].entry, project.runs[0][1]


def run_verify(args) -> int:
    from gemma_doctor.settings import resolve
    from gemma_doctor.verify import stack

    started = time.perf_counter()
    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"{args.path}: no such file or directory")
    settings = resolve(args, [path])
    if args.weights:
        return _run_probe(args, path, settings.options)
    from gemma_doctor.verify.run import progress

    entry, setup = project_setup(path, settings.options, args.run, progress)
    differences = stack.differences(setup)
    for difference in differences:  # first, each on a line of its own: a proof on another stack proves little
        progress(f"stack: {difference.describe()}")
    pins = stack.requirements(setup)
    if args.stack == "pinned" and pins:
        return _run_pinned(args, path, pins, started)
    _require_extra()
    from gemma_doctor.engine import run_rules
    from gemma_doctor.verify.plan import PlanError, make_plan

    if args.stack == "pinned":
        progress("the project pins none of " + ", ".join(stack.STACK_PACKAGES) + ": running on the installed stack")
    static = run_rules(setup, settings.options)
    try:
        plan = make_plan(setup)
    except PlanError as exc:
        return _emit(args, {"status": ERROR, "message": str(exc)}, started)
    if args.launch:
        result, launch = _run_launch(args, setup, plan)
    else:
        from gemma_doctor.verify.run import run

        result, launch = run(plan, args.device, args.steps), None
    coverage = dict(result.coverage)
    coverage["stack"] = (
        "the run used another stack (" + "; ".join(d.short() for d in differences) + "): "
        "run `gemma-doctor verify --stack pinned`"
        if differences
        else None
    )
    weights = weights_command(args.path, plan)
    coverage["real_weights"] = (
        f"fp16 overflow comes from the trained weights, which a tiny random model does not have: run `{weights}`"
    )
    for finding in static:
        finding.run = entry  # as `check` reports it
    status, findings = judge([f.to_json() for f in static], coverage, result.status, result.rule)
    settings_shown = plan.settings()
    if launch is not None:
        settings_shown["launch"] = launch
    payload = {
        "status": status,
        "run": entry,
        "run_status": result.status,
        "device": result.device,
        "versions": result.versions,
        "stack": {
            "mode": "installed",
            "differences": [d.describe() for d in differences],
        },
        "settings": settings_shown,
        "exercised": result.exercised,
        "not_exercised": {k: v for k, v in sorted(coverage.items()) if v is not None},
        "steps": result.steps,
        "eval_loss": result.eval_loss,
        "findings": findings,
    }
    if plan.weights_dtype == "float16" or plan.bnb_compute_dtype == "float16" or plan.precision == "fp16":
        payload["next"] = weights
    if result.status != "passed":
        payload["message"] = result.message
        payload["last_frame"] = result.frame
        if args.verbose and result.traceback:
            payload["traceback"] = result.traceback
    return _emit(args, payload, started)


def weights_command(project: str, plan) -> str:
    """The exact ``verify --weights`` command for the checkpoint the project names."""
    from gemma_doctor import hub

    command = f"gemma-doctor verify {project} --weights"
    model = plan.model_id
    if model and not os.path.isdir(model) and hub.looks_like_repo_id(model):
        snapshot = hub.snapshot_path(model)
        if snapshot is None or not any(snapshot.glob("*.safetensors")):
            return f"hf download {model} && {command}"
    return command


def _run_pinned(args, path: Path, pins: list[str], started: float) -> int:
    """Build (or reuse) an environment with the project's pins and run verify there."""
    from gemma_doctor.verify import stack
    from gemma_doctor.verify.run import progress

    python = stack.build(pins, progress)
    command = [str(python), "-m", "gemma_doctor", "verify", str(path), "--stack", "installed", "--format", "json"]
    command += ["--device", args.device, "--steps", str(args.steps)]
    if args.run:
        command += ["--run", args.run]
    for flag in ("launch", "verbose"):
        if getattr(args, flag):
            command.append(f"--{flag}")
    for option in ("gpu", "compute_capability", "config"):
        value = getattr(args, option, None)
        if value:
            command += [f"--{option.replace('_', '-')}", value]
    progress(f"running verify in the pinned stack ({python})")
    # Without PYTHONPATH, which would put this environment's packages ahead of the pinned ones.
    child = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=stack.clean_environment())
    try:
        payload = json.loads(child.stdout)
    except json.JSONDecodeError:
        tail = child.stdout.strip().splitlines()[-1:] or ["no output"]
        raise UsageError(f"verify in the pinned stack ended with exit code {child.returncode}: {tail[0]}") from None
    payload["stack"] = {"mode": "pinned", "requirements": pins, "python": str(python), "differences": []}
    payload.pop("seconds", None)
    return _emit(args, payload, started)


def _emit(args, payload: dict, started: float) -> int:
    payload = {"version": CONTRACT, **payload, "seconds": round(time.perf_counter() - started, 2)}
    payload.setdefault("device", None)
    payload.setdefault("findings", [])
    if args.format == "json":
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(payload, getattr(args, "verbose", False)))
    return EXIT_CODES.get(payload["status"], 2)


def render_text(payload: dict, verbose: bool = False) -> str:
    status = payload["status"]
    lines = []
    stack = payload.get("stack") or {}
    for difference in stack.get("differences") or []:
        lines.append(f"stack: {difference}")
    lines.append(f"verify: {status.upper()} on {payload.get('device') or '-'} in {payload['seconds']} s")
    if stack.get("mode") == "pinned":
        lines.append("  pinned stack: " + ", ".join(stack["requirements"]))
    versions = payload.get("versions") or {}
    if versions:
        lines.append("  stack: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    settings = payload.get("settings") or {}
    if settings:
        lines.append(
            f"  model: tiny {settings['model_class']} ({settings['weights_dtype']} weights), "
            f"precision {settings['precision']} ({settings['precision_source']}), "
            f"use_cache={settings['use_cache']} at {settings['use_cache_level']}"
        )
        for note in settings.get("notes", []):
            lines.append(f"  note: {note}")
    for item in payload.get("exercised") or []:
        lines.append(f"  exercised: {item}")
    for capability, reason in (payload.get("not_exercised") or {}).items():
        if capability not in ("gpu", "launch", "real_weights", "stack"):  # those are said where they matter
            lines.append(f"  not exercised: {reason}")
    for index, step in enumerate(payload.get("steps") or [], 1):
        lines.append(f"  step {index}: loss {step['loss']}, grad_norm {step['grad_norm']}")
    if payload.get("eval_loss") is not None:
        lines.append(f"  eval_loss {payload['eval_loss']}")
    if payload.get("run_status") not in (None, "passed") and payload.get("message"):
        lines.append(f"  the run {payload['run_status']}: {payload['message']}")
    for finding in payload["findings"]:
        where = f"{finding['path']}:{finding['line']}: " if finding.get("path") and finding.get("line") else ""
        reason = f" ({finding['reason']})" if finding.get("reason") else ""
        name = f" {finding['name']}" if finding.get("name") else ""
        lines.append(f"  {where}{finding['rule']}{name} [{finding['severity']}] {finding['state']}{reason}")
    if payload.get("next"):
        lines.append(f"  next: {payload['next']}")
    if status == ERROR and payload.get("message"):
        lines.append(f"  error: {payload['message']}")
    if verbose and payload.get("traceback"):
        lines.append(payload["traceback"])
    return "\n".join(lines) + "\n"


def _run_probe(args, path: Path, options) -> int:
    from gemma_doctor.verify.probe import probe, render_text

    _require_extra()
    gguf = Path(args.gguf) if args.gguf else None
    if gguf is not None and not gguf.is_file():
        raise UsageError(f"--gguf {args.gguf}: no such file")
    weights = path if path.is_dir() else path.parent
    if gguf is None and not any(weights.glob("*.safetensors")):
        weights = _cached_checkpoint(path, options)
    try:
        result = probe(weights, gguf, args.device)
    except Exception as exc:  # noqa: BLE001 - loading real weights can fail in many ways; one line, exit 2
        sys.stderr.write(f"gemma-doctor: error: the probe could not run: {type(exc).__name__}: {exc}\n")
        return 2
    if args.format == "json":
        sys.stdout.write(json.dumps({"version": 1, **result}, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(result))
    return 1 if result["status"] == "failed" else 0


def _cached_checkpoint(path: Path, options) -> Path:
    """The safetensors checkpoint the project names, from the local Hugging Face cache."""
    from gemma_doctor import hub

    setup = project_setup(path, options)[1] if path.is_dir() else None
    model_ids = [str(f.value) for f in setup.all("model_id") if isinstance(f.value, str)] if setup else []
    for model_id in model_ids:
        if hub.looks_like_repo_id(model_id):
            snapshot = hub.snapshot_path(model_id)
            if snapshot is not None and any(snapshot.glob("*.safetensors")):
                return snapshot
    named = f" (the project names {', '.join(dict.fromkeys(model_ids))})" if model_ids else ""
    raise UsageError(
        f"{path}: no *.safetensors weights here or in the Hugging Face cache at {hub.cache_dir()}{named}; "
        "download the checkpoint, or pass --gguf FILE for a GGUF model"
    )


def _run_launch(args, setup, plan):
    """The same tiny step through `accelerate launch` with the project's accelerate config, one process per GPU:
    DDP/FSDP/DeepSpeed then run their own precision checks."""
    import dataclasses
    import tempfile

    import torch

    from gemma_doctor.verify.run import Result, progress

    gpus = torch.cuda.device_count()
    config = next(
        (
            f.location.path
            for f in setup.all("distributed_type") + setup.all("accelerate_mixed_precision")
            if f.location.path
        ),
        None,
    )
    result = Result()
    with tempfile.TemporaryDirectory(prefix="gemma-doctor-launch-") as workdir:
        plan_path, result_path = os.path.join(workdir, "plan.json"), os.path.join(workdir, "result.json")
        with open(plan_path, "w", encoding="utf-8") as handle:
            json.dump(dataclasses.asdict(plan), handle)
        command = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(max(gpus, 1))]
        if config:
            command += ["--config_file", config]
        elif gpus > 1:
            command += ["--multi_gpu"]
        if gpus == 0:
            command += ["--cpu"]
        command += ["-m", "gemma_doctor.verify.worker", plan_path, result_path, str(args.steps)]
        progress(f"accelerate launch on {max(gpus, 1)} process(es)" + (f" with {config}" if config else ""))
        process = subprocess.run(command, capture_output=True, text=True)
        if os.path.exists(result_path):
            with open(result_path, encoding="utf-8") as handle:
                data = json.load(handle)
            for key in ("status", "device", "versions", "steps", "eval_loss", "rule", "message", "frame"):
                setattr(result, key, data[key])
            result.coverage, result.exercised = data["coverage"], data["exercised"]
            world = data["world_size"]
        else:
            tail = " ".join(process.stderr.strip().splitlines()[-3:])[-500:]
            result.status, result.message, world = "error", f"accelerate launch failed: {tail}", 0
    return result, {"processes": world, "config_file": config}
