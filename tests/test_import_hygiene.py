"""The static path imports nothing heavy: no torch, transformers, accelerate, trl, peft, unsloth,
deepspeed, numpy, jsonschema or pydantic, and not even dataclasses/inspect or tomllib for a
project without a pyproject table."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import EXAMPLES, FIXTURES

HEAVY = [
    "torch",
    "transformers",
    "accelerate",
    "trl",
    "peft",
    "unsloth",
    "unsloth_zoo",
    "deepspeed",
    "bitsandbytes",
    "numpy",
    "jsonschema",
    "pydantic",
    "libcst",
    "ruamel",
    "huggingface_hub",
    "importlib.metadata",
]
LIGHT_ONLY = [
    "dataclasses",
    "inspect",
    "tomllib",
    "shutil",
    "tempfile",
    "decimal",
    "yaml",
    "packaging",
    "typing",
    "jinja2",
    "tokenizers",
]  # the argparse help width is told up front (no shutil), writes are atomic without tempfile, schemas are
# compiled; block-style YAML is read by yamlblock, and canonical versions and specifiers by pep440
# (packaging reads the other spellings). Templates are read as text: no jinja2, no tokenizers.

PROGRAM = """
import json, sys
from gemma_doctor.cli import main
code = main(sys.argv[1:])
print(json.dumps(sorted(sys.modules)))
"""


def modules_after(*args):
    out = subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, timeout=60)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_check_imports_nothing_heavy():
    for target in (
        EXAMPLES / "gemma3-broken",
        FIXTURES / "GD202/fail-unsloth-colab-notebook",
        FIXTURES / "GD202/fail-hf-trainer-script",
    ):
        loaded = modules_after("check", str(target), "--format", "json", "--env", "auto")
        assert not {m.split(".")[0] for m in loaded} & {h.split(".")[0] for h in HEAVY if "." not in h}, target
        assert "importlib.metadata" not in loaded
        assert not loaded & set(LIGHT_ONLY), loaded & set(LIGHT_ONLY)
    without_versions = modules_after("check", str(FIXTURES / "GD203/fail-top-level-only"), "--env", "none")
    assert not without_versions & set(LIGHT_ONLY), without_versions & set(LIGHT_ONLY)


def test_env_command_imports_nothing_heavy():
    loaded = modules_after("env", "--format", "json")
    assert not {m.split(".")[0] for m in loaded} & {"torch", "transformers", "accelerate", "numpy"}


def _import_graph() -> dict[str, set[str]]:
    """Every module of the package -> the modules of the package it imports, at the top or inside a
    function (a module importing its own package, as every submodule does, is not an edge)."""
    import ast

    from conftest import ROOT

    modules = {}
    for path in (ROOT / "gemma_doctor").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                base = (
                    node.module
                    if node.level == 0
                    else ".".join([*package.split(".")[: 1 - node.level or None], node.module])
                )
                for alias in node.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {t for t in found if t in modules and t != name and not name.startswith(t + ".")}
    return graph


def test_no_import_runs_in_a_circle():
    """The house has floors: no module of the package imports, even lazily, a module that imports it
    back (the sources/model_config <-> sources/structured knot is gone: both read sources/document)."""
    graph = _import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert circles == []
    assert "gemma_doctor.sources.structured" not in graph["gemma_doctor.sources.model_config"]
