"""The rule catalogue (``rules/GD*.yaml``) and the versioned data beside it (``rules/data/*.json``:
every version boundary in ``versions.json``, GPUs, generated release metadata). Loaded lazily, once.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path

from gemma_doctor.pep440 import compare, parse_specifier, satisfies, version_key
from gemma_doctor.records import record


@cache
def rules_dir() -> Path:
    # Once per run: a check asks for it five times, and resolve() walks the path with a syscall per part.
    # In a wheel the catalogue ships inside the package; in a checkout it is the top-level rules/.
    here = Path(__file__).resolve().parent  # resolved: verify's pinned stack may link this package
    packaged = here / "rules"
    return packaged if packaged.is_dir() else here.parent / "rules"


@record(frozen=True)
class RuleDoc:
    id: str
    name: str
    severity: str
    summary: str
    fix_safety: str
    raw: dict


@lru_cache(maxsize=1)
def catalogue() -> dict[str, RuleDoc]:
    """Every rule's doc, by id. Index file first: one small JSON read, no YAML import."""
    index = rules_dir() / "index.json"
    if index.is_file():
        entries = json.loads(index.read_text(encoding="utf-8"))
    else:
        entries = build_index()
    return {
        entry["id"]: RuleDoc(
            entry["id"], entry["name"], entry["severity"], entry["summary"], entry.get("fix_safety", "none"), entry
        )
        for entry in entries
    }


def build_index() -> list[dict]:
    """Read every ``GD*.yaml`` (slow path; also what ``index.json`` is generated from)."""
    import yaml

    entries = []
    for path in sorted(rules_dir().glob("GD*.yaml")):
        entries.append(yaml.safe_load(path.read_text(encoding="utf-8")))
    return entries


