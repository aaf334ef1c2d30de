"""Speed of the static check, measured side by side in one run (interleaved rounds; see per_round).

Prints, for this machine:
  1. `gemma-doctor check` on a small project (config.json + train.yaml + requirements.txt) against
     `python -c pass` (issue 13: at most 3x; the standing goal 2x), beside the floor of importing
     argparse, json and pathlib, and `check-jsonschema` on the same config.json as a peer;
  2. `gemma-doctor --version` and `gemma-doctor env`;
  3. 1,000 mixed files in one check (goal: under 1 s);
  4. the extra cost of a 1,000-line script (goal: < 10 ms) and of a 1 MB notebook (goal: < 30 ms);
  4b. 10,000 files (goal: < 5 s), read in parallel and in one process (GEMMA_DOCTOR_JOBS=1), and a
     project of 200 modules that import each other;
  5. where the small project's check spends its time: interpreter, imports, arguments and settings,
     discovery, parsing, rules, report (medians of fresh processes, each phase timed in-process with
     perf_counter, from before `import json`); "the rest" is the wall time none of them covers: process
     start-up beyond `python -c pass`'s, the console script and writing the output, less the
     interpreter shutdown that `python -c pass` pays and a static command skips (_startup.exit_after).
Usage: python bench/check_speed.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # let .pyc files be written once


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def interleaved(commands: dict[str, list[str]], cwd: Path, runs: int) -> dict[str, list[float]]:
    """Each command's times, one per round; a round runs every command once, back to back."""
    for command in commands.values():  # warm-up: page cache and .pyc files
        timed(command, cwd)
        timed(command, cwd)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            samples[name].append(timed(command, cwd))
    return samples


# This machine runs in two speeds that alternate over seconds (`python -c pass` takes 15 ms in some
# rounds and 22 ms in others), so a ratio of two medians can pair a fast round with a slow one. A
# ratio is taken within each round, where both commands ran moments apart, and the median of those
# is reported; so is a difference.
def per_round(samples: dict[str, list[float]], name: str, other: str, ratio: bool = True) -> float:
    pairs = zip(samples[name], samples[other])
    return statistics.median([a / b if ratio else a - b for a, b in pairs])


def small_project(base: Path) -> Path:
    project = base / "small"
    project.mkdir()
    shutil.copy(ROOT / "examples/gemma3-broken/model/config.json", project / "config.json")
    (project / "train.yaml").write_text(
        (ROOT / "examples/gemma3-broken/train.yaml").read_text().replace("./model", ".")
    )
    shutil.copy(ROOT / "examples/gemma3-broken/requirements.txt", project / "requirements.txt")
    return project


def thousand_files(base: Path) -> Path:
    tree = base / "many"
    sources = [
        ROOT / "examples/gemma3-broken/model/config.json",
        ROOT / "examples/gemma3-broken/train.yaml",
        ROOT / "examples/gemma3-broken/ds_zero2.json",
        ROOT / "fixtures/GD202/fail-hf-trainer-script/train.py",
        ROOT / "examples/gemma3-broken/requirements.txt",
    ]
    for index in range(200):
        folder = tree / f"run{index:03d}"
        folder.mkdir(parents=True)
        for source in sources:
            shutil.copy(source, folder / source.name)
    return tree


def ten_thousand_files(base: Path) -> Path:
    """The 1,000-file tree ten times over (issue 19: 7.5-8.4 s before, goal < 5 s)."""
    tree = base / "many10k"
    for index in range(10):
        shutil.copytree(base / "many", tree / f"part{index}")
    return tree


def two_hundred_modules(base: Path) -> Path:
    """A package of 200 modules that import a settings module and each other, and a training script
    that imports a tenth of them (issue 19: report a 200-module project's time)."""
    root = base / "modules200"
    package = root / "project"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text('MODEL_ID = "google/gemma-3-1b-it"\nUSE_FP16 = True\n')
    for index in range(200):
        previous = f"from project.mod{index - 1:03d} import helper{index - 1:03d}\n" if index else ""
        (package / f"mod{index:03d}.py").write_text(
            f"from project.settings import MODEL_ID, USE_FP16\n{previous}\n\n"
            f"def helper{index:03d}(value=MODEL_ID):\n    return value if USE_FP16 else None\n"
        )
    imports = "".join(f"from project.mod{index:03d} import helper{index:03d}\n" for index in range(0, 200, 10))
    (root / "train.py").write_text(
        imports + "from project.settings import MODEL_ID, USE_FP16\n"
        "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n\n"
        "model = AutoModelForCausalLM.from_pretrained(MODEL_ID)\n"
        'Trainer(model=model, args=TrainingArguments(output_dir="o", fp16=USE_FP16)).train()\n'
    )
    return root


