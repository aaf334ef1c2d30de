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
    """A model nobody can place is named (GD902, info, not failing the run), and the summary says the run
    was not judged instead of "Found no problems". A Gemma 4 run is judged since the Gemma 4 rules."""
    shutil.copytree(FIXTURES / "GD902/fail-model-nobody-can-place", tmp_path / "acme")
    result = run_cli("check", "acme", "--env", "none", cwd=tmp_path)
    assert result.code == 0
    assert result.out.splitlines()[-1] == "Found no problems in the runs judged; 1 run not judged (GD902), in 1 file."
    report = run_cli("check", "acme", "--env", "none", "--format", "json", cwd=tmp_path).json()
    assert {key: report["summary"][key] for key in ("files", "error", "warning", "info", "not_judged")} == {
        "files": 1,
        "error": 0,
        "warning": 0,
        "info": 0,
        "not_judged": 1,
    }
    [finding] = report["findings"]
    assert finding["rule"] == "GD902" and "acme-ml/support-bot-v3" in finding["message"]
    assert finding["run"] == "acme/train.py"
    for judged_fixture in ("GD902/pass-gemma3-trl", "GD902/pass-gemma4-axolotl"):
        judged = run_cli("check", str(FIXTURES / judged_fixture), "--env", "none", "--format", "json").json()
        assert judged["summary"]["not_judged"] == 0 and "GD902" not in {f["rule"] for f in judged["findings"]}


CONFIG_MODULE = """BASE_MODEL = "google/gemma-3-4b-it"
BNB_CONFIG = {
    "load_in_4bit": True,
    "bnb_4bit_compute_dtype": "float16",
}
"""
TRAIN_IMPORTING = """import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, TrainingArguments
from {source} import BASE_MODEL, BNB_CONFIG


def train():
    quantization = BitsAndBytesConfig(
        load_in_4bit=BNB_CONFIG.get("load_in_4bit", False),
        bnb_4bit_compute_dtype=getattr(torch, BNB_CONFIG.get("bnb_4bit_compute_dtype", "bfloat16")),
    )
    model = AutoModelForCausalLM.from_pretrained(BASE_MODEL, quantization_config=quantization)
    args = TrainingArguments(output_dir="o", fp16=torch.cuda.is_available())


if __name__ == "__main__":
    train()
"""


@pytest.mark.parametrize("layout", ["sibling", "package"])
def test_values_from_another_module_of_the_project_point_where_they_are_set(tmp_path, layout):
    """from config import BASE_MODEL, BNB_CONFIG: the run is Gemma 3 (GD101 on fp16), and the float16
    compute dtype is reported in config.py, at the line that sets it."""
    folder = tmp_path / "fine_tuning" if layout == "package" else tmp_path
    folder.mkdir(exist_ok=True)
    if layout == "package":
        (folder / "__init__.py").write_text("")
    (folder / "config.py").write_text(CONFIG_MODULE)
    (folder / "train.py").write_text(TRAIN_IMPORTING.format(source=".config" if layout == "package" else "config"))
    found = rules(tmp_path)
    prefix = "fine_tuning/" if layout == "package" else ""
    assert [(f["path"], f["line"]) for f in found["GD102"]] == [(f"{prefix}config.py", 4)]
    assert [(f["path"], f["line"]) for f in found["GD101"]] == [(f"{prefix}train.py", 12)]


def test_a_module_imported_whole_is_followed(tmp_path):
    (tmp_path / "settings.py").write_text('MODEL_ID = "google/gemma-3-1b-it"\nUSE_FP16 = True\n')
    (tmp_path / "train.py").write_text(
        "import settings\nfrom transformers import AutoModelForCausalLM, TrainingArguments\n"
        "model = AutoModelForCausalLM.from_pretrained(settings.MODEL_ID)\n"
        "args = TrainingArguments(output_dir='o', fp16=settings.USE_FP16)\n"
    )
    assert [f["path"] for f in rules(tmp_path)["GD101"]] == ["settings.py"]


