"""Runs: one training entry point together with what it uses.

An entry point is a training script or notebook (it builds TrainingArguments, a TRL
config or a Trainer), or a training-argument file (Axolotl, LLaMA-Factory, TRL CLI
recipe, TrainingArguments dump). What it uses:

- the model it loads: the ``config.json`` of a local model folder it names, else of the
  Hugging Face cache entry for the Hub id it names, else the nearest model config in its
  own folder or above, but only when that config is of the family the entry loads (a
  script that loads ``seeklhy/codes-1b`` never takes a Gemma config);
- the DeepSpeed file it names, and the accelerate config in its folder or above;
- the version pins of the nearest folder (its own, or above) that has any, unless it
  pins its own (a notebook's ``!pip install`` lines).

Findings belong to a run. A project with no entry point is one run of every file, as a
model folder or a requirements file checked on its own is. Files that no entry uses
(a second model folder, say) form one more run, so their own rules (GD401, GD402, ...)
still speak.
"""

from __future__ import annotations

import os
from pathlib import Path

from gemma_doctor.facts import Fact, Location, SourceResult, VersionFact
from gemma_doctor.filekinds import MODEL_FOLDER_KINDS
from gemma_doctor.modelids import family_of_model_id, family_of_model_type
from gemma_doctor.records import field, record

PIN_KINDS = ("requirements", "pyproject", "lock")


@record
class LoadedFile:
    display: str
    path: Path
    result: SourceResult

    @property
    def absolute(self) -> Path:
        """The absolute, normalised path (no symlink resolution: one string operation, no syscalls,
        where a thousand ``resolve()`` calls cost seconds)."""
        return absolute(self.path)


def absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


@record
class Run:
    """What one training run reads. ``entry`` is None for the files no entry uses."""

    entry: str | None
    files: list[str] = field(default_factory=list)  # display paths, the entry first
    notes: list[str] = field(default_factory=list)  # how the run was assembled ("layout inferred", ...)
    extra: list[Fact] = field(default_factory=list)  # what its launch line adds (--mixed_precision, ...)
    # The entry as its launch line runs it: a script that parses its command line, read with the line's words
    entry_result: SourceResult | None = None
    images: list[str] = field(default_factory=list)  # modules whose container image pins (only) the run takes


def is_entry(loaded: LoadedFile) -> bool:
    result = loaded.result
    if result.kind in ("training-args", "launch-entry"):
        return True
    if result.kind in ("python", "notebook"):
        # A training script or notebook, one with a loop of its own, or one that loads a model (inference,
        # evaluation, merge and export scripts): every model load is judged on its own.
        return any(fact.name in ENTRY_FACTS for fact in result.facts)
    return False


ENTRY_FACTS = ("training_arguments_call", "trainer_call", "training_loop", "model_class")


def _model_family(loaded: LoadedFile) -> str | None:
    facts = loaded.result.facts
    model_type = next((f.value for f in facts if f.name == "model_type"), None)
    if model_type is None:
        return None
    text_type = next((f.value for f in facts if f.name == "text_model_type"), None)
    return family_of_model_type(model_type, text_type)


def _generation(family: str | None) -> str | None:
    """Families that share rules: a gemma3_text checkpoint may sit beside a gemma3 id."""
    if family in ("gemma3", "gemma3_text"):
        return "gemma3"
    return family


def _loaded_ids(loaded: LoadedFile) -> list[str]:
    return [f.value for f in loaded.result.facts if f.name in ("model_id", "model_load") and isinstance(f.value, str)]


def _ancestors(directory: Path, root: Path) -> list[Path]:
    chain = [directory]
    while directory != root and root in directory.parents:
        directory = directory.parent
        chain.append(directory)
    return chain


