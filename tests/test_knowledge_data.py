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


# A release number anywhere in a string, f-strings and messages included: 4.51.0, 0.26, 5.0-5.5, 2025.3.15.
_VERSION_LITERAL = re.compile(r"(?<![\w.])v?\d+\.\d+(?:\.\d+)*(?:\.?dev\d+)?(?![\w])")


def _strings(tree: ast.AST):
    """Every string constant of a module, f-string parts included, but not its docstrings (prose about
    the code, not what a user reads)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_no_version_literal_in_checks():
    """Every boundary a rule judges by or names is formatted from rules/data/versions.json. A compute
    capability ("compute capability >= 8.0") is the GPU's, not a release."""
    found = []
    for path in sorted((ROOT / "gemma_doctor" / "checks").glob("*.py")):
        for node in _strings(ast.parse(path.read_text())):
            for match in _VERSION_LITERAL.finditer(node.value):
                before = node.value[max(0, match.start() - 30) : match.start()]
                if "capabilit" in before or "needs >=" in before:
                    continue
                found.append(f"{path.name}:{node.lineno} {match.group()!r} in {node.value!r}")
    assert found == []


def test_the_guard_sees_a_boundary_inside_a_message():
    tree = ast.parse('x = f"fixed in transformers 4.51.0 for {name}"\ny = "needs >= 8.0"\n')
    hits = [m.group() for node in _strings(tree) for m in _VERSION_LITERAL.finditer(node.value)]
    assert sorted(hits) == ["4.51.0", "8.0"]


def test_applies_to_names_entries_of_the_data():
    """A rule's applies_to is "any" or names a versions.json entry: no boundary is written in a rule's YAML."""
    from gemma_doctor.knowledge import catalogue, versioned

    for doc in catalogue().values():
        for package, spec in doc.raw["applies_to"].items():
            assert spec == "any" or spec.startswith("fact:"), (doc.id, package, spec)
            if spec != "any":
                assert versioned(package, spec[5:]).specifiers, (doc.id, spec)


def test_moving_a_boundary_in_the_data_moves_the_rule_its_message_and_its_doc(tmp_path, monkeypatch):
    """One home per boundary: widen the HybridCache crash window to 4.51.x in versions.json and 4.51.0
    crashes too, the message names 4.52.0 as the fix, and so does the rule's doc."""
    from gemma_doctor import knowledge
    from gemma_doctor.ruledocs import render_markdown

    project = tmp_path / "p"
    project.mkdir()
    (project / "config.json").write_text((ROOT / "examples/verify-hybridcache/model/config.json").read_text())
    (project / "train.yaml").write_text(
        "model_name_or_path: .\noutput_dir: o\nlearning_rate: 1\nbf16: true\n"
        "eval_strategy: steps\ntorch_dtype: bfloat16\n"
    )
    (project / "requirements.txt").write_text("transformers==4.51.0\n")

    def gd202():
        report = run_cli("check", str(project), "--env", "none", "--format", "json").json()
        return [f for f in report["findings"] if f["rule"] == "GD202"]

    def doc():
        return render_markdown(knowledge.catalogue()["GD202"].raw)

    assert gd202() == [] and ">= 4.51.0" in doc() and "4.52.0" not in doc()
    moved = json.loads(json.dumps(knowledge.data("versions")))
    moved["transformers"]["hybridcache_float_crash"]["versions"] = ">=4.50.0.dev0,<4.52.0"
    del moved["transformers"]["hybridcache_float_crash"]["fixed_in"]  # the fix is the first release past the window
    real = knowledge.data
    monkeypatch.setattr(knowledge, "data", lambda name: moved if name == "versions" else real(name))
    [finding] = gd202()
    assert "Fixed in transformers 4.52.0" in finding["message"]
    assert "Upgrade to transformers >= 4.52.0" in doc() and "4.50.0.dev0 to < 4.52.0" in doc()


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


def test_every_fact_name_is_declared_and_a_typo_raises():
    """The vocabulary is the one list of fact names: the sources emit only these (the whole suite
    runs strict), and asking for a misspelt one raises instead of finding nothing."""
    from gemma_doctor import vocabulary
    from gemma_doctor.facts import Fact, Location
    from gemma_doctor.setup import Setup

    assert vocabulary.STRICT
    setup = Setup([Fact("packing", True, Location("t.yaml", 1, 1), "training-args")][:0], [])
    with pytest.raises(KeyError, match="paking"):
        setup.truthy("paking")
    with pytest.raises(KeyError, match="packing_typo"):
        Setup([Fact("packing_typo", True, Location("t.yaml", 1, 1), "training-args")], [])
    for name, (kind, sources, meaning) in vocabulary.FACTS.items():
        assert kind and sources and meaning, name


@pytest.mark.parametrize("pin, newer", [("5.25.0", False), ("5.26.0", True), ("5.25.1.dev0", True)])
def test_gd903_speaks_only_for_a_pin_newer_than_the_data(tmp_path, pin, newer):
    (tmp_path / "requirements.txt").write_text(f"transformers=={pin}\n")
    report = run_cli("check", str(tmp_path), "--env", "none", "--format", "json").json()
    assert ("GD903" in {f["rule"] for f in report["findings"]}) is newer


def test_the_generated_tables_know_the_newest_release_the_data_was_read_against():
    known = data("versions")["knowledge"]["known_through"]
    assert data("accelerate_minimum")["releases"][-1] == known["transformers"]
    assert accelerate_minimum("5.25.0") == "1.1.0"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data("versions")["knowledge"]["checked"])


def test_a_kind_of_gpu_is_not_described_by_one_cards_capability():
    """The engine's "GPU without bf16 (T4, V100)" stands for cards of 7.5 and 7.0: it must not read as 7.5."""
    from gemma_doctor.engine import _SCENARIOS

    without, with_bf16 = (gpu.describe() for gpu in _SCENARIOS)
    assert "T4 is 7.5" in without and "V100 7.0" in without and "(compute capability 7.5)" not in without
    assert "8.0 or more" in with_bf16
