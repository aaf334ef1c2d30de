"""The project's stack against the installed one, and ``verify --stack pinned``.

A proof on the wrong stack is worse than none: the HybridCache crash (GD202) lives in
transformers 4.50.x only, so a pass on 5.x says nothing about a project that pins 4.50.0.
This module says where the installed versions differ from the project's pins, and builds
an isolated environment with the pins to run the step there. No torch here.

The pinned environment is a virtualenv with no pip of its own (pip is driven from outside
with ``pip --python``, or ``uv pip --python``). The installed torch (when it meets the pins)
and gemma-doctor, each with what it requires, are linked into it, so pip and uv see them as
installed and download nothing for them; nothing else of this environment is visible there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gemma_doctor.errors import UsageError
from gemma_doctor.setup import fits
from gemma_doctor.sources.versions import canonical

# The packages whose version changes what the step does (docs/evidence/README.md, audit.md).
STACK_PACKAGES = ("torch", "transformers", "accelerate", "trl", "peft", "bitsandbytes", "unsloth", "unsloth_zoo")


@dataclass(frozen=True)
class StackDifference:
    package: str
    pinned: str  # the project's requirement: "==4.50.0", ">=4.51"
    installed: str | None
    where: str  # the pin's file:line

    @property
    def pin(self) -> str:
        """The requirement as a person writes it: 4.50.0 for ==4.50.0, >=4.51 as it is."""
        return self.pinned.removeprefix("==")

    def describe(self) -> str:
        have = f"{self.installed} is installed" if self.installed else "it is not installed"
        return f"the project pins {self.package} {self.pin} ({self.where}) but {have}"

    def short(self) -> str:
        return f"{self.package} {self.pin} pinned, {self.installed or 'none'} installed"


def project_pins(setup) -> dict[str, tuple[str, str]]:
    """package -> (requirement specifier, where) for the stack packages the project declares."""
    pins: dict[str, tuple[str, str]] = {}
    for package in STACK_PACKAGES:
        declared = setup.version(package)
        if declared is None or declared.origin == "installed":
            continue
        spec = f"=={declared.version}" if declared.version else (declared.spec or "")
        if not spec:
            continue
        location = declared.location
        where = f"{location.path}:{location.line}" if location.path and location.line else (location.path or "?")
        pins[package] = (spec, where)
    return pins


def installed(setup) -> dict[str, str]:
    return {v.package: v.version for v in setup.versions if v.origin == "installed" and v.version}


def differences(setup) -> list[StackDifference]:
    have = installed(setup)
    found = []
    for package, (spec, where) in project_pins(setup).items():
        version = have.get(package)
        if fits(version, spec):
            continue
        found.append(StackDifference(package, spec, version, where))
    return found


# --- the pinned environment ---------------------------------------------------


def requirements(setup) -> list[str]:
    """The pins, plus TRL and PEFT unpinned where the project uses them: the resolver then picks the
    releases that work with the pinned transformers, and verify can run the project's trainer."""
    pins = project_pins(setup)
    wanted = [f"{package}{spec}" for package, (spec, _where) in pins.items()]
    if pins and setup.trl_trainer and "trl" not in pins:
        wanted += ["trl", "datasets"]
    if pins and setup.first("peft") is not None and "peft" not in pins:
        wanted.append("peft")
    return sorted(wanted)


def cache_root() -> Path:
    base = os.environ.get("GEMMA_DOCTOR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gemma-doctor"
    )
    return Path(base)


def environment_dir(pins: list[str]) -> Path:
    key = json.dumps({"pins": pins, "python": sys.version.split()[0], "base": sys.prefix}, sort_keys=True)
    return cache_root() / "stacks" / hashlib.sha256(key.encode()).hexdigest()[:16]


