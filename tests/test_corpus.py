"""Issue 9's reproductions, on projects written here in the pattern of real public ones
(corpus/labels.json): each gives exactly the findings that are true for the run that will
really happen."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import ROOT, run_cli

CORPUS = ROOT / "corpus"
CASES = json.loads((CORPUS / "labels.json").read_text())["cases"]


def findings(project, *args, paths=(".",)):
    report = run_cli("check", *paths, "--env", "none", "--format", "json", "--exit-zero", *args, cwd=project).json()
    found = []  # a sorted list, not a set: a finding reported twice is a defect the test must see
    for f in report["findings"]:
        where = f"{f['cell']}:{f['line']}" if f["cell"] else str(f["line"])
        found.append(f"{f['path']}:{where} {f['rule']}")
    return sorted(found), report


@pytest.mark.parametrize("case", CASES, ids=[f"{c['project']} {' '.join(c['args'])}".strip() for c in CASES])
def test_labelled_case(case):
    found, report = findings((CORPUS / case["project"]).resolve(), *case["args"])
    assert found == sorted(case["expect"]), report


def test_cookbook_qlora_reads_the_pins_of_its_install_cell():
    _found, report = findings(CORPUS / "cookbook-qlora-notebook", "--gpu", "T4", "--select", "GD1")
    gd101 = next(f for f in report["findings"] if f["rule"] == "GD101")
    assert gd101["severity"] == "error" and not gd101["message"].startswith("On a")
    from gemma_doctor.sources.notebook import load

    result = load(CORPUS / "cookbook-qlora-notebook/huggingface_text_finetune_qlora.ipynb", "nb.ipynb")
    pins = {v.package: v.version for v in result.versions}
    # the git tag v4.49.0-Gemma-3 is 4.50.0.dev0; the others come from a `%pip install \` continuation
    assert pins["transformers"] == "4.50.0.dev0" and pins["trl"] == "0.15.2" and pins["accelerate"] == "1.4.0"
    assert result.error is None  # the PEP 701 f-string cell parses on this Python


def test_without_a_gpu_the_cookbook_pattern_is_judged_per_kind_of_gpu():
    found, report = findings(CORPUS / "cookbook-qlora-notebook", "--select", "GD101,GD102")
    assert found == [
        "huggingface_text_finetune_qlora.ipynb:3:19 GD102",
        "huggingface_text_finetune_qlora.ipynb:3:26 GD102",
        "huggingface_text_finetune_qlora.ipynb:4:11 GD101",
    ]
    assert all(f["message"].startswith("On a GPU without bf16 (T4, V100):") for f in report["findings"])


def test_unknown_flag_is_not_false(tmp_path):
    """bf16=(args.dtype == "bf16") with no default it can see: no claim of a DeepSpeed mismatch."""
    found, _ = findings(CORPUS / "deepspeed-argparse-dtype", "--select", "GD103")
    assert found == []
    project = tmp_path / "p"
    shutil.copytree(CORPUS / "deepspeed-argparse-dtype", project)
    script = project / "train_trainer.py"
    # The same flags with a literal: now the mismatch is real and reported.
    script.write_text(
        script.read_text()
        .replace('bf16=(args.dtype == "bf16")', "bf16=False")
        .replace('fp16=(args.dtype == "fp16")', "fp16=False")
    )
    found, _ = findings(project, "--select", "GD103")
    assert found == ["ds_config_zero1.json:8 GD103"]


def test_module_level_argparse_default_resolves(tmp_path):
    (tmp_path / "train.py").write_text(
        "import argparse\nfrom transformers import TrainingArguments, AutoModelForCausalLM\n"
        "parser = argparse.ArgumentParser()\nparser.add_argument('--dtype', default='fp16')\nargs = parser.parse_args()\n"
        "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it')\n"
        "training_args = TrainingArguments(output_dir='o', fp16=(args.dtype == 'fp16'))\n"
    )
    found, report = findings(tmp_path, "--select", "GD101")
    assert found == ["train.py:7 GD101"], report


def test_files_passed_one_by_one_recheck_the_runs_that_use_them(tmp_path):
    """pre-commit passes only the changed files: a changed config.json or requirements.txt
    re-checks the training run that reads it (two real commits got through before)."""
    project = tmp_path / "repo"
    shutil.copytree(ROOT / "examples/verify-hybridcache", project)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    for changed in ("model/config.json", "requirements.txt"):
        found, report = findings(project, paths=(changed,))
        assert "model/config.json:15 GD202" in found, (changed, report)
        assert {f["run"] for f in report["findings"]} == {"train.yaml"}
    other = project / "other"
    other.mkdir()
    (other / "notes.yaml").write_text("title: unrelated\n")
    found, _ = findings(project, paths=("other/notes.yaml",))
    assert found == []  # a file no run uses brings no finding of other runs


def test_monorepo_reports_per_run_in_text(tmp_path):
    shutil.copytree(CORPUS / "ner-mixed-models", tmp_path / "ner")
    shutil.copytree(ROOT / "examples/gemma3-broken", tmp_path / "broken")
    text = run_cli("check", ".", "--env", "none", "--gpu", "T4", cwd=tmp_path).out
    assert "== run broken/train.yaml" in text and "== run ner/scripts/simple_gemma3_hashtagger.py" in text
    assert "train_codes1b_hashtag.py" not in text