HELPER = """import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig
from trl import SFTConfig


def get_torch_dtype():
    if torch.cuda.is_available():
        capability = torch.cuda.get_device_capability()
        dtype = torch.bfloat16 if capability[0] >= 8 else torch.float16
    else:
        dtype = torch.float32
    return dtype


def pick(capability):
    if capability < 8:
        return torch.float16
    return torch.bfloat16


def load(model_id, torch_dtype):
    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch_dtype)
    return AutoModelForCausalLM.from_pretrained(model_id, quantization_config=quantization)


def main():
    torch_dtype = get_torch_dtype()
    model = load("google/gemma-3-1b-it", torch_dtype)
    args = SFTConfig(output_dir="o", fp16=torch_dtype == torch.float16, bf16=pick(7) == torch.bfloat16)


if __name__ == "__main__":
    main()
"""


def test_helper_functions_are_evaluated_with_their_arguments_per_kind_of_gpu(tmp_path):
    """get_torch_dtype() picks float16 below compute capability 8: on a T4 the 4-bit compute dtype
    (inside load(), bound at its call) and fp16 are float16 (GD102, GD101); on an A100 they are not."""
    (tmp_path / "train.py").write_text(HELPER)
    t4 = rules(tmp_path, "--gpu", "T4")
    assert [f["line"] for f in t4["GD102"]] == [22] and [f["line"] for f in t4["GD101"]] == [29]
    a100 = rules(tmp_path, "--gpu", "A100")
    assert "GD102" not in a100 and "GD101" not in a100


def test_an_early_return_is_one_value_per_branch():
    import ast

    from gemma_doctor.sources.python_code import Analyzer

    analyzer = Analyzer("t.py")
    analyzer.run(ast.parse(HELPER + "\nlow = pick(7)\nhigh = pick(9)\n"))
    assert (analyzer.scope.lookup("low"), analyzer.scope.lookup("high")) == ("float16", "bfloat16")


def test_a_plain_pytorch_loop_is_a_training_run(tmp_path):
    """No Trainer: Gemma3ForConditionalGeneration with flash_attention_2, a processor and images, and a
    loop of the script's own (loss.backward(), optimizer.step()): GD504 applies to it."""
    (tmp_path / "train.py").write_text(
        "import torch\nfrom transformers import AutoProcessor, Gemma3ForConditionalGeneration\n"
        "model = Gemma3ForConditionalGeneration.from_pretrained('google/gemma-3-4b-it', torch_dtype=torch.bfloat16,\n"
        "    attn_implementation='flash_attention_2')\n"
        "processor = AutoProcessor.from_pretrained('google/gemma-3-4b-it')\n"
        "optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)\n"
        "for batch in loader:\n    loss = model(**batch).loss\n    loss.backward()\n    optimizer.step()\n"
    )
    assert [f["line"] for f in rules(tmp_path)["GD504"]] == [4]


def test_an_inference_script_load_is_judged(tmp_path):
    """Loading Gemma 3 in float16 overflows in inference too: every model load is judged (GD102), while
    the training-only rules still need a training run."""
    (tmp_path / "chat.py").write_text(
        "import torch\nfrom transformers import AutoModelForCausalLM\n"
        "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it', torch_dtype=torch.float16)\n"
        "print(model.generate(**inputs))\n"
    )
    found = rules(tmp_path)
    assert [f["line"] for f in found["GD102"]] == [3] and set(found) == {"GD102"}


def test_calls_that_fan_out_at_every_level_are_bounded(tmp_path):
    """Ten functions, each calling the next one ten times: 10**9 readings if every path were followed. A call
    is read once (its value remembered), and a file has a budget of body readings, so the check ends at once."""
    import time

    lines = ["from transformers import TrainingArguments"]
    for level in range(10):
        calls = "; ".join(f"f{level + 1}(x)" for _ in range(10)) if level < 9 else "pass"
        lines.append(f"def f{level}(x):\n    {calls}\n    return x")
    lines.append("def f10(x):\n    return x")
    lines.append("args = TrainingArguments(output_dir='o', fp16=f0(True))")
    (tmp_path / "train.py").write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    assert run_cli("check", str(tmp_path), "--env", "none", "--exit-zero").code == 0
    assert time.perf_counter() - start < 10


AFTER_CONSTRUCTION = """import torch
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments

bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16)
{bnb_line}
model = AutoModelForCausalLM.from_pretrained("google/gemma-3-4b-it", quantization_config=bnb)
args = TrainingArguments(output_dir="o", {constructor})
{lines}
Trainer(model=model, args=args).train()
"""


