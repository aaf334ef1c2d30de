"""The engine: files -> sources -> Setup -> rules -> findings.

It owns everything around the rules: grouping files into projects, reading
versions from the environment, stamping ids and severities from the catalogue,
rule selection, per-file ignores, and suppression comments (with GD901 for the
unused ones).
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Callable
from pathlib import Path

from gemma_doctor.checks import check_index, registered
from gemma_doctor.discovery import walk
from gemma_doctor.facts import InputError, SourceResult, Suppression, VersionFact
from gemma_doctor.filekinds import FILE_SUFFIXES, MODEL_FOLDER_FILES
from gemma_doctor.findings import SEVERITY_RANK, Finding
from gemma_doctor.knowledge import Gpu, catalogue, rule_applies
from gemma_doctor.records import field, record
from gemma_doctor.runs import LoadedFile, absolute, build_runs, project_root, run_facts
from gemma_doctor.setup import Setup
from gemma_doctor.sources import display_path, load_file
from gemma_doctor.sources import versions as version_source
from gemma_doctor.sources.environment import environment_facts


@record
class Options:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    gpu: Gpu | None = None
    env: str = "auto"  # "auto", "none" or a pip-freeze file
    environ: dict[str, str] | None = None
    cwd: Path | None = None
    trace: bool = False  # attach to each finding the values of its run that decided it (gemma_doctor.trace)
    # Files whose text is given rather than read from disk, by absolute path: the IPython magic's session
    # (gemma_doctor.magic), a notebook that exists only in the kernel's history. Only notebooks for now.
    documents: dict[Path, str] = field(default_factory=dict)
    # Processes that read and parse a large project's files at once (the CLI sets the cores it has). 1 in a
    # library call: the IPython kernel or a training process (CUDA initialised) must never be forked.
    jobs: int = 1


_CODE_SUFFIXES = (".py", ".ipynb")
# Below this many files a pool's start-up (~30 ms a worker) costs more than reading them in parallel saves.
PARALLEL_FROM = 1000

# The findings that say a run was not judged, rather than what is wrong with it.
NOT_JUDGED = ("GD902",)


@record
class InputProblem:
    path: str | None
    message: str

    def to_json(self) -> dict:
        return {"path": self.path, "message": self.message}


@record
class Project:
    """The files of one checked path, what was read from them, and the runs they make."""

    files: list[Path]
    results: dict[str, SourceResult] = field(default_factory=dict)  # display path -> result
    runs: list = field(default_factory=list)  # [(Run, Setup)]
    root: Path | None = None
    only: set[Path] | None = None  # files passed one by one: report the runs that use them

    @property
    def setup(self) -> Setup | None:
        """The Setup of the first run (callers that predate runs: env, verify)."""
        return self.runs[0][1] if self.runs else None


@record
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputProblem] = field(default_factory=list)  # files that could not be read: exit 2
    # Files read with a part skipped (a Python statement or notebook cell that does not parse): a warning
    # line each, not exit 2, and the summary says so, since a skipped part may hold a setting.
    partly_read: list[InputProblem] = field(default_factory=list)
    files: int = 0  # files read, context included
    # Of those, files read only as context for files passed one by one (pre-commit): not "checked".
    context_files: int = 0
    suppressed: int = 0  # findings a suppression comment or per-file-ignores took out
    baselined: int = 0  # findings dropped because the baseline knows them
    projects: list[Project] = field(default_factory=list)
    # How many findings `fix --write` can really fix (set by the check command, which knows which files
    # fix may write); None: count every safe fix with edits.
    fixable: int | None = None

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            if finding.rule not in NOT_JUDGED:
                counts[finding.severity] += 1
        return counts

    @property
    def not_judged(self) -> int:
        """Runs no rule could judge (GD902): "no problems" is never said while there is one."""
        return sum(1 for finding in self.findings if finding.rule in NOT_JUDGED)


def rule_enabled(rule_id: str, options: Options) -> bool:
    selectors = list(options.select) + list(options.extend_select)
    if not any(selector == "ALL" or rule_id.startswith(selector) for selector in selectors):
        return False
    return not any(rule_id.startswith(prefix) for prefix in options.ignore)


def group_projects(paths: list[Path], options: Options) -> tuple[list[Project], list[InputProblem]]:
    """Each directory argument is one project. Files given one by one (pre-commit) are
    checked as part of their repository: every run that uses one of them is reported."""
    cwd = options.cwd or Path.cwd()
    projects: list[Project] = []
    loose: dict[Path, list[Path]] = {}
    problems: list[InputProblem] = []
    for path in paths:
        # A document has no file on disk: it is checked as a file passed by itself.
        if options.documents and absolute(path) in options.documents:
            loose.setdefault(project_root(path), []).append(path)
            continue
        try:
            if os.path.isdir(path):
                unreadable: list[tuple[str, str]] = []
                projects.append(Project(walk(path, options.exclude, unreadable), root=path))
                problems.extend(InputProblem(display_path(Path(where), cwd), reason) for where, reason in unreadable)
                continue
            path.stat()
        except OSError as exc:
            reason = "symbolic link loop" if exc.errno == 40 else (exc.strerror or str(exc))
            problems.append(InputProblem(display_path(path, cwd), reason))
            continue
        loose.setdefault(project_root(path), []).append(path)
    for root, files in loose.items():
        walked = walk(root, options.exclude)
        known = {absolute(p) for p in walked}
        walked += [f for f in files if absolute(f) not in known]
        projects.append(Project(walked, root=root, only={absolute(f) for f in files}))
    return projects, problems


def load_project(project: Project, options: Options, report: Report) -> None:
    cwd = options.cwd or Path.cwd()
    loaded: dict[str, LoadedFile] = {}
    queue = list(project.files)
    seen: set[str] = set()

    read_ahead = _read_in_parallel(project.files, cwd, options)

    def load(path: Path) -> LoadedFile | None:
        display = display_path(path, cwd)
        if display in seen:
            return loaded.get(display)
        seen.add(display)
        # Files passed one by one: the rest of the repository gives context, and its own
        # broken files are not this commit's errors.
        checked = project.only is None or absolute(path) in project.only
        errors = report.errors if checked else []
        outcome = read_ahead.pop(display) if display in read_ahead else _read(path, display, options)
        if isinstance(outcome, str):  # the file's one-line problem
            errors.append(InputProblem(display, outcome))
            return None
        result = outcome
        if result.error:
            errors.append(InputProblem(display, result.error))
        if result.skipped and checked:
            report.partly_read.append(InputProblem(display, result.skipped))
        if result.kind is None and not result.facts and not result.versions:
            return None
        report.files += 1
        report.context_files += not checked
        project.results[display] = result
        loaded[display] = LoadedFile(display, path, result)
        queue.extend(
            extra
            for extra in _referenced_files(result, path, cwd)
            if not _excluded_path(display_path(extra, cwd), options.exclude)
        )
        return loaded[display]

    while queue:
        load(queue.pop(0))

    snapshots: dict[str, Path | None] = {}  # model id -> its cached snapshot: asked once per run

    def resolve_model_folder(entry, model_id: str) -> list[str]:
        folder = _model_folder(entry.path, model_id, snapshots, cwd)
        if folder is None:
            return []
        found = []
        for name in MODEL_FOLDER_FILES:
            candidate = folder / name
            if os.path.isfile(candidate) and not _excluded_path(display_path(candidate, cwd), options.exclude):
                item = load(candidate)
                if item is not None:
                    found.append(item.display)
        return found

    def read_with(entry: LoadedFile, words: list[str], environment: dict) -> SourceResult | None:
        """The entry as a launch line runs it: read again with the words the line passes and the variables
        its shell exports (its problems were already reported when it was read on its own)."""
        from gemma_doctor.sources import python_code
        from gemma_doctor.sources.python_eval import Invocation

        try:
            return python_code.load(entry.path, entry.display, Invocation(words, environment))
        except (InputError, OSError, ValueError, RecursionError, MemoryError):
            return None

    runs = build_runs(loaded, project.root or cwd, resolve_model_folder, load, cwd, read_with)
    environment = _environment_versions(options, cwd, report)
    environ = options.environ if options.environ is not None else dict(os.environ)
    for run in runs:
        if project.only is not None and not any(loaded[d].absolute in project.only for d in run.files if d in loaded):
            continue
        facts, versions = run_facts(run, loaded)
        setup = Setup(facts, versions + environment, options.gpu, environment_facts(environ), notes=run.notes)
        project.runs.append((run, setup))


def _read(path: Path, display: str, options: Options) -> SourceResult | str:
    """The file read by its source, or the one line that says why it cannot be."""
    try:
        return load_file(path, display, options.documents.get(absolute(path)) if options.documents else None)
    except InputError as exc:
        return str(exc)
    except (OSError, ValueError, RecursionError, MemoryError) as exc:
        return f"cannot read: {_reason(exc)}"


def _read_one(item: tuple[Path, str]) -> SourceResult | str:
    return _read(item[0], item[1], Options())


def _read_in_parallel(paths: list[Path], cwd: Path, options: Options) -> dict[str, SourceResult | str]:
    """A large project's files read ahead across ``options.jobs`` cores, as ruff reads across its cores:
    forked workers parse the code while this process reads the configs; the engine then takes them in
    its own order, so the report does not change. Empty (read one by one, later) for a small project,
    one job, text given in memory, or no fork."""
    if options.jobs < 2 or len(paths) < PARALLEL_FROM or options.documents:
        return {}
    items = [(path, display_path(path, cwd)) for path in paths]
    # Code goes to the workers: its parse and walk are the cost, and its facts are few. A config's result
    # (its whole tree) costs more to send back through a pipe than to read here.
    code = [item for item in items if item[0].suffix in _CODE_SUFFIXES]
    if len(code) < PARALLEL_FROM // 2:
        return {}
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")  # the parent's modules, imported once: no re-import
        pool = context.Pool(max(1, options.jobs - 1))  # this process is the last worker
    except (ValueError, OSError, RuntimeError):  # no fork on this platform, or no processes to be had
        return {}
    with pool:
        pending = pool.map_async(_read_one, code, chunksize=max(1, len(code) // (options.jobs * 8)))
        read = {display: _read(path, display, options) for path, display in items if path.suffix not in _CODE_SUFFIXES}
        read.update((display, outcome) for (_path, display), outcome in zip(code, pending.get()))
    return read


def _reason(exc: BaseException) -> str:
    """One line, no exception repr (fuzz D26)."""
    if isinstance(exc, MemoryError):
        return "too large to parse in memory"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, OSError):
        return "symbolic link loop" if exc.errno == 40 else (exc.strerror or type(exc).__name__)
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _model_folder(entry_path: Path, model_id: str, snapshots: dict[str, Path | None], cwd: Path) -> Path | None:
    """The folder a model id names: a local folder of that name (beside the entry, or from the
    current directory), whatever its slashes, as transformers checks ``os.path.isdir`` first; else
    its snapshot in the Hugging Face cache (remembered in ``snapshots``)."""
    for base in (entry_path.parent, cwd):
        candidate = base / os.path.expanduser(model_id)
        if os.path.isdir(candidate):
            return candidate
    if model_id.startswith((".", "/", "~")) or (os.sep in model_id and model_id.count("/") != 1):
        return None
    from gemma_doctor import hub

    if model_id not in snapshots:
        try:
            snapshots[model_id] = hub.snapshot_path(model_id) if hub.looks_like_repo_id(model_id) else None
        except (OSError, ValueError):
            snapshots[model_id] = None
    return snapshots[model_id]


def _excluded_path(display: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(display, pattern) or fnmatch.fnmatch(display, f"*/{pattern}") for pattern in patterns)


def _referenced_files(result: SourceResult, path: Path, cwd: Path) -> list[Path]:
    """Files a training config names bring themselves in: its DeepSpeed JSON (``deepspeed:
    ds_z2.json``) and a local model folder's config files (``model_name_or_path: ./model``). Each name is
    looked for beside the file that names it, then in ``cwd``."""
    found = []
    bases: tuple[Path, ...]
    for fact in result.facts:
        if not isinstance(fact.value, str):
            continue
        if fact.name == "deepspeed" and fact.value.endswith(".json"):
            bases, names = (path.parent, cwd), [fact.value]
        elif fact.name in ("model_id", "model_load", "adapter_load") and not fact.value.endswith(FILE_SUFFIXES):
            # A local folder: one isdir per base first, not one stat per file name (a Hub id has no folder).
            bases = tuple(base for base in (path.parent, cwd) if os.path.isdir(base / fact.value))
            names = [f"{fact.value}/{name}" for name in MODEL_FOLDER_FILES]
        else:
            continue
        for name in names:
            candidate = next((base / name for base in bases if os.path.isfile(base / name)), None)
            if candidate is not None:
                found.append(candidate)
    return found


_ENV_CACHE: dict[str, list[VersionFact]] = {}


def _environment_versions(options: Options, cwd: Path, report: Report) -> list[VersionFact]:
    if options.env == "none":
        return []
    if options.env == "auto":
        if "auto" not in _ENV_CACHE:
            _ENV_CACHE["auto"] = version_source.installed_versions()
        return _ENV_CACHE["auto"]
    path = Path(options.env)
    try:
        return version_source.load_freeze(path, display_path(path, cwd)).versions
    except InputError as exc:
        report.errors.append(InputProblem(display_path(path, cwd), str(exc)))
        return []


def enabled_rules(options: Options) -> list[tuple[str, Callable]]:
    """The selected rules, in id order: worked out once per check, not once per run. Only their
    modules are imported."""
    check_index()
    wanted = [rule_id for rule_id in sorted(catalogue()) if rule_enabled(rule_id, options)]
    return sorted(registered(wanted).items())


def run_rules(setup: Setup, options: Options, rules: list[tuple[str, Callable]] | None = None) -> list[Finding]:
    docs = catalogue()
    findings: list[Finding] = []
    for rule_id, function in enabled_rules(options) if rules is None else rules:
        doc = docs[rule_id]
        if not rule_applies(doc.raw, setup.exact_version):
            continue  # applies_to is evaluated, not only displayed
        findings.extend(_stamped(rule_id, function(setup), options))
    if options.trace and findings:
        from gemma_doctor.trace import lines  # only when asked: a plain check never builds a trace

        trace = lines(setup)
        for finding in findings:  # the rule's condition first, then the run's values it was judged on
            finding.trace = [f"rule {finding.rule}: {docs[finding.rule].raw['summary'].strip()}", *trace]
    return findings


def _stamped(rule_id: str, diagnostics, options: Options) -> list[Finding]:
    """Findings from a rule's diagnostics: its id, name and severity from the catalogue."""
    doc = catalogue()[rule_id]
    return [
        Finding(
            rule_id,
            doc.name,
            options.severity.get(rule_id) or diagnostic.severity or doc.severity,
            diagnostic.location,
            diagnostic.message,
            diagnostic.fix,
        )
        for diagnostic in diagnostics
    ]