def environment_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def build(pins: list[str], progress) -> Path:
    """The Python of an environment with ``pins`` installed, built once and cached by their hash.

    Raises UsageError (exit 2, one line) when a pin cannot be installed."""
    folder = environment_dir(pins)
    python = environment_python(folder)
    marker = folder / "gemma-doctor-stack.json"
    if marker.is_file() and python.exists():
        progress(f"pinned stack ({', '.join(pins)}): cached in {folder}")
        return python
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Two verify runs wanting the same stack: the second waits for the first's build and then uses it,
    # instead of removing a folder that is being installed into as "an earlier build that did not finish".
    # The lock lives beside the stacks, not among them: it outlasts a failed build, which leaves no folder.
    locks = cache_root() / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with _build_lock(locks / f"{folder.name}.lock", progress):
        if marker.is_file() and python.exists():
            progress(f"pinned stack ({', '.join(pins)}): built by the other run, cached in {folder}")
            return python
        return _build_unlocked(pins, folder, python, marker, progress)


@contextlib.contextmanager
def _build_lock(path: Path, progress):
    """An exclusive lock on ``path`` (flock: the kernel releases it when a holder dies, so a killed build
    never leaves a stale lock); where flock does not exist the build goes on unlocked, as before."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress("waiting for another gemma-doctor run that is building this stack")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_unlocked(pins: list[str], folder: Path, python: Path, marker: Path, progress) -> Path:
    if folder.exists():
        shutil.rmtree(folder)  # an earlier build that did not finish
    started = time.perf_counter()
    uv = shutil.which("uv")
    tool = "uv" if uv else "pip"
    progress(f"building the pinned stack ({', '.join(pins)}) with {tool} in {folder}")
    try:
        if uv:
            _call([uv, "venv", "--quiet", "--python", sys.executable, str(folder)], "create the environment")
        else:
            _call([sys.executable, "-m", "venv", "--without-pip", str(folder)], "create the environment")
        linked = _link_reused(python, pins)
        progress(f"  reusing the installed {', '.join(sorted(linked, key=str.lower))}")
        # uv resolves every package from the index, installed or not (offline: "filelock was not found");
        # the linked ones stay out of its resolution and are used as they are. pip takes installed ones as is.
        excludes = folder / "gemma-doctor-excludes.txt"
        excludes.write_text("".join(f"{name}\n" for name in linked if " " not in name), encoding="utf-8")
        if uv:
            # pip merges every index it is given; uv's default takes the first that has the package.
            command = [uv, "pip", "install", "--python", str(python), "--index-strategy", "unsafe-best-match"]
            command += [*_uv_index(), "--excludes", str(excludes), *pins]
        else:
            command = [sys.executable, "-m", "pip", "--python", str(python), "install"]
            command += ["--disable-pip-version-check", "--no-input", "--progress-bar", "off", *pins]
        _install(command, pins, progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never leave a half-built environment to be reused
        raise
    marker.write_text(json.dumps({"pins": pins, "tool": tool}) + "\n", encoding="utf-8")
    progress(f"pinned stack built in {time.perf_counter() - started:.0f} s")
    return python


def _link_reused(python: Path, pins: list[str]) -> list[str]:
    """Link the installed distributions the pins do not replace into the new environment: torch
    (where the pins allow it) and gemma-doctor, each with what it requires. Only these: another
    package of this environment (datasets, trl) built for a newer transformers would break the
    pinned one on import. Returns the names linked."""
    from importlib import metadata

    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        env=clean_environment(),
    )
    site = Path(out.stdout.strip())
    site.mkdir(parents=True, exist_ok=True)
    roots = ["gemma-doctor", "PyYAML", "packaging"]  # the last two also when running from a source checkout
    torch_pin = next((pin[len("torch") :] for pin in pins if pin.startswith("torch") and pin[5:6] in "=<>!~"), "")
    try:
        torch = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch = None
    if torch is not None and (not torch_pin or fits(torch, torch_pin)):
        roots.append("torch")
    linked = []
    for distribution in _closure(roots):
        tops = {Path(str(f)).parts[0] for f in distribution.files or [] if not str(f).startswith("..")}
        if not tops:  # no RECORD: the import name and the metadata folder
            folder = Path(str(distribution.locate_file(""))) / canonical(distribution.metadata["Name"])
            tops = {folder.name, *[p.name for p in folder.parent.glob(f"{folder.name}-*.dist-info")]}
        for top in sorted(tops):
            target = site / top
            source = Path(str(distribution.locate_file(top)))
            if source.exists() and not target.exists() and top != "__pycache__":
                target.symlink_to(source, target_is_directory=source.is_dir())
        linked.append(distribution.metadata["Name"])
    package = Path(__file__).resolve().parent.parent
    if not (site / package.name).exists():  # gemma-doctor run from a source checkout, not installed
        (site / package.name).symlink_to(package, target_is_directory=True)
        linked.append(f"gemma_doctor from {package.parent}")
    return linked


def _closure(roots: list[str]):
    """The installed distributions ``roots`` need, following unconditional Requires-Dist."""
    from importlib import metadata

    from packaging.markers import Marker
    from packaging.requirements import Requirement

    seen: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = canonical(pending.pop())
        if name in seen:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = distribution
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not Marker(str(requirement.marker)).evaluate({"extra": ""}):
                continue
            pending.append(requirement.name)
    return list(seen.values())


def _uv_index() -> list[str]:
    """uv does not read pip's configuration: pass pip's index on, so both build from the same one."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    flags = {".index-url": "--index-url", ".extra-index-url": "--extra-index-url", ".find-links": "--find-links"}
    flags[".constraint"] = "--constraint"
    options: list[str] = []
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key.endswith(".no-index") and value.strip().strip("'\"").lower() in ("1", "true", "yes", "on"):
            options.append("--no-index")
            continue
        flag = next((flag for suffix, flag in flags.items() if key.endswith(suffix)), None)
        for item in value.strip().strip("'\"").split():
            if flag and _reachable(item) and item not in options:
                options += [flag, item]
    return options


