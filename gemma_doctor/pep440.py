"""Just enough PEP 440 to compare versions and test specifiers.

``packaging`` would do this too, but importing it costs more than the rest of
a static check; these ~100 lines cover every version string the rule data and
real lock files use (releases, pre/post/dev, local labels, ``==X.*``).
"""

from __future__ import annotations

import re
from functools import lru_cache

_VERSION = re.compile(
    r"""^\s*v?(?:(?P<epoch>\d+)!)?
    (?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d*))?
    (?:-(?P<post_n1>\d+)|[-_.]?(?:post|rev|r)[-_.]?(?P<post_n2>\d*))?
    (?:[-_.]?dev[-_.]?(?P<dev_n>\d*))?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_INFINITY = float("inf")


class InvalidVersion(ValueError):
    pass


@lru_cache(maxsize=512)
def version_key(text: str) -> tuple:
    """A sort key that orders versions as PEP 440 does."""
    match = _VERSION.match(text)
    if not match:
        raise InvalidVersion(text)
    release = [int(part) for part in match["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    has_pre = match["pre_l"] is not None
    post = match["post_n1"] or match["post_n2"]
    has_post = post is not None
    has_dev = match["dev_n"] is not None
    if has_pre:
        pre = (1, _PRE_RANK[match["pre_l"].lower()], int(match["pre_n"] or 0))
    elif has_dev and not has_post:
        pre = (0, 0, 0)  # 1.0.dev0 sorts before 1.0a1
    else:
        pre = (2, 0, 0)
    return (
        int(match["epoch"] or 0),
        tuple(release),
        pre,
        int(post or 0) if has_post else -1,
        int(match["dev_n"] or 0) if has_dev else _INFINITY,
    )


def is_valid(text: str) -> bool:
    return _VERSION.match(text) is not None


def release_tuple(text: str) -> tuple[int, ...]:
    match = _VERSION.match(text)
    if not match:
        raise InvalidVersion(text)
    return tuple(int(part) for part in match["release"].split("."))


def compare(left: str, right: str) -> int:
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)


_CLAUSE = re.compile(r"^\s*(===|==|!=|~=|<=|>=|<|>)\s*([^\s,;]+)\s*$")


def _matches_clause(op: str, target: str, version: str) -> bool:
    if target.endswith(".*"):
        prefix = release_tuple(target[:-2])
        head = release_tuple(version)[: len(prefix)]
        head = head + (0,) * (len(prefix) - len(head))
        same = head == prefix
        return same if op == "==" else not same
    if op == "===":
        return version.strip() == target
    order = compare(version, target)
    if op == "==":
        return order == 0
    if op == "!=":
        return order != 0
    if op == ">=":
        return order >= 0
    if op == "<=":
        return order <= 0
    if op == ">":
        return order > 0
    if op == "<":
        return order < 0
    if op == "~=":
        parts = release_tuple(target)
        upper = parts[:-1]
        upper = upper[:-1] + (upper[-1] + 1,)
        return order >= 0 and compare(version, ".".join(map(str, upper))) < 0
    raise InvalidVersion(op)


def parse_specifier(spec: str) -> list[tuple[str, str]]:
    """``">=4.51.3,!=4.52.0"`` -> ``[(">=", "4.51.3"), ("!=", "4.52.0")]``."""
    clauses = []
    for raw in spec.split(","):
        if not raw.strip():
            continue
        match = _CLAUSE.match(raw)
        if not match:
            raise InvalidVersion(raw.strip())
        clauses.append((match[1], match[2]))
    return clauses


def satisfies(version: str, spec: str) -> bool:
    """True when ``version`` meets every clause of ``spec`` (an empty spec allows all)."""
    return all(_matches_clause(op, target, version) for op, target in parse_specifier(spec))


def exact_pin(spec: str) -> str | None:
    """The version a specifier pins exactly (``==4.50.0``), else None."""
    clauses = parse_specifier(spec)
    for op, target in clauses:
        if op in ("==", "===") and not target.endswith(".*"):
            return target
    return None


def in_range(version: str, low: str | None = None, high: str | None = None) -> bool:
    """low <= version < high; ``None`` leaves that side open."""
    if low is not None and compare(version, low) < 0:
        return False
    return high is None or compare(version, high) < 0