def _per_file_ignored(finding: Finding, options: Options) -> bool:
    path = finding.location.path
    if not path or not options.per_file_ignores:
        return False
    for pattern, prefixes in options.per_file_ignores.items():
        if (fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern)) and any(
            finding.rule.startswith(prefix) for prefix in prefixes
        ):
            return True
    return False


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression], options: Options) -> list[Finding]:
    kept = []
    for finding in findings:
        loc = finding.location
        match = next(
            (
                s
                for s in suppressions
                if s.path == loc.path
                and s.cell == loc.cell
                and loc.line in s.covers
                and any(finding.rule.startswith(rule) for rule in s.rules)
            ),
            None,
        )
        if match is not None:
            match.used = True
            continue
        if _per_file_ignored(finding, options):
            continue
        kept.append(finding)
    if rule_enabled("GD901", options):
        from gemma_doctor.checks.gd901_unused_suppression import unused_suppressions

        unused = unused_suppressions(suppressions, lambda rule: rule_enabled(rule, options))
        kept.extend(_stamped("GD901", unused, options))
    return kept


# Stand-ins for "a GPU with bf16" and "a GPU without", used when a setting depends
# on the GPU (``fp16 = not is_bfloat16_supported()``) and no target GPU is given.
GPU_RULES = ("GD104",)
_SCENARIOS = (
    Gpu("GPU without bf16 (T4, V100)", (7, 5), "compute capability below 8.0: a T4 is 7.5, a V100 7.0"),
    Gpu("GPU with bf16 (A100, L4, H100)", (8, 0), "compute capability 8.0 or more"),
)


