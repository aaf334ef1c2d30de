"""Scripts and notebooks: read without running, exact locations, GPU-dependent expressions,
notebook pins, and suppression comments (GD901 for unused ones)."""

from __future__ import annotations

import json
import shutil

from conftest import FIXTURES, notebook, run_cli, run_console

CONFIG_1B = (FIXTURES / "GD102/pass-config-bfloat16/config.json").read_text()


def findings(path, *extra):
    report = run_cli("check", str(path), "--env", "none", "--format", "json", "--exit-zero", *extra).json()
    return [
        (f["rule"], f["path"].rsplit("/", 1)[-1], f["cell"], f["line"], f["column"]) for f in report["findings"]
    ], report


def test_nothing_in_the_users_code_runs(tmp_path):
    marker = tmp_path / "SIDE_EFFECT"
    script = tmp_path / "train.py"
    script.write_text(
        "import pathlib, os\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "os.system('touch ran-too')\n"
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', fp16=True)\n"
        "model_id = 'google/gemma-3-1b-it'\n"
        "exec(\"open('x', 'w')\")\n"
    )
    notebook_path = tmp_path / "nb.ipynb"
    notebook_path.write_text(notebook([f"open({str(marker)!r}, 'w')\n"], indent=None))
    result = run_console("check", ".", "--env", "none", cwd=tmp_path)
    assert result.code == 1 and "GD101" in result.out
    assert not marker.exists() and not (tmp_path / "ran-too").exists() and not (tmp_path / "x").exists()


def test_aliases_kwargs_dicts_and_constants(tmp_path):
    (tmp_path / "train.py").write_text(
        "import transformers as tf\n"
        "from trl import SFTConfig as Config\n"
        "BASE = 'google/gemma-3-4b-it'\n"
        "USE_FP16 = True\n"
        "common = {\n"
        "    'output_dir': 'o',\n"
        "    'fp16': USE_FP16,\n"
        "}\n"
        "a = tf.TrainingArguments(**common)\n"
        "b = Config(output_dir='o', fp16_full_eval=True)\n"
        "m = tf.AutoModelForCausalLM.from_pretrained(BASE)\n"
    )
    found, _ = findings(tmp_path)
    assert ("GD101", "train.py", None, 7, 5) in found  # the dict key that sets fp16
    assert ("GD101", "train.py", None, 10, 28) in found  # fp16_full_eval


