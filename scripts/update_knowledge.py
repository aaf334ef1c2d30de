"""Regenerate the version data that upstream publishes as package metadata:

- ``rules/data/unsloth.json``: for every Unsloth release, the transformers / trl window and the
  unsloth_zoo minimum of its unconditional Requires-Dist (what ``pip install unsloth`` enforces, and
  what an installed Unsloth's METADATA says), stored as ranges of releases that share one value;
- ``rules/data/accelerate_minimum.json``: the accelerate minimum each transformers release declares
  (its ``accelerate>=...; extra == "torch"`` requirement), as ranges.

The metadata comes from the package index through pip's PEP 658 support, which downloads no wheel:
``pip install --dry-run --no-deps --ignore-installed --report - PACKAGE==VERSION``. It uses whatever
index pip is configured for. Run it again to refresh:

    python scripts/update_knowledge.py [--jobs 4] [--only unsloth|accelerate]
    python scripts/update_knowledge.py --check      # the releases published since the data was read

TRL's defaults (bf16, use_cache, the load dtype) are code, not metadata: they live in
``rules/data/versions.json``, read by hand from TRL's source with citations.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "rules" / "data"
sys.path.insert(0, str(ROOT))

UNSLOTH_FIRST = "2024.12.11"  # the releases before it predate Gemma 2's and 3's support windows in data
TRANSFORMERS_FIRST = "4.41.0"  # eval_strategy and the Gemma 2 era; older releases are out of scope


def versions(package: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", package], capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("Available versions:"))
    return [item.strip() for item in line.split(":", 1)[1].split(",") if item.strip()]


def requires_dist(package: str, version: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--no-deps",
        "--ignore-installed",
        "--quiet",
        "--report",
        "-",
        f"{package}=={version}",
    ]
    for _attempt in range(3):
        out = subprocess.run(command, capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            report = json.loads(out.stdout)
            return list(report["install"][0]["metadata"].get("requires_dist") or [])
    raise SystemExit(f"pip could not read the metadata of {package}=={version}: {out.stderr.strip()[:300]}")


def unconditional(requirements: list[str], name: str) -> str:
    """The specifier of ``name`` in the requirements that carry no marker."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    for text in requirements:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) == canonicalize_name(name) and requirement.marker is None:
            return str(requirement.specifier)
    return ""