def machine_dependent_findings(setup: Setup, options: Options, already: list[Finding]) -> list[Finding]:
    """With no target GPU, report what a GPU-dependent setting (or Unsloth, which picks the
    precision from the GPU) does on each kind of GPU, prefixed with the kind. Rules that
    judge the GPU itself (GD104) report only at the lines of the GPU-dependent settings:
    elsewhere an unknown GPU keeps them silent."""
    if options.gpu is not None or not setup.depends_on_gpu:
        return []
    lines = {(f.location.path, f.location.cell, f.location.line) for f in setup.machine_facts}
    seen = {(f.rule, f.location) for f in already}
    per_gpu = []
    for gpu in _SCENARIOS:
        found = []
        for finding in run_rules(setup.with_gpu(gpu), options):
            where = (finding.location.path, finding.location.cell, finding.location.line)
            if (where in lines or finding.rule not in GPU_RULES) and (finding.rule, finding.location) not in seen:
                found.append(finding)
        per_gpu.append((gpu, found))
    # What holds on both kinds of GPU is said once, without a prefix.
    keys = [{(f.rule, f.location, f.message) for f in found} for _gpu, found in per_gpu]
    both = keys[0] & keys[1]
    extra = [f for f in per_gpu[0][1] if (f.rule, f.location, f.message) in both]
    for gpu, found in per_gpu:
        for finding in found:
            if (finding.rule, finding.location, finding.message) not in both:
                finding.message = f"On a {gpu.name}: {finding.message}"
                extra.append(finding)
    return extra


