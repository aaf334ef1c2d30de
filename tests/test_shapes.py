"""The shapes of the files gemma-doctor reads are JSON Schemas (rules/schemas/), compiled to plain
Python for speed (scripts/compile_schemas.py). The compiled validators must match their schemas, and
report what the reference validator (jsonschema) reports; the sources must use them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import CORPUS, EXAMPLES, FIXTURES, ROOT, run_cli

jsonschema = pytest.importorskip("jsonschema")
SCHEMAS = ROOT / "rules" / "schemas"


def schema(name):
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def test_compiled_validators_are_up_to_date():
    pytest.importorskip("fastjsonschema")
    out = subprocess.run(
        [sys.executable, "scripts/compile_schemas.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_schema_is_valid_draft_7():
    from gemma_doctor.shapes import SCHEMAS as NAMES

    assert sorted(NAMES) == sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
    for name in NAMES:
        jsonschema.Draft7Validator.check_schema(schema(name))


def _documents():
    import yaml

    configs = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("GD*/*/config.json"))]
    configs += [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*/model/config.json"))]
    broken = dict(configs[0], use_cache="false", hidden_size=0, layer_types=["sliding_attention", "local"])
    configs += [broken, {"model_type": "gemma3"}, {"model_type": "gemma3", "text_config": {"use_cache": 1}}]
    deepspeed = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*/ds_*.json"))]
    deepspeed += [{"fp16": {"enabled": "yes"}, "bf16": []}]
    accelerate = [yaml.safe_load(p.read_text()) for p in sorted(EXAMPLES.glob("*/accelerate.yaml"))]
    accelerate += [{"mixed_precision": "fp32", "num_processes": 0, "deepspeed_config": {"deepspeed_config_file": 3}}]
    notebooks = [json.loads(p.read_text()) for p in sorted(CORPUS.glob("*/*.ipynb"))]
    notebooks += [{"cells": [{"cell_type": "code", "source": [None]}, {"cell_type": 3, "source": 5}]}, {"cells": {}}]
    settings = [{"select": ["GD1"], "severity": {"GD201": "info"}, "per-file-ignores": {"tests/*.py": ["GD101"]}}]
    settings += [{"select": 3, "severity": {"GD201": "loud"}, "fail-on": "never", "exclude": "x"}]
    return {
        "model-config": configs,
        "deepspeed": deepspeed,
        "accelerate": accelerate,
        "notebook": notebooks,
        "settings": settings,
    }


def test_the_compiled_validators_agree_with_jsonschema():
    from gemma_doctor.shapes import problems

    checked = broken = 0
    for name, documents in _documents().items():
        reference = jsonschema.Draft7Validator(schema(name))
        for document in documents:
            expected = {tuple(error.absolute_path) for error in reference.iter_errors(document)}
            found = {problem.key_path for problem in problems(name, document)}
            assert found == expected, (name, document)
            checked += 1
            broken += bool(found)
    assert checked >= 25 and broken >= 6


def test_a_wrong_type_in_deepspeed_and_accelerate_is_one_line_and_the_rest_is_read(tmp_path):
    (tmp_path / "ds.json").write_text('{\n  "zero_optimization": {"stage": 2},\n  "fp16": {"enabled": "yes"}\n}\n')
    (tmp_path / "accelerate.yaml").write_text("distributed_type: MULTI_GPU\nmixed_precision: fp32\nnum_processes: 2\n")
    (tmp_path / "train.yaml").write_text(
        "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1.0e-4\nfp16: true\n"
    )
    result = run_cli("check", ".", "--env", "none", "--format", "json", cwd=tmp_path)
    report = result.json()
    assert result.code == 2
    assert {(e["path"], e["message"]) for e in report["errors"]} == {
        ("ds.json", "fp16.enabled must be true, false or \"auto\", not 'yes' (line 3)"),
        ("accelerate.yaml", "mixed_precision must be no, fp16, bf16 or fp8, not 'fp32' (line 2)"),
    }
    assert any(f["rule"] == "GD101" for f in report["findings"])  # every other file is still checked


def test_a_wrong_type_in_the_settings_table_is_a_usage_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.gemma-doctor]\nselect = ["GD1"]\nfail-on = "never"\n')
    (tmp_path / "config.json").write_text('{"model_type": "gemma3_text", "use_cache": false}')
    result = run_cli("check", ".", "--env", "none", cwd=tmp_path)
    assert result.code == 2
    assert result.err.strip().endswith("pyproject.toml: fail-on must be error, warning or info, not 'never'")


# Every family GD401 judges, by the model_type its config.json saves (the composite ones save a text_config).
FAMILIES = (
    "gemma",
    "gemma2",
    "gemma3_text",
    "gemma3",
    "gemma3n",
    "paligemma",
    "gemma4",
    "gemma4_text",
    "gemma4_unified",
)
_JSON_TYPES = {int: "integer", float: "number", bool: "boolean", str: "string", list: "array", dict: "object"}


def _json_types(annotation) -> set[str]:
    """The JSON types a config class's field annotation admits (``int | list[int]`` -> integer, array)."""
    import types
    import typing

    if annotation is type(None) or annotation is None:
        return {"null"}
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_json_types(arg) for arg in typing.get_args(annotation)))
    if origin is not None:
        annotation = origin
    if annotation in _JSON_TYPES:
        return {_JSON_TYPES[annotation]}
    return set()  # a class of its own (a sub-config, a rope dict): not judged here


def _text_config_class(model_type):
    from transformers import AutoConfig

    config = AutoConfig.for_model(model_type)
    return type(getattr(config, "text_config", None) or config)


@pytest.mark.parametrize("model_type", FAMILIES)
def test_the_schema_admits_every_type_the_config_class_admits(model_type):
    """rules/schemas/model-config.schema.json was written from the Gemma 3 layout; Gemma 3n's
    intermediate_size is ``int | list[int]`` (one per layer), and GD401 called the saved list invalid."""
    pytest.importorskip("transformers")
    definitions = schema("model-config")["definitions"]
    annotations: dict = {}
    for klass in reversed(_text_config_class(model_type).__mro__):
        annotations.update(getattr(klass, "__annotations__", {}))
    for key, rule in definitions["model"]["properties"].items():
        if key not in annotations:
            continue
        if "$ref" in rule:
            rule = definitions[rule["$ref"].rsplit("/", 1)[1]]
        if "type" not in rule:
            continue  # an enum of names (dtype): its values are checked on a saved config, below
        allowed = {rule["type"]} if isinstance(rule["type"], str) else set(rule["type"])
        assert _json_types(annotations[key]) <= allowed, (key, annotations[key], allowed)


@pytest.mark.parametrize("model_type", FAMILIES)
def test_a_config_each_family_saves_passes_gd401(tmp_path, model_type):
    pytest.importorskip("transformers")
    from transformers import AutoConfig

    AutoConfig.for_model(model_type).save_pretrained(tmp_path / "model")
    result = run_cli("check", str(tmp_path), "--env", "none", "--format", "json", "--exit-zero")
    assert [f["message"] for f in result.json()["findings"] if f["rule"] == "GD401"] == []


@pytest.mark.parametrize(("size", "invalid"), [([8192, 8192], False), ([8192, 0], True), ("8192", True)])
def test_a_per_layer_intermediate_size_is_a_list_of_positive_integers(tmp_path, size, invalid):
    config = {"model_type": "gemma3n_text", "num_hidden_layers": 2, "intermediate_size": size}
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = run_cli("check", str(tmp_path), "--env", "none", "--format", "json", "--exit-zero")
    assert any(f["rule"] == "GD401" for f in result.json()["findings"]) == invalid, result.out