def _reachable(location: str) -> bool:
    """pip skips a local index that does not exist with a warning; uv fails on it."""
    path = location[len("file://") :] if location.startswith("file://") else location
    return "://" in path or os.path.exists(path)


def clean_environment() -> dict[str, str]:
    """This process's environment without PYTHONPATH, which would show this environment's packages
    to the pinned one (pip's view of what is installed included)."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def _call(command: list[str], what: str) -> None:
    out = subprocess.run(command, capture_output=True, text=True, env=clean_environment())
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UsageError(f"cannot {what} for the pinned stack: {tail[0]}")


_SHOWN = ("Collecting ", "Downloading ", "Installing collected", "Successfully installed", "Resolved ", "Installed ")


def _install(command: list[str], pins: list[str], progress) -> None:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_environment()
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        line = line.rstrip()
        lines.append(line)
        stripped = line.strip()
        if stripped.startswith(_SHOWN):
            progress("  " + stripped[:160])
    if process.wait() != 0:
        raise UsageError(f"cannot build the pinned stack ({', '.join(pins)}): {_install_error(lines)}")


def _install_error(lines: list[str]) -> str:
    """pip's or uv's reason in one line."""
    for line in lines:
        text = line.strip()
        if "Could not find a version that satisfies the requirement" in text:
            requirement = text.split("requirement", 1)[1].split("(from versions", 1)[0].strip()
            return (
                f"no release matches {requirement} for Python {sys.version_info.major}.{sys.version_info.minor} "
                "on the configured package index"
            )
        if "Because " in text:  # uv's reason, after "No solution found" (boxed: "╰─▶ Because ...")
            return text[text.index("Because ") :]
        if text.startswith("cause:"):
            return text.removeprefix("cause:").strip()
    errors = [line.strip() for line in lines if line.strip().startswith(("ERROR:", "error:", "×"))]
    return (errors or [line.strip() for line in lines if line.strip()][-1:] or ["the installer failed"])[0]
