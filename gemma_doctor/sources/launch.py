"""Launch lines in shell scripts: ``accelerate launch [--config_file F] [--mixed_precision M] train.py ...``,
``deepspeed train.py --deepspeed ds.json``, ``torchrun ... train.py``, ``python train.py ...``, and ms-swift's
``swift sft --model ... --torch_dtype ...``, a run of its own.

A launch line tells which script a run executes and what it runs with: the accelerate config it
names (its ``mixed_precision`` reaches the run through ``ACCELERATE_MIXED_PRECISION``, which
TrainingArguments override only when fp16 or bf16 is True: docs/evidence/README.md), ``--mixed_precision``
itself, and a DeepSpeed JSON passed to the script. Lines are read, never run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from gemma_doctor.facts import Fact, InputError, Location, SourceResult
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


# `uv run NAME`, `poetry run NAME`, ...: the runner and its own options come off, and what remains is the
# launch line (`uv run python train.py`, `uv run accelerate launch ...`) or the project's own command.
_RUNNERS = {"uv", "poetry", "pdm", "hatch", "pipenv", "conda", "rye"}
_RUNNER_VALUE_OPTIONS = {
    "--with",
    "--with-requirements",
    "--env-file",
    "--python",
    "-p",
    "--project",
    "--directory",
    "--extra",
    "--group",
    "--package",
    "-n",
    "--name",
    "--prefix",
    "-e",
    "--env",
}
# Launchers that run `python -m MODULE`, and are not the training module themselves.
_LAUNCHER_MODULES = {"torch.distributed.run", "accelerate.commands.launch"}
# The script flags a launch line passes that the run reads (HfArgumentParser / argparse flags).
_SCRIPT_FLAGS = ("deepspeed", "fp16", "bf16", "model_name_or_path")


def command_words(line: str) -> list[str]:
    """A shell line's words, as the shell splits them, without its comment and its ``VAR=value`` prefixes."""
    try:
        words = shlex.split(line.split(" #", 1)[0], comments=False)
    except ValueError:
        return []
    while words and "=" in words[0] and not words[0].startswith("-"):
        words = words[1:]
    return words


def parse_launch(words: list[str]) -> dict | None:
    """What a launch line (its ``command_words``) runs and the options that matter, or None. It runs one
    of: a ``script`` (``train.py``), a ``module`` (``python -m pkg.train``) or a ``command`` of the
    project's own (``uv run train-gemma``, which the project's ``[project.scripts]`` names: runs.py
    resolves it)."""
    runner = None
    if len(words) > 2 and words[0].rsplit("/", 1)[-1] in _RUNNERS and words[1] == "run":
        runner = words[0].rsplit("/", 1)[-1]
        index = 2
        while index < len(words) and words[index].startswith("-"):
            index += 2 if words[index] in _RUNNER_VALUE_OPTIONS else 1
        words = words[index:]
    if not words:
        return None
    head = words[0].rsplit("/", 1)[-1]
    if head.startswith("python") and head[6:].replace(".", "").isdigit():  # python3.11
        head = "python3"
    if head.startswith("python") and len(words) > 2 and words[1] == "-m" and words[2] not in _LAUNCHER_MODULES:
        return _with_script_flags({"launcher": head, "module": words[2]}, words[3:])
    if head not in ("accelerate", "deepspeed", "torchrun", "python", "python3"):
        if head.endswith(".py") or head.startswith("-") or "=" in head:
            return None
        command = _with_script_flags({"launcher": runner or "command", "command": head}, words[1:])
        # A bare word is a command of the project only where it passes a flag the run reads; after a
        # runner (`uv run NAME`) it is one whatever it passes.
        return command if runner or any(f"script_{flag}" in command for flag in _SCRIPT_FLAGS) else None
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
        if word == "-m" and index + 1 < len(words) and head in ("torchrun", "deepspeed", "accelerate"):
            return _with_script_flags({**launch, "module": words[index + 1]}, words[index + 2 :])
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
    return _with_script_flags(launch, words[script_index + 1 :])


def _with_script_flags(launch: dict, rest: list[str]) -> dict:
    launch["script_args"] = list(rest)  # the script's sys.argv[1:]: a file that parses it is read with them
    for position, word in enumerate(rest):
        key, _, value = word.lstrip("-").partition("=")
        if word.startswith("--") and key in _SCRIPT_FLAGS:
            if not value and position + 1 < len(rest) and not rest[position + 1].startswith("-"):
                value = rest[position + 1]
            launch[f"script_{key}"] = value or "true"
    return launch


def _flag_positions(launch: dict, physical: list[str], first: int) -> dict[str, tuple[int, int]]:
    """(line, column) of each script flag the launch passes, on the physical line that holds it (a
    continued launch line spans several): a finding about ``--fp16 true`` points there."""
    positions = {}
    for flag in _SCRIPT_FLAGS:
        if f"script_{flag}" in launch:
            found = _flag_at(physical, first, flag)
            if found is not None:
                positions[flag] = found
    return positions


def _flag_at(physical: list[str], first: int, flag: str) -> tuple[int, int] | None:
    """(line, column) of ``--flag`` in the launch line that starts at ``first``, through its continuations."""
    return _word_at(physical, first, f"--{flag}")


def _word_at(physical: list[str], first: int, word: str) -> tuple[int, int] | None:
    """(line, column) of ``word`` (followed by a space, ``=`` or the line's end) in the launch line that
    starts at ``first``, through its continuations."""
    number = first
    while number <= len(physical):
        text = physical[number - 1]
        column = next((c for c in (text.find(f"{word} "), text.find(f"{word}=")) if c >= 0), -1)
        if column < 0 and text.rstrip().endswith(word):
            column = text.rstrip().rfind(word)
        if column >= 0:
            return number, column + 1
        if not text.rstrip().endswith("\\"):
            return None
        number += 1
    return None


