"""Library versions: requirements files, pyproject, uv.lock / poetry.lock,
``pip freeze`` output, notebook ``!pip install`` lines, and the installed
distributions (read from ``*.dist-info`` folder names, never by import).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from gemma_doctor.facts import InputError, Location, SourceResult, VersionFact
from gemma_doctor.sources import read_text

# The packages whose versions the rules judge.
TRACKED = ("transformers", "accelerate", "trl", "peft", "unsloth", "unsloth_zoo", "torch", "deepspeed",
           "bitsandbytes", "datasets", "axolotl", "llamafactory")

def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


_TRACKED_SET = {canonical(name) for name in TRACKED}


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def parse_requirement(text: str) -> tuple[str, str] | None:
    """``"transformers>=4.51,<5 ; python_version>'3'"`` -> ``("transformers", ">=4.51,<5")``.

    A linear scan, not a regular expression: a 40 kB line must not cost seconds (fuzz D03).
    Git pins (``transformers @ git+https://...@v4.49.0-Gemma-3``, or a bare
    ``git+https://github.com/huggingface/transformers@TAG``) map to the release the
    tag or commit corresponds to, from ``rules/data/git_refs.json``; an unknown ref has
    no version.
    """
    text = text.strip()
    if not text or text.startswith(("#", "-")):
        return None
    if text.startswith(("git+", "http://", "https://")):
        return _url_requirement(None, text)
    end = 0
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    if end == 0:
        return None
    name = canonical(text[:end])
    rest = text[end:].lstrip()
    if rest.startswith("["):
        close = rest.find("]")
        if close == -1:
            return None
        rest = rest[close + 1:].lstrip()
    if rest.startswith("@"):
        return _url_requirement(name, rest[1:].strip())
    for stop in (";", "#"):
        cut = rest.find(stop)
        if cut != -1:
            rest = rest[:cut]
    spec = rest.strip().strip("()").replace(" ", "")
    if spec and spec[0] not in "<>=!~":
        return None
    return name, spec


def _url_requirement(name: str | None, url: str) -> tuple[str, str] | None:
    url = url.split("#", 1)[0].strip()
    wheel_name = url.rsplit("/", 1)[-1]
    if wheel_name.endswith(".whl") and wheel_name.count("-") >= 2:  # a local or remote wheel file
        wheel_package, wheel_version = wheel_name.split("-")[:2]
        return canonical(name or wheel_package), f"=={wheel_version}"
    if "git+" not in url and "github.com" not in url:
        return (name, "") if name else None
    path = url.split("://", 1)[-1]
    ref = None
    repo_part = path
    if "@" in path.split("/", 1)[-1]:
        repo_part, ref = path.rsplit("@", 1)
    repo = repo_part.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
    package = canonical(name or repo)
    version = _git_ref_version(package, ref)
    return package, f"=={version}" if version else ""


def _git_ref_version(package: str, ref: str | None) -> str | None:
    """The release a git tag or commit of a tracked library corresponds to, if known."""
    if not ref:
        return None  # the default branch: a moving target
    from gemma_doctor.knowledge import data
    from gemma_doctor.pep440 import is_valid

    known = data("git_refs").get(package, {})
    for key, version in known.items():
        if ref == key or (len(ref) >= 7 and key.startswith(ref)):
            return version
    candidate = ref.removeprefix("v")
    return candidate if is_valid(candidate) else None


def _fact(name: str, spec: str, location: Location, origin: str) -> VersionFact:
    from gemma_doctor.pep440 import exact_pin

    try:
        version = exact_pin(spec) if spec else None
    except ValueError:
        version = None
    return VersionFact(name, version, spec or None, location, origin)


def load_requirements(path: Path, display: str, origin: str = "requirements") -> SourceResult:
    result = SourceResult(kind="requirements")
    for number, line in enumerate(read_text(path).splitlines(), 1):
        parsed = parse_requirement(line)
        if parsed and parsed[0] in _TRACKED_SET:
            column = len(line) - len(line.lstrip()) + 1
            result.versions.append(_fact(parsed[0], parsed[1], Location(display, number, column, parsed[0]), origin))
    return result


def load_freeze(path: Path, display: str) -> SourceResult:
    return load_requirements(path, display, origin="pip-freeze")


def _line_of(text: str, needle: re.Pattern, start: int = 0) -> tuple[int, int] | None:
    match = needle.search(text, start)
    if not match:
        return None
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    return line, column


def _toml(path: Path) -> tuple[str, dict]:
    import tomllib

    text = read_text(path, limit=32 * 1024 * 1024)
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}") from None


def load_pyproject(path: Path, display: str) -> SourceResult:
    text, data = _toml(path)
    result = SourceResult(kind="pyproject")
    project = data.get("project", {})
    requirements: list[str] = list(project.get("dependencies", []) or [])
    for extra in (project.get("optional-dependencies", {}) or {}).values():
        requirements.extend(extra or [])
    for group in (data.get("dependency-groups", {}) or {}).values():
        requirements.extend(item for item in group or [] if isinstance(item, str))
    for requirement in requirements:
        parsed = parse_requirement(requirement) if isinstance(requirement, str) else None
        if parsed and parsed[0] in _TRACKED_SET:
            where = _line_of(text, re.compile(re.escape(requirement)))
            line, column = where or (None, None)
            result.versions.append(_fact(parsed[0], parsed[1], Location(display, line, column, parsed[0]), "pyproject"))
    poetry = (data.get("tool", {}) or {}).get("poetry", {}) or {}
    for name, spec in (poetry.get("dependencies", {}) or {}).items():
        if canonical(name) not in _TRACKED_SET:
            continue
        if isinstance(spec, dict):
            spec = spec.get("version", "")
        spec = _poetry_spec(str(spec))
        where = _line_of(text, re.compile(rf"^\s*{re.escape(name)}\s*=", re.M))
        line, column = where or (None, None)
        result.versions.append(_fact(canonical(name), spec, Location(display, line, column, name), "pyproject"))
    result.suppressions = []
    return result


def _poetry_spec(spec: str) -> str:
    spec = spec.strip()
    if spec in ("*", ""):
        return ""
    if spec[0].isdigit():
        return f"=={spec}"
    if spec.startswith("^") or spec.startswith("~"):
        return f">={spec[1:]}"
    return spec


def load_lock(path: Path, display: str) -> SourceResult:
    """uv.lock and poetry.lock both hold ``[[package]]`` tables with name and version."""
    text, data = _toml(path)
    result = SourceResult(kind="lock")
    origin = path.name
    for package in data.get("package", []) or []:
        name = canonical(str(package.get("name", "")))
        version = package.get("version")
        if name in _TRACKED_SET and isinstance(version, str):
            where = _line_of(text, re.compile(rf'^name = "{re.escape(package["name"])}"', re.M))
            line, column = where or (None, None)
            result.versions.append(VersionFact(name, version, f"=={version}", Location(display, line, column, name), origin))
    return result


def installed_versions(search_path: list[str] | None = None) -> list[VersionFact]:
    """Versions of the tracked packages in the running interpreter's environment.

    A directory scan of ``NAME-VERSION.dist-info`` names costs under a
    millisecond; ``importlib.metadata`` costs ~50 ms to import, and importing
    the packages themselves costs seconds.
    """
    found: dict[str, VersionFact] = {}
    for entry in search_path if search_path is not None else sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for name in names:
            if not name.endswith(".dist-info"):
                continue
            stem = name[: -len(".dist-info")]
            package, _, version = stem.partition("-")
            package = canonical(package)
            if package in _TRACKED_SET and package not in found and version:
                location = Location(None, key=package)
                found[package] = VersionFact(package, version, None, location, "installed",
                                             dist_info=os.path.join(entry, name))
    return list(found.values())


def requires_dist(dist_info: str) -> list[tuple[str, str]]:
    """The unconditional ``Requires-Dist`` lines of an installed distribution."""
    requirements = []
    try:
        with open(os.path.join(dist_info, "METADATA"), encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    break  # headers end at the first blank line
                if line.startswith("Requires-Dist:"):
                    body = line.split(":", 1)[1]
                    if "extra ==" in body:
                        continue
                    parsed = parse_requirement(body.split(";")[0])
                    if parsed:
                        requirements.append(parsed)
    except OSError:
        pass
    return requirements