def check(paths: list[Path], options: Options) -> Report:
    # What an earlier check in this process read (the IPython magic, the callback) may have changed since;
    # a process that never read code has nothing cached, and need not import the reader.
    modules = sys.modules.get("gemma_doctor.sources.project_modules")
    if modules is not None:
        modules.forget()
    report = Report()
    projects, problems = group_projects(paths, options)
    report.errors.extend(problems)
    seen: set[tuple] = set()
    suppressed: set[tuple] = set()  # counted once, like the findings, when two runs share a file
    rules = enabled_rules(options)
    for project in projects:
        load_project(project, options, report)
        for run, setup in project.runs:
            findings = run_rules(setup, options, rules)
            findings += machine_dependent_findings(setup, options, findings)
            suppressions = [
                s for display in run.files if display in project.results for s in project.results[display].suppressions
            ]
            kept = apply_suppressions(findings, suppressions, options)
            kept_keys = {(f.rule, f.location, f.message) for f in kept}
            for finding in findings:
                key = (finding.rule, finding.location, finding.message)
                if key not in kept_keys and key not in suppressed:
                    suppressed.add(key)
            for finding in kept:
                key = (finding.rule, finding.location, finding.message)
                if key not in seen:  # a file shared by two runs reports once
                    seen.add(key)
                    finding.run = run.entry
                    report.findings.append(finding)
        report.projects.append(project)
    report.suppressed = len(suppressed - seen)
    report.findings.sort(key=Finding.sort_key)
    report.partly_read.sort(key=lambda problem: (problem.path or "", problem.message))
    report.errors.sort(key=lambda problem: (problem.path or "", problem.message))
    return report


def exit_code(report: Report, fail_on: str = "error", exit_zero: bool = False) -> int:
    if report.errors:
        return 2
    if exit_zero:
        return 0
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold for f in report.findings) else 0