# ms-swift's training commands: `swift sft --model ... --torch_dtype ...` is a run of its own, its flags
# the SftArguments fields (a `--config` YAML is read as a file of its own).
_SWIFT_COMMANDS = {"sft", "rlhf", "pt", "pretrain"}


def swift_run(words: list[str], display: str, physical: list[str], first: int) -> list[Fact] | None:
    """The training-argument facts of a ``swift sft ...`` line, each located at its flag, or None."""
    if len(words) < 2 or words[0].rsplit("/", 1)[-1] != "swift" or words[1] not in _SWIFT_COMMANDS:
        return None
    from gemma_doctor.sources.training_args import SWIFT_KEYS, swift_setting

    keys = SWIFT_KEYS
    line, column = _word_at(physical, first, f"swift {words[1]}") or (first, 1)
    facts = [Fact("trainer_flavour", "swift", Location(display, line, column, f"swift {words[1]}"), "training-args")]
    rest = words[2:]
    for position, word in enumerate(rest):
        if not word.startswith("--"):
            continue
        key, _, value = word[2:].partition("=")
        if not value and position + 1 < len(rest) and not rest[position + 1].startswith("--"):
            value = rest[position + 1]
        name = keys.get(key)
        if name is None or not value:
            continue
        given: object = value.lower() == "true" if value.lower() in ("true", "false") else value
        line, column = _flag_at(physical, first, key) or (first, 1)
        where = Location(display, line, column, f"--{key}")
        if name.startswith("swift_"):
            meant = swift_setting(name, given)
            if meant is not None:
                facts.append(Fact(meant[0], meant[1], where, "training-args", raw_key=f"--{key}"))
        else:
            facts.append(Fact(name, given, where, "training-args", raw_key=f"--{key}"))
    return facts


def target(launch: dict) -> str:
    """The script, module or command the launch line runs, as written."""
    return launch.get("script") or launch.get("module") or launch.get("command") or ""


_EXPANSION = re.compile(r"^\$\{(\w+)(:?-)([^}]*)\}$|^\$\{?(\w+)\}?$")


def _expanded(value: str, environment: dict[str, str | None]) -> str | None:
    """A variable's value as the shell expands it, where it can be known: ``${MODEL:-google/gemma-3-1b-it}``
    is the default unless the script set MODEL before; ``$MODEL`` what the script set. None: unknown."""
    if "$" not in value and "`" not in value:
        return value
    match = _EXPANSION.match(value)
    if match is None:
        return None
    name = match.group(1) or match.group(4)
    if name in environment:
        return environment[name]
    return match.group(3) if match.group(1) else None  # unset outside the script: its default, else unknown


def _assignments(line: str, environment: dict[str, str | None]) -> tuple[dict[str, str | None], list[str]]:
    """The variables a shell line sets (``export A=1 B=2``, ``A=1``, or the ``A=1 python ...`` prefix of a
    command) and the words after them."""
    try:
        words = shlex.split(line.split(" #", 1)[0], comments=False)
    except ValueError:
        return {}, []
    exported = words[:1] == ["export"]
    if exported:
        words = words[1:]
    assigned: dict[str, str | None] = {}
    while words and "=" in words[0] and not words[0].startswith("-") and words[0].split("=", 1)[0].isidentifier():
        name, _, value = words.pop(0).partition("=")
        assigned[name] = _expanded(value, {**environment, **assigned})
    return assigned, [] if exported else words


def _sourced(words: list[str], base: Path, display: str) -> dict[str, str | None]:
    """The variables ``source config.sh`` (or ``. config.sh``) exports, from a file beside the script."""
    if len(words) != 2 or words[0] not in ("source", ".") or "$" in words[1]:
        return {}
    try:
        text = read_text(base / words[1])
    except (InputError, OSError):
        return {}
    environment: dict[str, str | None] = {}
    for _number, line in logical_lines(text):
        assigned, rest = _assignments(line.strip(), environment)
        if not rest:
            environment.update(assigned)
    return environment


def load(path: Path, display: str) -> SourceResult:
    text = read_text(path)
    result = SourceResult()
    markers = (".py", " -m ", " run ", "--fp16", "--bf16", "--model_name_or_path", "swift ")
    if not any(marker in text for marker in markers):
        return result  # no launch line: not a file gemma-doctor reads
    physical = text.splitlines()
    # What the script exports as it goes: a launch line's process sees what was set above it (`export
    # MODEL=...`, `source config.sh`) and its own prefix (`MODEL=... python train.py`).
    environment: dict[str, str | None] = {}
    for number, line in logical_lines(text):
        assigned, rest = _assignments(line.strip(), environment)
        if not rest:
            environment.update(assigned)
            continue
        environment.update(_sourced(rest, path.parent, display))
        words = command_words(line.strip())
        swift = swift_run(words, display, physical, number)
        if swift is not None:
            result.facts.append(Fact("swift_run", swift, swift[0].location, ORIGIN))
            continue
        launch = parse_launch(words)
        if launch is not None:
            launch["flag_at"] = _flag_positions(launch, physical, number)
            launch["script_env"] = {**environment, **assigned}
            result.facts.append(Fact("launch", launch, Location(display, number, 1, target(launch)), ORIGIN))
    if result.facts:
        result.kind = "launch"
    return result