@pytest.mark.parametrize(
    ("constructor", "lines", "bnb_line", "expected"),
    [
        ("bf16=True", "args.bf16 = False\nargs.fp16 = True", "", {"GD101": [9]}),  # the later value runs
        ("fp16=True", "args.fp16 = False\nargs.bf16 = True", "", {}),  # the constructor's fp16 never runs
        ("fp16=True", "", "", {"GD101": [7]}),
        ("bf16=True", "", "bnb.bnb_4bit_compute_dtype = torch.float16", {"GD102": [5]}),
        ("bf16=True", "args = make_namespace()\nargs.fp16 = True", "", {}),  # rebound: no longer the arguments
    ],
)
def test_values_set_after_construction_replace_the_constructors(tmp_path, constructor, lines, bnb_line, expected):
    (tmp_path / "train.py").write_text(
        AFTER_CONSTRUCTION.format(constructor=constructor, lines=lines, bnb_line=bnb_line)
    )
    (tmp_path / "requirements.txt").write_text("transformers==4.57.6\n")
    found = rules(tmp_path)
    judged = {rule: sorted(f["line"] for f in found.get(rule, [])) for rule in ("GD101", "GD102")}
    assert {rule: lines for rule, lines in judged.items() if lines} == expected, found


LOADS_ITS_SETTINGS = """import json
import yaml
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer, TrainingArguments

{load}
model = AutoModelForCausalLM.from_pretrained(cfg["model"]["name"])
args = TrainingArguments(output_dir="out", fp16=cfg["training"].get("fp16", False))
Trainer(model=model, args=args).train()
"""


@pytest.mark.parametrize(
    ("load", "settings", "expected"),
    [
        (  # with open(...) as f: yaml.safe_load(f), the path relative to the project root the script runs from
            'with open("configs/run.yaml") as f:\n    cfg = yaml.safe_load(f)',
            ("configs/run.yaml", "model:\n  name: google/gemma-3-4b-it\ntraining:\n  fp16: true\n"),
            ["configs/run.yaml:4:3"],
        ),
        (  # json.load(open(...)) beside the script
            'cfg = json.load(open("run.json"))',
            ("src/run.json", '{"model": {"name": "google/gemma-3-4b-it"},\n "training": {"fp16": true}}'),
            ["src/run.json:2:15"],
        ),
        (  # the same settings on Llama: judged, and no Gemma rule concerns it
            'cfg = json.load(open("run.json"))',
            ("src/run.json", '{"model": {"name": "meta-llama/Llama-3.2-1B"}, "training": {"fp16": true}}'),
            [],
        ),
        (  # a file that is not there: unknown, so nothing is claimed
            'cfg = json.load(open("missing.json"))',
            ("src/other.json", "{}"),
            [],
        ),
    ],
)
def test_settings_files_the_code_loads_flow_into_its_run(tmp_path, load, settings, expected):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(LOADS_ITS_SETTINGS.format(load=load))
    name, text = settings
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text)
    (tmp_path / "requirements.txt").write_text("transformers==4.57.6\n")
    found = rules(tmp_path)
    assert [f"{f['path']}:{f['line']}:{f['column']}" for f in found.get("GD101", [])] == expected, found


MODAL_IMAGE = """import modal

image = (
    modal.Image.debian_slim()
    .apt_install("git")
    .pip_install(
        "peft==0.6.0",
        "transformers=={version}",
    )
    .pip_install(["accelerate==0.24.1"])
)
app = modal.App("gemma-finetune", image=image)
"""
MODAL_TRAIN = """from common import app
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments


@app.function(gpu="A100")
def train():
    model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", torch_dtype="bfloat16")
    args = TrainingArguments(output_dir="out", bf16=True, evaluation_strategy="steps")
    Trainer(model=model, args=args).train()
"""


@pytest.mark.parametrize(("image", "local", "removed"), [("4.35.0", "4.57.6", False), ("4.57.6", "4.35.0", True)])
def test_a_container_image_the_code_builds_pins_what_the_run_gets(tmp_path, image, local, removed):
    # the image the code runs in wins over the local requirements (the Modal client's own environment)
    (tmp_path / "common.py").write_text(MODAL_IMAGE.format(version=image))
    (tmp_path / "train.py").write_text(MODAL_TRAIN)
    (tmp_path / "requirements.txt").write_text(f"transformers=={local}\nmodal\n")
    found = rules(tmp_path)
    assert bool(found.get("GD503")) == removed, found
    trace = run_cli("check", ".", "--env", "none", "--trace", "--exit-zero", cwd=tmp_path).out
    assert f"transformers: {image} (common.py:8:9)" in trace, trace


