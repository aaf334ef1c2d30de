"""``gemma-doctor env``: each tracked library's version, where it came from, and a verdict."""

from __future__ import annotations

from pathlib import Path

from gemma_doctor.engine import Options, run_rules
from gemma_doctor.knowledge import data
from gemma_doctor.pep440 import satisfies
from gemma_doctor.setup import Setup
from gemma_doctor.sources.versions import TRACKED, installed_versions, load_freeze

_RANK = {"ok": 0, "info": 1, "warning": 2, "error": 3}


def build(env: str, report=None) -> list[dict]:
    if env == "none":
        versions = []
    elif env == "auto":
        versions = installed_versions()
    else:
        versions = load_freeze(Path(env), env).versions
    if report is not None:
        project = [
            v
            for p in report.projects
            for _run, run_setup in p.runs
            for v in run_setup.versions
            if v.origin != "installed"
        ]
        versions = project + versions
    setup = Setup([], versions)
    findings = run_rules(setup, Options(select=["GD3"]))
    entries = []
    for package in TRACKED:
        fact = setup.version(package)
        if fact is None:
            continue
        notes, verdict = [], "ok"
        for note in data("versions")["env_notes"]:  # the same data the rules evaluate
            if note["package"] != package or not fact.version:
                continue
            specifier = note.get("versions") or data("versions")[package][note["fact"]]["versions"]
            try:
                hit = satisfies(fact.version, specifier)
            except ValueError:
                hit = False
            if hit and note["text"] not in notes:
                notes.append(note["text"])
                verdict = max(verdict, note["level"], key=lambda level: _RANK[level])
        for finding in findings:
            if finding.location.key == package or (finding.location == fact.location):
                notes.append(f"{finding.rule}: {finding.message}")
                verdict = max(verdict, finding.severity, key=lambda level: _RANK[level])
        entries.append(
            {
                "package": package,
                "version": fact.version,
                "spec": fact.spec,
                "source": fact.origin,
                "path": fact.location.path,
                "line": fact.location.line,
                "verdict": verdict,
                "notes": notes,
            }
        )
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
