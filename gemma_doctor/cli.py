"""The command line: parse arguments, call the engine, print, exit.

argparse rather than click: click's import alone (~35 ms here) is more than a
whole static check of a small project costs, and the speed goal is 2x the
interpreter's start-up.
"""

from __future__ import annotations

import argparse
import errno
import functools
import os
import sys

from gemma_doctor import __version__
from gemma_doctor.errors import UsageError
from gemma_doctor.findings import SEVERITIES
from gemma_doctor.reporters import FORMATS

EXIT_USAGE = 2
# Errors of writing to a full disk or quota. Reading errors never reach main: the sources turn them
# into one line per file.
_OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

# argparse passes each of its own strings through gettext's default domain, which no program sets
# up for it here; each lookup searches the locale directories again, and the first imports
# `locale` (~3 ms a run together). Without a translation catalogue the text is unchanged.
argparse._ = lambda message: message  # type: ignore[attr-defined]
__all__ = ["UsageError", "build_parser", "entry", "main"]


def _quote_from_bytes(*args, **kwargs):
    from urllib.parse import quote_from_bytes

    return quote_from_bytes(*args, **kwargs)


def _import_pathlib() -> None:
    """Import ``pathlib`` without ``urllib.parse``, before any command module does.

    pathlib imports ``urllib.parse`` for ``Path.as_uri()`` alone, and that import (``ipaddress``,
    six named tuples, its patterns) costs ~6 ms here: a fifth of what a check of a small project
    does beyond starting Python. gemma-doctor never calls ``as_uri``. So while pathlib is imported,
    ``urllib.parse`` is a stand-in whose one function loads the real module on its first call and
    hands the call on. The stand-in is removed at once: any later ``import urllib.parse``
    (huggingface_hub's, hub.py's) loads the real module, and ``as_uri`` gives the real answer.
    """
    if "pathlib" in sys.modules or "urllib.parse" in sys.modules:
        return
    stand_in = type(sys)("urllib.parse")
    stand_in.quote_from_bytes = _quote_from_bytes  # type: ignore[attr-defined]
    sys.modules["urllib.parse"] = stand_in
    try:
        import pathlib  # noqa: F401
    finally:
        if sys.modules.get("urllib.parse") is stand_in:
            del sys.modules["urllib.parse"]


