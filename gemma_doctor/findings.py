"""What rules return (Diagnostic), what the engine reports (Finding), and fixes as data."""

from __future__ import annotations

from gemma_doctor.facts import Location
from gemma_doctor.records import field, record

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
SAFETIES = ("safe", "unsafe", "display-only")


EDIT_OPS = ("set", "rename", "disable_cache_after", "retarget")
EDIT_FORMATS = ("json", "yaml", "python", "pip")


@record(frozen=True, slots=True)
class Edit:
    """One change to one value in one file, addressed by key path, not by bytes.

    ``format`` picks the writer: "json", "yaml", "python" (key path = call
    reference + keyword) or "pip" (display-only: package -> requirement). Rules
    never name it: the helpers below take it from the fact they edit.
    ``op`` is one of ``EDIT_OPS``: "set" (insert the key if missing), "rename"
    (value = the new key name), "disable_cache_after" (Python: after the model
    load referenced, a statement that turns its cache off at the config level
    ``value`` names) or "retarget" (Python: ``model.config.X`` to
    ``model.config.text_config.X``). Anything else is refused at construction.
    """

    path: str | None
    format: str
    key_path: tuple
    value: object
    op: str = "set"
    cell: int | None = None

    def __post_init__(self) -> None:
        if self.op not in EDIT_OPS:
            raise ValueError(f"unknown edit op {self.op!r} (one of {', '.join(EDIT_OPS)})")
        if self.format not in EDIT_FORMATS:
            raise ValueError(f"unknown edit format {self.format!r}")


@record(frozen=True, slots=True)
class Fix:
    title: str
    safety: str  # one of SAFETIES: "safe", "unsafe" or "display-only"
    edits: tuple[Edit, ...] = ()

    def __post_init__(self) -> None:
        if self.safety not in SAFETIES:
            raise ValueError(f"unknown fix safety {self.safety!r} (one of {', '.join(SAFETIES)})")

    @classmethod
    def of(cls, title: str, safety: str, *edits: Edit | None) -> Fix:
        """A fix from the edits that could be addressed: a fact with no editable source gives None, and a fix
        left with no edit is advice (display-only), whatever it would have been."""
        kept = tuple(edit for edit in edits if edit is not None)
        return cls(title, safety if kept or not edits else "display-only", kept)


@record(slots=True)
class Diagnostic:
    """What a rule says: where, what and why, and optionally how to fix it."""

    location: Location
    message: str
    severity: str | None = None  # None: the rule's default severity from the catalogue
    fix: Fix | None = None


@record(slots=True)
class Finding:
    rule: str
    name: str
    severity: str
    location: Location
    message: str
    fix: Fix | None = None
    fingerprint: str | None = field(default=None, compare=False)
    run: str | None = field(default=None, compare=False)  # the run's entry point (JSON 1.1)
    trace: list[str] | None = field(default=None, compare=False)  # check --trace (JSON 1.3)

    def sort_key(self) -> tuple:
        loc = self.location
        return (
            loc.path is None,
            loc.path or "",
            loc.cell or 0,
            loc.line or 0,
            loc.column or 0,
            self.rule,
            self.message,
        )

    def to_json(self) -> dict:
        loc = self.location
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity,
            "path": loc.path,
            "line": loc.line,
            "column": loc.column,
            "cell": loc.cell,
            "key": loc.key,
            "message": self.message,
            "fix": {"safety": self.fix.safety, "title": self.fix.title} if self.fix else None,
            "run": self.run,
            **({"trace": self.trace} if self.trace is not None else {}),
        }


def _addressable(fact) -> bool:
    return fact is not None and fact.edit is not None and fact.location.path is not None


def setting(fact, value) -> Edit | None:
    """Set the value behind ``fact`` (None when the fact has no editable source)."""
    if not _addressable(fact):
        return None
    fmt, key_path = fact.edit
    return Edit(fact.location.path, fmt, key_path, value, cell=fact.location.cell)


def beside(fact, key: str, value) -> Edit | None:
    """Set ``key`` beside ``fact``'s key in the same mapping or call (inserting it if missing)."""
    if not _addressable(fact):
        return None
    fmt, key_path = fact.edit
    return Edit(fact.location.path, fmt, tuple(key_path[:-1]) + (key,), value, cell=fact.location.cell)


def in_document(fact, key_path: tuple, value) -> Edit | None:
    """Set ``key_path``, from the root, in the document ``fact`` comes from (``bf16.enabled`` beside a
    DeepSpeed ``fp16.enabled``; ``text_config.use_cache`` in the run's config.json)."""
    if not _addressable(fact):
        return None
    return Edit(fact.location.path, fact.edit[0], tuple(key_path), value, cell=fact.location.cell)


def renamed(fact, new_key: str) -> Edit | None:
    """Rename the key behind ``fact``."""
    if not _addressable(fact):
        return None
    fmt, key_path = fact.edit
    return Edit(fact.location.path, fmt, key_path, new_key, op="rename", cell=fact.location.cell)


def retarget(fact, level: str) -> Edit | None:
    """``model.config.use_cache = ...`` (``fact``) to ``model.config.<level>.use_cache = ...``."""
    if not _addressable(fact):
        return None
    fmt, key_path = fact.edit
    return Edit(fact.location.path, fmt, tuple(key_path) + (level,), False, op="retarget", cell=fact.location.cell)


def disable_cache_after(model_load, level: str | None) -> Edit | None:
    """After the statement that loads the model (``model_load``), turn its cache off at ``level``
    ("text_config" for a multimodal model, None for the top level); the writer writes the code."""
    if not _addressable(model_load):
        return None
    fmt, key_path = model_load.edit
    return Edit(
        model_load.location.path, fmt, key_path, level or "", op="disable_cache_after", cell=model_load.location.cell
    )


def pip(package: str, spec: str) -> Edit:
    """A requirement to install: advice only, no file is written."""
    return Edit(None, "pip", (package,), spec)
