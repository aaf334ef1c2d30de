"""PEP 440 versions and specifiers: the everyday forms read here, the rest by ``packaging``.

Importing ``packaging.specifiers`` costs about 20 ms (it compiles two long regular expressions
and pulls in ``typing``), more than the rules of a small project's check. Almost every version
a project pins, and every specifier in the catalogue, is in the canonical form that ``pip
freeze`` and release tags print: ``4.50.0``, ``4.50.0.dev0``, ``0.15.0rc1``, ``2.6.0+cu124``,
``>=4.51.3,!=4.52.0``, ``==4.50.*``, ``~=0.15.2``. Those are read here. Anything else (epochs,
``v1.0``, ``1.0-alpha``, ``===``, and ``<V.postN``, whose meaning packaging resolves through its
range engine) goes to ``packaging``, imported on first use.

An earlier hand-written parser for all of PEP 440 disagreed with ``packaging`` in 151 of 3,824
differential cases. This one reads only the forms above and is held to ``packaging`` on them
by ``tests/test_pep440.py`` (every pin and specifier in the catalogue, and generated cases).

Every function raises ``ValueError`` for text that is not PEP 440.
"""

from __future__ import annotations

from functools import lru_cache

_OPERATORS = ("===", "~=", "==", "!=", "<=", ">=", "<", ">")
_PRE_RANK = {"a": 0, "b": 1, "rc": 2}
_RELEASE_CHARS = frozenset("0123456789.")


def _number(text: str) -> bool:
    """ASCII digits only: str.isdigit alone also takes "²" and other scripts' digits."""
    return text.isascii() and text.isdigit()


def _release(text: str) -> bool:
    """``4.50.0``: numbers joined by single dots."""
    return all(_number(part) for part in text.split("."))


def _canonical(text: str) -> tuple[str, str | None, str | None, str | None, str | None, str | None] | None:
    """The segments of a canonical version, as text: release, pre-release phase (a, b, rc) and
    number, post, dev, local; None for any other spelling. String code rather than a regular
    expression, whose compilation alone cost ~0.6 ms a run."""
    public, plus, local_text = text.partition("+")
    if plus and not all(part.isascii() and part.isalnum() and part.lower() == part for part in local_text.split(".")):
        return None  # a local segment is lower-case letters and digits: +cu124, +cpu.1
    local = local_text if plus else None
    segments: list[str | None] = []
    for marker in (".dev", ".post"):  # from the end: release, pre, .postN, .devN
        public, found, number = public.partition(marker)
        if found and not _number(number):
            return None
        segments.append(number if found else None)
    dev, post = segments
    end = 0
    while end < len(public) and public[end] in _RELEASE_CHARS:
        end += 1
    release, pre = public[:end], public[end:]
    phase = pre_number = None
    if pre:
        phase = next((p for p in ("rc", "a", "b") if pre.startswith(p) and _number(pre[len(p) :])), None)
        if phase is None:
            return None
        pre_number = pre[len(phase) :]
    if not _release(release):
        return None
    return release, phase, pre_number, post, dev, local


class InvalidVersion(ValueError):
    pass


class Version:
    """A parsed version: its segments, and the key PEP 440 orders by."""

    __slots__ = ("dev", "key", "local", "post", "pre", "public_key", "release")

    def __init__(self, epoch, release, pre, post, dev, local) -> None:
        self.release, self.pre, self.post, self.dev, self.local = release, pre, post, dev, local
        end = len(release)
        while end and release[end - 1] == 0:
            end -= 1
        trimmed = release[:end]
        if pre is None and post is None and dev is not None:
            pre_rank, pre_n = -1, 0  # 1.0.dev1 sorts before 1.0a1
        elif pre is None:
            pre_rank, pre_n = 3, 0
        else:
            pre_rank, pre_n = _PRE_RANK[pre[0]], pre[1]
        suffix = (pre_rank, pre_n, post is not None, post or 0, dev is None, dev or 0)
        self.public_key = (epoch, trimmed, suffix)
        if local is None:
            self.key: tuple = self.public_key
        else:  # in a local segment, strings sort before numbers
            self.key = (*self.public_key, tuple((part, "") if isinstance(part, int) else (-1, part) for part in local))

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key


@lru_cache(maxsize=1024)
def version_key(text: str) -> Version:
    """The parsed version; parsed versions order as PEP 440 says (4.50.0.dev0 < 4.50.0)."""
    text = text.strip()
    segments = _canonical(text)
    if segments:
        release, phase, number, post, dev, local = segments
        return Version(
            0,
            tuple(map(int, release.split("."))),
            (phase, int(number)) if phase and number else None,
            int(post) if post is not None else None,
            int(dev) if dev is not None else None,
            _local_parts(local),
        )
    return _from_packaging(text)


def _from_packaging(text: str) -> Version:
    from packaging.version import InvalidVersion as PackagingInvalid
    from packaging.version import Version as PackagingVersion

    try:
        parsed = PackagingVersion(text)
    except PackagingInvalid:
        raise InvalidVersion(text) from None
    return Version(
        parsed.epoch,
        parsed.release,
        parsed.pre,
        parsed.post,
        parsed.dev,
        _local_parts(parsed.local),
    )


