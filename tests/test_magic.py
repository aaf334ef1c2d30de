"""``%load_ext gemma_doctor`` / ``%gemma_doctor`` driven through a real IPython shell (issue 23).

The shell runs each cell as a kernel does (``store_history=True``), so the magic reads IPython's own input
history. Its shell commands are not run (``shell.system`` is replaced), so ``!pip install`` costs nothing
and needs no network; its line is in the history all the same, as in Colab. ``unsloth`` and ``trl`` are
stand-ins with the names the cells use, so the cells run (as they would in Colab) without loading torch:
the check reads the cells' text, never what they did.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytest.importorskip("IPython")

# An Unsloth notebook as Colab users write it: the pins in a `!pip` cell, the precision picked per GPU.
CELLS = [
    "%load_ext gemma_doctor",
    '!pip install "transformers==4.50.0" "trl==0.15.2" "unsloth==2025.3.19"',
    "from unsloth import FastLanguageModel, is_bfloat16_supported\n"
    'model, tokenizer = FastLanguageModel.from_pretrained("unsloth/gemma-3-4b-it", load_in_4bit=True)',
    "from trl import SFTConfig, SFTTrainer\n"
    'args = SFTConfig(output_dir="out", fp16 = not is_bfloat16_supported(), bf16 = is_bfloat16_supported(),\n'
    '                 eval_strategy="steps", eval_steps=10)\n'
    "trainer = SFTTrainer(model=model, tokenizer=tokenizer, args=args, train_dataset=None)\n"
    "trainer.train()",
]

DRIVER = textwrap.dedent(
    """
    import json, sys, types
    from IPython.core.interactiveshell import InteractiveShell

    def stand_in(name, **names):
        sys.modules[name] = module = types.ModuleType(name)
        module.__dict__.update(names)

    nothing = lambda *args, **kwargs: types.SimpleNamespace(train=lambda: None)
    stand_in("unsloth", is_bfloat16_supported=lambda: True,
             FastLanguageModel=types.SimpleNamespace(from_pretrained=lambda *a, **k: (None, None)))
    stand_in("trl", SFTConfig=nothing, SFTTrainer=nothing)

    shell = InteractiveShell.instance()
    shell.system = lambda command: None  # `!pip install` is history, not an install
    for cell in json.loads(sys.argv[1]):
        shell.run_cell(cell, store_history=True)
    """
)


def drive(cells: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The cells run one by one in a real IPython shell in ``cwd``; the last ones are magics."""
    return subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(cells)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def saved_notebook(cells: list[str], path: Path) -> None:
    """The same cells as a notebook file, written here by hand (not by the magic's own code)."""
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": cell} for cell in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook), encoding="utf-8")


def comparable(findings: list[dict]) -> list[tuple]:
    return sorted((f["rule"], f["severity"], f["cell"], f["line"], f["column"], f["message"]) for f in findings)


def json_output(stdout: str) -> dict:
    """The JSON report the magic printed (the shell also prints the cells' own errors to stdout)."""
    start = stdout.index('{\n  "version"')
    return json.JSONDecoder().raw_decode(stdout[start:])[0]


@pytest.mark.parametrize("gpu", ["T4", "A100"])
def test_the_magic_reports_what_check_reports_for_the_cells_saved_as_a_notebook(tmp_path, gpu):
    session = tmp_path / "session"
    session.mkdir()
    cells = [*CELLS, f"%gemma_doctor --format json --gpu {gpu}"]
    ran = drive(cells, session)
    assert ran.returncode == 0 and "Traceback" not in ran.stdout, ran.stdout + ran.stderr  # every cell ran
    magic = json_output(ran.stdout)

    saved = tmp_path / "saved"
    saved.mkdir()
    saved_notebook(cells, saved / "colab.ipynb")
    checked = run_cli("check", "colab.ipynb", "--format", "json", "--gpu", gpu, cwd=saved)
    assert checked.code in (0, 1), checked.err
    expected = checked.json()

    assert comparable(magic["findings"]) == comparable(expected["findings"])
    assert magic["findings"], "the Unsloth cells have a finding on both GPUs (GD101 on the T4, GD202 on the A100)"
    assert {f["path"] for f in magic["findings"]} == {"<ipython>.ipynb"}
    # The cell numbers are the session's: In [4] holds the SFTConfig (GD101), In [3] the load (GD202: where
    # the fix's line goes).
    wanted, cell = ("GD101", 4) if gpu == "T4" else ("GD202", 3)
    assert (wanted, cell) in {(f["rule"], f["cell"]) for f in magic["findings"]}


def test_the_magic_reads_the_pins_of_a_pip_cell(tmp_path):
    """Without the `!pip` cell the installed transformers decides (not 4.50.0): GD202 is gone."""
    cells = [CELLS[0], *CELLS[2:], "%gemma_doctor --format json --gpu A100"]
    ran = drive(cells, tmp_path)
    rules = {f["rule"] for f in json_output(ran.stdout)["findings"]}
    with_pins = {f["rule"] for f in json_output(drive([*CELLS, cells[-1]], tmp_path).stdout)["findings"]}
    assert "GD202" in with_pins and "GD202" not in rules


def test_the_magic_prints_text_under_the_cell_and_refuses_paths_in_one_line(tmp_path):
    ran = drive([*CELLS, "%gemma_doctor --gpu A100", "%gemma_doctor train.py", "%gemma_doctor --bogus"], tmp_path)
    assert "<ipython>.ipynb:cell 3:" in ran.stdout and "GD202 [error]" in ran.stdout
    assert "Found 1 error in 1 file." in ran.stdout
    assert "fixable with" not in ran.stdout  # the session is no file `fix --write` could edit
    # The fix is advice: the line `fix --write` would add after the load, In [3], to type there.
    assert "= advice: Set text_config.use_cache to false" in ran.stdout
    assert "Re-run the cells edited: In [3] line 3: `model.config.text_config.use_cache = False`" in ran.stdout
    errors = [line for line in ran.stderr.splitlines() if line.startswith("gemma-doctor: error:")]
    assert errors == [
        "gemma-doctor: error: %gemma_doctor checks this session's cells; run `!gemma-doctor check PATH` to check files",
        "gemma-doctor: error: unrecognized arguments: --bogus",
    ]
    assert "Traceback" not in ran.stderr


def test_loading_the_package_does_not_import_ipython():
    code = "import sys, gemma_doctor, gemma_doctor.magic; print('IPython' in sys.modules)"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert ran.stdout.strip() == "False", ran.stderr
