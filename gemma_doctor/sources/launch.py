"""Launch lines in shell scripts: ``accelerate launch [--config_file F] [--mixed_precision M] train.py ...``,
``deepspeed train.py --deepspeed ds.json``, ``torchrun ... train.py``, ``python train.py ...``.

A launch line tells which script a run executes and what it runs with: the accelerate config it
names (its ``mixed_precision`` reaches the run through ``ACCELERATE_MIXED_PRECISION``, which
TrainingArguments override only when fp16 or bf16 is True: docs/evidence/README.md), ``--mixed_precision``
itself, and a DeepSpeed JSON passed to the script. Lines are read, never run.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from gemma_doctor.facts import Fact, Location, SourceResult
from gemma_doctor.sources import read_text

ORIGIN = "launch"
_LAUNCHERS = {
    ("accelerate", "launch"),
    ("deepspeed",),
    ("torchrun",),
    ("python",),
    ("python3",),
    ("python", "-m", "torch.distributed.run"),
    ("python", "-m", "accelerate.commands.launch"),
}


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(line)
        out.append((start, " ".join(part.strip() for part in pending)))
        pending = []
    if pending:
        out.append((start, " ".join(part.strip() for part in pending)))
    return out


def parse_launch(line: str) -> dict | None:
    """The script a launch line runs and the options that matter, or None."""
    try:
        words = shlex.split(line.split(" #", 1)[0], comments=False)
    except ValueError:
        return None
    while words and "=" in words[0] and not words[0].startswith("-"):  # VAR=value prefixes
        words = words[1:]
    if not words:
        return None
    head = words[0].rsplit("/", 1)[-1]
    if head not in ("accelerate", "deepspeed", "torchrun", "python", "python3"):
        return None
    if head == "accelerate" and (len(words) < 2 or words[1] != "launch"):
        return None
    launch: dict = {"launcher": head}
    script_index = None
    index = 1 if head != "accelerate" else 2
    while index < len(words):
        word = words[index]
        if word.endswith(".py"):
            script_index = index
            break
        if word.startswith("--"):
            key, _, value = word[2:].partition("=")
            if (
                not value
                and index + 1 < len(words)
                and not words[index + 1].startswith("-")
                and not words[index + 1].endswith(".py")
            ):
                value = words[index + 1]
                index += 1
            if key in ("config_file", "mixed_precision", "deepspeed_config_file", "num_processes"):
                launch[key] = value
            elif key in ("nproc_per_node", "num_gpus"):  # torchrun / deepspeed: one process per GPU
                launch["num_processes"] = value
        index += 1
    if script_index is None:
        return None
    launch["script"] = words[script_index]
    rest = words[script_index + 1 :]
    for position, word in enumerate(rest):
        key, _, value = word.lstrip("-").partition("=")
        if word.startswith("--") and key in ("deepspeed", "fp16", "bf16", "model_name_or_path"):
            if not value and position + 1 < len(rest) and not rest[position + 1].startswith("-"):
                value = rest[position + 1]
            launch[f"script_{key}"] = value or "true"
    return launch


def load(path: Path, display: str) -> SourceResult:
    text = read_text(path)
    result = SourceResult()
    if ".py" not in text:
        return result  # no launch line: not a file gemma-doctor reads
    for number, line in logical_lines(text):
        launch = parse_launch(line.strip())
        if launch is not None:
            result.facts.append(Fact("launch", launch, Location(display, number, 1, launch["script"]), ORIGIN))
    if result.facts:
        result.kind = "launch"
    return result
