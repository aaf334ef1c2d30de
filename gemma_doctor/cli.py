"""The command line: parse arguments, call the engine, print, exit.

argparse rather than click: click's import alone (~35 ms here) is more than a
whole static check of a small project costs. Each command's options are data
(``Option``, ``COMMANDS``), the one table that builds the argparse parser and the
typed requests the commands take.
"""

from __future__ import annotations

import errno
import os
import sys

from gemma_doctor import __version__
from gemma_doctor._startup import help_width
from gemma_doctor.errors import UsageError
from gemma_doctor.findings import SEVERITIES
from gemma_doctor.reporters import FORMATS
from gemma_doctor.requests import CheckRequest, FixRequest, from_namespace

EXIT_USAGE = 2
# Errors of writing to a full disk or quota. Reading errors never reach main: the sources turn them
# into one line per file.
_OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
__all__ = ["UsageError", "build_parser", "entry", "main"]


def _comma_list(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


class Option:
    """One option or positional argument of a command: what argparse is told. ``kind`` is "value" (one argument),
    "flag" (store_true), "optional" (an optional argument, else ``const``), or, for a positional,
    its nargs: "one", "?" or "*"."""

    __slots__ = ("choices", "const", "default", "dest", "flags", "help", "kind", "metavar", "type")

    def __init__(
        self,
        *flags: str,
        help: str,
        kind: str = "value",
        choices: tuple[str, ...] | None = None,
        default: object = None,
        type=None,
        metavar: str | None = None,
        const: object = None,
    ) -> None:
        self.flags, self.help, self.kind, self.choices = flags, help, kind, choices
        self.default, self.type, self.metavar, self.const = default, type, metavar, const
        long = next((flag for flag in flags if flag.startswith("--")), flags[0])
        self.dest = long.lstrip("-").replace("-", "_")

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")

    def add_to(self, parser) -> None:
        settings: dict[str, object] = {"help": self.help}
        if self.kind == "flag":
            settings["action"] = "store_true"
        else:
            for key in ("choices", "type", "metavar"):
                if getattr(self, key) is not None:
                    settings[key] = getattr(self, key)
            if self.default is not None:
                settings["default"] = self.default
            if self.kind in ("?", "*"):
                settings["nargs"] = self.kind
            elif self.kind == "optional":
                settings["nargs"], settings["const"] = "?", self.const
        parser.add_argument(*self.flags, **settings)


_SELECTION = (
    Option("--select", type=_comma_list, help="rule ids or prefixes to run (default: ALL)"),
    Option("--ignore", type=_comma_list, help="rule ids or prefixes to skip"),
    Option("--extend-select", type=_comma_list, help="add rules to the selection"),
    Option("--gpu", help="target GPU, e.g. T4, V100, A100, L4, H100, 'RTX 4090'"),
    Option("--compute-capability", metavar="X.Y", help="target GPU by compute capability"),
    Option("--env", help="versions: auto (installed), none, or a `pip freeze` file"),
    Option("--config", metavar="FILE", help="a .gemma-doctor.toml or pyproject.toml to use"),
    Option("--isolated", kind="flag", help="ignore configuration files"),
)
_TEXT_OR_JSON = Option("--format", choices=("text", "json"), default="text", help="output format (default: text)")

# command -> (its help line, its options in the order --help lists them)
COMMANDS: dict[str, tuple[str, tuple[Option, ...]]] = {
    "check": (
        "check projects, model folders and training configs",
        (
            Option(
                "paths",
                kind="*",
                default=[],
                metavar="PATH",
                help="files, directories or Hugging Face model ids (default: .)",
            ),
            Option("--format", choices=FORMATS, help="report format (default: text; github inside GitHub Actions)"),
            Option("--output-file", "-o", metavar="FILE", help="write the report here instead of stdout"),
            Option(
                "--fail-on", choices=SEVERITIES[::-1], help="the lowest severity that fails the run (default: error)"
            ),
            Option("--exit-zero", kind="flag", help="exit 0 even when findings fail the run"),
            Option("--show-settings", kind="flag", help="print the resolved settings and exit"),
            Option("--baseline", metavar="FILE", help="report only findings not in FILE (written if missing)"),
            Option(
                "--add-ignore",
                kind="optional",
                const="",
                metavar="REASON",
                help="write suppression comments for current findings where the format allows",
            ),
            Option("--fix", kind="flag", help="apply the safe fixes first (fix --write), then report what is left"),
            Option("--unsafe-fixes", kind="flag", help="with --fix: also apply fixes that change numerics or speed"),
            Option("--quiet", "-q", kind="flag", help="print the findings only: no fix lines, no summary"),
            Option("--statistics", kind="flag", help="print how many findings each rule has, not the findings"),
            Option(
                "--trace",
                kind="flag",
                help="under each finding, the values of its run that decided it, each with file:line (JSON: trace)",
            ),
            Option("--revision", help="revision of a Hugging Face model id in the local cache"),
            Option("--online", kind="flag", help="fetch config.json/generation_config.json of a model id"),
            *_SELECTION,
        ),
    ),
    "fix": (
        "repair configs (prints a diff; --write applies it)",
        (
            Option("paths", kind="*", default=[], metavar="PATH", help="files or folders to repair (default: .)"),
            Option("--write", kind="flag", help="apply the fixes"),
            Option("--diff", kind="flag", help="print the diff only; exit 1 if there is one"),
            Option("--unsafe-fixes", kind="flag", help="also apply fixes that change numerics or speed"),
            *_SELECTION,
        ),
    ),
    "rules": ("list every rule", (_TEXT_OR_JSON,)),
    "rule": (
        "show one rule's documentation",
        (
            Option("rule_id", kind="one", metavar="ID", help="a rule id (GD202) or name (hybridcache-float-crash)"),
            _TEXT_OR_JSON,
        ),
    ),
    "explain": (
        "show one rule's documentation (the same as `rule`)",
        (
            Option("rule_id", kind="one", metavar="ID", help="a rule id (GD202) or name (hybridcache-float-crash)"),
            _TEXT_OR_JSON,
        ),
    ),
    "env": (
        "detected library versions, each with its verdict",
        (
            Option("paths", kind="*", default=[], metavar="PATH", help="project pins to include"),
            _TEXT_OR_JSON,
            Option("--env", default="auto", help="auto (installed), none, or a `pip freeze` file"),
        ),
    ),
    "verify": (
        "run the static check, then a short train + eval step on a tiny model of the project's own class, "
        "and say which findings the run confirmed, refuted or left unexercised",
        (
            Option("path", kind="?", default=".", metavar="PATH", help="the project (default: .)"),
            Option("--format", choices=("text", "json"), default="text", help="report format (default: text)"),
            Option(
                "--device",
                choices=("auto", "cpu", "cuda"),
                default="auto",
                help="where to run (default: cuda when present)",
            ),
            Option("--steps", type=int, default=2, help="training steps before the evaluation (default: 2)"),
            Option(
                "--run",
                metavar="ENTRY",
                help="which training run of the project, by its entry point (default: the first)",
            ),
            Option(
                "--stack",
                choices=("installed", "pinned"),
                default="installed",
                help="installed: the packages in this environment; pinned: build (once, cached) an environment with "
                "the project's pins of torch, transformers, accelerate, trl, peft, bitsandbytes and unsloth, and run "
                "there",
            ),
            Option(
                "--weights",
                kind="flag",
                help="probe the real weights for fp16 overflow: PATH's *.safetensors, else the project's checkpoint "
                "in the Hugging Face cache, else --gguf",
            ),
            Option("--gguf", metavar="FILE", help="with --weights: a GGUF file to dequantise"),
            Option("--launch", kind="flag", help="run through `accelerate launch` with the project's config"),
            Option("--verbose", "-v", kind="flag", help="full tracebacks for unknown failures"),
            Option(
                "--env",
                default="auto",
                help="versions for the static check: auto (installed), none, or a pip freeze file",
            ),
            Option("--gpu", help="the GPU the project trains on, for the static check (e.g. T4, A100)"),
            Option(
                "--compute-capability",
                metavar="X.Y",
                help="the training GPU's compute capability, for the static check",
            ),
        ),
    ),
    "sample": (
        "render the first training example through the project's data path: each token with its label, the "
        "<bos> count, and whether the turn end is trained",
        (
            Option("path", kind="?", default=".", metavar="PATH", help="the project (default: .)"),
            Option("--format", choices=("text", "json"), default="text", help="report format (default: text)"),
            Option("--run", metavar="ENTRY", help="which run of the project, by its entry point (default: the first)"),
            Option(
                "--env",
                default="auto",
                help="versions for the static check: auto (installed), none, or a pip freeze file",
            ),
        ),
    ),
}


def build_parser(only: str | None = None):
    """The whole argparse parser, or (``only``) the top level and that one command: building the
    six commands costs about 4 ms that parsing one of them does not need."""
    import argparse
    import functools

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs) -> None:
            # Read once per parser: argparse makes a new formatter for every argument it adds.
            kwargs.setdefault("formatter_class", functools.partial(argparse.HelpFormatter, width=help_width()))
            super().__init__(*args, **kwargs)

        def parse_known_args(self, args=None, namespace=None):
            namespace, extras = super().parse_known_args(args, namespace)
            for action in self._actions:
                # argparse drops a "--" given as an option's value (`--config=--`) and leaves []: not a value.
                if action.nargs is None and action.option_strings and getattr(namespace, action.dest, None) == []:
                    self.error(f"{action.option_strings[-1]} needs a value, and '--' is not one")
            return namespace, extras

        def error(self, message: str):  # one line, exit 2, like every other usage error
            sys.stderr.write(f"gemma-doctor: error: {message}\n")
            raise SystemExit(EXIT_USAGE)

    parser = Parser(prog="gemma-doctor", description="Pre-flight checks for Gemma 3 fine-tuning setups.")
    parser.add_argument("--version", action="version", version=f"gemma-doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (help_line, options) in COMMANDS.items():
        if only is None or name == only:
            command = commands.add_parser(name, help=help_line)
            for option in options:
                option.add_to(command)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The command argv names, when its first word is one (the top level takes no other words)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=_command_in(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if sys.stdout is None and not getattr(args, "output_file", None):  # the shell closed it: `>&-`
        if sys.stderr is not None:
            sys.stderr.write("gemma-doctor: error: standard output is closed, so there is nowhere to write to\n")
        return EXIT_USAGE  # before anything is read or written
    try:
        if args.command == "check":
            from gemma_doctor.commands import run_check

            return run_check(from_namespace(CheckRequest, args))
        if args.command == "fix":
            from gemma_doctor.commands import run_fix

            return run_fix(from_namespace(FixRequest, args))
        if args.command in ("rules", "rule", "explain"):
            from gemma_doctor.commands import run_rules

            return run_rules(args)
        if args.command == "env":
            from gemma_doctor.commands import run_env

            return run_env(args)
        if args.command == "verify":
            from gemma_doctor.verify.command import run_verify

            return run_verify(args)
        if args.command == "sample":
            from gemma_doctor.verify.sample import run_sample

            return run_sample(args)
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
            sys.stderr.write(_could_not_write(exc))
            return EXIT_USAGE
        if os.environ.get("GEMMA_DOCTOR_DEBUG"):
            raise
        sys.stderr.write(
            f"gemma-doctor: internal error: {type(exc).__name__}: {exc} "
            "(set GEMMA_DOCTOR_DEBUG=1 for the traceback, and please report it)\n"
        )
        return EXIT_USAGE
    return EXIT_USAGE


def _could_not_write(exc: OSError) -> str:
    return f"gemma-doctor: error: could not write the output: {exc.strerror or exc}\n"


def entry() -> None:
    """The console script and ``python -m gemma_doctor``."""
    from gemma_doctor._startup import exit_after

    argv = sys.argv[1:]
    exit_after(_command_in(argv), main(argv), _could_not_write)