def test_gpu_dependent_flags_resolve_per_gpu(tmp_path):
    (tmp_path / "config.json").write_text(CONFIG_1B)
    (tmp_path / "train.py").write_text(
        "from unsloth import is_bfloat16_supported\n"
        "import torch\n"
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(\n"
        "    output_dir='o',\n"
        "    fp16=not torch.cuda.is_bf16_supported(),\n"
        "    bf16=torch.cuda.is_bf16_supported(),\n"
        ")\n"
    )
    on_t4, report = findings(tmp_path, "--gpu", "T4")
    # torch.cuda.is_bf16_supported() counts emulation: True on a T4, so bf16 is requested there.
    assert ("GD104", "train.py", None, 7, 5) in on_t4
    assert "torch.cuda.is_bf16_supported(), which is True on this GPU" in json.dumps(report)
    on_a100, _ = findings(tmp_path, "--gpu", "A100")
    assert [f for f in on_a100 if f[0] in ("GD101", "GD104")] == []
    unknown, report = findings(tmp_path)
    assert [f for f in unknown if f[0] == "GD104"] == [("GD104", "train.py", None, 7, 5)]
    message = next(f["message"] for f in report["findings"] if f["rule"] == "GD104")
    assert message.startswith("On a GPU without bf16 (T4, V100):")


def test_unsloth_pattern_on_t4_is_a_warning_without_a_fix(tmp_path):
    (tmp_path / "train.py").write_text(
        "from unsloth import FastLanguageModel, is_bfloat16_supported\n"
        "from trl import SFTConfig\n"
        "model, tok = FastLanguageModel.from_pretrained(model_name='unsloth/gemma-3-1b-it')\n"
        "args = SFTConfig(output_dir='o', fp16=not is_bfloat16_supported(), bf16=is_bfloat16_supported())\n"
    )
    (tmp_path / "requirements.txt").write_text("unsloth==2025.3.19\nunsloth_zoo==2025.3.17\n")
    report = run_cli("check", str(tmp_path), "--env", "none", "--format", "json", "--gpu", "T4").json()
    gd101 = [f for f in report["findings"] if f["rule"] == "GD101"]
    assert len(gd101) == 1 and gd101[0]["severity"] == "warning"
    assert "Unsloth 2025.3.19 switches Gemma 3 to training without mixed precision" in gd101[0]["message"]
    assert gd101[0]["fix"]["safety"] == "display-only"


def test_notebook_locations_and_pins_beat_installed(tmp_path):
    shutil.copytree(
        FIXTURES / "GD202/fail-unsloth-colab-notebook",
        tmp_path / "nb",
        ignore=shutil.ignore_patterns("expected.txt", "messages.txt"),
    )
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("transformers==4.57.1\n")  # installed is fine, but the notebook installs 4.50.0
    found, _report = findings(tmp_path / "nb", "--env", str(freeze))
    assert ("GD202", "Gemma3_(4B).ipynb", 3, 4, 1) in found  # the load, where fix adds its line
    text = run_cli("check", str(tmp_path / "nb"), "--env", "none").out
    assert "Gemma3_(4B).ipynb:cell 3:4:1: GD202 [error]" in text


def test_suppressions_in_python_yaml_and_notebooks(tmp_path):
    (tmp_path / "config.json").write_text(CONFIG_1B.replace('"use_cache": true', '"use_cache": false'))
    (tmp_path / "train.py").write_text(
        "from transformers import TrainingArguments\n"
        "# gemma-doctor: ignore[GD101] measuring the failure on purpose\n"
        "a = TrainingArguments(\n"
        "    output_dir='o',\n"
        "    fp16=True,\n"
        ")\n"
        "b = TrainingArguments(output_dir='o', fp16_full_eval=True)  # gemma-doctor: ignore[GD101]\n"
        "c = TrainingArguments(output_dir='o', bf16=True)  # gemma-doctor: ignore[GD102]\n"
    )
    (tmp_path / "sft.yaml").write_text(
        "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1.0e-4\n"
        "fp16: true  # gemma-doctor: ignore[GD101]\n"
    )
    nb = notebook(
        [
            "from transformers import TrainingArguments\n",
            "t = TrainingArguments(output_dir='o', fp16=True)  # gemma-doctor: ignore[GD1]\n",
            "u = TrainingArguments(output_dir='o', fp16=True)\n",
        ],
        indent=None,
    )
    (tmp_path / "nb.ipynb").write_text(nb)
    found, _ = findings(tmp_path)
    assert sorted(f for f in found if f[0] in ("GD101", "GD901")) == [
        ("GD101", "nb.ipynb", 1, 3, 39),
        ("GD901", "train.py", None, 8, 51),
    ]


def test_syntax_error_cell_is_one_error_and_other_cells_still_count(tmp_path):
    nb = notebook(
        ["def broken(:\n"],
        [
            "from transformers import TrainingArguments\n",
            "args = TrainingArguments(output_dir='o', fp16=True, report_to='none')\n",
            "BASE = 'google/gemma-3-1b-it'\n",
        ],
        indent=None,
    )
    (tmp_path / "nb.ipynb").write_text(nb)
    (tmp_path / "train.yaml").write_text(
        "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1.0e-4\n"
    )
    result = run_cli("check", str(tmp_path), "--env", "none", "--format", "json")
    report = result.json()
    assert result.code == 1 and report["errors"] == []  # GD101's error; the skipped statement is a warning
    assert [e["message"] for e in report["partly_read"]] == [
        "cell 1: syntax error: invalid syntax at line 1; skipped the "
        "statement at line 1 ('def broken(:') and read the rest"
    ]
    assert any(f["rule"] == "GD101" and f["cell"] == 2 for f in report["findings"])


def test_python_fix_inserts_keyword_in_the_calls_own_style(tmp_path):
    shutil.copytree(
        FIXTURES / "GD101/fail-trl-sft-script",
        tmp_path / "p",
        ignore=shutil.ignore_patterns("expected.txt", "messages.txt"),
    )
    run_cli("fix", ".", "--write", "--unsafe-fixes", "--env", "none", "--gpu", "A100", cwd=tmp_path / "p")
    text = (tmp_path / "p" / "sft.py").read_text()
    assert "    fp16=False,  # the V100 nodes are cheaper\n" in text
    assert '    model_init_kwargs={"torch_dtype": "bfloat16"},\n    bf16=True,\n)' in text