ARGUMENTS_MODULE = """from trl import SFTConfig

TRAINING_ARGS = SFTConfig(output_dir="out", fp16=True, bf16=False)
"""
TRAINER_IMPORTING = """{imports}
from transformers import AutoModelForCausalLM
from trl import SFTTrainer

model = AutoModelForCausalLM.from_pretrained("google/gemma-3-270m-it")
trainer = SFTTrainer(model=model, args={arguments}, train_dataset=data)
trainer.train()
"""


@pytest.mark.parametrize(
    ("imports", "arguments"),
    [("import config", "config.TRAINING_ARGS"), ("from config import TRAINING_ARGS as ARGS", "ARGS")],
)
def test_a_trainer_given_arguments_another_module_built_reads_them(tmp_path, imports, arguments):
    """args=config.TRAINING_ARGS: the SFTConfig's bf16=False is this trainer's, so TRL's bf16 default does not
    apply (a GD104 on a T4 said it did), and its fp16 is this Gemma 3 run's (config.py alone loads no model)."""
    (tmp_path / "config.py").write_text(ARGUMENTS_MODULE)
    (tmp_path / "train.py").write_text(TRAINER_IMPORTING.format(imports=imports, arguments=arguments))
    found = rules(tmp_path, "--gpu", "T4")
    assert "GD104" not in found, found
    assert [(f["path"], f["line"]) for f in found["GD101"]] == [("config.py", 3)], found


def test_a_large_project_read_in_parallel_gives_the_same_report(tmp_path):
    """Issue 19's 10,000 files: forked workers parse the code while the engine reads the configs; the
    findings, their order, the error lines and the partly-read lines are those of a one-by-one read."""
    from gemma_doctor.engine import PARALLEL_FROM, Options, check
    from gemma_doctor.reporters import render

    script = (FIXTURES / "GD202/fail-hf-trainer-script/train.py").read_text()
    for index in range(PARALLEL_FROM // 2 + 10):
        folder = tmp_path / f"run{index:04d}"
        folder.mkdir()
        (folder / "train.py").write_text(script)
        (folder / "requirements.txt").write_text("transformers==4.50.0\n")
    (tmp_path / "run0003" / "train.py").write_bytes(b"\x00\x01 binary, not code\x00")  # an error line, through a worker
    (tmp_path / "run0007" / "train.py").write_text(script + "\nx = (1,\n")  # partly read, through a worker
    from gemma_doctor.engine import _read_in_parallel, group_projects

    files = group_projects([tmp_path], Options(env="none", cwd=tmp_path))[0][0].files
    assert len(_read_in_parallel(files, tmp_path, Options(env="none", jobs=2))) == len(files)  # it forks here
    reports = [check([tmp_path], Options(env="none", cwd=tmp_path, jobs=jobs)) for jobs in (1, 2)]
    texts = [render(report, "text") for report in reports]
    assert texts[0] == texts[1]
    assert len(reports[0].findings) > PARALLEL_FROM // 2 and reports[0].errors and reports[0].partly_read


def test_a_second_check_in_one_process_reads_an_edited_module_again(tmp_path):
    """The IPython magic and the callback check more than once in one process: a module read by the first
    check is read again by the next, so the fix the user made in config.py is seen."""
    from gemma_doctor.engine import Options, check

    (tmp_path / "config.py").write_text("USE_FP16 = True\n")
    (tmp_path / "train.py").write_text(
        "from config import USE_FP16\nfrom transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        'model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it")\n'
        'Trainer(model=model, args=TrainingArguments(output_dir="o", fp16=USE_FP16)).train()\n'
    )
    options = Options(env="none", cwd=tmp_path)
    assert "GD101" in {f.rule for f in check([tmp_path], options).findings}
    (tmp_path / "config.py").write_text("USE_FP16 = False\n")
    assert "GD101" not in {f.rule for f in check([tmp_path], options).findings}


