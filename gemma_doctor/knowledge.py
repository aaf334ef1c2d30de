"""The rule catalogue (``rules/GD*.yaml``) and the versioned data beside it
(``rules/data/*.json``: GPUs, Unsloth pins). Loaded lazily, once.
"""

from __future__ import annotations

import json
import re
from gemma_doctor.records import record
from functools import lru_cache
from pathlib import Path


def rules_dir() -> Path:
    # In a wheel the catalogue ships inside the package; in a checkout it is the top-level rules/.
    packaged = Path(__file__).parent / "rules"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "rules"


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
    return {entry["id"]: RuleDoc(entry["id"], entry["name"], entry["severity"], entry["summary"],
                                 entry.get("fix_safety", "none"), entry) for entry in entries}


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


@lru_cache(maxsize=None)
def data(name: str):
    return json.loads((rules_dir() / "data" / f"{name}.json").read_text(encoding="utf-8"))


def version_fact(package: str, name: str, version: str | None) -> bool | None:
    """Is the fact ``name`` (``rules/data/versions.json``) true of this ``package`` version?
    None when the version is unknown or not PEP 440."""
    if version is None:
        return None
    from gemma_doctor.pep440 import satisfies

    specifiers = data("versions")[package][name]["versions"]
    if isinstance(specifiers, str):
        specifiers = [specifiers]
    try:
        return any(satisfies(version, spec) for spec in specifiers)
    except ValueError:
        return None


def accelerate_minimum(transformers: str) -> tuple[str, str] | None:
    """(minimum accelerate, citation) for a transformers version, or None."""
    from gemma_doctor.pep440 import satisfies

    for row in data("versions")["accelerate_minimum"]:
        try:
            if satisfies(transformers, row["transformers"]):
                return row["accelerate"], row["cite"]
        except ValueError:
            return None
    return None


@record(frozen=True)
class Gpu:
    name: str
    compute_capability: tuple[int, int]

    @property
    def supports_bf16(self) -> bool:
        # Native bf16 needs Ampere (8.0) or newer. torch.cuda.is_bf16_supported()
        # says True on a T4 because it counts emulation (facts.md P3).
        return self.compute_capability >= (8, 0)

    def describe(self) -> str:
        major, minor = self.compute_capability
        return f"{self.name} (compute capability {major}.{minor})"


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower()).removeprefix("nvidia").removeprefix("geforce")


def find_gpu(name: str) -> Gpu | None:
    table = data("gpus")["gpus"]
    wanted = _normalise(name)
    for entry in table:
        if wanted in (_normalise(alias) for alias in [entry["name"], *entry.get("aliases", [])]):
            major, minor = entry["compute_capability"].split(".")
            return Gpu(entry["name"], (int(major), int(minor)))
    return None


def gpu_from_capability(text: str) -> Gpu:
    major, _, minor = text.partition(".")
    return Gpu(f"compute capability {text}", (int(major), int(minor or 0)))


def gpu_names() -> list[str]:
    return [entry["name"] for entry in data("gpus")["gpus"]]


if __name__ == "__main__":  # python -m gemma_doctor.knowledge: regenerate rules/index.json
    print(write_index())