def _help_width() -> int:
    """The terminal's width for help text, told to argparse's formatter up front: left to itself it
    imports shutil (with bz2 and lzma, ~4 ms) on every run, to size help text a check never prints."""
    columns = 80
    try:
        if os.environ.get("COLUMNS", "").isdigit():
            columns = int(os.environ["COLUMNS"])
        elif sys.__stdout__ is not None:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (ValueError, OSError):
        pass
    return max(columns - 2, 40)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        # Read once per parser: argparse makes a new formatter for every argument it adds.
        kwargs.setdefault("formatter_class", functools.partial(argparse.HelpFormatter, width=_help_width()))
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # one line, exit 2, like every other usage error
        sys.stderr.write(f"gemma-doctor: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _comma_list(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--select", type=_comma_list, help="rule ids or prefixes to run (default: ALL)")
    parser.add_argument("--ignore", type=_comma_list, help="rule ids or prefixes to skip")
    parser.add_argument("--extend-select", type=_comma_list, help="add rules to the selection")
    parser.add_argument("--gpu", help="target GPU, e.g. T4, V100, A100, L4, H100, 'RTX 4090'")
    parser.add_argument("--compute-capability", metavar="X.Y", help="target GPU by compute capability")
    parser.add_argument("--env", help="versions: auto (installed), none, or a `pip freeze` file")
    parser.add_argument("--config", metavar="FILE", help="a .gemma-doctor.toml or pyproject.toml to use")
    parser.add_argument("--isolated", action="store_true", help="ignore configuration files")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (``only``) the top level and that one command: argparse translates
    each parser's help strings through gettext as it builds them, and building the six commands
    costs a check about 4 ms that parsing one of them does not need."""
    parser = _Parser(prog="gemma-doctor", description="Pre-flight checks for Gemma 3 fine-tuning setups.")
    parser.add_argument("--version", action="version", version=f"gemma-doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, add in _COMMANDS.items():
        if only is None or name == only:
            add(commands)
    return parser


def _add_check(commands) -> None:
    check = commands.add_parser("check", help="check projects, model folders and training configs")
    check.add_argument(
        "paths", nargs="*", default=[], metavar="PATH", help="files, directories or Hugging Face model ids (default: .)"
    )
    check.add_argument("--format", choices=FORMATS, help="report format (default: text; github inside GitHub Actions)")
    check.add_argument("--output-file", "-o", metavar="FILE", help="write the report here instead of stdout")
    check.add_argument(
        "--fail-on", choices=SEVERITIES[::-1], help="the lowest severity that fails the run (default: error)"
    )
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings fail the run")
    check.add_argument("--show-settings", action="store_true", help="print the resolved settings and exit")
    check.add_argument("--baseline", metavar="FILE", help="report only findings not in FILE (written if missing)")
    check.add_argument(
        "--add-ignore",
        nargs="?",
        const="",
        metavar="REASON",
        help="write suppression comments for current findings where the format allows",
    )
    check.add_argument("--revision", help="revision of a Hugging Face model id in the local cache")
    check.add_argument("--online", action="store_true", help="fetch config.json/generation_config.json of a model id")
    _add_selection(check)


def _add_fix(commands) -> None:
    fix = commands.add_parser("fix", help="repair configs (prints a diff; --write applies it)")
    fix.add_argument("paths", nargs="*", default=[], metavar="PATH", help="files or folders to repair (default: .)")
    fix.add_argument("--write", action="store_true", help="apply the fixes")
    fix.add_argument("--diff", action="store_true", help="print the diff only; exit 1 if there is one")
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes that change numerics or speed")
    _add_selection(fix)


def _add_rules(commands) -> None:
    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def _add_rule(commands) -> None:
    rule = commands.add_parser("rule", help="show one rule's documentation")
    rule.add_argument("rule_id", metavar="ID", help="a rule id (GD202) or name (hybridcache-float-crash)")
    rule.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def _add_env(commands) -> None:
    env = commands.add_parser("env", help="detected library versions, each with its verdict")
    env.add_argument("paths", nargs="*", default=[], metavar="PATH", help="project pins to include")
    env.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    env.add_argument("--env", default="auto", help="auto (installed), none, or a `pip freeze` file")


def _add_verify(commands) -> None:
    verify = commands.add_parser(
        "verify",
        help="run the static check, then a short train + eval step on a tiny model of the project's own class, "
        "and say which findings the run confirmed, refuted or left unexercised",
    )
    verify.add_argument("path", nargs="?", default=".", metavar="PATH", help="the project (default: .)")
    verify.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    verify.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to run (default: cuda when present)"
    )
    verify.add_argument("--steps", type=int, default=2, help="training steps before the evaluation (default: 2)")
    verify.add_argument(
        "--run", metavar="ENTRY", help="which training run of the project, by its entry point (default: the first)"
    )
    verify.add_argument(
        "--stack",
        choices=("installed", "pinned"),
        default="installed",
        help="installed: the packages in this environment; pinned: build (once, cached) an environment with "
        "the project's pins of torch, transformers, accelerate, trl, peft, bitsandbytes and unsloth, and run there",
    )
    verify.add_argument(
        "--weights",
        action="store_true",
        help="probe the real weights for fp16 overflow: PATH's *.safetensors, else the project's checkpoint "
        "in the Hugging Face cache, else --gguf",
    )
    verify.add_argument("--gguf", metavar="FILE", help="with --weights: a GGUF file to dequantise")
    verify.add_argument(
        "--launch", action="store_true", help="run through `accelerate launch` with the project's config"
    )
    verify.add_argument("--verbose", "-v", action="store_true", help="full tracebacks for unknown failures")
    verify.add_argument(
        "--env", default="auto", help="versions for the static check: auto (installed), none, or a pip freeze file"
    )
    verify.add_argument("--gpu", help="the GPU the project trains on, for the static check (e.g. T4, A100)")
    verify.add_argument(
        "--compute-capability", metavar="X.Y", help="the training GPU's compute capability, for the static check"
    )


_COMMANDS = {
    "check": _add_check,
    "fix": _add_fix,
    "rules": _add_rules,
    "rule": _add_rule,
    "env": _add_env,
    "verify": _add_verify,
}


def _command_in(argv: list[str]) -> str | None:
    """The command argv names, when its first word is one (the top level takes no other words)."""
    return argv[0] if argv and argv[0] in _COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=_command_in(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    _import_pathlib()
    try:
        if args.command == "check":
            from gemma_doctor.commands import run_check

            return run_check(args)
        if args.command == "fix":
            from gemma_doctor.commands import run_fix

            return run_fix(args)
        if args.command in ("rules", "rule"):
            from gemma_doctor.commands import run_rules

            return run_rules(args)
        if args.command == "env":
            from gemma_doctor.commands import run_env

            return run_env(args)
        if args.command == "verify":
            from gemma_doctor.verify.command import run_verify

            return run_verify(args)
    except UsageError as exc:
        sys.stderr.write(f"gemma-doctor: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last net: one line, exit 2, never a traceback for users
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_FULL:  # `> report.txt` on a full disk
            sys.stderr.write(f"gemma-doctor: error: could not write the output: {exc.strerror}\n")
            return EXIT_USAGE
        if os.environ.get("GEMMA_DOCTOR_DEBUG"):
            raise
        sys.stderr.write(
            f"gemma-doctor: internal error: {type(exc).__name__}: {exc} "
            "(set GEMMA_DOCTOR_DEBUG=1 for the traceback, and please report it)\n"
        )
        return EXIT_USAGE
    return EXIT_USAGE


# Commands that only read files and write reports or configs, each closed before main returns.
_STATIC_COMMANDS = frozenset({"check", "fix", "rules", "rule", "env"})


def entry() -> None:
    """The console script and ``python -m gemma_doctor``.

    After a static command the interpreter's teardown is skipped: freeing every module costs about
    15 ms here, more than the rules of a small project. Nothing is lost by it: the output is flushed
    below, every file was written and closed (atomically) inside ``main``, and when anything asked
    to run at exit (``atexit``: logging, tempfile's finalizers, a library's hooks) the exit is the
    ordinary one."""
    import atexit

    argv = sys.argv[1:]
    code = main(argv)
    pending = getattr(atexit, "_ncallbacks", lambda: 1)()  # CPython's count of exit hooks
    if _command_in(argv) not in _STATIC_COMMANDS or pending:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the shell closed it (`>&-`)
                stream.flush()
        except BrokenPipeError:  # the reader left (| head): what it read is all it wanted
            code = code or 1
        except OSError as exc:  # a full disk under `> report.txt`: say so, as the interpreter would
            os.write(2, f"gemma-doctor: error: could not write the output: {exc.strerror or exc}\n".encode())
            code = EXIT_USAGE
    os._exit(code)