def _local_parts(local: str | None) -> tuple[int | str, ...] | None:
    """``cu124.1`` -> ``("cu124", 1)``: a local segment's parts, numbers as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in local.split(".")) if local else None


def is_valid(text: str) -> bool:
    try:
        version_key(text)
    except ValueError:
        return False
    return True


def compare(left: str, right: str) -> int:
    a, b = version_key(left).key, version_key(right).key
    return (a > b) - (a < b)


@lru_cache(maxsize=512)
def _clauses(spec: str) -> tuple[tuple[str, str], ...] | None:
    """``">=4.51.3, !=4.52.0"`` -> ``((">=", "4.51.3"), ("!=", "4.52.0"))`` when every clause is in
    a form read here; None when ``packaging`` must read the specifier."""
    clauses = []
    for raw in spec.replace(" ", "").split(","):
        if not raw:
            continue  # packaging skips empty clauses too
        op = next((op for op in _OPERATORS if raw.startswith(op)), None)
        if op is None or op == "===":
            return None
        target = raw[len(op) :]
        if target.endswith(".*"):
            if op not in ("==", "!=") or not _release(target[:-2]):
                return None
        else:
            segments = _canonical(target)
            if not segments or segments[5] is not None:
                return None  # not canonical, or a local version in a specifier
            release, phase, _, post, dev, _ = segments
            if op == "~=" and "." not in release:
                return None  # invalid: packaging says so
            if op == "<" and post is not None and phase is None and dev is None:
                return None  # <V.postN: packaging's range engine decides
        clauses.append((op, target))
    return tuple(clauses)


@lru_cache(maxsize=512)
def _specifier_set(spec: str):
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(spec.replace(" ", ""))
    except InvalidSpecifier:
        raise InvalidVersion(spec) from None


def parse_specifier(spec: str) -> list[tuple[str, str]]:
    """``">=4.51.3,!=4.52.0"`` -> ``[(">=", "4.51.3"), ("!=", "4.52.0")]``, in written order."""
    clauses = _clauses(spec)
    if clauses is not None:
        return list(clauses)
    specifiers = {str(item): item for item in _specifier_set(spec)}
    written = []
    for raw in spec.replace(" ", "").split(","):
        if raw:
            item = specifiers.get(raw) or next(iter(_specifier_set(raw)))
            written.append((item.operator, item.version))
    return written


@lru_cache(maxsize=4096)  # the rules ask the same few (version, specifier) pairs for every run
def satisfies(version: str, spec: str) -> bool:
    """True when ``version`` meets every clause of ``spec`` (an empty spec allows all).

    Pre-releases count: a project that pins ``4.50.0.dev0`` runs it, whatever the
    specifier's default pre-release policy says.
    """
    parsed = version_key(version)
    clauses = _clauses(spec)
    if clauses is None:
        from packaging.version import Version as PackagingVersion

        return _specifier_set(spec).contains(PackagingVersion(version.strip()), prereleases=True)
    return all(_meets(parsed, op, target) for op, target in clauses)


def _meets(version: Version, op: str, target: str) -> bool:
    if target.endswith(".*"):
        return _prefix_matches(version, tuple(map(int, target[:-2].split(".")))) == (op == "==")
    spec = version_key(target)
    if op == "~=":  # ~=2.2.post3 is >=2.2.post3 and ==2.*
        return version.public_key >= spec.public_key and _prefix_matches(version, spec.release[:-1])
    # A local segment is ignored by ==, !=, <= and >= against a version without one (PEP 440).
    mine, theirs = version.public_key, spec.public_key
    if op == ">=":
        return mine >= theirs
    if op == "<=":
        return mine <= theirs
    if op == "==":
        return mine == theirs
    if op == "!=":
        return mine != theirs
    if mine[:2] != theirs[:2]:  # a different epoch or release: a plain comparison
        return mine < theirs if op == "<" else mine > theirs
    if op == "<":  # <V excludes V's pre-releases unless V is one; V.postN is packaging's (see _clauses)
        return mine < theirs if spec.pre is not None or spec.dev is not None else False
    # >V excludes the post-releases (and local versions) of V, unless V is a post- or dev release:
    # those share V's pre-release segment, and compare on the public part.
    if spec.dev is not None or spec.post is not None:
        return mine > theirs
    return mine > theirs and version.pre != spec.pre


def _prefix_matches(version: Version, wanted: tuple[int, ...]) -> bool:
    """``==1.4.*``: the release, padded with zeros, starts with ``wanted`` (in epoch 0)."""
    release = version.release + (0,) * max(0, len(wanted) - len(version.release))
    return version.public_key[0] == 0 and release[: len(wanted)] == wanted


def exact_pin(spec: str) -> str | None:
    """The version a specifier pins exactly (``==4.50.0``), else None."""
    for op, target in parse_specifier(spec):
        if op in ("==", "===") and not target.endswith(".*"):
            return target
    return None
