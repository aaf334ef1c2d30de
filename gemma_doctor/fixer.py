"""``gemma-doctor fix``: apply fixes as minimal edits, safely.

Dry run by default (a unified diff); ``--write`` applies. Writes are atomic (a
temporary file in the same folder, fsync, rename, same mode), never go through a
symbolic link, skip read-only files and files that changed since they were read,
and are checked afterwards: a fix that leaves its finding in place or breaks the
file is rolled back. Passes repeat until nothing changes (at most 3).
"""

from __future__ import annotations

import difflib
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from gemma_doctor.engine import check
from gemma_doctor.findings import Finding
from gemma_doctor.pep440 import parse_specifier
from gemma_doctor.writers import WriteError, apply_edits

MAX_PASSES = 3


class FixPlan:
    """The fixes one check allows, grouped by file, plus what was skipped and why."""

    def __init__(self, findings: list[Finding], unsafe: bool) -> None:
        self.by_path: dict[str, list] = defaultdict(list)
        self.findings_by_path: dict[str, list[Finding]] = defaultdict(list)
        self.needs_unsafe: list[Finding] = []
        self.advice: list[Finding] = []
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
            for edit in fix.edits:
                key = (edit.path, edit.cell, tuple(edit.key_path))
                if key in claimed:  # two rules editing one value: the first (sorted) wins
                    continue
                claimed.add(key)
                self.by_path[edit.path].append(edit)
            self.findings_by_path[fix.edits[0].path].append(finding)


def writer_format(path: str, edits: list) -> str:
    if path.endswith(".ipynb"):
        return "notebook"
    return edits[0].format


def plan_texts(plan: FixPlan, cwd: Path, problems: list[str]) -> dict[str, tuple[str, str]]:
    """path -> (old text, new text) for every file the plan changes."""
    results = {}
    for path, edits in sorted(plan.by_path.items()):
        full = cwd / path
        try:
            old = full.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            continue
        try:
            new = apply_edits(writer_format(path, edits), old, edits)
        except (WriteError, ValueError, KeyError, IndexError) as exc:
            problems.append(f"{path}: cannot apply the fix: {exc}")
            continue
        if new != old:
            results[path] = (old, new)
    return results


def write_atomically(path: Path, old: str, new: str) -> None:
    """Replace ``path``'s content with ``new`` if it still holds ``old``; never through a link."""
    if path.is_symlink():
        raise WriteError(f"is a symbolic link; in the Hugging Face cache it points at a blob that other revisions "
                         f"share. Copy the model folder first (cp -rL {path.parent} ./model) and fix the copy")
    mode = path.stat().st_mode & 0o7777
    # The mode bits, not just access(2): root may write anywhere, but a 0444 file says "leave me".
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise WriteError("is read-only; not changed")
    data = new.encode("utf-8")
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".gemma-doctor")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if path.read_text(encoding="utf-8") != old:
            raise WriteError("changed on disk since it was read; not written")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def pip_line(findings: list[Finding]) -> str | None:
    """One `pip install` line that satisfies every display-only version fix together."""
    clauses: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for finding in findings:
        for edit in finding.fix.edits:
            if edit.format == "pip":
                clauses[edit.key_path[0]].extend(parse_specifier(edit.value))
    if not clauses:
        return None
    requirements = []
    for package, items in sorted(clauses.items()):
        lowers = [v for op, v in items if op == ">="]
        kept = [(op, v) for op, v in items if op != ">="]
        if lowers:
            kept.insert(0, (">=", max(lowers, key=_key)))
        seen, text = set(), []
        for op, version in kept:
            if (op, version) not in seen:
                seen.add((op, version))
                text.append(f"{op}{version}")
        requirements.append(f"'{package}{','.join(text)}'")
    return "pip install " + " ".join(requirements)


def _key(version: str):
    from gemma_doctor.pep440 import version_key

    return version_key(version)


def run_fix(paths: list[Path], settings, args) -> int:
    options = settings.options
    cwd = Path.cwd()
    out = sys.stdout
    problems: list[str] = []
    if not args.write:
        report = check(paths, options)
        plan = FixPlan(report.findings, args.unsafe_fixes)
        texts = plan_texts(plan, cwd, problems)
        for path, (old, new) in texts.items():
            out.writelines(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                                f"a/{path}", f"b/{path}"))
        _summary(out, plan, texts, problems, written=False)
        if report.errors or problems:
            for problem in report.errors:
                sys.stderr.write(f"{problem.path}: error: {problem.message}\n")
            return 2
        return 1 if args.diff and texts else 0

    originals: dict[str, str] = {}
    fixed: dict[str, list[tuple[str, Finding]]] = defaultdict(list)
    for _ in range(MAX_PASSES):
        report = check(paths, options)
        plan = FixPlan(report.findings, args.unsafe_fixes)
        texts = plan_texts(plan, cwd, problems)
        if not texts:
            break
        written = {}
        for path, (old, new) in texts.items():
            try:
                write_atomically(cwd / path, old, new)
            except (WriteError, OSError) as exc:
                problems.append(f"{path}: {exc}")
                continue
            originals.setdefault(path, old)
            written[path] = old
        if not written:
            break
        after = check(paths, options)
        broken = {problem.path for problem in after.errors} & set(written)
        remaining = {(f.rule, f.location.path, f.location.key) for f in after.findings}
        for path, old in written.items():
            stuck = [f for f in plan.findings_by_path[path] if (f.rule, f.location.path, f.location.key) in remaining]
            if path in broken or stuck:
                write_atomically(cwd / path, (cwd / path).read_text(encoding="utf-8"), old)
                reason = "made the file unreadable" if path in broken else \
                    f"did not clear {', '.join(sorted({f.rule for f in stuck}))}"
                problems.append(f"{path}: the fix {reason}; the original was restored")
                continue
            for finding in plan.findings_by_path[path]:
                fixed[finding.rule].append((path, finding))
    final = check(paths, options)
    plan = FixPlan(final.findings, args.unsafe_fixes)
    total = sum(len(items) for items in fixed.values())
    if total:
        out.write(f"Fixed {total} finding{'s' if total != 1 else ''} in {len(originals)} "
                  f"file{'s' if len(originals) != 1 else ''}:\n")
        for rule in sorted(fixed):
            for path, finding in fixed[rule]:
                out.write(f"  {rule} {finding.name}: {path}: {finding.fix.title}\n")
    else:
        out.write("No fixes applied.\n")
    _summary(out, plan, {}, problems, written=True)
    return 2 if problems or final.errors else 0


def _summary(out, plan: FixPlan, texts: dict, problems: list[str], written: bool) -> None:
    if not written:
        count = sum(len(plan.findings_by_path[p]) for p in texts)
        out.write(f"Would fix {count} finding{'s' if count != 1 else ''} in {len(texts)} "
                  f"file{'s' if len(texts) != 1 else ''}" + (" (run with --write to apply)" if texts else "") + ".\n")
    if plan.needs_unsafe:
        rules = ", ".join(sorted({f.rule for f in plan.needs_unsafe}))
        out.write(f"{len(plan.needs_unsafe)} more fix{'es' if len(plan.needs_unsafe) != 1 else ''} available with "
                  f"--unsafe-fixes ({rules}).\n")
    if plan.advice:
        out.write("Advice (never applied automatically):\n")
        for finding in plan.advice:
            where = finding.location.display()
            out.write(f"  {finding.rule} {where}: {finding.fix.title}\n")
        line = pip_line(plan.advice)
        if line:
            out.write(f"  To satisfy every version rule together: {line}\n")
    for problem in problems:
        out.write(f"error: {problem}\n")

