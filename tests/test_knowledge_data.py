"""The generated version data against releases read by hand (knowledge/audit.md), and the rule that
version knowledge is data: no version literal in gemma_doctor/checks/, and moving a boundary in the
data moves the finding."""

from __future__ import annotations

import ast
import json
import re

import pytest
from conftest import ROOT, run_cli

from gemma_doctor.knowledge import accelerate_minimum, data, release_range
from gemma_doctor.pep440 import satisfies


def unsloth(version: str) -> tuple[dict, dict]:
    table = data("unsloth")
    return (
        release_range(table["windows"], version, table["releases"]),
        release_range(table["unsloth_zoo_minimum"], version, table["releases"]),
    )


@pytest.mark.parametrize(
    "release, zoo",
    [("2025.3.10", "2025.3.8"), ("2025.3.18", "2025.3.14"), ("2024.12.11", "2024.12.5"), ("2025.6.6", "2025.6.4")],
)
def test_unsloth_zoo_minimum_per_release(release, zoo):
    assert unsloth(release)[1]["minimum"] == zoo


def test_unsloth_transformers_and_trl_windows_read_by_hand():
    assert not satisfies("4.51.2", unsloth("2025.5.1")[0]["transformers"])  # 2025.5.1: ==4.51.3
    assert satisfies("4.51.3", unsloth("2025.5.1")[0]["transformers"])
    assert satisfies("4.46.1", unsloth("2025.4.7")[0]["transformers"])  # 2025.4.7: >=4.46.1,!=4.47.0
    assert not satisfies("0.15.0", unsloth("2025.2.8")[0]["trl"]) and satisfies(
        "0.15.1", unsloth("2025.2.10")[0]["trl"]
    )
    assert not satisfies("4.54.0", unsloth("2025.8.8")[0]["transformers"])
    assert satisfies("4.54.0", unsloth("2025.8.7")[0]["transformers"])
    assert satisfies("0.24.0", unsloth("2025.11.4")[0]["trl"]) and not satisfies(
        "0.24.0", unsloth("2025.11.1")[0]["trl"]
    )


def test_unsloth_data_is_compact_and_dated():
    table = data("unsloth")
    assert len(table["releases"]) >= 226 and len(table["windows"]) < len(table["releases"]) / 5
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table["generated"]) and "update_knowledge.py" in table["source"]
    assert unsloth("2099.1.1") == (None, None)  # a release the data does not know is not judged


@pytest.mark.parametrize(
    "transformers, accelerate",
    [
        ("4.44.2", "0.21.0"),
        ("4.45.0", "0.26.0"),
        ("4.50.0", "0.26.0"),
        ("4.57.6", "0.26.0"),
        ("5.0.0", "1.1.0"),
        ("5.24.0", "1.1.0"),
    ],
)
def test_accelerate_minimum_per_transformers(transformers, accelerate):
    assert accelerate_minimum(transformers) == accelerate


_VERSION_LITERAL = re.compile(
    r"^\s*(?:[<>=!~]=?|===)?\s*v?\d+(?:\.\d+)+[\w.]*(?:\s*,\s*[<>=!~]=?\s*\d+(?:\.\d+)*[\w.]*)*\s*$"
)


def test_no_version_literal_in_checks():
    found = []
    for path in sorted((ROOT / "gemma_doctor" / "checks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _VERSION_LITERAL.match(node.value):
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert found == []


def test_moving_a_boundary_in_the_data_moves_the_finding(tmp_path, monkeypatch):
    """The HybridCache crash window is data: widen it to 4.51.x and 4.51.0 crashes too."""
    from gemma_doctor import knowledge

    project = tmp_path / "p"
    project.mkdir()
    (project / "config.json").write_text((ROOT / "examples/verify-hybridcache/model/config.json").read_text())
    (project / "train.yaml").write_text(
        "model_name_or_path: .\noutput_dir: o\nlearning_rate: 1\nbf16: true\n"
        "eval_strategy: steps\ntorch_dtype: bfloat16\n"
    )
    (project / "requirements.txt").write_text("transformers==4.51.0\n")

    def rules():
        report = run_cli("check", str(project), "--env", "none", "--format", "json").json()
        return {f["rule"] for f in report["findings"]}

    assert "GD202" not in rules()
    moved = json.loads(json.dumps(knowledge.data("versions")))
    moved["transformers"]["hybridcache_float_crash"]["versions"] = ">=4.50.0.dev0,<4.52.0"
    real = knowledge.data
    monkeypatch.setattr(knowledge, "data", lambda name: moved if name == "versions" else real(name))
    assert "GD202" in rules()


def test_applies_to_is_evaluated_by_the_engine(tmp_path, monkeypatch):
    """GD402 applies to transformers <4.56: narrow its applies_to and a 4.55 project stops firing."""
    from gemma_doctor import knowledge

    project = tmp_path / "p"
    project.mkdir()
    config = json.loads((ROOT / "fixtures/GD402/fail-dtype-key-old-transformers/config.json").read_text())
    (project / "config.json").write_text(json.dumps(config))
    (project / "requirements.txt").write_text("transformers==4.55.4\n")

    def rules():
        report = run_cli("check", str(project), "--env", "none", "--format", "json").json()
        return {f["rule"] for f in report["findings"]}

    assert "GD402" in rules()
    narrowed = {rule_id: doc for rule_id, doc in knowledge.catalogue().items()}
    raw = dict(narrowed["GD402"].raw, applies_to={"transformers": "<4.50.0"})
    narrowed["GD402"] = knowledge.RuleDoc("GD402", raw["name"], raw["severity"], raw["summary"], raw["fix_safety"], raw)
    monkeypatch.setattr("gemma_doctor.engine.catalogue", lambda: narrowed)
    assert "GD402" not in rules()
