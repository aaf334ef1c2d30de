"""The engine: files -> sources -> Setup -> rules -> findings.

It owns everything around the rules: grouping files into projects, reading
versions from the environment, stamping ids and severities from the catalogue,
rule selection, per-file ignores, and suppression comments (with GD901 for the
unused ones).
"""

from __future__ import annotations

import fnmatch
import os
from gemma_doctor.records import field, record
from pathlib import Path

from gemma_doctor.facts import Fact, InputError, Location, SourceResult, Suppression, VersionFact
from gemma_doctor.findings import SEVERITY_RANK, Finding
from gemma_doctor.knowledge import Gpu, catalogue
from gemma_doctor.setup import Setup, environment_facts
from gemma_doctor.sources import display_path, load_file


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


@record
class InputProblem:
    path: str | None
    message: str

    def to_json(self) -> dict:
        return {"path": self.path, "message": self.message}


@record
class Project:
    """The files that make up one training setup, and what was read from them."""

    files: list[Path]
    results: dict[str, SourceResult] = field(default_factory=dict)  # display path -> result
    setup: Setup | None = None


@record
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputProblem] = field(default_factory=list)
    files: int = 0
    projects: list[Project] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts


def rule_enabled(rule_id: str, options: Options) -> bool:
    selectors = list(options.select) + list(options.extend_select)
    if not any(selector == "ALL" or rule_id.startswith(selector) for selector in selectors):
        return False
    return not any(rule_id.startswith(prefix) for prefix in options.ignore)


def group_projects(paths: list[Path], options: Options) -> tuple[list[Project], list[InputProblem]]:
    """Each directory argument is one project; file arguments together form one more,
    with their context (config.json and pins beside and above them)."""
    from gemma_doctor.discovery import context_files, walk

    cwd = options.cwd or Path.cwd()
    projects: list[Project] = []
    loose: list[Path] = []
    problems: list[InputProblem] = []
    for path in paths:
        try:
            if path.is_dir():
                projects.append(Project(walk(path, options.exclude)))
                continue
            path.stat()
        except OSError as exc:
            reason = "symbolic link loop" if exc.errno == 40 else (exc.strerror or str(exc))
            problems.append(InputProblem(display_path(path, cwd), reason))
            continue
        loose.append(path)
    if loose:
        projects.append(Project(loose + context_files(loose)))
    return projects, problems


def load_project(project: Project, options: Options, report: Report) -> None:
    cwd = options.cwd or Path.cwd()
    facts: list[Fact] = []
    versions: list[VersionFact] = []
    queue = list(project.files)
    seen: set[str] = set()
    while queue:
        path = queue.pop(0)
        display = display_path(path, cwd)
        if display in seen:
            continue
        seen.add(display)
        try:
            result = load_file(path, display)
        except InputError as exc:
            report.errors.append(InputProblem(display, str(exc)))
            continue
        except (OSError, ValueError, RecursionError, MemoryError) as exc:
            report.errors.append(InputProblem(display, f"cannot read: {type(exc).__name__}: {exc}"))
            continue
        if result.error:
            report.errors.append(InputProblem(display, result.error))
        if result.kind is None and not result.facts and not result.versions:
            continue
        report.files += 1
        project.results[display] = result
        facts.extend(result.facts)
        versions.extend(result.versions)
        queue.extend(extra for extra in _referenced_files(result, path)
                     if not _excluded_path(display_path(extra, cwd), options.exclude))
    versions.extend(_environment_versions(options, cwd, report))
    environ = options.environ if options.environ is not None else dict(os.environ)
    project.setup = Setup(facts, versions, options.gpu, environment_facts(environ))


def _excluded_path(display: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(display, pattern) or fnmatch.fnmatch(display, f"*/{pattern}") for pattern in patterns)


def _referenced_files(result: SourceResult, path: Path) -> list[Path]:
    """Files a training config names bring themselves in: its DeepSpeed JSON (``deepspeed:
    ds_z2.json``) and a local model folder's config files (``model_name_or_path: ./model``)."""
    found = []
    for fact in result.facts:
        if not isinstance(fact.value, str):
            continue
        if fact.name == "deepspeed" and fact.value.endswith(".json"):
            names = [fact.value]
        elif fact.name == "model_id" and fact.value.startswith((".", "/")):
            names = [f"{fact.value}/config.json", f"{fact.value}/generation_config.json"]
        else:
            continue
        for name in names:
            for base in (path.parent, Path.cwd()):
                candidate = base / name
                if candidate.is_file():
                    found.append(candidate)
                    break
    return found


