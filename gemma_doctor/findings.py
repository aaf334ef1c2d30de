"""What rules return (Diagnostic), what the engine reports (Finding), and fixes as data."""

from __future__ import annotations

from gemma_doctor.facts import Location
from gemma_doctor.records import field, record

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
SAFETIES = ("safe", "unsafe", "display-only")


EDIT_OPS = ("set", "rename", "insert_after", "retarget")
EDIT_FORMATS = ("json", "yaml", "python", "pip")


@record(frozen=True, slots=True)
class Edit:
    """One change to one value in one file, addressed by key path, not by bytes.

    ``format`` picks the writer: "json", "yaml", "python" (key path = call
    reference + keyword) or "pip" (display-only: package -> requirement).
    ``op`` is one of ``EDIT_OPS``: "set" (insert the key if missing), "rename"
    (value = the new key name), "insert_after" (Python: a statement after the
    one referenced) or "retarget" (Python: ``model.config.X`` to
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
        }


def set_value(fact, value, title_value=None) -> Edit | None:
    """An edit that sets the value behind ``fact`` (None when the fact has no editable source)."""
    if fact is None or fact.edit is None or fact.location.path is None:
        return None
    fmt, key_path = fact.edit
    return Edit(fact.location.path, fmt, key_path, value, cell=fact.location.cell)


def sibling_edit(fact, key: str, value) -> Edit | None:
    """Set ``key`` beside ``fact``'s key in the same mapping or call (inserting it if missing)."""
    if fact is None or fact.edit is None or fact.location.path is None:
        return None
    fmt, key_path = fact.edit
    return Edit(fact.location.path, fmt, tuple(key_path[:-1]) + (key,), value, cell=fact.location.cell)