def build_runs(
    files: dict[str, LoadedFile],
    root: Path,
    resolve_model_folder,
    load_path=None,
    cwd: Path | None = None,
    read_with=None,
) -> list[Run]:
    """Group loaded files into runs. ``resolve_model_folder(entry, model_id)`` returns the
    display paths of a model folder's config files (local or in the HF cache), or [];
    ``load_path(path)`` loads a file a launch line names; relative names are tried beside the
    file that names them, then in ``cwd``. ``read_with(entry, words, environment)`` reads an entry that
    reads its command line or environment as a launch line runs it (a SourceResult, or None)."""
    cwd = cwd or Path.cwd()
    launches = _launches(files, cwd)
    entries = [loaded for loaded in files.values() if is_entry(loaded)]
    launched = {id(entry) for entry in entries for _launch in launches.get(entry.absolute, [])}
    # A launch line whose script holds no training call (HfArgumentParser recipes) is the entry itself.
    for script, items in launches.items():
        if not any(entry.absolute == script for entry in entries):
            for loaded, fact in items:
                entries.append(
                    LoadedFile(
                        f"{loaded.display}:{fact.location.line}",
                        loaded.path,
                        SourceResult(facts=[fact], kind="launch-entry"),
                    )
                )
    # `swift sft --model ... --torch_dtype ...`: each such line is a run of its own, its flags its arguments.
    for loaded in [f for f in files.values() if f.result.kind == "launch"]:
        for fact in loaded.result.facts:
            if fact.name == "swift_run" and isinstance(fact.value, list):
                entries.append(
                    LoadedFile(
                        f"{loaded.display}:{fact.location.line}",
                        loaded.path,
                        SourceResult(facts=list(fact.value), kind="launch-entry"),
                    )
                )
    if not entries:
        return [Run(None, list(files))]
    by_dir: dict[Path, list[LoadedFile]] = {}
    child_configs: dict[Path, list[LoadedFile]] = {}  # folder -> model configs one level down
    deepspeed_files: dict[Path, LoadedFile] = {}
    for loaded in files.values():
        path = loaded.absolute
        by_dir.setdefault(path.parent, []).append(loaded)
        if loaded.result.kind == "model-config":
            child_configs.setdefault(path.parent.parent, []).append(loaded)
        elif loaded.result.kind == "deepspeed":
            deepspeed_files[path] = loaded
    used: set[str] = set()
    runs = []
    for entry, entry_launches in _as_launched(entries, launches, launched, files, read_with):
        run = Run(entry.display, [entry.display])
        if entry is not files.get(entry.display, entry):
            run.entry_result = entry.result
        if entry.result.kind == "launch-entry":  # a line, not a file: its facts travel with the run
            run.extra.extend(fact for fact in entry.result.facts if fact.name != "launch")
        directory = entry.absolute.parent
        chain = _ancestors(directory, absolute(root))
        ids = _loaded_ids(entry)
        # the model: a folder it names, the HF cache, else the nearest config of the same family
        model_files: list[str] = []
        for model_id in ids:
            model_files = resolve_model_folder(entry, model_id)
            if model_files:
                break
        if not model_files:
            wanted = {_generation(family_of_model_id(model_id)) for model_id in ids}
            placed = wanted - {None}
            # Only a family the table places as non-Gemma mutes the Gemma rules; an id it cannot place
            # ("model", "outputs/merged", "my-org/my-finetune") is unknown, not "another model".
            names_other_model = bool(placed) and placed <= {"other"}
            for folder in chain:
                configs = [f for f in by_dir.get(folder, []) if f.result.kind == "model-config"]
                configs += sorted(child_configs.get(folder, []), key=lambda f: f.display)
                matching = [
                    f
                    for f in configs
                    if not names_other_model and (wanted - {None} == set() or _generation(_model_family(f)) in wanted)
                ]
                if matching:
                    model_files = [matching[0].display] + [
                        f.display
                        for f in by_dir.get(matching[0].absolute.parent, [])
                        if f.result.kind in MODEL_FOLDER_KINDS
                    ]
                    break
            if not model_files and ids and placed and not names_other_model:
                run.notes.append(
                    "the model's config.json is neither local nor in the Hugging Face cache: its layout "
                    "was inferred from the model id"
                )
            elif model_files and ids and not placed:
                shown = ", ".join(repr(model_id) for model_id in ids[:2])
                run.notes.append(
                    f"the model it loads ({shown}) is neither a local folder nor in the Hugging Face cache, and "
                    f"its id names no family: the run was judged with the nearest model config, {model_files[0]}"
                )
        run.files.extend(model_files)
        # a saved adapter it loads (PeftModel.from_pretrained): its adapter_config.json
        for fact in entry.result.facts:
            if fact.name == "adapter_load" and isinstance(fact.value, str):
                run.files.extend(f for f in resolve_model_folder(entry, fact.value) if f not in run.files)
        # DeepSpeed files it names (already loaded as referenced files), accelerate config nearby
        for fact in entry.result.facts:
            if fact.name == "deepspeed" and isinstance(fact.value, str):
                for base in (directory, cwd):
                    named = deepspeed_files.get(absolute(base / fact.value))
                    if named is not None:
                        run.files.append(named.display)
                        break
        names_config = any(
            isinstance(fact.value, dict) and fact.value.get("config_file") for _l, fact in entry_launches
        )
        for folder in [] if names_config else chain:
            accelerate = [f.display for f in by_dir.get(folder, []) if f.result.kind == "accelerate-config"]
            if accelerate:
                run.files.extend(accelerate)
                break
        # pins: its own (a notebook's, an image it builds), else the nearest folder with any, where the
        # image a module beside it builds (Modal) is what the code runs in: its pins come first
        if not entry.result.versions:
            for folder in chain:
                images = [f.display for f in by_dir.get(folder, []) if f.result.kind == "python" and f.result.versions]
                pins = [f.display for f in by_dir.get(folder, []) if f.result.kind in PIN_KINDS]
                if images or pins:
                    run.images.extend(images)
                    run.files.extend(pins)
                    break
        for launcher, fact in entry_launches:
            _apply_launch(run, launcher, fact, load_path, cwd)
        run.files = list(dict.fromkeys(run.files))
        used.update(run.files)
        runs.append(run)
    leftover = [
        display
        for display, loaded in files.items()
        if display not in used
        and loaded.result.kind in ("model-config", "deepspeed", "accelerate-config", *MODEL_FOLDER_KINDS)
    ]
    if any(files[display].result.kind == "model-config" for display in leftover):
        leftover += [
            display
            for display, loaded in files.items()
            if loaded.result.kind in PIN_KINDS
            and loaded.absolute.parent in {files[d].absolute.parent for d in leftover}
        ]
        runs.append(Run(None, list(dict.fromkeys(leftover))))
    return runs


