"""The fuzz campaign's core, kept in the project (issue 14): mutated projects through ``check``,
``fix --write`` round trips, and SIGKILLs during ``fix --write``.

    python bench/fuzz.py --check 10000 --fix 2000 --kill 50 --yaml 20000 [--seed N]

Seeds are every fixture, example and corpus project in this repository. Oracles:

- check: exit 0, 1 or 2; no traceback and no "internal error"; valid JSON; every error one line;
  under 10 s;
- fix: every file it changed still parses in its format (JSON, YAML, Python, notebook with its
  cells); BOM and line-ending style kept; files it did not report untouched; a second run changes
  no byte; no temporary file left;
- kill: after a SIGKILL at a random moment, every file is byte-equal to its original or to the
  fully fixed version, and the next run leaves no temporary file;
- hostile (1 check case in 5): a FIFO in a file slot (a config, a pin file, .gitignore), a
  pathological .gitignore over many files, deep TOML in the settings, keys past PyYAML's 1024
  characters, U+2028/U+2029 before a key: the check oracles, under 10 s, and for a line separator
  the same findings as with a newline in its place;
- yaml: generated YAML documents (line separators, long keys, NaN and odd keys, flow and block
  styles) read by gemma-doctor's YAML reader and by PyYAML give the same value, or both refuse.

tests/test_fuzz.py runs a bounded, seeded slice of each in CI.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMP_MARK = ".gemma-doctor-"


def seeds() -> list[Path]:
    folders = [p for p in (ROOT / "fixtures").glob("GD*/*") if p.is_dir()]
    folders += [p for p in (ROOT / "examples").iterdir() if p.is_dir()]
    folders += [p for p in (ROOT / "corpus").iterdir() if p.is_dir()]
    return sorted(folders)


def files_of(project: Path) -> list[Path]:
    return sorted(
        p
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.parts and p.name not in ("expected.txt", "messages.txt")
    )


# --- mutations ---------------------------------------------------------------------------------
_ODD = [
    "\x0c",
    "\u2028",
    "\r",
    "\ufeff",
    "\x00",
    "\t",
    "\\",
    "'''",
    '"',
    "#",
    "# gemma-doctor: ignore[GD101]",
    "{",
    "[",
    ":",
    "\udcff",
    "9" * 50,
    "é",
    "\x1b[31m",
]
_VALUES = ["true", "false", "null", "[]", "{}", "5", '"x"', "1e309", "-1", "auto", "main", "'fp16'"]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    kind = rng.randrange(9)
    index = rng.randrange(len(lines)) if lines else 0
    if kind == 0 and lines:
        del lines[index]
    elif kind == 1 and lines:
        lines.insert(index, lines[index])
    elif kind == 2:
        position = rng.randrange(len(text) + 1)
        return text[:position] + rng.choice(_ODD) + text[position:]
    elif kind == 3 and lines and ":" in lines[index]:
        key = lines[index].split(":", 1)[0]
        lines[index] = f"{key}: {rng.choice(_VALUES)}"
    elif kind == 4:
        return text[: rng.randrange(len(text) + 1)]
    elif kind == 5:
        return text.replace("\n", "\r\n")
    elif kind == 6:
        return "\ufeff" + text
    elif kind == 7 and lines:
        lines[index] = lines[index] + " " * rng.randrange(1, 2000) + rng.choice(_ODD)
    else:
        for old, new in (("true", "false"), ("bfloat16", "float16"), ("bf16", "fp16"), ("4.51", "4.50")):
            if old in text and rng.random() < 0.5:
                return text.replace(old, new, 1)
        return text + "\n" + rng.choice(["fp16: true", "bf16: auto", "eval_strategy: steps", "use_cache: 1"])
    return "\n".join(lines)


def mutated_project(seed: Path, target: Path, rng: random.Random) -> Path:
    shutil.copytree(seed, target, ignore=shutil.ignore_patterns("expected.txt", "messages.txt"))
    candidates = files_of(target)
    for path in rng.sample(candidates, k=min(len(candidates), rng.randrange(1, 3))):
        try:
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            mutated = mutate(text, rng)
            path.write_bytes(mutated.encode("utf-8", errors="surrogateescape"))
        except (OSError, UnicodeError):
            continue
    return target


def transformed_project(seed: Path, target: Path, transform: str) -> Path:
    """A copy of ``seed`` with every file in CRLF line endings ("crlf") or with a BOM ("bom")."""
    shutil.copytree(seed, target, ignore=shutil.ignore_patterns("expected.txt", "messages.txt"))
    for path in files_of(target):
        data = path.read_bytes()
        if transform == "crlf" and b"\r" not in data:
            path.write_bytes(data.replace(b"\n", b"\r\n"))
        elif transform == "bom" and not data.startswith(b"\xef\xbb\xbf"):
            path.write_bytes(b"\xef\xbb\xbf" + data)
    return target


# --- hostile files (the second fuzz report's classes, issue 23) --------------------------------------
HOSTILE = ("fifo", "gitignore", "deep-toml", "long-key", "line-separator")
_FIFO_SLOTS = ("config.json", "train.yaml", "requirements.txt", "pyproject.toml", ".gitignore", "train.py")


def hostile_project(seed: Path, target: Path, rng: random.Random, kind: str | None = None) -> Path:
    """A copy of ``seed`` with one hostile file of ``kind`` (random if None)."""
    shutil.copytree(seed, target, ignore=shutil.ignore_patterns("expected.txt", "messages.txt"))
    kind = kind or rng.choice(HOSTILE)
    if kind == "fifo":
        slot = target / rng.choice(_FIFO_SLOTS)
        if slot.exists():
            slot.unlink()
        os.mkfifo(slot)  # a reader that opens it blocks until a writer comes: none will
    elif kind == "gitignore":
        for number in range(60):
            path = target / ("d" * rng.randrange(1, 200)) / f"f{number}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text("output_dir: o\n")
        lines = ["*" * rng.randrange(1, 20) + "a" * rng.randrange(100, 10_000) for _ in range(rng.randrange(1, 40))]
        (target / ".gitignore").write_text("\n".join(lines + ["**/" * 300 + "x"]) + "\n")
    elif kind == "deep-toml":
        depth = rng.randrange(100, 2000)
        (target / "pyproject.toml").write_text(
            "[tool.gemma-doctor]\nselect = " + "[" * depth + '"GD1"' + "]" * depth + "\n"
        )
    elif kind == "long-key":
        key = rng.choice(["fp16", "'" + "k" * 1100 + "'", "fp16" + " " * rng.randrange(1000, 1200)])
        (target / "sft.yaml").write_text(f"model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\n{key}: true\n")
    else:  # line-separator
        separator = rng.choice(["\u2028", "\u2029"])
        (target / "sft.yaml").write_text(
            f"model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 2.0e-5\n{separator}fp16: true\n"
        )
    return target


def hostile_case(project: Path, rng: random.Random) -> list[str]:
    """The check oracles on a hostile project, plus, for a Unicode line separator, a differential one: the
    project reads as it does with a plain newline there, as PyYAML (and so every trainer) reads it."""
    problems = check_case(project, rng)
    sft = project / "sft.yaml"
    if not sft.is_file() or sft.is_symlink():
        return problems
    text = sft.read_text(encoding="utf-8")
    separators = [char for char in ("\u2028", "\u2029") if char in text]
    if separators:

        def findings() -> list[tuple]:
            code, out, _err, _seconds = run(["check", ".", "--env", "none", "--format", "json"], project)
            if code not in (0, 1, 2) or not out.strip():
                return [("no report", code)]
            return sorted((f["rule"], f["path"], f["key"]) for f in json.loads(out)["findings"])

        with_separator = findings()
        sft.write_text(text.replace(separators[0], "\n"), encoding="utf-8")
        with_newline = findings()
        if with_separator != with_newline:
            problems.append(
                f"a {separators[0]!r} line break reads differently from a newline: {with_separator} vs {with_newline}"
            )
    return problems


# --- the YAML reader against PyYAML ---------------------------------------------------------------
_YAML_KEYS = ["fp16", "bf16", "output_dir", ".nan", ".NaN", "~", "null", "'q'", '"d"', "k" * 1100, "a b", "1", "on"]
_YAML_VALUES = ["true", "false", "1", "1.0e-5", "'x'", "[1, 2]", "{a: 1}", "null", "~", ".inf", "yes", "0x10", ""]
_YAML_BREAKS = ["\n", "\r\n", "\u2028", "\u2029", "\x85", "\r"]


def yaml_document(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randrange(1, 8)):
        key, value = rng.choice(_YAML_KEYS), rng.choice(_YAML_VALUES)
        indent = " " * rng.choice([0, 0, 0, 2])
        lines.append(f"{indent}{key}: {value}" if rng.random() < 0.9 else f"{indent}- {value}")
    text = "".join(line + (rng.choice(_YAML_BREAKS) if rng.random() < 0.2 else "\n") for line in lines)
    return text if rng.random() < 0.9 else "\ufeff" + text


def yaml_case(rng: random.Random) -> list[str]:
    """One generated document: gemma-doctor's reader (its block reader, else PyYAML) must give PyYAML's
    value, or refuse it as PyYAML does."""
    import math

    import yaml

    from gemma_doctor.yamlpos import parse_yaml

    text = yaml_document(rng)
    try:
        expected = ("ok", yaml.safe_load(text))
    except yaml.YAMLError:
        expected = ("error", None)
    try:
        got = ("ok", parse_yaml(text).value)
    except ValueError:
        got = ("error", None)

    def same(a, b) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        if isinstance(a, dict) and isinstance(b, dict):
            return len(a) == len(b) and all(
                same(x, y) for x, y in zip(sorted(a.items(), key=repr), sorted(b.items(), key=repr))
            )
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    if got[0] != expected[0] or not same(got[1], expected[1]):
        return [f"YAML read differs from PyYAML: {text[:120]!r}: ours {got!r:.120}, PyYAML {expected!r:.120}"]
    return []


# --- running -------------------------------------------------------------------------------------
def run(args: list[str], cwd: Path) -> tuple[int, str, str, float]:
    """The CLI in-process, as the console script runs it."""
    from gemma_doctor.cli import main

    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    start = time.perf_counter()
    try:
        os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(previous)
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - start


def check_case(project: Path, rng: random.Random) -> list[str]:
    """Problems one mutated project shows in ``check`` (empty: it held)."""
    fmt = rng.choice(["json", "json", "json", "text", "sarif", "junit", "github"])
    code, out, err, seconds = run(["check", ".", "--env", "none", "--format", fmt], project)
    problems = []
    if code not in (0, 1, 2):
        problems.append(f"exit code {code}")
    if "internal error" in err or "Traceback" in err:
        problems.append(f"internal error: {err.strip()[:300]}")
    if seconds > 10:
        problems.append(f"took {seconds:.1f} s")
    if fmt in ("json", "sarif") and code in (0, 1, 2) and out.strip():
        try:
            report = json.loads(out)
        except ValueError:
            problems.append("output is not JSON")
        else:
            for error in report.get("errors", []):
                if "\n" in error["message"] or "Error:" in error["message"]:
                    problems.append(f"error message not one clean line: {error['message'][:200]!r}")
    if fmt == "junit" and out.strip():
        from xml.etree import ElementTree

        try:
            ElementTree.fromstring(out.split("\n", 1)[1])
        except ElementTree.ParseError as exc:
            problems.append(f"JUnit XML not well-formed: {exc}")
    return problems


def parses(path: Path, data: bytes) -> bool:
    text = data.decode("utf-8-sig")
    try:
        if path.suffix == ".json":
            json.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            yaml.safe_load(text)
        elif path.suffix == ".py":
            ast.parse(text)
        elif path.suffix == ".ipynb":
            from gemma_doctor.sources.notebook import cell_source, python_lines

            for cell in json.loads(text)["cells"]:
                if cell.get("cell_type") == "code":
                    ast.parse(python_lines(cell_source(cell))[0])
    except Exception:
        return False
    return True


def _style(data: bytes) -> tuple[bool, str]:
    crlf = data.count(b"\r\n")
    lone_cr = data.count(b"\r") - crlf
    return data.startswith(b"\xef\xbb\xbf"), "crlf" if crlf and not lone_cr else "cr" if lone_cr and not crlf else "lf"


def fix_case(project: Path, rng: random.Random) -> list[str]:
    """Problems one ``fix --write`` round trip shows."""
    before = {p: p.read_bytes() for p in files_of(project)}
    args = ["fix", ".", "--write", "--env", "none", "--unsafe-fixes", "--gpu", rng.choice(["A100", "T4"])]
    code, _out, err, _seconds = run(args, project)
    problems = []
    if "internal error" in err or "Traceback" in err or code not in (0, 1, 2):
        problems.append(f"fix crashed: exit {code} {err.strip()[:200]}")
    after = {p: p.read_bytes() for p in files_of(project)}
    if set(after) != set(before):
        problems.append(f"files appeared or vanished: {sorted(map(str, set(after) ^ set(before)))[:3]}")
    for path, data in after.items():
        old = before.get(path)
        if old is None or old == data:
            continue
        if parses(path, old) and not parses(path, data):
            problems.append(f"{path.name}: parsed before, not after")
        if (_style(old) != _style(data) and _style(old)[1] != "lf") or _style(old)[0] != _style(data)[0]:
            problems.append(f"{path.name}: BOM or line endings changed")
    run(args, project)
    again = {p: p.read_bytes() for p in files_of(project)}
    if again != after:
        changed = [p.name for p in again if again[p] != after.get(p)]
        problems.append(f"second run changed {changed}")
    leftovers = [p.name for p in project.rglob(f"{TEMP_MARK}*")]
    if leftovers:
        problems.append(f"temporary files left: {leftovers}")
    return problems


def kill_case(seed: Path, work: Path, rng: random.Random, fixed_reference: dict[str, bytes]) -> list[str]:
    """SIGKILL ``fix --write`` at a random moment; every file must be original or fixed."""
    project = work / "kill"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(seed, project, ignore=shutil.ignore_patterns("expected.txt", "messages.txt"))
    original = {str(p.relative_to(project)): p.read_bytes() for p in files_of(project)}
    exe = Path(sys.executable).parent / "gemma-doctor"
    process = subprocess.Popen(
        [str(exe), "fix", ".", "--write", "--env", "none", "--unsafe-fixes", "--gpu", "A100"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(rng.uniform(0.05, 0.9))
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    problems = []
    for name, data in (
        (str(p.relative_to(project)), p.read_bytes()) for p in files_of(project) if TEMP_MARK not in p.name
    ):
        if data != original.get(name) and data != fixed_reference.get(name):
            problems.append(f"{name}: neither the original nor the fixed version after a kill")
    run(["fix", ".", "--write", "--env", "none", "--unsafe-fixes", "--gpu", "A100"], project)
    leftovers = [p.name for p in project.rglob(f"{TEMP_MARK}*")]
    if leftovers:
        problems.append(f"temporary files left after the next run: {leftovers}")
    return problems


def reference_fix(seed: Path, work: Path) -> dict[str, bytes]:
    project = work / "reference"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(seed, project, ignore=shutil.ignore_patterns("expected.txt", "messages.txt"))
    run(["fix", ".", "--write", "--env", "none", "--unsafe-fixes", "--gpu", "A100"], project)
    return {str(p.relative_to(project)): p.read_bytes() for p in files_of(project)}


def campaign(checks: int, fixes: int, kills: int, seed: int, report=print, yamls: int = 0) -> dict:
    rng = random.Random(seed)
    pool = seeds()
    counts = {"check": 0, "fix": 0, "kill": 0, "yaml": 0, "problems": []}
    for number in range(yamls):
        counts["problems"] += [f"yaml (document {number}): {problem}" for problem in yaml_case(rng)]
        counts["yaml"] += 1
    with tempfile.TemporaryDirectory(prefix="gemma-doctor-fuzz-") as scratch:
        work = Path(scratch)
        for number in range(checks):
            if number % 5 == 4:
                project = hostile_project(rng.choice(pool), work / f"c{number}", rng)
                found = hostile_case(project, rng)
            else:
                project = mutated_project(rng.choice(pool), work / f"c{number}", rng)
                found = check_case(project, rng)
            for problem in found:
                counts["problems"].append(f"check {project.name} (seed case {number}): {problem}")
            shutil.rmtree(project)
            counts["check"] += 1
            if number and number % 1000 == 0:
                report(f"  {number} check cases, {len(counts['problems'])} problems")
        for number in range(fixes):
            seed_project = rng.choice(pool)
            target = work / f"f{number}"
            if rng.random() < 0.5:
                mutated_project(seed_project, target, rng)
            else:
                transformed_project(seed_project, target, rng.choice(["crlf", "bom", "none"]))
            for problem in fix_case(target, rng):
                counts["problems"].append(f"fix {seed_project.name} (case {number}): {problem}")
            shutil.rmtree(target)
            counts["fix"] += 1
            if number and number % 500 == 0:
                report(f"  {number} fix round trips, {len(counts['problems'])} problems")
        fixable = [p for p in pool if p.name.startswith("fail-") or p.parent.name == "examples"]
        for number in range(kills):
            seed_project = rng.choice(fixable)
            reference = reference_fix(seed_project, work)
            for problem in kill_case(seed_project, work, rng, reference):
                counts["problems"].append(f"kill {seed_project.name} (trial {number}): {problem}")
            counts["kill"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", type=int, default=1000, help="mutated projects through check")
    parser.add_argument("--fix", type=int, default=200, help="fix --write round trips")
    parser.add_argument("--kill", type=int, default=20, help="SIGKILL trials during fix --write")
    parser.add_argument("--yaml", type=int, default=2000, help="generated YAML documents against PyYAML")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    counts = campaign(args.check, args.fix, args.kill, args.seed, yamls=args.yaml)
    print(
        f"{counts['check']} check cases, {counts['fix']} fix round trips, {counts['kill']} kills, "
        f"{counts['yaml']} YAML documents "
        f"in {time.perf_counter() - start:.0f} s: {len(counts['problems'])} problems"
    )
    for problem in counts["problems"][:50]:
        print("  " + problem)
    raise SystemExit(1 if counts["problems"] else 0)


if __name__ == "__main__":
    main()