_ENV_CACHE: dict[str, list[VersionFact]] = {}


def _environment_versions(options: Options, cwd: Path, report: Report) -> list[VersionFact]:
    from gemma_doctor.sources import versions as version_source

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


def run_rules(setup: Setup, options: Options) -> list[Finding]:
    from gemma_doctor.checks import registered

    docs = catalogue()
    findings: list[Finding] = []
    for rule_id, function in sorted(registered().items()):
        if not rule_enabled(rule_id, options):
            continue
        doc = docs[rule_id]
        for diagnostic in function(setup):
            severity = options.severity.get(rule_id) or diagnostic.severity or doc.severity
            findings.append(Finding(rule_id, doc.name, severity, diagnostic.location, diagnostic.message, diagnostic.fix))
    return findings


def _per_file_ignored(finding: Finding, options: Options) -> bool:
    path = finding.location.path
    if not path or not options.per_file_ignores:
        return False
    for pattern, prefixes in options.per_file_ignores.items():
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
            if any(finding.rule.startswith(prefix) for prefix in prefixes):
                return True
    return False


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression], options: Options) -> list[Finding]:
    kept = []
    for finding in findings:
        loc = finding.location
        match = next((s for s in suppressions if s.path == loc.path and s.cell == loc.cell and loc.line in s.covers
                      and any(finding.rule.startswith(rule) for rule in s.rules)), None)
        if match is not None:
            match.used = True
            continue
        if _per_file_ignored(finding, options):
            continue
        kept.append(finding)
    if rule_enabled("GD901", options):
        doc = catalogue()["GD901"]
        for suppression in suppressions:
            if suppression.used or not all(rule_enabled(rule, options) for rule in suppression.rules):
                continue
            location = Location(suppression.path, suppression.comment_line, suppression.column, None, suppression.cell)
            kept.append(Finding("GD901", doc.name, options.severity.get("GD901", doc.severity), location,
                                f"Unused suppression: nothing here triggers {', '.join(suppression.rules)}.", None))
    return kept


# Stand-ins for "a GPU with bf16" and "a GPU without", used when a setting depends
# on the GPU (``fp16 = not is_bfloat16_supported()``) and no target GPU is given.
GPU_RULES = ("GD104",)
_SCENARIOS = (Gpu("GPU without bf16 (T4, V100)", (7, 5)), Gpu("GPU with bf16 (A100, L4, H100)", (8, 0)))


def machine_dependent_findings(setup: Setup, options: Options, already: list[Finding]) -> list[Finding]:
    """With no target GPU, report what a GPU-dependent setting does on each kind of GPU,
    prefixed with the kind. Rules that judge the GPU itself (GD104) report only at the
    lines of the GPU-dependent settings: elsewhere an unknown GPU keeps them silent."""
    lines = {(f.location.path, f.location.cell, f.location.line) for f in setup.machine_facts}
    if not lines or options.gpu is not None:
        return []
    seen = {(f.rule, f.location) for f in already}
    extra = []
    for gpu in _SCENARIOS:
        scenario = Setup([f for f in setup.facts if f.origin != "environment"], setup.versions, gpu,
                         [f for f in setup.facts if f.origin == "environment"])
        for finding in run_rules(scenario, options):
            where = (finding.location.path, finding.location.cell, finding.location.line)
            gpu_rule = finding.rule in GPU_RULES
            if (where in lines or not gpu_rule) and (finding.rule, finding.location) not in seen:
                finding.message = f"On a {gpu.name}: {finding.message}"
                extra.append(finding)
    return extra


def check(paths: list[Path], options: Options) -> Report:
    report = Report()
    projects, problems = group_projects(paths, options)
    report.errors.extend(problems)
    seen: set[tuple] = set()
    for project in projects:
        load_project(project, options, report)
        findings = run_rules(project.setup, options)
        findings += machine_dependent_findings(project.setup, options, findings)
        suppressions = [s for result in project.results.values() for s in result.suppressions]
        for finding in apply_suppressions(findings, suppressions, options):
            key = (finding.rule, finding.location, finding.message)
            if key not in seen:  # a context file shared by two projects reports once
                seen.add(key)
                report.findings.append(finding)
        report.projects.append(project)
    report.findings.sort(key=Finding.sort_key)
    report.errors.sort(key=lambda problem: (problem.path or "", problem.message))
    return report


def exit_code(report: Report, fail_on: str = "error", exit_zero: bool = False) -> int:
    if report.errors:
        return 2
    if exit_zero:
        return 0
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold for f in report.findings) else 0