def _launches(files: dict[str, LoadedFile], cwd: Path) -> dict[Path, list[tuple[LoadedFile, Fact]]]:
    """Launch lines, by the resolved path of what they run: a script beside the shell script or from the
    current directory, a ``python -m`` module, or a command of the project's ``[project.scripts]``. A
    command no pyproject of the project names (``trl sft``, ``axolotl train``) is not the project's."""
    found: dict[Path, list[tuple[LoadedFile, Fact]]] = {}
    commands: dict[str, tuple[LoadedFile, str]] = {
        fact.value["name"]: (loaded, fact.value["target"])  # type: ignore[index]
        for loaded in files.values()
        if loaded.result.kind == "pyproject"
        for fact in loaded.result.facts
        if fact.name == "console_script"
    }
    by_path = {loaded.absolute: loaded for loaded in files.values()}
    for loaded in files.values():
        if loaded.result.kind != "launch":
            continue
        for fact in loaded.result.facts:
            launch = fact.value
            if not isinstance(launch, dict):
                continue
            candidate: Path | None = None
            if "script" in launch:
                for base in (loaded.path.parent, cwd):
                    candidate = absolute(base / launch["script"])
                    if os.path.isfile(candidate):
                        break
            elif "module" in launch:
                bases = (loaded.path.parent, cwd)
                candidate = _module_file(launch["module"], bases) or absolute(cwd / (launch["module"] + ".py"))
            else:
                if launch["command"] not in commands:
                    continue
                pyproject, entry_point = commands[launch["command"]]
                module, _, function = entry_point.partition(":")
                defined_in = _module_file(module.strip(), (pyproject.path.parent,))
                if defined_in is None:
                    continue
                candidate = _defining_file(defined_in, function.strip(), by_path)
            if candidate is not None:
                found.setdefault(candidate, []).append((loaded, fact))
    return found


def _module_file(module: str, bases) -> Path | None:
    """The file of ``pkg.mod`` under one of ``bases`` or their ``src/`` (the two layouts packages use)."""
    parts = module.split(".")
    for base in bases:
        for root in (base, base / "src"):
            target = root.joinpath(*parts)
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if os.path.isfile(candidate):
                    return absolute(candidate)
    return None


def _defining_file(module: Path, function: str, by_path: dict[Path, LoadedFile]) -> Path:
    """Where ``function`` of ``module`` is defined: the module, or the project module it imports it from
    (``from pkg.train import main`` in ``pkg/__init__.py``), followed a few steps."""
    from gemma_doctor.sources.python_code import reexport_of

    for _ in range(4):
        loaded = by_path.get(module)
        if loaded is not None and is_entry(loaded):
            return module
        following = reexport_of(module, function)
        if following is None or absolute(following) == module:
            return module
        module = absolute(following)
    return module