def tiny_script(base: Path) -> Path:
    folder = base / "tiny-script"
    folder.mkdir()
    (folder / "train.py").write_text(
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', bf16=True, eval_strategy='steps')\n"
    )
    return folder


def tiny_notebook(base: Path) -> Path:
    folder = base / "tiny-notebook"
    folder.mkdir()
    cells = [
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [],
            "source": ["from trl import SFTConfig\n", "args = SFTConfig(output_dir='o', bf16=True)\n"],
        }
    ]
    (folder / "train.ipynb").write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return folder


def big_script(base: Path) -> Path:
    folder = base / "script"
    folder.mkdir()
    body = ["from transformers import TrainingArguments", "import torch", ""]
    for index in range(330):
        body += [f"def step_{index}(batch):", f"    return batch * {index} + torch.ones(3).sum()", ""]
    body += ["args = TrainingArguments(output_dir='o', bf16=True, eval_strategy='steps')"]
    (folder / "train.py").write_text("\n".join(body[:999]) + "\n" + body[-1] + "\n")
    return folder


def big_notebook(base: Path) -> Path:
    folder = base / "notebook"
    folder.mkdir()
    output = {"output_type": "stream", "name": "stdout", "text": ["loss 1.0\n"] * 830}
    cells = [
        {
            "cell_type": "code",
            "execution_count": i,
            "metadata": {},
            "outputs": [output],
            "source": [f"x_{i} = {i}\n", "print(x)\n"],
        }
        for i in range(60)
    ]
    cells.append(
        {
            "cell_type": "code",
            "execution_count": 61,
            "metadata": {},
            "outputs": [],
            "source": ["from trl import SFTConfig\n", "args = SFTConfig(output_dir='o', bf16=True)\n"],
        }
    )
    path = folder / "train.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    return folder


# One check of PATH, phase by phase, in a fresh interpreter: the same calls as engine.check and
# commands.run_check, with a timer between them. Printed as JSON.
PHASES = r"""
import time
t0 = time.perf_counter()
import json, sys  # inside the timing: a check imports json (and with it re and enum) too
from gemma_doctor import cli, __version__
from pathlib import Path
from gemma_doctor.engine import Options, Report, group_projects, load_project, run_rules, machine_dependent_findings
from gemma_doctor.reporters import render
from gemma_doctor.settings import resolve
t1 = time.perf_counter()
args = cli.build_parser(only="check").parse_args(["check", sys.argv[1], "--env", "none"])  # as cli.main reads it
options = resolve(args, [Path(sys.argv[1])]).options
ta = time.perf_counter()
projects, problems = group_projects([Path(sys.argv[1])], options)
t2 = time.perf_counter()
report = Report()
for project in projects:
    load_project(project, options, report)
    project.runs
t3 = time.perf_counter()
for project in projects:
    for run, setup in project.runs:
        found = run_rules(setup, options)
        report.findings += found + machine_dependent_findings(setup, options, found)
    report.projects.append(project)
t4 = time.perf_counter()
text = render(report, "text", color=False, version=__version__)
t5 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "arguments and settings": ta - t1, "discovery": t2 - ta, "parsing": t3 - t2,
                  "rules": t4 - t3, "report": t5 - t4}))
"""