def write_index() -> Path:
    path = rules_dir() / "index.json"
    path.write_text(json.dumps(build_index(), indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@cache
def data(name: str):
    return json.loads((rules_dir() / "data" / f"{name}.json").read_text(encoding="utf-8"))


class VersionedFact:
    """One entry of ``rules/data/versions.json``: behaviour ``name`` holds for the ``versions`` of
    ``package``, because ``why`` (``cite``). Messages and docs format its boundaries from here, so
    a boundary moved in the data moves everywhere it is said."""

    __slots__ = ("assume", "cite", "name", "package", "raw", "specifiers", "why")

    def __init__(self, package: str, name: str, raw: dict) -> None:
        self.package, self.name, self.raw = package, name, raw
        versions = raw.get("versions", ())  # none: it holds for every version
        self.specifiers: tuple[str, ...] = (versions,) if isinstance(versions, str) else tuple(versions)
        self.why: str | None = raw.get("why")
        self.cite: str = raw.get("cite", "")
        self.assume: bool = bool(raw.get("assume"))

    def holds(self, version: str | None) -> bool | None:
        """Is it true of this version? Unknown (None) for no version, unless the entry takes an
        unpinned framework at its current behaviour (``assume``); None for text that is not PEP 440."""
        if not self.specifiers:
            return True
        if version is None:
            return True if self.assume else None
        try:
            return any(satisfies(version, spec) for spec in self.specifiers)
        except ValueError:
            return None

    def _bounds(self, operators: tuple[str, ...]) -> list[str]:
        found = [v for spec in self.specifiers for op, v in parse_specifier(spec) if op in operators]
        return sorted(set(found), key=version_key)

    @property
    def since(self) -> str | None:
        """The first release it holds for: the data's ``since`` (a final release after a dev build),
        else its lowest ``>=`` bound, if it has one."""
        if self.raw.get("since"):
            return str(self.raw["since"])
        lows = self._bounds((">=", "=="))
        return lows[0] if lows else None

    @property
    def until(self) -> str | None:
        """The first release past it (its highest ``<`` bound), if it has one."""
        highs = self._bounds(("<",))
        return highs[-1] if highs else None

    @property
    def fixed_in(self) -> str | None:
        return self.raw.get("fixed_in") or self.until

    @property
    def upgrade_to(self) -> str | None:
        return self.raw.get("upgrade_to") or self.since

    @property
    def range(self) -> str:
        """The versions as people write them: ">= 0.26.0", "4.50.0.dev0 to < 4.51.0"."""
        parts = []
        for spec in self.specifiers:
            since, until = self._bounds_of(spec)
            if since and until:
                parts.append(f"{since} to < {until}")
            elif since:
                parts.append(f">= {since}")
            elif until:
                parts.append(f"< {until}")
            else:
                parts.append(spec)
        return " or ".join(parts)

    def _bounds_of(self, spec: str) -> tuple[str | None, str | None]:
        clauses = parse_specifier(spec)
        if any(op not in (">=", "<", "==") for op, _ in clauses):
            return None, None
        if any(op == "==" for op, _ in clauses):
            return None, None
        since = next((v for op, v in clauses if op == ">="), None)
        until = next((v for op, v in clauses if op == "<"), None)
        return since, until

    @property
    def provenance(self) -> str:
        """What it does and where that was read: "... (trl 0.22.0 sft_trainer.py L1040)"."""
        return f"{self.why} ({self.cite})" if self.why else self.cite


def versioned(package: str, name: str) -> VersionedFact:
    """The entry ``name`` of ``package`` in rules/data/versions.json (a KeyError names a typo)."""
    return VersionedFact(package, name, data("versions")[package][name])


def holds(package: str, name: str, version: str | None) -> bool | None:
    """Is the fact ``name`` (``rules/data/versions.json``) true of this ``package`` version?"""
    return versioned(package, name).holds(version)


_BOUNDARY = re.compile(r"\[\[(\w+)\.(\w+)\.(since|until|fixed_in|upgrade_to|range)\]\]")


def expand_boundaries(text: str) -> str:
    """A rule doc's ``[[transformers.hybridcache_float_crash.fixed_in]]`` written out from the data, so
    the doc says the boundary the rule judges by."""
    if "[[" not in text:
        return text
    return _BOUNDARY.sub(lambda m: str(getattr(versioned(m.group(1), m.group(2)), m.group(3))), text)


def applies_specifier(package: str, spec: str) -> str | None:
    """A rule's ``applies_to`` value as a PEP 440 specifier: ``fact:NAME`` is the data's; "any" is None."""
    if spec == "any":
        return None
    if spec.startswith("fact:"):
        return " || ".join(versioned(package, spec[5:]).specifiers)
    return spec


def rule_applies(raw: dict, version_of) -> bool:
    """False only when a package's known version falls outside the rule's ``applies_to``."""
    for package, spec in (raw.get("applies_to") or {}).items():
        if spec == "any":
            continue
        version = version_of(package)
        if version is None:
            continue
        if spec.startswith("fact:"):
            if holds(package, spec[5:], version) is False:
                return False
            continue
        try:
            if not satisfies(version, spec):
                return False
        except ValueError:
            continue
    return True


def release_range(rows: list[dict], version: str, releases: list[str]) -> dict | None:
    """The row of generated range data (``from``/``to``) that holds ``version``; a version between
    known releases takes the range of the release before it. A version outside the releases the
    data knows is unknown (None): never guess past the data."""
    try:
        if not releases or compare(version, releases[-1]) > 0 or compare(version, releases[0]) < 0:
            return None
        return next((row for row in reversed(rows) if compare(row["from"], version) <= 0), None)
    except ValueError:
        return None


def accelerate_minimum(transformers: str) -> str | None:
    """The accelerate a transformers release requires (rules/data/accelerate_minimum.json, generated)."""
    table = data("accelerate_minimum")
    row = release_range(table["ranges"], transformers, table["releases"])
    return row["accelerate"] if row else None


def unsloth_lists_gemma4(unsloth: str | None, zoo: str | None) -> bool | None:
    """Does the FORCE_FLOAT32 list that this Unsloth builds with this unsloth_zoo hold Gemma 4, so that a run
    where fp16 would be used trains in float32 (rules/data/unsloth_float32.json, read in the wheels)? An
    unpinned package is its newest release, what a fresh install gets; None for a release the data does not
    know (older than Gemma 4, or newer than the data)."""
    table = data("unsloth_float32")
    row = release_range(table["unsloth"], unsloth or table["releases"][-1], table["releases"])
    if row is None:
        return None
    if row["list"] == "own":
        return row["own_gemma4"]
    listed = release_range(table["unsloth_zoo"], zoo or table["zoo_releases"][-1], table["zoo_releases"])
    if listed is None:
        return True if row["list"] == "zoo+own" and row["own_gemma4"] else None
    if row["list"] == "zoo":  # the zoo's list, or, where the zoo has none (ImportError), Unsloth's own
        return listed["gemma4"] if listed["has_list"] else row["own_gemma4"]
    return listed["gemma4"] or row["own_gemma4"]  # zoo+own: the union


@record(frozen=True)
class Gpu:
    name: str
    compute_capability: tuple[int, int]
    # A kind of GPU rather than one card (the engine's two scenarios): how its capability reads, since the
    # cards it stands for differ (a T4 is 7.5, a V100 7.0).
    capability_text: str | None = None

    @property
    def supports_bf16(self) -> bool:
        # Native bf16 needs Ampere (8.0) or newer. torch.cuda.is_bf16_supported()
        # says True on a T4 because it counts emulation (docs/evidence/README.md).
        return self.compute_capability >= (8, 0)

    def named(self) -> str:
        """How a message names it: "the T4 (compute capability 7.5)"; a kind of GPU as "this GPU", since the
        engine already begins each finding of a kind with its name ("On a GPU without bf16 (T4, V100): ")."""
        return "this GPU" if self.capability_text is not None else f"the {self.describe()}"

    def describe(self) -> str:
        if self.capability_text is not None:
            return f"{self.name} ({self.capability_text})"
        major, minor = self.compute_capability
        return f"{self.name} (compute capability {major}.{minor})"


def _normalise(name: str) -> str:
    text = re.sub(r"[^a-z0-9]", "", name.lower())
    for word in ("nvidia", "tesla", "geforce"):
        text = text.removeprefix(word)
    return text.removesuffix("generation")


class AmbiguousGpu(ValueError):
    """A GPU name that means several GPUs of different compute capability."""


def find_gpu(name: str) -> Gpu | None:
    """The GPU a name means: an exact name or alias, else the longest known name that the
    ``torch.cuda.get_device_name()`` string starts with ("Tesla V100-SXM2-16GB" is a V100)."""
    table = data("gpus")
    wanted = _normalise(name)
    for alias, choices in table.get("ambiguous", {}).items():
        if wanted == _normalise(alias):
            raise AmbiguousGpu(f"{name!r} could be any of {', '.join(choices)}; name it exactly")
    best = None
    for entry in table["gpus"]:
        for alias in [entry["name"], *entry.get("aliases", [])]:
            known = _normalise(alias)
            if wanted == known:
                best = (len(known) + 1000, entry)
            elif wanted.startswith(known) and (best is None or len(known) > best[0]):
                best = (len(known), entry)
    if best is None:
        return None
    major, minor = best[1]["compute_capability"].split(".")
    return Gpu(best[1]["name"], (int(major), int(minor)))


def gpu_from_capability(text: str) -> Gpu:
    major, _, minor = text.partition(".")
    return Gpu(f"compute capability {text}", (int(major), int(minor or 0)))


def gpu_names() -> list[str]:
    return [entry["name"] for entry in data("gpus")["gpus"]]


if __name__ == "__main__":  # python -m gemma_doctor.knowledge: regenerate rules/index.json
    print(write_index())