def _launches_of(entry: LoadedFile, launches, launched: set[int], files) -> list[tuple[LoadedFile | None, Fact]]:
    """The launch lines that run this entry (for a launch-line entry: its own line)."""
    if entry.result.kind == "launch-entry":
        return [(files.get(entry.display.rsplit(":", 1)[0]), entry.result.facts[0])]
    if id(entry) in launched:
        return launches.get(entry.absolute, [])
    return []


def _as_launched(entries, launches, launched: set[int], files, read_with):
    """(entry, its launch lines) for each run. A script that reads its command line or its environment is one
    run per launch line that passes it words or exports variables, read with them: `train.sh --fp16 true` and
    `debug.sh --bf16 true` run the same file with different values."""
    for entry in entries:
        items = _launches_of(entry, launches, launched, files)
        passing = [
            (item, launch)
            for item in items
            if isinstance(launch := item[1].value, dict) and (launch.get("script_args") or launch.get("script_env"))
        ]
        if read_with is None or not entry.result.reads_invocation or not passing:
            yield entry, items
            continue
        for item, launch in passing:
            result = read_with(entry, launch.get("script_args", []), launch.get("script_env", {}))
            yield (entry if result is None else LoadedFile(entry.display, entry.path, result)), [item]
        rest = [item for item in items if all(item is not given for given, _launch in passing)]
        if rest:
            yield entry, rest


def _apply_launch(run: Run, loaded: LoadedFile | None, fact: Fact, load_path, cwd: Path) -> None:
    """What a launch line adds to its run: the accelerate config and DeepSpeed JSON it names,
    ``--mixed_precision`` (exported as ACCELERATE_MIXED_PRECISION) and script flags."""
    if loaded is None:
        return
    launch = fact.value
    if not isinstance(launch, dict):
        return
    location = fact.location
    run.files.append(loaded.display)
    for key in ("config_file", "deepspeed_config_file", "script_deepspeed"):
        name = launch.get(key)
        if name and load_path is not None:
            for base in (loaded.path.parent, cwd):
                if os.path.isfile(base / name):
                    named = load_path(base / name)
                    if named is not None:
                        run.files.append(named.display)
                    break
    if launch.get("num_processes"):
        run.extra.append(Fact("num_processes", launch["num_processes"], location, "launch", raw_key="--num_processes"))
    if launch.get("mixed_precision"):
        run.extra.append(
            Fact("env_mixed_precision", launch["mixed_precision"], location, "launch", raw_key="--mixed_precision")
        )

    def at(flag: str) -> Location:  # the physical line of a continued launch line that passes the flag
        line, column = launch.get("flag_at", {}).get(flag, (location.line, location.column))
        return Location(location.path, line, column, f"--{flag}")

    for flag in ("fp16", "bf16"):
        if f"script_{flag}" in launch:
            value = str(launch[f"script_{flag}"]).lower() in ("true", "1", "yes")
            run.extra.append(Fact(flag, value, at(flag), "training-args", raw_key=f"--{flag}"))
    if launch.get("script_model_name_or_path"):
        model = launch["script_model_name_or_path"]
        run.extra.append(Fact("model_id", model, at("model_name_or_path"), "launch", raw_key="--model_name_or_path"))
    if launch.get("script_deepspeed"):
        run.extra.append(
            Fact("deepspeed", launch["script_deepspeed"], at("deepspeed"), "launch", raw_key="--deepspeed")
        )


def run_facts(run: Run, files: dict[str, LoadedFile]) -> tuple[list[Fact], list[VersionFact]]:
    facts: list[Fact] = list(run.extra)
    versions: list[VersionFact] = [
        v for display in run.images if display in files for v in files[display].result.versions
    ]
    for display in run.files:
        loaded = files.get(display)
        if loaded is not None:
            result = run.entry_result if display == run.entry and run.entry_result is not None else loaded.result
            facts.extend(result.facts)
            versions.extend(result.versions)
    return facts, versions


def project_root(path: Path) -> Path:
    """For files passed one by one: the repository they live in (or their folder)."""
    current = path.resolve().parent
    start = current
    while True:
        if (current / ".git").exists():
            return current
        if current.parent == current:
            return start
        current = current.parent
