"""PEP 440 versions and specifiers, through ``packaging`` (imported lazily).

An earlier hand-written parser disagreed with ``packaging`` in 151 of 3,824 differential
cases and crashed on ``~=4``. ``packaging.version`` costs ~5 ms to import and
``packaging.specifiers`` ~15 ms more (it pulls in ``logging``), so both are imported on
first use: a check that reads no version never pays for them.

Every function raises ``ValueError`` (``packaging``'s ``InvalidVersion`` and
``InvalidSpecifier`` are subclasses) for text that is not PEP 440.
"""

from __future__ import annotations

from functools import lru_cache


class InvalidVersion(ValueError):
    pass


@lru_cache(maxsize=1024)
def version_key(text: str):
    """A ``packaging.version.Version``: it orders as PEP 440 says (4.50.0.dev0 < 4.50.0)."""
    from packaging.version import InvalidVersion as PackagingInvalid
    from packaging.version import Version

    try:
        return Version(text.strip())
    except PackagingInvalid:
        raise InvalidVersion(text) from None


def is_valid(text: str) -> bool:
    try:
        version_key(text)
    except ValueError:
        return False
    return True


def compare(left: str, right: str) -> int:
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)


@lru_cache(maxsize=512)
def _specifier_set(spec: str):
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(spec.replace(" ", ""))
    except InvalidSpecifier:
        raise InvalidVersion(spec) from None


def parse_specifier(spec: str) -> list[tuple[str, str]]:
    """``">=4.51.3,!=4.52.0"`` -> ``[(">=", "4.51.3"), ("!=", "4.52.0")]``, in written order."""
    specifiers = {str(item): item for item in _specifier_set(spec)}
    clauses = []
    for raw in spec.replace(" ", "").split(","):
        if raw:
            item = specifiers.get(raw) or next(iter(_specifier_set(raw)))
            clauses.append((item.operator, item.version))
    return clauses


def satisfies(version: str, spec: str) -> bool:
    """True when ``version`` meets every clause of ``spec`` (an empty spec allows all).

    Pre-releases count: a project that pins ``4.50.0.dev0`` runs it, whatever the
    specifier's default pre-release policy says.
    """
    return _specifier_set(spec).contains(version_key(version), prereleases=True)


def exact_pin(spec: str) -> str | None:
    """The version a specifier pins exactly (``==4.50.0``), else None."""
    for op, target in parse_specifier(spec):
        if op in ("==", "===") and not target.endswith(".*"):
            return target
    return None
