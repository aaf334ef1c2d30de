"""Library versions: requirements files, pyproject, uv.lock / poetry.lock,
``pip freeze`` output, notebook ``!pip install`` lines, and the installed
distributions (read from ``*.dist-info`` folder names, never by import).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from gemma_doctor.facts import Fact, InputError, Location, SourceResult, VersionFact
from gemma_doctor.sources import read_text

# The packages whose versions the rules judge.
TRACKED = (
    "transformers",
    "accelerate",
    "trl",
    "peft",
    "unsloth",
    "unsloth_zoo",
    "torch",
    "deepspeed",
    "bitsandbytes",
    "datasets",
    "axolotl",
    "llamafactory",
    "ms-swift",
    "timm",
)


def canonical(name: str) -> str:
    """PEP 503's normal form with "_" (runs of -, _ and . become one); string code, as a pattern
    would be compiled on every run."""
    name = name.replace("-", "_").replace(".", "_")
    while "__" in name:
        name = name.replace("__", "_")
    return name.lower()


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
        rest = rest[close + 1 :].lstrip()
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
    """A version fact whose ``version`` and ``spec`` are valid PEP 440 or None: ``transformers==main``
    or a 5,000-digit version is unknown, never a crash later (fuzz D08, D09)."""
    from gemma_doctor.pep440 import exact_pin, is_valid, parse_specifier

    try:
        parse_specifier(spec) if spec else None
    except ValueError:
        return VersionFact(name, None, None, location, origin)
    try:
        version = exact_pin(spec) if spec else None
    except ValueError:
        version = None
    if version is not None and not is_valid(version):
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


_TOML_TYPES: dict[type, str] = {dict: "a table", list: "an array", str: "a string"}


def _typed(container: object, key: str, expected: type, where: str, problems: list[str]):
    """``container[key]`` when it has the expected type; else record a one-line problem naming the
    key and the type, and return an empty value so the rest of the file is still read."""
    if not isinstance(container, dict) or key not in container:
        return expected()
    value = container[key]
    if isinstance(value, expected):
        return value
    problems.append(f"{where}{key} must be {_TOML_TYPES[expected]}, not {type(value).__name__}; ignored")
    return expected()


def load_pyproject(path: Path, display: str) -> SourceResult:
    text, data = _toml(path)
    result = SourceResult(kind="pyproject")
    problems: list[str] = []
    project = _typed(data, "project", dict, "", problems)
    requirements: list[object] = list(_typed(project, "dependencies", list, "project.", problems))
    extras = _typed(project, "optional-dependencies", dict, "project.", problems)
    for extra in extras:
        requirements.extend(_typed(extras, extra, list, "project.optional-dependencies.", problems))
    groups = _typed(data, "dependency-groups", dict, "", problems)
    for group in groups:
        requirements.extend(_typed(groups, group, list, "dependency-groups.", problems))
    for requirement in requirements:
        if not isinstance(requirement, str):
            continue
        parsed = parse_requirement(requirement)
        if parsed and parsed[0] in _TRACKED_SET:
            where = _line_of(text, re.compile(re.escape(requirement)))
            line, column = where or (None, None)
            result.versions.append(_fact(parsed[0], parsed[1], Location(display, line, column, parsed[0]), "pyproject"))
    tool = _typed(data, "tool", dict, "", problems)
    poetry = _typed(tool, "poetry", dict, "tool.", problems)
    dependencies = _typed(poetry, "dependencies", dict, "tool.poetry.", problems)
    for name, spec in dependencies.items():
        if canonical(name) not in _TRACKED_SET:
            continue
        if isinstance(spec, dict):
            spec = spec.get("version", "")
        if not isinstance(spec, str):
            problems.append(f"tool.poetry.dependencies.{name} must be a string or a table; ignored")
            continue
        spec = _poetry_spec(spec)
        where = _line_of(text, re.compile(rf"^\s*{re.escape(name)}\s*=", re.M))
        line, column = where or (None, None)
        result.versions.append(_fact(canonical(name), spec, Location(display, line, column, name), "pyproject"))
    scripts = dict(_typed(project, "scripts", dict, "project.", problems))
    scripts.update(_typed(poetry, "scripts", dict, "tool.poetry.", problems))
    for name, target in scripts.items():  # a launch line may run one: `uv run NAME --fp16 true`
        if isinstance(target, str) and ":" in target:
            where = _line_of(text, re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=", re.M))
            line, column = where or (None, None)
            result.facts.append(
                Fact(
                    "console_script",
                    {"name": name, "target": target},
                    Location(display, line, column, name),
                    "pyproject",
                )
            )
    if problems:
        result.error = "; ".join(problems)
    return result


def _poetry_spec(spec: str) -> str:
    spec = spec.strip()
    if spec in ("*", ""):
        return ""
    if spec[0].isdigit():
        return f"=={spec}"
    if spec.startswith(("^", "~")):
        return f">={spec[1:]}"
    return spec


def load_lock(path: Path, display: str) -> SourceResult:
    """uv.lock and poetry.lock both hold ``[[package]]`` tables with name and version."""
    text, data = _toml(path)
    result = SourceResult(kind="lock")
    origin = path.name
    problems: list[str] = []
    for package in _typed(data, "package", list, "", problems):
        if not isinstance(package, dict):
            problems.append("package entries must be tables; one was skipped")
            continue
        raw_name, version = package.get("name"), package.get("version")
        if not isinstance(raw_name, str):
            continue
        name = canonical(raw_name)
        if name in _TRACKED_SET and isinstance(version, str):
            where = _line_of(text, re.compile(rf'^name = "{re.escape(raw_name)}"', re.M))
            line, column = where or (None, None)
            result.versions.append(_fact(name, f"=={version}", Location(display, line, column, name), origin))
    if problems:
        result.error = "; ".join(dict.fromkeys(problems))
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
                dist_info = os.path.join(entry, name)
                # Unsloth declares the transformers/trl/unsloth_zoo it works with (GD302/GD303): read its
                # METADATA here, in the source, so no rule opens a file.
                requires = dict(requires_dist(dist_info)) if package == "unsloth" else None
                found[package] = VersionFact(
                    package, version, None, location, "installed", dist_info=dist_info, requires=requires
                )
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


def pip_pins(line: str) -> list[tuple[str, str, int]]:
    """(package, specifier, column) for a ``!pip install`` / ``%pip install`` line."""
    stripped = line.lstrip()
    body = stripped.lstrip("!%").strip()
    words = body.split()
    if len(words) < 2 or words[0] not in ("pip", "pip3", "uv") or "install" not in words[:3]:
        return []
    try:
        tokens = shlex.split(body.split("#", 1)[0])
    except ValueError:
        tokens = body.split()
    pins = []
    start = tokens.index("install") + 1
    for token in tokens[start:]:
        if token.startswith("-") or ("://" in token and "@" not in token):
            continue
        parsed = parse_requirement(token)
        if parsed and parsed[0] in _TRACKED_SET:
            column = line.find(token.split("=")[0].split(">")[0].split("<")[0]) + 1
            pins.append((parsed[0], parsed[1], max(column, 1)))
    return pins
