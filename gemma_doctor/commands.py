"""What each CLI command does, in terms of the engine. No argument parsing here."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gemma_doctor import __version__
from gemma_doctor.errors import UsageError


def _write(text: str, output_file: str | None = None) -> None:
    if output_file:
        try:
            Path(output_file).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{output_file}: cannot write the report: {exc.strerror or type(exc).__name__}") from None
    else:
        sys.stdout.write(text)


def _color() -> bool:
    return sys.stdout is not None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _terminal_width(output_file) -> int | None:
    """The terminal's width when the report goes to one (long messages wrap there), else None: a file, a
    pipe or CI keeps one line per finding. COLUMNS is honoured, as by every tool that wraps."""
    if output_file or sys.stdout is None or not sys.stdout.isatty():
        return None
    import shutil

    return max(shutil.get_terminal_size().columns, 40)


def resolve_targets(request) -> list[Path]:
    """The request's paths as given; an argument that is no local path but looks like a Hub id
    (``google/gemma-3-4b-it``) resolves to its snapshot in the local cache."""
    paths = []
    for raw in request.paths or ["."]:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            from gemma_doctor import hub

            if hub.looks_like_repo_id(raw):
                paths.append(hub.resolve(raw, getattr(request, "revision", None), getattr(request, "online", False)))
                continue
        paths.append(path)
    return paths


def _jobs() -> int:
    """The processes a large project is read with: every core, or GEMMA_DOCTOR_JOBS (1 reads one by one)."""
    raw = os.environ.get("GEMMA_DOCTOR_JOBS", "").strip()
    if not raw:
        return os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(f"GEMMA_DOCTOR_JOBS must be a whole number of processes, not {raw!r}")
    return int(raw)


def run_check(args) -> int:  # a requests.CheckRequest
    from gemma_doctor.engine import check, exit_code
    from gemma_doctor.reporters import render
    from gemma_doctor.settings import describe, resolve

    paths = resolve_targets(args)
    settings = resolve(args, paths)
    settings.options.jobs = _jobs()  # a command of its own may fork to read a large project
    if args.show_settings:
        sys.stdout.write(describe(settings))
        return 0
    if args.fix:  # ruff's `check --fix`: what `fix --write` would do, then the check of what is left
        from gemma_doctor.fixer import fix

        result, _report = fix(paths, settings.options, args.unsafe_fixes, True)
        fixed = sum(len(items) for items in result.fixed.values())
        if fixed:
            sys.stderr.write(f"gemma-doctor: fixed {fixed} finding{'s' if fixed != 1 else ''}\n")
    report = check(paths, settings.options)
    if report.files == 0 and not report.errors:
        # A mistyped or empty path must not pass a CI job silently.
        where = ", ".join(str(path) for path in paths)
        sys.stderr.write(f"gemma-doctor: warning: no files that gemma-doctor reads under {where}\n")
    if args.add_ignore is not None:
        from gemma_doctor.adoption import add_ignore_comments

        if any(char in args.add_ignore for char in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
            # written after a comment marker, a line break would start a line of the file's own (fuzz N09)
            raise UsageError("--add-ignore: the reason must be one line")

        written = add_ignore_comments(report, args.add_ignore or None)
        sys.stderr.write(f"gemma-doctor: added {written} suppression comment{'s' if written != 1 else ''}\n")
        report = check(paths, settings.options)
    if args.baseline:
        from gemma_doctor.adoption import apply_baseline

        recorded = apply_baseline(report, Path(args.baseline))
        if recorded is not None:  # the first run writes the file: say so, or it looks like a clean check
            sys.stderr.write(
                f"gemma-doctor: recorded {recorded} finding{'s' if recorded != 1 else ''} in the baseline"
                f" {args.baseline}; later runs report only new ones\n"
            )
    report.fixable = _writable_fixes(report, paths, args.cwd)
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    color, width = _color() and not args.output_file, _terminal_width(args.output_file)
    if args.statistics:
        _write(_statistics(report), args.output_file)
    elif fmt == "text" and args.quiet:
        from gemma_doctor.reporters.text import render as text_render

        _write(text_render(report, color=color, quiet=True, width=width), args.output_file)
    else:
        _write(render(report, fmt, color=color, version=__version__, width=width), args.output_file)
    return exit_code(report, settings.fail_on, args.exit_zero)


def _writable_fixes(report, paths: list[Path], cwd: Path) -> int:
    """The safe fixes `fix --write` will write: every edit in a file fix may write (not a link into the
    Hugging Face cache, not outside the checked paths, not read-only). The rest are advice there."""
    safe = [f for f in report.findings if f.fix and f.fix.safety == "safe" and f.fix.edits]
    if not safe:
        return 0
    from gemma_doctor.fixer import Writability

    writable = Writability(paths, cwd)
    return sum(1 for f in safe if all(e.format == "pip" or writable(e.path) is None for e in f.fix.edits))


def _statistics(report) -> str:
    """How many findings each rule has, most first: `ruff check --statistics`."""
    from collections import Counter

    counts = Counter((finding.rule, finding.name) for finding in report.findings)
    lines = [
        f"{count:5}  {rule}  {name}" for (rule, name), count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def run_fix(args) -> int:  # a requests.FixRequest
    from gemma_doctor.fixer import run_fix as fix

    paths = resolve_targets(args)
    from gemma_doctor.settings import resolve

    settings = resolve(args, paths)
    settings.options.jobs = _jobs()
    return fix(paths, settings, args)


def run_rules(args) -> int:
    from gemma_doctor.knowledge import catalogue

    docs = catalogue()
    if args.command == "rules":  # "rule" and "explain" show one
        if args.format == "json":
            _write(json.dumps([doc.raw for doc in docs.values()], indent=2) + "\n")
        else:
            width = max(len(doc.name) for doc in docs.values())
            lines = [
                f"{doc.id}  {doc.name:<{width}}  {doc.severity:<7}  {doc.fix_safety:<12}  {doc.summary}"
                for doc in docs.values()
            ]
            _write("\n".join(lines) + "\n")
        return 0
    rule_id = args.rule_id.upper()
    if rule_id not in docs:
        by_name = {doc.name: doc.id for doc in docs.values()}
        if args.rule_id in by_name:
            rule_id = by_name[args.rule_id]
        else:
            raise UsageError(f"unknown rule {args.rule_id!r}; `gemma-doctor rules` lists them")
    doc = docs[rule_id]
    if args.format == "json":
        _write(json.dumps(doc.raw, indent=2) + "\n")
    else:
        from gemma_doctor.ruledocs import render_markdown

        _write(render_markdown(doc.raw))
    return 0


def run_env(args) -> int:
    """Versions from the environment (and project pins), each judged against the rule data."""
    from gemma_doctor.engine import Options, check
    from gemma_doctor.envreport import build, render_text

    # With no path, the project in the current directory (its pins beat what is installed).
    paths = [Path(p) for p in args.paths] or [Path(".")]
    if args.env not in ("auto", "none") and not Path(args.env).is_file():
        raise UsageError(f"--env {args.env}: no such file")
    options = Options(env=args.env, select=["GD3"])
    report = check(paths, options)
    entries = build(args.env, report)
    if args.format == "json":
        _write(json.dumps({"version": 1, "packages": entries}, indent=2) + "\n")
    else:
        _write(render_text(entries))
    return 1 if any(entry["verdict"] == "error" for entry in entries) else 0
