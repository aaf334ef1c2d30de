"""``gemma-doctor env``: each tracked library's version, where it came from, and a verdict."""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.engine import Options, run_rules
from gemma_doctor.pep440 import in_range
from gemma_doctor.setup import Setup
from gemma_doctor.sources.versions import TRACKED, installed_versions, load_freeze

# Version notes that hold whatever the project (facts.md §8).
_NOTES = [
    ("transformers", None, "4.50.0", "error", "no Gemma 3 support (added in 4.50.0)"),
    ("transformers", "4.50.0", "4.51.0", "warning", "HybridCache .float() crash in mixed-precision evaluation of "
     "Gemma 2/3 (GD202); fixed in 4.51.0"),
    ("transformers", "4.57.0", "4.57.1", "warning", "4.57.0 was yanked from PyPI"),
    ("transformers", None, "4.53.0", "info", "no Gemma 3n (needs 4.53.0)"),
    ("trl", "0.19.0", None, "info", "SFTConfig defaults bf16=True (bf16 on a T4/V100 needs an explicit bf16=False)"),
    ("unsloth", None, "2025.3.10", "warning", "no Gemma 3 support (added in 2025.3.10)"),
    ("unsloth", "2025.3.10", "2025.3.15", "warning", "fp16 Gemma 3 silently trains in float32; 2025.3.15 adds "
     "an fp16-safe path"),
]
_RANK = {"ok": 0, "info": 1, "warning": 2, "error": 3}


def build(env: str, report=None) -> list[dict]:
    if env == "none":
        versions = []
    elif env == "auto":
        versions = installed_versions()
    else:
        versions = load_freeze(Path(env), env).versions
    if report is not None:
        project = [v for p in report.projects for v in p.setup.versions if v.origin != "installed"]
        versions = project + versions
    setup = Setup([], versions)
    findings = run_rules(setup, Options(select=["GD3"]))
    entries = []
    for package in TRACKED:
        fact = setup.version(package)
        if fact is None:
            continue
        notes, verdict = [], "ok"
        for name, low, high, level, text in _NOTES:
            if name == package and fact.version:
                try:
                    hit = in_range(fact.version, low, high)
                except ValueError:
                    hit = False
                if hit:
                    notes.append(text)
                    verdict = max(verdict, level, key=_RANK.get)
        for finding in findings:
            if finding.location.key == package or (finding.location == fact.location):
                notes.append(f"{finding.rule}: {finding.message}")
                verdict = max(verdict, finding.severity, key=_RANK.get)
        entries.append({"package": package, "version": fact.version, "spec": fact.spec, "source": fact.origin,
                        "path": fact.location.path, "line": fact.location.line, "verdict": verdict, "notes": notes})
    return entries


def render_text(entries: list[dict]) -> str:
    if not entries:
        return "No tracked libraries found (transformers, accelerate, trl, peft, unsloth, unsloth_zoo, torch, ...).\n"
    lines = []
    width = max(len(entry["package"]) for entry in entries)
    for entry in entries:
        version = entry["version"] or entry["spec"] or "?"
        where = entry["source"] if entry["path"] is None else f"{entry['path']}:{entry['line']}"
        lines.append(f"{entry['package']:<{width}}  {version:<12}  {entry['verdict']:<7}  {where}")
        lines.extend(f"{'':<{width}}    - {note}" for note in entry["notes"])
    return "\n".join(lines) + "\n"