def on_linux(requirements: list[str], name: str) -> str:
    """The specifier of ``name`` that ``pip install`` enforces on Linux, where training runs: the unmarked
    requirement, else the one whose platform marker holds there (LLaMA-Factory 0.9.3 pins darwin apart)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found = unconditional(requirements, name)
    if found:
        return found
    for text in requirements:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) != canonicalize_name(name) or requirement.marker is None:
            continue
        if requirement.marker.evaluate({"sys_platform": "linux", "platform_system": "Linux", "extra": ""}):
            return str(requirement.specifier)
    return ""


def extra(requirements: list[str], name: str, extra_name: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    for text in requirements:
        requirement = Requirement(text)
        if (
            canonicalize_name(requirement.name) == canonicalize_name(name)
            and requirement.marker is not None
            and requirement.marker.evaluate({"extra": extra_name})
        ):
            return str(requirement.specifier)
    return ""


def minimum(specifier: str) -> str | None:
    from packaging.specifiers import SpecifierSet

    lows = [item.version for item in SpecifierSet(specifier) if item.operator in (">=", "==")]
    if not lows:
        return None
    from packaging.version import Version

    return str(max(lows, key=Version))


def ranges(rows: list[tuple[str, dict]]) -> list[dict]:
    """Consecutive releases with the same values, as {"from", "to", **values}."""
    out: list[dict] = []
    for version, values in rows:
        if out and all(out[-1][key] == value for key, value in values.items()):
            out[-1]["to"] = version
        else:
            out.append({"from": version, "to": version, **values})
    return out


def sorted_versions(items: list[str], first: str) -> list[str]:
    from packaging.version import Version

    kept = [v for v in items if Version(v) >= Version(first) and not Version(v).is_prerelease]
    return sorted(kept, key=Version)


def fetch_all(package: str, releases: list[str], jobs: int) -> dict[str, list[str]]:
    done = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for version, requirements in zip(releases, pool.map(lambda v: requires_dist(package, v), releases)):
            done[version] = requirements
            print(f"  {package} {version}: {len(requirements)} requirements", file=sys.stderr)
    return done


def write_document(name: str, source: str, releases: list[str], **tables) -> Path:
    """Write one generated data file: where it comes from, when, which releases, then its tables."""
    document = {"source": source, "generated": datetime.date.today().isoformat(), "releases": releases, **tables}
    path = DATA / name
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


def update_unsloth(jobs: int) -> Path:
    releases = sorted_versions(versions("unsloth"), UNSLOTH_FIRST)
    metadata = fetch_all("unsloth", releases, jobs)
    windows = ranges(
        [
            (v, {"transformers": unconditional(metadata[v], "transformers"), "trl": unconditional(metadata[v], "trl")})
            for v in releases
        ]
    )
    zoo = ranges([(v, {"minimum": minimum(unconditional(metadata[v], "unsloth_zoo") or "") or None}) for v in releases])
    return write_document(
        "unsloth.json",
        "Requires-Dist of every Unsloth release on the package index (unconditional requirements: what "
        "`pip install unsloth` enforces and an installed Unsloth's METADATA says), read through pip's "
        "PEP 658 metadata without downloading wheels. Generated by scripts/update_knowledge.py; do not edit.",
        releases,
        windows=windows,
        unsloth_zoo_minimum=zoo,
    )


TRL_FIRST = "0.12.0"  # the first TRL with Gemma 2-era configs; older releases are out of scope


def update_trl(jobs: int) -> Path:
    """What each TRL release requires of transformers, accelerate, peft and datasets (GD306)."""
    releases = sorted_versions(versions("trl"), TRL_FIRST)
    metadata = fetch_all("trl", releases, jobs)
    rows = []
    for version in releases:
        rows.append(
            (
                version,
                {
                    "transformers": unconditional(metadata[version], "transformers"),
                    "accelerate": unconditional(metadata[version], "accelerate"),
                    "datasets": unconditional(metadata[version], "datasets"),
                    "peft": extra(metadata[version], "peft", "peft"),
                },
            )
        )
    return write_document(
        "trl_requires.json",
        "The Requires-Dist of every TRL release on the package index on transformers, accelerate and datasets "
        "(unconditional: what `pip install trl` enforces) and on peft (its `peft` extra), read through pip's "
        "PEP 658 metadata, as ranges of releases that share one value. Generated by scripts/update_knowledge.py.",
        releases,
        ranges=ranges(rows),
    )


LLAMAFACTORY_FIRST = "0.9.2"  # the first release with Gemma 3 (template gemma3); older ones are out of scope


def update_llamafactory(jobs: int) -> Path:
    """What each LLaMA-Factory release requires of transformers, peft, trl, accelerate and datasets: its window
    bounds the transformers a run can have (GD301) and what the project can pin beside it (GD306)."""
    releases = sorted_versions(versions("llamafactory"), LLAMAFACTORY_FIRST)
    metadata = fetch_all("llamafactory", releases, jobs)
    rows = [
        (version, {name: on_linux(metadata[version], name) for name in ("transformers", "peft", "trl", "accelerate")})
        for version in releases
    ]
    return write_document(
        "llamafactory_requires.json",
        "The Requires-Dist of every LLaMA-Factory release on the package index on transformers, peft, trl and "
        "accelerate (what `pip install llamafactory` enforces on Linux), read through pip's PEP 658 metadata, as "
        "ranges of releases that share one value. Generated by scripts/update_knowledge.py; do not edit.",
        releases,
        ranges=ranges(rows),
    )


def update_accelerate(jobs: int) -> Path:
    releases = sorted_versions(versions("transformers"), TRANSFORMERS_FIRST)
    metadata = fetch_all("transformers", releases, jobs)
    rows = []
    for version in releases:
        floor = minimum(extra(metadata[version], "accelerate", "torch") or "")
        rows.append((version, {"accelerate": floor}))
    return write_document(
        "accelerate_minimum.json",
        'The accelerate requirement of each transformers release (`accelerate>=X; extra == "torch"` in its '
        "Requires-Dist), read through pip's PEP 658 metadata. The Trainer refuses to start below it "
        "(ACCELERATE_MIN_VERSION). Generated by scripts/update_knowledge.py.",
        releases,
        ranges=ranges(rows),
    )


GEMMA4_FIRST = "2026.4.1"  # Gemma 4 was released on 2026-04-02: older Unsloth and unsloth_zoo releases predate it


def wheel_file(package: str, version: str, member: str) -> str | None:
    """The text of ``member`` in the ``package==version`` wheel (downloaded to a temporary folder), or None."""
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        for _attempt in range(3):
            done = subprocess.run([*command, "-d", folder, f"{package}=={version}"], capture_output=True, text=True)
            wheels = list(Path(folder).glob("*.whl"))
            if done.returncode == 0 and wheels:
                with zipfile.ZipFile(wheels[0]) as wheel:
                    return wheel.read(member).decode("utf-8") if member in wheel.namelist() else None
    raise SystemExit(f"pip could not download {package}=={version}: {done.stderr.strip()[:300]}")


def _listed_gemma4(text: str, name: str) -> bool | None:
    """Whether the list literal assigned to ``name`` in ``text`` holds a gemma4 entry (None: no such list)."""
    import ast

    found = None
    for node in ast.walk(ast.parse(text)):
        named = isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        if named and isinstance(node.value, ast.List):
            entries = [e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            found = bool(found) or any(entry.startswith("gemma4") for entry in entries)
    return found


def unsloth_float32(version: str) -> dict:
    """How an Unsloth release's unsloth/models/loader.py gets its FORCE_FLOAT32 list (models trained in float32
    where fp16 would be used), whether Gemma 4 is on the list it keeps itself, and whether it can load Gemma 4."""
    text = wheel_file("unsloth", version, "unsloth/models/loader.py") or ""
    if "_FORCE_FLOAT32_FALLBACK" in text:
        source, own = "zoo+own", _listed_gemma4(text, "_FORCE_FLOAT32_FALLBACK")
    elif "from unsloth_zoo import FORCE_FLOAT32" in text:
        source, own = "zoo", _listed_gemma4(text, "FORCE_FLOAT32")  # its own list only where the zoo has none
    else:
        source, own = "own", _listed_gemma4(text, "FORCE_FLOAT32")
    return {"list": source, "own_gemma4": bool(own), "supports_gemma4": "SUPPORTS_GEMMA4" in text}


def zoo_float32(version: str) -> dict:
    text = wheel_file("unsloth_zoo", version, "unsloth_zoo/model_lists.py")
    return {"has_list": text is not None, "gemma4": bool(text and _listed_gemma4(text, "FORCE_FLOAT32"))}


def update_float32(jobs: int) -> Path:
    unsloth = sorted_versions(versions("unsloth"), GEMMA4_FIRST)
    zoo = sorted_versions(versions("unsloth_zoo"), GEMMA4_FIRST)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        unsloth_rows = list(zip(unsloth, pool.map(unsloth_float32, unsloth)))
        zoo_rows = list(zip(zoo, pool.map(zoo_float32, zoo)))
    for version, row in unsloth_rows + zoo_rows:
        print(f"  {version}: {row}", file=sys.stderr)
    return write_document(
        "unsloth_float32.json",
        "Unsloth's FORCE_FLOAT32 list (the models it trains in float32 where fp16 would run) as each release "
        "from 2026.4.1 (Gemma 4's month) builds it, read in the wheels: unsloth/models/loader.py keeps its own "
        "list ('own'), imports unsloth_zoo's (unsloth_zoo/model_lists.py; its own list only where the zoo has "
        "none: 'zoo'), or unions the two ('zoo+own'); and whether loader.py knows Gemma 4 (SUPPORTS_GEMMA4). "
        "Generated by scripts/update_knowledge.py --only float32; do not edit.",
        unsloth,
        unsloth=ranges(unsloth_rows),
        zoo_releases=zoo,
        unsloth_zoo=ranges(zoo_rows),
    )


def stale() -> list[str]:
    """Releases on the index newer than what the data knows (versions.json knowledge.known_through)."""
    from gemma_doctor.pep440 import compare

    known = json.loads((DATA / "versions.json").read_text())["knowledge"]["known_through"]
    found = []
    for package, newest in known.items():
        newer = [v for v in versions(package) if compare(v, newest) > 0]
        if newer:
            found.append(f"{package}: {', '.join(newer)} newer than the data ({newest})")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=4, help="pip processes at once")
    parser.add_argument("--only", choices=("unsloth", "accelerate", "trl", "llamafactory", "float32"))
    parser.add_argument("--check", action="store_true", help="list what is stale; exit 1 if anything is")
    args = parser.parse_args()
    if args.check:
        lines = stale()
        print("\n".join(lines) if lines else "the data knows every release on the index")
        raise SystemExit(1 if lines else 0)
    if args.only in (None, "unsloth"):
        print(update_unsloth(args.jobs))
    if args.only in (None, "accelerate"):
        print(update_accelerate(args.jobs))
    if args.only in (None, "trl"):
        print(update_trl(args.jobs))
    if args.only in (None, "llamafactory"):
        print(update_llamafactory(args.jobs))
    if args.only in (None, "float32"):
        print(update_float32(args.jobs))


if __name__ == "__main__":
    main()