PARSES_ITS_COMMAND_LINE = """import argparse
from dataclasses import dataclass, field

import torch
from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class ModelArguments:
    model_name: str = field(default="google/gemma-3-1b-it")
    half: bool = True


def pick_dtype(model_args, training_args):
    if training_args.bf16:
        return torch.bfloat16
    if training_args.fp16 and model_args.half:
        return torch.float16
    return torch.float32


model_args, training_args = HfArgumentParser((ModelArguments, TrainingArguments)).parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained(model_args.model_name, torch_dtype=pick_dtype(model_args, training_args))
Trainer(model=model, args=training_args).train()
"""


@pytest.mark.parametrize(
    ("launches", "expected"),
    [
        ({}, []),  # run on its own: the dataclasses' defaults, fp16 and bf16 False: float32
        ({"run.sh": "python train.py --fp16 true\n"}, ["train.py:23"]),
        ({"run.sh": "python train.py --fp16=True --output_dir o\n"}, ["train.py:23"]),
        ({"run.sh": "python train.py --fp16\n"}, ["train.py:23"]),  # a bool field's flag alone is True
        ({"run.sh": "python train.py --fp16 true --no_half\n"}, []),  # a True bool field's --no_ form
        ({"run.sh": "python train.py --fp16 true --fp16 false\n"}, []),  # the last one wins
        ({"run.sh": 'python train.py --fp16 "$HALF"\n'}, []),  # the shell decides: unknown, nothing claimed
        ({"run.sh": "python train.py --bf16 true --fp16 true\n"}, []),
        ({"run.sh": "python train.py --model_name meta-llama/Llama-3.2-1B --fp16 true\n"}, []),
        # two lines run the same file: each is a run of its own, with its own values
        ({"a.sh": "python train.py --bf16 true\n", "b.sh": "python train.py --fp16 true\n"}, ["train.py:23"]),
    ],
)
def test_a_launch_lines_words_flow_into_the_script_that_parses_them(tmp_path, launches, expected):
    (tmp_path / "train.py").write_text(PARSES_ITS_COMMAND_LINE)
    (tmp_path / "requirements.txt").write_text("transformers==5.5.4\n")
    for name, text in launches.items():
        (tmp_path / name).write_text(text)
    found = rules(tmp_path, "--gpu", "A100")
    assert [f"{f['path']}:{f['line']}" for f in found.get("GD102", [])] == expected, found


ARGPARSE_DTYPE = """import argparse

import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

parser = argparse.ArgumentParser()
parser.add_argument("--dtype", default="bfloat16", choices=["float16", "bfloat16"])
parser.add_argument("--steps", type=int, default=10)
parser.add_argument("--fast", action="store_true")
args = parser.parse_args()
dtype = getattr(torch, args.dtype) if not args.fast else torch.float16
model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", torch_dtype=dtype)
Trainer(model=model, args=TrainingArguments(output_dir="o", bf16=True, max_steps=args.steps)).train()
"""


@pytest.mark.parametrize(
    ("launch", "expected"),
    [
        (None, []),
        ("python train.py --dtype float16", ["train.py:12"]),
        ("python train.py --dtype=bfloat16 --steps 5", []),
        ("python train.py --fast", ["train.py:12"]),  # store_true: present is True
        ("accelerate launch --num_processes 2 train.py --dtype float16", ["train.py:12"]),
    ],
)
def test_argparse_flags_a_launch_line_passes_replace_their_defaults(tmp_path, launch, expected):
    (tmp_path / "train.py").write_text(ARGPARSE_DTYPE)
    (tmp_path / "requirements.txt").write_text("transformers==5.5.4\n")
    if launch:
        (tmp_path / "train.sh").write_text(f"#!/bin/sh\n{launch}\n")
    found = rules(tmp_path, "--gpu", "A100")
    assert [f"{f['path']}:{f['line']}" for f in found.get("GD102", [])] == expected, found


def test_the_command_line_is_read_as_its_parsers_read_it():
    import ast

    from gemma_doctor.sources.python_eval import ABSENT, Invocation, command_line_value

    words = Invocation(["--lr", "1e-4", "--max_steps", "-1", "--fp16", "--out=o", "$@"])
    assert words.last(("--max_steps",)) == "-1"  # a negative number is a value, not a flag
    assert words.last(("--fp16",)) is None and words.last(("--out",)) == "o"
    assert words.last(("--bf16",)) is ABSENT
    node = ast.Constant(0)
    assert command_line_value("-1", "int", node) == -1
    assert command_line_value("yes", "bool", node) is True and command_line_value("0", "bool", node) is False
    # argparse's type=bool is bool(word): "false" is True, the classic trap, and it is what runs
    assert command_line_value("false", "bool", node, argparse_bool=True) is True
    assert not is_resolved(command_line_value("maybe", "bool", node))
    assert not is_resolved(command_line_value("$LR", "float", node))


