"""``verify --weights``: does this model's real forward overflow fp16?

Runs the built-in text through the real weights once in float32 with a hook on
every decoder layer (the residual stream leaves each layer), compares each
layer's max |activation| with fp16's largest finite value, then runs the same
forward in float16 and bfloat16 and reports where inf/NaN first appears.
Ground truth on Gemma 3 270M (docs/evidence/fp16-overflow.md): 104,061 at layer 14, first
past 65504 at layer 7, every fp16 logit NaN, bf16 finite.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from pathlib import Path

from gemma_doctor.verify.run import dtype_keyword, progress

FP16_MAX = 65504.0
TEXT = (
    "The lighthouse keeper's log for the winter of 1893 records forty-one storms, three shipwrecks and a "
    "single visitor, a botanist who came to study the lichens on the northern cliffs.\n"
    "def mean(values):\n    return sum(values) / len(values)\n"
)


class Phases:
    """Each phase announced when it starts, timed, and kept alive by a line every 15 s while it
    runs: loading a GGUF takes a minute or two on a CPU, and silence reads as a hang."""

    HEARTBEAT = 15.0

    def __init__(self) -> None:
        self.done: list[dict] = []

    @contextlib.contextmanager
    def __call__(self, name: str):
        started = time.perf_counter()
        progress(f"{name} ...")
        finished = threading.Event()

        def heartbeat() -> None:
            while not finished.wait(self.HEARTBEAT):
                progress(f"  still {name}: {time.perf_counter() - started:.0f} s")

        thread = threading.Thread(target=heartbeat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            finished.set()
            seconds = round(time.perf_counter() - started, 2)
            self.done.append({"phase": name, "seconds": seconds})
            progress(f"{name}: {seconds} s")


def _load(path: Path, gguf: Path | None, torch, transformers, phases: Phases):
    dtype_key = dtype_keyword(transformers)
    if gguf is not None:
        folder, name = str(gguf.parent), gguf.name
        with phases(f"reading and dequantising {gguf.name}"):
            model = transformers.AutoModelForCausalLM.from_pretrained(
                folder, gguf_file=name, **{dtype_key: torch.float32}
            )
        with phases("building the tokenizer from the GGUF vocabulary"):
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    else:
        with phases(f"reading the safetensors weights in {path}"):
            model = transformers.AutoModelForCausalLM.from_pretrained(str(path), **{dtype_key: torch.float32})
        with phases("loading the tokenizer"):
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
    return model.eval(), tokenizer


def _decoder_layers(model):
    for attribute in ("model.layers", "model.language_model.layers", "language_model.model.layers"):
        node = model
        try:
            for part in attribute.split("."):
                node = getattr(node, part)
            return list(node)
        except AttributeError:
            continue
    raise RuntimeError("no decoder layers found")


def _forward(model, layers, ids, torch):
    """Per-layer max |output| and first non-finite layer, plus the loss and non-finite logit share."""
    maxima: list[float] = []
    non_finite: list[bool] = []

    def hook(module, inputs, output):
        hidden = output[0] if isinstance(output, tuple) else output
        hidden = hidden.detach().float()
        finite = torch.isfinite(hidden)
        non_finite.append(not bool(finite.all()))
        maxima.append(float(hidden[finite].abs().max()) if finite.any() else math.inf)

    handles = [layer.register_forward_hook(hook) for layer in layers]
    try:
        with torch.no_grad():
            out = model(input_ids=ids, labels=ids, use_cache=False)
    finally:
        for handle in handles:
            handle.remove()
    logits = out.logits.float()
    share = float((~torch.isfinite(logits)).float().mean())
    first = next((index for index, bad in enumerate(non_finite) if bad), None)
    return {"layer_max": maxima, "first_non_finite_layer": first, "loss": float(out.loss), "non_finite_logits": share}


def probe(path: Path, gguf: Path | None, device: str = "auto") -> dict:
    started = time.perf_counter()
    phases = Phases()
    with phases("importing torch and transformers"):
        import torch
        import transformers

    model, tokenizer = _load(path, gguf, torch, transformers, phases)
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    target = "cuda" if use_cuda else "cpu"
    with phases(f"moving the model to {target}"):
        model = model.to(target)
    ids = tokenizer(TEXT, return_tensors="pt").input_ids
    bos = model.config.bos_token_id if model.config.bos_token_id is not None else tokenizer.bos_token_id
    if bos is not None and int(ids[0, 0]) != bos:  # some GGUF tokenizer conversions add no <bos>
        ids = torch.cat([torch.tensor([[bos]]), ids], dim=1)
    ids = ids.to(target)
    layers = _decoder_layers(model)
    loaded = time.perf_counter()
    progress(f"{len(layers)} decoder layers, {ids.shape[1]} tokens")
    with phases("float32 forward with a hook on every layer"):
        reference = _forward(model, layers, ids, torch)
    with phases("float16 forward"):
        half = _forward(model.to(torch.float16), layers, ids, torch)
    with phases("bfloat16 forward"):
        brain = _forward(model.to(torch.bfloat16), layers, ids, torch)
    maxima = reference["layer_max"]
    over = [index for index, value in enumerate(maxima) if value > FP16_MAX]
    peak_layer = max(range(len(maxima)), key=maxima.__getitem__)
    rows = [
        {
            "layer": index,
            "max_abs_fp32": round(value, 1),
            "ratio_to_fp16_max": round(value / FP16_MAX, 3),
            "fp16_finite": not (half["first_non_finite_layer"] is not None and index >= half["first_non_finite_layer"]),
        }
        for index, value in enumerate(maxima)
    ]
    overflow = bool(over) or half["non_finite_logits"] > 0 or not math.isfinite(half["loss"])
    return {
        "status": "failed" if overflow else "passed",
        "device": torch.cuda.get_device_name(0) if use_cuda else "cpu",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "tokens": int(ids.shape[1]),
        "layers": rows,
        "peak": {
            "layer": peak_layer,
            "max_abs_fp32": round(maxima[peak_layer], 1),
            "ratio_to_fp16_max": round(maxima[peak_layer] / FP16_MAX, 3),
        },
        "first_layer_over_fp16_max": over[0] if over else None,
        "fp16": {
            "first_non_finite_layer": half["first_non_finite_layer"],
            "loss": _json_float(half["loss"]),
            "non_finite_logits": half["non_finite_logits"],
        },
        "bf16": {
            "first_non_finite_layer": brain["first_non_finite_layer"],
            "loss": _json_float(brain["loss"]),
            "non_finite_logits": brain["non_finite_logits"],
        },
        "fp32": {"loss": _json_float(reference["loss"])},
        "load_seconds": round(loaded - started, 2),
        "forward_seconds": round(time.perf_counter() - loaded, 2),
        "phases": phases.done,
    }


def _json_float(value: float):
    return value if math.isfinite(value) else str(value)


def render_text(result: dict) -> str:
    lines = [
        f"fp16 overflow probe: {result['status'].upper()} on {result['device']} "
        f"({result['tokens']} tokens; load {result['load_seconds']} s, forwards {result['forward_seconds']} s)",
        "  layer  max|x| fp32  / 65504  fp16",
    ]
    for row in result["layers"]:
        mark = "ok" if row["fp16_finite"] else "inf/NaN"
        flag = "  <-- past fp16 max" if row["ratio_to_fp16_max"] > 1 else ""
        lines.append(
            f"  {row['layer']:>5}  {row['max_abs_fp32']:>11,.1f}  {row['ratio_to_fp16_max']:>7.3f}  {mark}{flag}"
        )
    fp16, bf16 = result["fp16"], result["bf16"]
    lines.append(
        f"  peak {result['peak']['max_abs_fp32']:,.1f} at layer {result['peak']['layer']} "
        f"({result['peak']['ratio_to_fp16_max']}x fp16 max); first past 65504: layer "
        f"{result['first_layer_over_fp16_max']}"
    )
    lines.append(
        f"  fp16: loss {fp16['loss']}, non-finite logits {fp16['non_finite_logits']:.0%}, first inf/NaN at "
        f"layer {fp16['first_non_finite_layer']}"
    )
    lines.append(
        f"  bf16: loss {bf16['loss']}, non-finite logits {bf16['non_finite_logits']:.0%}; fp32 loss "
        f"{result['fp32']['loss']}"
    )
    if result["status"] == "failed":
        lines.append("  GD101: this model overflows fp16. Train and evaluate in bf16 (or fp32).")
    return "\n".join(lines) + "\n"
