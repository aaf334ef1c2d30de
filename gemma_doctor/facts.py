"""Facts: a value read from a file, with exactly where it came from.

Sources produce facts, the Setup merges them, and rules and writers use the
locations: rules to point at the right line, writers to edit the right bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from gemma_doctor.records import field, record


@record(frozen=True, slots=True)
class Location:
    """Where a value lives. Lines, columns and cells are 1-based."""

    path: str | None
    line: int | None = None
    column: int | None = None
    key: str | None = None
    cell: int | None = None

    def display(self) -> str:
        if self.path is None:
            return "<environment>"
        parts = [self.path]
        if self.cell is not None:
            parts.append(f"cell {self.cell}")
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


RUNTIME_PREFIX = "runtime: "  # the key of a value the preflight callback read off the live objects


def read_at_run_time(fact: Fact) -> bool:
    """Whether the preflight callback read ``fact`` off the live objects (no file holds it)."""
    return (fact.location.key or "").startswith(RUNTIME_PREFIX)


def where_set(fact: Fact) -> str:
    """How a message names the setting a fact came from: its key as the file spells it, or, for a value read
    off the live run, the attribute and "at run time" (not "runtime: ..." inside another phrase)."""
    key = fact.location.key or fact.raw_key or fact.name
    if read_at_run_time(fact):
        return f"{key[len(RUNTIME_PREFIX) :]} at run time"
    return key


@record(frozen=True, slots=True)
class Fact:
    """One setting from one source, in gemma-doctor's vocabulary.

    ``name`` is the vocabulary name ("fp16", "text_use_cache", ...), ``raw_key``
    the key as the file spells it ("evaluation_strategy"), and ``origin`` the
    kind of source ("training-args", "accelerate-config", "python", ...).
    ``edit`` tells a writer how to address the value: a key path for JSON and
    YAML, a call-and-keyword reference for Python.
    """

    name: str
    value: object
    location: Location
    origin: str
    raw_key: str | None = None
    edit: tuple | None = None  # (writer format, key path)


@record(slots=True)
class VersionFact:
    """A package version: exact (``version``) and/or a requirement (``spec``)."""

    package: str
    version: str | None
    spec: str | None
    location: Location
    origin: str  # "requirements", "pyproject", "uv.lock", "poetry.lock", "pip-freeze", "installed", "notebook"
    dist_info: str | None = None  # the installed *.dist-info folder
    requires: dict | None = None  # an installed Unsloth's unconditional Requires-Dist: package -> specifier


@record(slots=True)
class SourceResult:
    """Everything one file contributed."""

    facts: list[Fact] = field(default_factory=list)
    versions: list[VersionFact] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    kind: str | None = None  # what the file was recognised as; None = not relevant
    error: str | None = None  # set when the file is ours but broken (it still yields facts): exit 2
    # Set when a part of the file could not be parsed and was skipped (a Python statement, a notebook
    # cell) while the rest was read: a warning line, since the code around it is still judged.
    skipped: str | None = None
    # A Python file that parses a command line (argparse, HfArgumentParser): read again for each launch
    # line that runs it, with that line's words, its values are that run's.
    reads_invocation: bool = False


@record(slots=True)
class Suppression:
    """A ``# gemma-doctor: ignore[GD101]`` comment and the lines it covers."""

    path: str
    rules: tuple[str, ...]
    comment_line: int
    covers: tuple[int, ...]
    cell: int | None = None
    reason: str | None = None
    used: bool = False
    column: int | None = None


class MachineValue:
    """A value that depends on the GPU, like ``not is_bfloat16_supported()`` or
    ``torch.bfloat16 if torch.cuda.get_device_capability()[0] >= 8 else torch.float16``.

    ``on_bf16_gpu`` is its value on compute capability >= 8.0 (A100, L4, H100),
    ``on_older_gpu`` on a T4 or V100. Either may be any value, including Unknown.
    ``torch.cuda.is_bf16_supported()`` counts emulation, so it is True on a T4 too
    (docs/evidence/README.md, docs/evidence/audit.md).
    """

    __slots__ = ("expression", "on_bf16_gpu", "on_older_gpu")

    def __init__(self, expression: str, on_bf16_gpu: object, on_older_gpu: object) -> None:
        self.expression, self.on_bf16_gpu, self.on_older_gpu = expression, on_bf16_gpu, on_older_gpu

    def resolve(self, supports_bf16: bool) -> object:
        return self.on_bf16_gpu if supports_bf16 else self.on_older_gpu

    @property
    def same_on_every_gpu(self) -> bool:
        return type(self.on_bf16_gpu) is type(self.on_older_gpu) and self.on_bf16_gpu == self.on_older_gpu

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MachineValue) and (self.expression, self.on_bf16_gpu, self.on_older_gpu) == (
            other.expression,
            other.on_bf16_gpu,
            other.on_older_gpu,
        )

    def __hash__(self) -> int:
        return hash(self.expression)

    def __repr__(self) -> str:
        return self.expression


class ConfigTree:
    """A whole model config.json as one fact's value, for rules that validate its shape (GD401)."""

    def __init__(self, doc) -> None:
        self.value: dict = doc.value
        self._doc = doc

    def locate(self, key_path: tuple) -> Location:
        return self._doc.location(key_path)


class Unknown:
    """A value the checker cannot resolve statically (``bf16=(args.dtype == "bf16")`` with
    no default, ``fp16=some_function()``). It is never read as False: a rule that needs
    it stays silent or speaks conditionally."""

    __slots__ = ("_describe", "_expression")

    def __init__(self, expression: str | None = None, describe: Callable[[], str] | None = None) -> None:
        # ``describe`` writes the expression on first use (python_eval.unknown).
        self._expression, self._describe = expression, describe

    @property
    def expression(self) -> str:
        if self._expression is None:
            self._expression = self._describe() if self._describe is not None else "<expression>"
            self._describe = None
        return self._expression

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(("unknown", self.expression))

    def __repr__(self) -> str:
        return self.expression


def is_resolved(value: object) -> bool:
    """A value known for the run: neither Unknown nor GPU-dependent (a MachineValue). Rules
    claim nothing from an unresolved value (issue 9, "unknown is not False")."""
    return not isinstance(value, (Unknown, MachineValue))


class InputError(Exception):
    """A file that cannot be read or parsed. Becomes one line under ``errors``."""
