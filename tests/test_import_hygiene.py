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