def phases(project: Path, runs: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {}
    for _ in range(runs + 2):
        out = subprocess.run([sys.executable, "-c", PHASES, str(project)], capture_output=True, text=True, env=ENV)
        for name, seconds in json.loads(out.stdout).items():
            samples.setdefault(name, []).append(seconds)
    return {name: statistics.median(values[2:]) for name, values in samples.items()}  # the first two warm up


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    gd = str(BIN / "gemma-doctor")
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        small = small_project(base)
        empty = base / "empty"
        empty.mkdir()
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            # What any CLI built on argparse, json and pathlib pays before its own code runs (os._exit
            # as the console script ends a check): the floor under the ratio below.
            "python: import argparse, json, pathlib": [
                sys.executable,
                "-c",
                "import argparse, json, os, pathlib; os._exit(0)",
            ],
            "gemma-doctor --version": [gd, "--version"],
            "gemma-doctor check (small project)": [gd, "check", str(small), "--env", "none"],
            "gemma-doctor check --env auto": [gd, "check", str(small)],
            "gemma-doctor env": [gd, "env"],
        }
        peer = BIN / "check-jsonschema"
        if peer.exists():
            schema = base / "config.schema.json"
            schema.write_text(
                json.dumps(
                    {"type": "object", "required": ["model_type"], "properties": {"model_type": {"type": "string"}}}
                )
            )
            commands["check-jsonschema (same config.json)"] = [
                str(peer),
                "--schemafile",
                str(schema),
                str(small / "config.json"),
            ]
        # The hooks people run beside this one, on the same files (pre-commit-hooks' check-yaml and
        # check-json, and yamllint), when installed.
        for hook, files in (
            ("check-yaml", ["train.yaml"]),
            ("check-json", ["config.json"]),
            ("yamllint", ["train.yaml"]),
        ):
            if (BIN / hook).exists():
                commands[f"{hook} (same {files[0]})"] = [str(BIN / hook), *(str(small / f) for f in files)]
        results = interleaved(commands, base, args.runs)
        median = {name: statistics.median(values) for name, values in results.items()}
        baseline = median["python -c pass"]
        print(
            f"{args.runs} interleaved rounds, {os.cpu_count()} cores, Python {sys.version.split()[0]}: median time,"
            " and the median of each round's ratio to `python -c pass`"
        )
        for name in results:
            ratio = per_round(results, name, "python -c pass")
            print(f"  {name:<40} {median[name] * 1000:8.1f} ms   {ratio:5.2f}x python -c pass")
        breakdown = phases(small, args.runs)
        interpreter = baseline
        print(
            f"  where `check (small project)` goes ({', '.join(f'{k} {v * 1000:.1f} ms' for k, v in breakdown.items())}):"
        )
        print(f"    {'interpreter (python -c pass)':<38} {interpreter * 1000:8.1f} ms")
        for name, seconds in breakdown.items():
            print(f"    {name:<38} {seconds * 1000:8.1f} ms")
        rest = median["gemma-doctor check (small project)"] - interpreter - sum(breakdown.values())
        print(f"    {'the rest (start-up beyond pass, exit)':<38} {rest * 1000:8.1f} ms")
        many = thousand_files(base)
        script, notebook = big_script(base), big_notebook(base)
        size = (notebook / "train.ipynb").stat().st_size
        more = interleaved(
            {
                "1,000 mixed files": [gd, "check", str(many), "--env", "none", "--exit-zero"],
                "2-line script": [gd, "check", str(tiny_script(base)), "--env", "none", "--exit-zero"],
                "1-cell notebook": [gd, "check", str(tiny_notebook(base)), "--env", "none", "--exit-zero"],
                "1,000-line script": [gd, "check", str(script), "--env", "none", "--exit-zero"],
                f"{size / 1e6:.1f} MB notebook": [gd, "check", str(notebook), "--env", "none", "--exit-zero"],
            },
            base,
            max(5, args.runs // 3),
        )
        many_ms = statistics.median(more["1,000 mixed files"]) * 1000
        print(f"  {'check of 1,000 mixed files':<40} {many_ms:8.1f} ms   (goal: < 1000 ms)")
        extra_script = per_round(more, "1,000-line script", "2-line script", ratio=False)
        print(f"  {'1,000-line script, extra over 2 lines':<40} {extra_script * 1000:8.1f} ms   (goal: < 10 ms)")
        key = next(k for k in more if k.endswith("MB notebook"))
        extra_notebook = per_round(more, key, "1-cell notebook", ratio=False)
        print(f"  {key + ', extra over 1 cell':<40} {extra_notebook * 1000:8.1f} ms   (goal: < 30 ms)")
        huge, modules = ten_thousand_files(base), two_hundred_modules(base)
        one_by_one = [
            sys.executable,
            "-c",
            "import os, sys; os.environ['GEMMA_DOCTOR_JOBS'] = '1'; sys.argv[0] = 'gemma-doctor'; from gemma_doctor.cli import entry; entry()",
        ]
        large = interleaved(
            {
                "10,000 files": [gd, "check", str(huge), "--env", "none", "--exit-zero"],
                "10,000 files, one process": [*one_by_one, "check", str(huge), "--env", "none", "--exit-zero"],
                "200-module project": [gd, "check", str(modules), "--env", "none", "--exit-zero"],
            },
            base,
            3,
        )
        for name, goal in (
            ("10,000 files", "goal: < 5000 ms"),
            ("10,000 files, one process", "before: 7,500-8,400 ms"),
            ("200-module project", "reported"),
        ):
            print(f"  {'check of ' + name:<40} {statistics.median(large[name]) * 1000:8.1f} ms   ({goal})")
        print(
            f"  {'parallel over one process':<40} {per_round(large, '10,000 files', '10,000 files, one process'):8.2f}x  ({os.cpu_count()} cores)"
        )


if __name__ == "__main__":
    main()