def is_resolved(value):
    from gemma_doctor.facts import is_resolved as resolved

    return resolved(value)


READS_A_RECIPE = """import os
import sys
from dataclasses import dataclass, field

from transformers import AutoModelForCausalLM, HfArgumentParser, Trainer, TrainingArguments


@dataclass
class RunArguments(TrainingArguments):
    output_dir: str = field(default="out")
    fp16: bool = field(default={default})


parser = HfArgumentParser(RunArguments)
if len(sys.argv) == 2 and sys.argv[1].endswith(".yaml"):
    (args,) = parser.parse_yaml_file(os.path.abspath(sys.argv[1]))
else:
    (args,) = parser.parse_args_into_dataclasses()
model = AutoModelForCausalLM.from_pretrained("google/gemma-3-1b-it", torch_dtype="bfloat16")
Trainer(model=model, args=args).train()
"""


@pytest.mark.parametrize(
    ("default", "launch", "recipe", "expected"),
    [
        ("True", None, None, ["train.py:11"]),  # the project's own dataclass says fp16: pointed at its default
        ("False", None, None, []),
        ("False", "python train.py recipe.yaml", "fp16: true\n", ["recipe.yaml:1"]),  # the recipe's key
        ("True", "python train.py recipe.yaml", "fp16: false\nbf16: true\n", []),
        ("True", "python train.py missing.yaml", None, []),  # a file not found: unknown, not the default
        ("False", "python train.py --fp16 true", None, ["run.sh:1"]),  # the command line, at its flag
    ],
)
def test_a_recipe_or_dataclass_the_parser_fills_gives_the_trainer_its_arguments(
    tmp_path, default, launch, recipe, expected
):
    (tmp_path / "train.py").write_text(READS_A_RECIPE.format(default=default))
    (tmp_path / "requirements.txt").write_text("transformers==5.5.4\n")
    if launch:
        (tmp_path / "run.sh").write_text(f"{launch}\n")
    if recipe:
        (tmp_path / "recipe.yaml").write_text(recipe)
    found = rules(tmp_path, "--gpu", "A100")
    assert [f"{f['path']}:{f['line']}" for f in found.get("GD101", [])] == expected, found


def test_trl_parser_reads_its_config_file_under_the_command_line(tmp_path):
    (tmp_path / "sft.py").write_text(
        "from trl import ModelConfig, ScriptArguments, SFTConfig, SFTTrainer, TrlParser\n"
        "parser = TrlParser((ScriptArguments, SFTConfig, ModelConfig))\n"
        "script_args, training_args, model_args = parser.parse_args_and_config()\n"
        'SFTTrainer(model="google/gemma-3-1b-it", args=training_args).train()\n'
    )
    (tmp_path / "requirements.txt").write_text("transformers==5.5.4\ntrl==1.4.0\n")
    (tmp_path / "recipe.yaml").write_text("bf16: false\nfp16: true\n")
    (tmp_path / "run.sh").write_text("accelerate launch sft.py --config recipe.yaml\n")
    assert [f"{f['path']}:{f['line']}" for f in rules(tmp_path, "--gpu", "A100").get("GD101", [])] == ["recipe.yaml:2"]
    (tmp_path / "run.sh").write_text("accelerate launch sft.py --config recipe.yaml --fp16 false --bf16 true\n")
    assert "GD101" not in rules(tmp_path, "--gpu", "A100")


