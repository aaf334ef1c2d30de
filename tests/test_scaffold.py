"""scripts/new_rule.py: the scaffold writes a rule that the catalogue, the engine and the fixtures
test accept at once, and the README's rule table is the generated one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from conftest import ROOT


def test_the_readme_rule_table_is_current():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import new_rule
    finally:
        sys.path.pop(0)
    text = (ROOT / "README.md").read_text()
    start = text.index(new_rule.README_START) + len(new_rule.README_START)
    assert text[start : text.index(new_rule.README_END)].strip() == new_rule.readme_table(), (
        "the README's rule table is stale: run python scripts/new_rule.py --regenerate"
    )


def test_the_scaffold_writes_a_rule_the_engine_runs(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("gemma_doctor", "rules", "fixtures", "docs", "scripts"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", repo / "README.md")
    done = subprocess.run(
        [
            sys.executable,
            "scripts/new_rule.py",
            "GD599",
            "example-new-rule",
            "--summary",
            "an example",
            "--package",
            "trl",
            "--fact",
            "example_boundary",
            "--fixable",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "By hand, now:" in done.stdout
    for path in (
        "rules/GD599.yaml",
        "gemma_doctor/checks/gd599_example_new_rule.py",
        "fixtures/GD599/fail-example/train.yaml",
        "fixtures/GD599/fail-example.fixed/train.yaml",
        "fixtures/GD599/pass-example/train.yaml",
        "docs/evidence/GD599.md",
        "docs/rules/GD599.md",
    ):
        assert (repo / path).is_file(), path
    assert "GD599" in (repo / "README.md").read_text()
    index = json.loads((repo / "rules/index.json").read_text())
    assert {e["id"]: e["applies_to"]["trl"] for e in index if e["id"] == "GD599"} == {"GD599": "fact:example_boundary"}
    assert json.loads((repo / "rules/data/versions.json").read_text())["trl"]["example_boundary"]["versions"]
    # the engine imports and runs it: the stub asks for a fact that is not declared yet, which strict mode names
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "gemma_doctor",
            "check",
            "fixtures/GD599/fail-example",
            "--env",
            "none",
            "--select",
            "GD599",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert "TODO_fact_name" in check.stderr and "vocabulary.py" in check.stderr, check.stderr
