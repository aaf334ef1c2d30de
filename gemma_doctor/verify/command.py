"""``gemma-doctor verify [PATH]``: plan from the project's Setup, run, report."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

from gemma_doctor.errors import UsageError

INSTALL_HINT = (
    "gemma-doctor verify needs torch, transformers and accelerate: "
    "pip install 'gemma-doctor[verify]' (install torch first for the build you want)"
)


def _missing() -> list[str]:
    return [name for name in ("torch", "transformers", "accelerate") if importlib.util.find_spec(name) is None]


def installed_setup(path: Path, options):
    """The project's Setup, judged against the stack that runs here: installed versions, not the pins."""
    from gemma_doctor.discovery import walk
    from gemma_doctor.engine import Project, Report, load_project

    project = Project(walk(path) if path.is_dir() else [path])
    load_project(project, options, Report())
    setup = project.setup
    if setup is None:
        raise UsageError(f"{path}: nothing gemma-doctor reads here")
    setup.versions = [v for v in setup.versions if v.origin == "installed"]
    return setup


def run_verify(args) -> int:
    from gemma_doctor.engine import run_rules
    from gemma_doctor.settings import resolve
    from gemma_doctor.verify.plan import PlanError, make_plan

    started = time.perf_counter()
    missing = _missing()
    if missing:
        sys.stderr.write(f"gemma-doctor: error: {INSTALL_HINT} (missing: {', '.join(missing)})\n")
        return 2
    path = Path(args.path)
    if not path.exists():
        raise UsageError(f"{args.path}: no such file or directory")
    if args.weights:
        return _run_probe(args, path)
    settings = resolve(args, [path])
    setup = installed_setup(path, settings.options)
    static = {f.rule: f for f in run_rules(setup, settings.options)}
    try:
        plan = make_plan(setup)
    except PlanError as exc:
        return _emit(args, {"status": "error", "message": str(exc)}, started, [], {}, None)
    if args.launch:
        return _run_launch(args, setup, plan, static, started)
    from gemma_doctor.verify.run import run

    result = run(plan, args.device, args.steps)
    findings = []
    if result.status == "failed":
        findings.append(_finding(result, plan, static))
    payload = {
        "status": result.status,
        "device": result.device,
        "versions": result.versions,
        "settings": plan.settings(),
        "steps": result.steps,
        "eval_loss": result.eval_loss,
    }
    if result.status != "passed":
        payload["message"] = result.message
        payload["last_frame"] = result.frame
        if args.verbose and result.traceback:
            payload["traceback"] = result.traceback
    return _emit(args, payload, started, findings, static, result)


def _finding(result, plan, static) -> dict:
    from gemma_doctor.knowledge import catalogue

    rule = result.rule
    doc = catalogue().get(rule) if rule else None
    source = static.get(rule) if rule else None
    location = source.location if source else None
    return {
        "rule": rule,
        "name": doc.name if doc else None,
        "severity": "error",
        "path": location.path if location else None,
        "line": location.line if location else None,
        "column": location.column if location else None,
        "cell": location.cell if location else None,
        "key": location.key if location else None,
        "message": f"verify reproduced it: {result.message}"
        if rule
        else f"verify failed with an unknown error: {result.message} (at {result.frame})",
        "fix": {"safety": source.fix.safety, "title": source.fix.title} if source and source.fix else None,
    }


def _emit(args, payload: dict, started: float, findings: list, static, result) -> int:
    payload = {"version": 1, **payload, "findings": findings, "seconds": round(time.perf_counter() - started, 2)}
    payload.setdefault("device", None)
    status = payload["status"]
    if args.format == "json":
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        lines = [f"verify: {status.upper()} on {payload.get('device') or '-'} in {payload['seconds']} s"]
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
        for index, step in enumerate(payload.get("steps") or [], 1):
            lines.append(f"  step {index}: loss {step['loss']}, grad_norm {step['grad_norm']}")
        if payload.get("eval_loss") is not None:
            lines.append(f"  eval_loss {payload['eval_loss']}")
        for finding in findings:
            lines.append(f"  {finding['rule'] or 'unknown'}: {finding['message']}")
        if status == "error" and payload.get("message"):
            lines.append(f"  error: {payload['message']}")
        if getattr(args, "verbose", False) and payload.get("traceback"):
            lines.append(payload["traceback"])
        sys.stdout.write("\n".join(lines) + "\n")
    return {"passed": 0, "failed": 1}.get(status, 2)


def _run_probe(args, path: Path) -> int:
    from gemma_doctor.verify.probe import probe, render_text

    gguf = Path(args.gguf) if args.gguf else None
    if gguf is not None and not gguf.is_file():
        raise UsageError(f"--gguf {args.gguf}: no such file")
    if gguf is None and not any(path.glob("*.safetensors")):
        raise UsageError(f"{path}: no *.safetensors weights here; pass --gguf FILE for a GGUF model")
    try:
        result = probe(path, gguf, args.device)
    except Exception as exc:  # noqa: BLE001 - loading real weights can fail in many ways; one line, exit 2
        sys.stderr.write(f"gemma-doctor: error: the probe could not run: {type(exc).__name__}: {exc}\n")
        return 2
    if args.format == "json":
        sys.stdout.write(json.dumps({"version": 1, **result}, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(result))
    return 1 if result["status"] == "failed" else 0


def _run_launch(args, setup, plan, static, started) -> int:
    """The same tiny step through `accelerate launch` with the project's accelerate config, one process per GPU:
    DDP/FSDP/DeepSpeed then run their own precision checks. Its own verdict."""
    import dataclasses
    import os
    import subprocess
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
    workdir = tempfile.mkdtemp(prefix="gemma-doctor-launch-")
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
    result = Result()
    if os.path.exists(result_path):
        with open(result_path, encoding="utf-8") as handle:
            data = json.load(handle)
        for key in ("status", "device", "versions", "steps", "eval_loss", "rule", "message", "frame"):
            setattr(result, key, data[key])
        world = data["world_size"]
    else:
        tail = " ".join(process.stderr.strip().splitlines()[-3:])[-500:]
        result.status, result.message, world = "error", f"accelerate launch failed: {tail}", 0
    payload = {
        "status": result.status,
        "device": result.device,
        "versions": result.versions,
        "settings": dict(plan.settings(), launch={"processes": world, "config_file": config}),
        "steps": result.steps,
        "eval_loss": result.eval_loss,
    }
    if result.status != "passed":
        payload["message"], payload["last_frame"] = result.message, result.frame
    findings = [_finding(result, plan, static)] if result.status == "failed" else []
    return _emit(args, payload, started, findings, static, result)