def test_an_argparse_config_path_the_launch_line_names_is_read(tmp_path):
    (tmp_path / "train.py").write_text(
        "import argparse\nimport yaml\nfrom transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        'parser = argparse.ArgumentParser()\nparser.add_argument("--config", required=True)\n'
        "args = parser.parse_args()\nwith open(args.config) as f:\n    cfg = yaml.safe_load(f)\n"
        'model = AutoModelForCausalLM.from_pretrained(cfg["model"], torch_dtype="bfloat16")\n'
        'Trainer(model=model, args=TrainingArguments(output_dir="o", fp16=cfg["fp16"])).train()\n'
    )
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "gemma.yaml").write_text("model: google/gemma-3-1b-it\nfp16: true\n")
    (tmp_path / "configs" / "llama.yaml").write_text("model: meta-llama/Llama-3.2-1B\nfp16: true\n")
    (tmp_path / "requirements.txt").write_text("transformers==5.5.4\n")
    assert "GD101" not in rules(tmp_path)  # no launch line: --config is required, so nothing is known
    (tmp_path / "run.sh").write_text(
        "python train.py --config configs/gemma.yaml\npython train.py --config configs/llama.yaml\n"
    )
    found = rules(tmp_path)
    assert [f"{f['path']}:{f['line']}:{f['column']}" for f in found["GD101"]] == ["configs/gemma.yaml:2:1"], found


READS_ITS_ENVIRONMENT = """import os

import torch
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

model_id = os.getenv("BASE_MODEL", "Qwen/Qwen2.5-3B-Instruct")
half = os.environ.get("USE_FP16", "false").lower() == "true"
model = AutoModelForCausalLM.from_pretrained(model_id, torch_dtype=torch.bfloat16)
Trainer(model=model, args=TrainingArguments(output_dir="o", fp16=half)).train()
"""


@pytest.mark.parametrize(
    ("scripts", "expected"),
    [
        ({}, []),  # on its own: Qwen, and fp16 off
        ({"run.sh": "export BASE_MODEL=google/gemma-3-1b-it\nexport USE_FP16=true\npython train.py\n"}, ["train.py:9"]),
        ({"run.sh": "BASE_MODEL=google/gemma-3-1b-it USE_FP16=True python train.py\n"}, ["train.py:9"]),
        (  # a default the script gives where the variable is unset, and a variable set from another
            {
                "run.sh": 'export MODEL="${MODEL:-google/gemma-3-1b-it}"\nexport BASE_MODEL=$MODEL USE_FP16=true\n'
                "python train.py\n"
            },
            ["train.py:9"],
        ),
        (
            {
                "run.sh": "source config.sh\npython train.py\n",
                "config.sh": "export BASE_MODEL=google/gemma-3-1b-it\nexport USE_FP16=true\n",
            },
            ["train.py:9"],
        ),
        ({"run.sh": "export BASE_MODEL=google/gemma-3-1b-it\nexport USE_FP16=$(cat flag)\npython train.py\n"}, []),
        ({"run.sh": "python train.py\nexport BASE_MODEL=google/gemma-3-1b-it USE_FP16=true\n"}, []),  # set after
    ],
)
def test_variables_a_shell_script_exports_reach_the_script_it_launches(tmp_path, scripts, expected):
    (tmp_path / "train.py").write_text(READS_ITS_ENVIRONMENT)
    (tmp_path / "requirements.txt").write_text("transformers==5.5.4\n")
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
    found = rules(tmp_path, "--gpu", "A100")
    assert [f"{f['path']}:{f['line']}" for f in found.get("GD101", [])] == expected, found


@pytest.mark.parametrize(
    "model",
    [
        'f"google/gemma-3-{SIZE}-it"',
        '"google/gemma-3-" + SIZE + "-it"',
        '"google/{}-{}-it".format("gemma-3", SIZE)',
        'os.path.join(BASE, "gemma-3-1b-it")',
        'str(Path(BASE) / "gemma-3-1b-it")',
    ],
)
def test_ids_built_from_their_parts_are_resolved(tmp_path, model):
    (tmp_path / "train.py").write_text(
        "import os\nfrom pathlib import Path\nimport torch\n"
        "from transformers import AutoModelForCausalLM, Trainer, TrainingArguments\n"
        f'SIZE = "1b"\nBASE = "google"\nmodel = AutoModelForCausalLM.from_pretrained({model}, torch_dtype=torch.bfloat16)\n'
        'Trainer(model=model, args=TrainingArguments(output_dir="o", fp16=True)).train()\n'
    )
    (tmp_path / "requirements.txt").write_text("transformers==5.5.4\n")
    found = rules(tmp_path)
    assert [f["line"] for f in found.get("GD101", [])] == [8], found
    # an id that cannot be resolved stays unknown: no Gemma rule fires on a guess
    (tmp_path / "train.py").write_text((tmp_path / "train.py").read_text().replace('SIZE = "1b"', "SIZE = input()"))
    if "SIZE" in model:
        assert "GD101" not in rules(tmp_path)
