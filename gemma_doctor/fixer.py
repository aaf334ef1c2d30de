"""``gemma-doctor fix``: apply fixes as minimal edits, verified in memory before any write.

Dry run by default (a unified diff); ``--write`` applies. Each pass:

1. plans the edits of the current findings, keeping only fixes whose every edit lands in a file
   ``fix`` may write: under the paths it was given (no directory symlink out of them, no file a
   training config merely references), not a symbolic link, not hard-linked, not read-only, not
   of mixed line endings. A fix with one edit elsewhere is advice, with the exact path;
2. splices the edits into each file's text in memory (BOM and line endings kept);
3. checks the whole project again with the candidates *overlaid* on the files: a candidate that
   does not parse, or does not clear its findings, is dropped, and the check repeats without it;
4. only then writes each verified candidate atomically (see filetext).

So a file on disk is only ever its original or a verified result, whatever the moment of a kill.
Passes repeat until nothing changes (at most 3); a file that would return to an earlier content
is non-convergence, which is reported, not looped.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import sys
from collections import defaultdict
from pathlib import Path

from gemma_doctor.engine import Report, check
from gemma_doctor.filetext import (
    FileText,
    WriteRefused,
    check_writable,
    overlaid,
    overlay_key,
    read_bytes,
    remove_stale_temporaries,
    write_atomically,
)
from gemma_doctor.findings import Finding
from gemma_doctor.pep440 import parse_specifier
from gemma_doctor.records import field, record
from gemma_doctor.reporters import printable
from gemma_doctor.writers import WriteError, apply_edits

MAX_PASSES = 3
MAX_VERIFY_ROUNDS = 5
_READ_LIMIT = 64 * 1024 * 1024


@record
class Candidate:
    path: str  # display path
    old: bytes
    new: bytes
    findings: list = field(default_factory=list)  # the findings its edits fix


@record
class FixResult:
    """What one ``fix`` did: written files, refused ones with reasons, advice, convergence."""

    fixed: dict = field(default_factory=lambda: defaultdict(list))  # rule -> [(path, finding)]
    written: set = field(default_factory=set)
    refused: list = field(default_factory=list)  # "path: reason"
    needs_unsafe: list = field(default_factory=list)
    advice: list = field(default_factory=list)  # findings whose fix is display-only or not writable here
    elsewhere: dict = field(default_factory=dict)  # id(finding) -> why it was not written
    converged: bool = True
    diffs: list = field(default_factory=list)  # (path, old text, new text) for a dry run


class FixPlan:
    """The fixes one check allows, grouped by file, plus what was skipped and why."""

    def __init__(self, findings: list[Finding], unsafe: bool, writable) -> None:
        self.by_path: dict[str, list] = defaultdict(list)
        self.findings_by_path: dict[str, list[Finding]] = defaultdict(list)
        self.needs_unsafe: list[Finding] = []
        self.advice: list[Finding] = []
        self.elsewhere: dict[int, str] = {}
        allowed = {"safe", "unsafe"} if unsafe else {"safe"}
        claimed: set[tuple] = set()
        for finding in findings:
            fix = finding.fix
            if fix is None:
                continue
            if fix.safety == "display-only" or not fix.edits:
                self.advice.append(finding)
                continue
            if fix.safety not in allowed:
                self.needs_unsafe.append(finding)
                continue
            # A fix is applied whole or not at all: an edit that cannot be written here
            # leaves the others unwritten too (two fixes then never flip a value forever).
            reasons = [reason for reason in (writable(edit.path) for edit in fix.edits) if reason]
            if reasons:
                self.elsewhere[id(finding)] = reasons[0]
                self.advice.append(finding)
                continue
            for edit in fix.edits:
                key = (edit.path, edit.cell, tuple(edit.key_path))
                if key in claimed:  # two rules editing one value: the first (sorted) wins
                    continue
                claimed.add(key)
                if edit.path is not None:
                    self.by_path[edit.path].append(edit)
            for path in {edit.path for edit in fix.edits if edit.path is not None}:
                self.findings_by_path[path].append(finding)


def writer_format(path: str, edits: list) -> str:
    if path.endswith(".ipynb"):
        return "notebook"
    return edits[0].format


class Writability:
    """Which files ``fix`` may write: under the checked paths (real paths), and writable."""

    def __init__(self, paths: list[Path], cwd: Path) -> None:
        self.cwd = cwd
        self.roots = []
        for path in paths:
            real = os.path.realpath(path)
            self.roots.append((real, os.path.isdir(real)))
        self._cache: dict[str, str | None] = {}

    def __call__(self, display: str | None) -> str | None:
        """None when ``display`` may be written, else the one-line reason."""
        if display is None:
            return "no file"
        if display not in self._cache:
            self._cache[display] = self._reason(display)
        return self._cache[display]

    def _reason(self, display: str) -> str | None:
        path = self.cwd / display
        real = os.path.realpath(path)
        inside = any(
            real == root or (is_dir and real.startswith(root.rstrip(os.sep) + os.sep)) for root, is_dir in self.roots
        )
        if os.path.islink(path):
            try:
                check_writable(path)
            except WriteRefused as exc:
                return f"{display} {exc}"
        if not inside:
            return f"{real} is outside the paths given to fix (reached through a reference or a directory link)"
        try:
            check_writable(path)
        except WriteRefused as exc:
            return f"{display} {exc}"
        except OSError as exc:
            return f"{display}: {exc.strerror or type(exc).__name__}"
        return None


def plan_candidates(plan: FixPlan, cwd: Path, refused: list[str]) -> dict[str, Candidate]:
    """path -> the candidate bytes for every file the plan changes (in memory only)."""
    candidates = {}
    for path, edits in sorted(plan.by_path.items()):
        full = cwd / path
        try:
            raw = read_bytes(full, _READ_LIMIT)
            text = FileText(raw)
        except WriteRefused as exc:
            refused.append(f"{path}: {path} {exc}")
            continue
        except (OSError, ValueError) as exc:
            refused.append(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}")
            continue
        try:
            new_text = apply_edits(writer_format(path, edits), text.text, edits)
        except WriteError as exc:
            refused.append(f"{path}: cannot apply the fix: {exc}")
            continue
        except Exception:  # a writer bug must refuse one file, never abort the run
            if os.environ.get("GEMMA_DOCTOR_DEBUG"):
                raise
            refused.append(
                f"{path}: cannot apply the fix: gemma-doctor's writer failed on this file, which is left as it was "
                "(set GEMMA_DOCTOR_DEBUG=1 for the traceback, and please report it)"
            )
            continue
        new = text.encode(new_text)
        if new != raw:
            candidates[path] = Candidate(path, raw, new, list(plan.findings_by_path[path]))
    return candidates


def verify(
    candidates: dict[str, Candidate], paths: list[Path], options, cwd: Path, refused: list[str]
) -> tuple[dict[str, Candidate], object]:
    """Drop every candidate that does not parse or does not clear its findings, judged by a full
    check with the candidates overlaid on the files. Returns the verified ones and that check."""
    accepted = dict(candidates)
    report = None
    for _round in range(MAX_VERIFY_ROUNDS):
        with overlaid({overlay_key(cwd / c.path): c.new for c in accepted.values()}):
            report = check(paths, options)
        # Unreadable, partly read, or a config.json from_pretrained could not parse (GD401 says that one).
        broken = {problem.path for problem in report.errors + report.partly_read} | {
            display
            for project in report.projects
            for display, result in project.results.items()
            if any(fact.name == "model_config_invalid" for fact in result.facts)
        }
        remaining = {(f.rule, f.location.path, f.location.key) for f in report.findings}
        rejected = {}
        for path, candidate in accepted.items():
            if path in broken:
                rejected[path] = "the fix would make the file unreadable; not written"
                continue
            stuck = [f for f in candidate.findings if (f.rule, f.location.path, f.location.key) in remaining]
            if stuck:
                rejected[path] = f"the fix would not clear {', '.join(sorted({f.rule for f in stuck}))}; not written"
        if not rejected:
            return accepted, report
        for path, reason in rejected.items():
            refused.append(f"{path}: {reason}")
            del accepted[path]
    return {}, report


def pip_line(findings: list[Finding]) -> str | None:
    """One `pip install` line that satisfies every display-only version fix together."""
    clauses: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for finding in findings:
        for edit in finding.fix.edits if finding.fix else ():
            if edit.format == "pip" and isinstance(edit.value, str):
                clauses[edit.key_path[0]].extend(parse_specifier(edit.value))
    if not clauses:
        return None
    from gemma_doctor.pep440 import version_key

    requirements = []
    for package, items in sorted(clauses.items()):
        lowers = [v for op, v in items if op == ">="]
        kept = [(op, v) for op, v in items if op != ">="]
        if lowers:
            kept.insert(0, (">=", max(lowers, key=version_key)))
        seen, text = set(), []
        for op, version in kept:
            if (op, version) not in seen:
                seen.add((op, version))
                text.append(f"{op}{version}")
        requirements.append(f"'{package}{','.join(text)}'")
    return "pip install " + " ".join(requirements)


def fix(paths: list[Path], options, unsafe: bool, write: bool) -> tuple[FixResult, Report]:
    """Plan, verify and (with ``write``) apply the fixes. Returns the result and the final check."""
    cwd = options.cwd or Path.cwd()
    writable = Writability(paths, cwd)
    result = FixResult()
    if not write:
        report = check(paths, options)
        plan = FixPlan(report.findings, unsafe, writable)
        candidates = plan_candidates(plan, cwd, result.refused)
        verified, _after = verify(candidates, paths, options, cwd, result.refused) if candidates else ({}, None)
        for path, candidate in verified.items():
            result.diffs.append((path, FileText(candidate.old).text, FileText(candidate.new).text))
            for finding in candidate.findings:
                result.fixed[finding.rule].append((path, finding))
        _collect_advice(result, plan)
        return result, report

    seen_states: dict[str, set[str]] = defaultdict(set)
    directories = {(cwd / p).parent if not (cwd / p).is_dir() else cwd / p for p in paths}
    remove_stale_temporaries(directories)
    for _pass in range(MAX_PASSES):
        report = check(paths, options)
        plan = FixPlan(report.findings, unsafe, writable)
        candidates = plan_candidates(plan, cwd, result.refused)
        if not candidates:
            break
        verified, _after = verify(candidates, paths, options, cwd, result.refused)
        if not verified:
            break
        for path, candidate in verified.items():
            digest = hashlib.sha256(candidate.new).hexdigest()
            seen_states[path].add(hashlib.sha256(candidate.old).hexdigest())
            if digest in seen_states[path]:
                result.converged = False
                result.refused.append(
                    f"{path}: the fixes do not converge (the file would return to an earlier "
                    f"content: {', '.join(sorted({f.rule for f in candidate.findings}))} "
                    "disagree); stopped"
                )
                continue
            remove_stale_temporaries({(cwd / path).parent})
            try:
                write_atomically(cwd / path, candidate.old, candidate.new)
            except WriteRefused as exc:
                result.refused.append(f"{path}: {exc}")
                continue
            except OSError as exc:
                result.refused.append(f"{path}: {exc.strerror or type(exc).__name__}; not written")
                continue
            result.written.add(path)
            for finding in candidate.findings:
                result.fixed[finding.rule].append((path, finding))
        if not result.converged:
            break
    final = check(paths, options)
    _collect_advice(result, FixPlan(final.findings, unsafe, writable))
    result.refused = list(dict.fromkeys(result.refused))  # one line per reason, not one per pass
    return result, final


def _collect_advice(result: FixResult, plan: FixPlan) -> None:
    result.needs_unsafe = plan.needs_unsafe
    result.advice = plan.advice
    result.elsewhere = plan.elsewhere


def run_fix(paths: list[Path], settings, request) -> int:
    """The ``fix`` command (a requests.FixRequest): print the diff (dry run) or apply, then the summary."""
    result, report = fix(paths, settings.options, request.unsafe_fixes, request.write)
    out = sys.stdout
    if not request.write:
        for path, old, new in result.diffs:
            out.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
                )
            )
        count = sum(len(items) for items in result.fixed.values())
        files = len(result.diffs)
        out.write(
            f"Would fix {count} finding{'s' if count != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}" + (" (run with --write to apply)" if files else "") + ".\n"
        )
    else:
        total = sum(len(items) for items in result.fixed.values())
        if total:
            out.write(
                f"Fixed {total} finding{'s' if total != 1 else ''} in {len(result.written)} "
                f"file{'s' if len(result.written) != 1 else ''}:\n"
            )
            for rule in sorted(result.fixed):
                for path, finding in result.fixed[rule]:
                    out.write(f"  {rule} {finding.name}: {printable(path)}: {finding.fix.title}\n")  # fuzz N11
        else:
            out.write("No fixes applied.\n")
    _summary(out, result)
    for problem in report.errors:
        sys.stderr.write(f"{problem.path}: error: {problem.message}\n")
    if report.errors or result.refused or result.elsewhere or not result.converged:
        return 2  # something wanted was not done: the user must act
    return 1 if request.diff and result.diffs else 0


def _summary(out, result: FixResult) -> None:
    if result.needs_unsafe:
        rules = ", ".join(sorted({f.rule for f in result.needs_unsafe}))
        count = len(result.needs_unsafe)
        out.write(f"{count} more fix{'es' if count != 1 else ''} available with --unsafe-fixes ({rules}).\n")
    if result.advice:
        out.write("Advice (never applied automatically):\n")
        for finding in result.advice:
            where = finding.location.display()
            why = result.elsewhere.get(id(finding))
            out.write(
                f"  {finding.rule} {where}: {finding.fix.title}" + (f" (not written: {why})" if why else "") + "\n"
            )
        line = pip_line(result.advice)
        if line:
            out.write(f"  To satisfy every version rule together: {line}\n")
    for problem in result.refused:
        out.write(f"error: {problem}\n")
