"""Issue 19: values followed the way real code passes them, and no "no problems" said by mistake."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import EXAMPLES, FIXTURES, run_cli

MULTIMODAL_CONFIG = (EXAMPLES / "verify-hybridcache/model/config.json").read_text()
TRAINER_SCRIPT = """import torch
from transformers import AutoModelForImageTextToText, Trainer, TrainingArguments

model = AutoModelForImageTextToText.from_pretrained({name!r}, torch_dtype=torch.bfloat16)
args = TrainingArguments(output_dir="o", bf16=True, eval_strategy="steps")
trainer = Trainer(model=model, args=args, train_dataset=d, eval_dataset=e)
"""


def rules(project, *args) -> dict[str, list[dict]]:
    report = run_cli("check", ".", "--env", "none", "--format", "json", "--exit-zero", *args, cwd=project).json()
    found: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["rule"], []).append(finding)
    return found


@pytest.mark.parametrize("name", ["model", "outputs/merged", "ckpt/gemma-3-4b-it", "./model"])
def test_the_seed_case_a_local_folder_however_it_is_named(tmp_path, name):
    """from_pretrained("model") with a local multimodal Gemma 3 config, bf16, evaluation and 4.50.0:
    GD202, whether the folder is named with ./, without, or with one slash like a Hub id."""
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(MULTIMODAL_CONFIG)
    (tmp_path / "train.py").write_text(TRAINER_SCRIPT.format(name=name))
    (tmp_path / "requirements.txt").write_text("transformers==4.50.0\n")
    found = rules(tmp_path)
    assert [f["path"] for f in found.get("GD202", [])] == [f"{name.removeprefix('./')}/config.json"], found


def test_a_local_folder_wins_over_the_hub_id_of_the_same_name(tmp_path, monkeypatch):
    """google/gemma-3-4b-it as a folder beside the script is what transformers loads, not the cache's."""
    folder = tmp_path / "google" / "gemma-3-4b-it"
    folder.mkdir(parents=True)
    config = json.loads(MULTIMODAL_CONFIG)
    config["text_config"]["use_cache"] = False
    (folder / "config.json").write_text(json.dumps(config))
    (tmp_path / "train.py").write_text(TRAINER_SCRIPT.format(name="google/gemma-3-4b-it"))
    (tmp_path / "requirements.txt").write_text("transformers==4.50.0\n")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-cache"))
    assert "GD202" not in rules(tmp_path)  # the local copy turns the cache off
    config["text_config"]["use_cache"] = True
    (folder / "config.json").write_text(json.dumps(config))
    assert [f["path"] for f in rules(tmp_path)["GD202"]] == ["google/gemma-3-4b-it/config.json"]


def test_an_id_nobody_can_place_falls_back_to_the_nearest_config_and_says_so(tmp_path):
    (tmp_path / "config.json").write_text(MULTIMODAL_CONFIG)
    (tmp_path / "train.py").write_text(TRAINER_SCRIPT.format(name="my-org/my-finetune"))
    (tmp_path / "requirements.txt").write_text("transformers==4.50.0\n")
    [gd202] = rules(tmp_path)["GD202"]
    assert gd202["path"] == "config.json"


def test_a_placed_non_gemma_id_mutes_the_gemma_rules(tmp_path):
    (tmp_path / "config.json").write_text(MULTIMODAL_CONFIG)
    (tmp_path / "train.py").write_text(TRAINER_SCRIPT.format(name="meta-llama/Llama-3.2-1B-Instruct"))
    (tmp_path / "requirements.txt").write_text("transformers==4.50.0\n")
    assert "GD202" not in rules(tmp_path)


@pytest.mark.parametrize(
    "model_id, family",
    [
        ("google/gemma-2b-it", "gemma"),
        ("google/gemma-7b", "gemma"),
        ("google/gemma-1.1-2b-it", "gemma"),
        ("google/gemma-2-2b-it", "gemma2"),
        ("google/medgemma-4b-it", "gemma3"),
        ("google/translategemma-4b-it", "gemma3"),
        ("google/gemma-4-E2B-it", "gemma4"),
        ("Qwen/Qwen2.5-3B-Instruct", "other"),
        ("outputs/merged", None),
    ],
)
def test_model_ids_are_placed_in_their_family(model_id, family):
    from gemma_doctor.modelids import family_of_model_id

    assert family_of_model_id(model_id) == family


def test_the_fixture_pair_for_a_folder_named_without_dot():
    fail = FIXTURES / "GD202/fail-local-folder-named-without-dot"
    assert "GD202" in rules(fail)
    assert "GD202" not in rules(FIXTURES / "GD202/pass-local-folder-named-without-dot")


def test_no_problems_is_said_only_when_every_run_was_judged(tmp_path):
    """A Gemma 4 run and a model nobody can place are named (GD902, info, not failing the run), and the
    summary says they were not judged instead of "Found no problems"."""
    shutil.copytree(FIXTURES / "GD902/fail-gemma4-axolotl", tmp_path / "g4")
    result = run_cli("check", "g4", "--env", "none", cwd=tmp_path)
    assert result.code == 0
    assert result.out.splitlines()[-1] == "Found no problems in the runs judged; 1 run not judged (GD902), in 1 file."
    report = run_cli("check", "g4", "--env", "none", "--format", "json", cwd=tmp_path).json()
    assert report["summary"] == {"files": 1, "error": 0, "warning": 0, "info": 0, "not_judged": 1}
    [finding] = report["findings"]
    assert finding["rule"] == "GD902" and "google/gemma-4-E2B-it" in finding["message"]
    assert finding["run"] == "g4/gemma4-e2b-qlora.yaml"
    judged = run_cli("check", str(FIXTURES / "GD902/pass-gemma3-trl"), "--env", "none", "--format", "json").json()
    assert judged["summary"]["not_judged"] == 0 and "GD902" not in {f["rule"] for f in judged["findings"]}
