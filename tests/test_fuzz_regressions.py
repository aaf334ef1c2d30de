"""One regression test per defect of the fuzz campaign (shared/fuzz/REPORT.md), named after it.
Each builds the defect's input here and asserts the behaviour that replaced it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from conftest import EXAMPLES, FIXTURES, notebook, run_cli, run_console

GEMMA3_TEXT = (FIXTURES / "GD101/fail-trl-yaml/config.json").read_text()


def project(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    root = tmp_path / "p"
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    (root / ".git").mkdir(exist_ok=True)
    return root


def console(args: list[str], cwd: Path, timeout: int = 30, stdin=None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "gemma-doctor"
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=stdin,
        env={k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"},
    )


def test_D01_notebook_fix_keeps_every_other_line(tmp_path):
    load = "model = AutoModelForImageTextToText.from_pretrained('google/gemma-3-4b-it', torch_dtype=torch.bfloat16)\n"
    source = [
        "from transformers import AutoModelForImageTextToText\n",
        load,
        "sep = '\x0c'\n",
        "model.config.use_cache = False\n",
        "z = 3\n",
        "print(z)\n",
    ]
    several = [
        "import torch\nfrom transformers import AutoModelForImageTextToText\n",
        load,
        "model.config.use_cache = False\nz = 3\n",
        "print(z)\n",
    ]
    for cell in (source, several):
        root = project(tmp_path / str(len(cell)), {"nb.ipynb": notebook(cell)})
        assert run_cli("fix", ".", "--write", "--env", "none", cwd=root).code == 0
        after = json.loads((root / "nb.ipynb").read_text())["cells"][0]["source"]
        expected = "".join(cell).replace("model.config.use_cache", "model.config.text_config.use_cache")
        assert "".join(after) == expected
        assert [item for item in after if "use_cache" not in item] == [item for item in cell if "use_cache" not in item]


def test_D02_a_candidate_that_breaks_the_file_is_never_on_disk(tmp_path, monkeypatch):
    """fix verifies in memory: a broken candidate is never written, so no kill can leave one."""
    from gemma_doctor import filetext
    from gemma_doctor.writers import yaml_writer

    root = project(
        tmp_path,
        {
            "config.json": GEMMA3_TEXT,
            "train.yaml": "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1\n",
            "accelerate.yaml": "\ufeffcompute_environment: LOCAL_MACHINE\nmixed_precision: fp16\n",
        },
    )
    before = (root / "accelerate.yaml").read_bytes()
    writes = []
    real_write = filetext.write_atomically
    monkeypatch.setattr("gemma_doctor.fixer.write_atomically", lambda *a: (writes.append(a[0]), real_write(*a)))
    real_apply = yaml_writer.apply
    monkeypatch.setattr(yaml_writer, "apply", lambda text, edits: real_apply(text, edits) + "\n: [broken")
    result = run_cli("fix", ".", "--write", "--env", "none", "--gpu", "A100", cwd=root)
    assert "would make the file unreadable; not written" in result.out and writes == []
    assert (root / "accelerate.yaml").read_bytes() == before
    monkeypatch.setattr(yaml_writer, "apply", real_apply)  # the BOM file itself is fixed correctly
    assert run_cli("fix", ".", "--write", "--env", "none", "--gpu", "A100", cwd=root).code == 0
    fixed = (root / "accelerate.yaml").read_bytes()
    assert fixed.startswith(b"\xef\xbb\xbf") and b"mixed_precision: bf16" in fixed


def test_D03_a_long_requirement_line_is_linear(tmp_path):
    root = project(tmp_path, {"requirements.txt": "transformers==4.50.0" + " " * 40_000 + "@x\n"})
    start = time.perf_counter()
    assert run_cli("check", ".", "--env", "none", cwd=root).code in (0, 1)
    assert time.perf_counter() - start < 5


def test_D04_special_files_are_skipped_not_read(tmp_path):
    root = project(tmp_path, {"sft.yaml": (FIXTURES / "GD101/fail-trl-yaml/sft.yaml").read_text()})
    os.mkfifo(root / "config.json")
    (root / "zero.json").symlink_to("/dev/zero")
    (root / "stdin.yaml").symlink_to("/proc/self/fd/0")
    result = console(["check", ".", "--env", "none", "--format", "json"], root, timeout=30, stdin=subprocess.PIPE)
    report = json.loads(result.stdout)
    messages = {error["path"]: error["message"] for error in report["errors"]}
    assert "FIFO" in messages["config.json"] and "not a regular file" in messages["zero.json"]
    assert any(f["rule"] == "GD101" for f in report["findings"])  # the rest is still checked


def test_D05_add_ignore_never_changes_python_code(tmp_path):
    script = (
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', run_name='''multi\nline''', fp16=True, \\\n"
        "    report_to='none')\n"
        "BASE = 'google/gemma-3-1b-it'\n"
    )
    root = project(tmp_path, {"train.py": script})
    run_cli("check", ".", "--env", "none", "--add-ignore", "why", cwd=root)
    import ast

    text = (root / "train.py").read_text()
    assert ast.dump(ast.parse(text)) == ast.dump(ast.parse(script))  # run_name is still 'multi\nline'
    assert "# gemma-doctor: ignore[GD101] why" in text
    assert run_cli("check", ".", "--env", "none", "--select", "GD101", cwd=root).code == 0  # and it suppresses


def test_D06_fix_writes_only_under_the_given_paths(tmp_path):
    outside = tmp_path / "outside"
    (outside / "model").mkdir(parents=True)
    (outside / "model" / "config.json").write_text(GEMMA3_TEXT.replace('"bfloat16"', '"float16"'))
    before = (outside / "model" / "config.json").read_bytes()
    root = project(
        tmp_path,
        {"train.yaml": f"model_name_or_path: {outside / 'model'}\noutput_dir: o\nlearning_rate: 1\nbf16: true\n"},
    )
    (root / "linked").symlink_to(outside / "model")
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=root)
    assert result.code == 2 and "is outside the paths given to fix" in result.out
    assert (outside / "model" / "config.json").read_bytes() == before


def test_D07_unusual_config_dtypes_do_not_crash(tmp_path):
    for dtype in ("auto", "int8", "float64"):
        root = project(
            tmp_path / dtype,
            {
                "config.json": GEMMA3_TEXT.replace('"bfloat16"', f'"{dtype}"'),
                "train.yaml": "model_name_or_path: .\noutput_dir: o\nlearning_rate: 1\nfp16: true\ntorch_dtype: auto\n",
                "requirements.txt": "transformers==5.5.0\n",
            },
        )
        result = run_cli("check", ".", "--env", "none", cwd=root)
        assert result.code == 1 and "GD101" in result.out, result.err


@pytest.mark.parametrize("pin", ["transformers==main", "transformers==4.51.", "transformers==" + "1" * 5000])
def test_D08_D09_invalid_pins_are_unknown_versions(tmp_path, pin):
    root = project(
        tmp_path,
        {
            "config.json": GEMMA3_TEXT,
            "requirements.txt": pin + "\n",
            "train.yaml": "model_name_or_path: .\noutput_dir: o\nlearning_rate: 1\nbf16: true\neval_strategy: steps\n",
        },
    )
    result = run_cli("check", ".", "--env", "none", "--format", "json", cwd=root)
    assert result.code in (0, 1) and "internal error" not in result.err
    assert not any(f["rule"] in ("GD202", "GD301") for f in result.json()["findings"])


@pytest.mark.parametrize(
    "toml, message",
    [
        ("project = 5\n", "project must be a table"),
        ('[project]\noptional-dependencies = ["torch"]\n', "project.optional-dependencies must be a table"),
        ("[dependency-groups]\ndev = 5\n", "dependency-groups.dev must be an array"),
        ('[tool]\npoetry = "x"\n', "tool.poetry must be a table"),
    ],
)
def test_D10_wrong_types_in_pyproject_are_one_line_and_the_rest_is_read(tmp_path, toml, message):
    extra = '\n[tool.poetry.dependencies]\ntransformers = "4.49.0"\n' if "tool" not in toml else ""
    root = project(tmp_path, {"pyproject.toml": toml + extra, "config.json": GEMMA3_TEXT})
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=root).json()
    assert [e["path"] for e in report["errors"]] == ["pyproject.toml"] and message in report["errors"][0]["message"]
    if extra:
        assert any(f["rule"] == "GD301" for f in report["findings"])


def test_D10_lock_file_with_wrong_types(tmp_path):
    root = project(tmp_path, {"uv.lock": 'package = "x"\n'})
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=root).json()
    assert report["errors"] == [{"path": "uv.lock", "message": "package must be an array, not str; ignored"}]


def test_D11_a_notebook_cell_of_non_strings_is_skipped_by_itself(tmp_path):
    doc = json.loads(
        notebook(
            ["x = 1\n"],
            [
                "from transformers import TrainingArguments\n",
                "a = TrainingArguments(output_dir='o', fp16=True)\n",
                "B = 'google/gemma-3-1b-it'\n",
            ],
        )
    )
    doc["cells"][0]["source"] = [None]
    root = project(tmp_path, {"nb.ipynb": json.dumps(doc)})
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=root).json()
    assert report["partly_read"][0]["message"] == "cell 1: cells.0.source.0 must be a string, not None; skipped"
    assert any(f["rule"] == "GD101" and f["cell"] == 2 for f in report["findings"])


def test_D12_llamafactory_flash_attn_list(tmp_path):
    root = project(tmp_path, {"sft.yaml": "stage: sft\nfinetuning_type: lora\nflash_attn: []\noutput_dir: o\n"})
    assert run_cli("check", ".", "--env", "none", cwd=root).code == 0


def test_D13_gitignore_is_linear_and_never_crashes(tmp_path):
    root = project(
        tmp_path,
        {".gitignore": "[z-a]\n*a*a*a*a*a*a*a*a*a*a*a*b\n", "a" * 60 + ".yaml": "x: 1\n", "config.json": GEMMA3_TEXT},
    )
    start = time.perf_counter()
    assert run_cli("check", ".", "--env", "none", cwd=root).code == 0
    assert time.perf_counter() - start < 5


def test_D14_settings_of_the_wrong_type(tmp_path):
    root = project(tmp_path, {"pyproject.toml": "[tool.gemma-doctor]\nexclude = 5\n"})
    result = run_cli("check", ".", cwd=root)
    assert result.code == 2 and "pyproject.toml: exclude must be a list of globs, not 5" in result.err
    assert "internal error" not in result.err


def test_D15_non_utf8_file_names_in_sarif_and_junit(tmp_path):
    root = project(tmp_path, {"config.json": GEMMA3_TEXT})
    os.rename(root / "config.json", os.fsencode(root) + b"/\xff" + b"/config.json") if False else None
    folder = os.path.join(os.fsencode(root), b"m\xff")
    os.mkdir(folder)
    with open(os.path.join(folder, b"config.json"), "w") as handle:
        handle.write(GEMMA3_TEXT.replace('"bfloat16"', '"float16"'))
    sarif = run_cli("check", ".", "--env", "none", "--format", "sarif", cwd=root)
    assert sarif.code == 1 and "%FF" in sarif.out
    json.loads(sarif.out)
    junit = run_cli("check", ".", "--env", "none", "--format", "junit", cwd=root).out
    ElementTree.fromstring(junit.split("\n", 1)[1])
    assert "\\xff" in junit


def test_N12_non_utf8_file_names_give_valid_unicode_in_json_and_github(tmp_path):
    """JSON carried a lone surrogate for the byte 0xff of "m<0xff>/config.json", and GitHub's commands the raw
    byte: both now encode to strict UTF-8, with the byte written as a backslash, x, ff."""
    root = project(tmp_path, {"README.md": "a model folder whose name is not UTF-8"})
    folder = os.path.join(os.fsencode(root), b"m\xff")
    os.mkdir(folder)
    with open(os.path.join(folder, b"config.json"), "w") as handle:
        handle.write(GEMMA3_TEXT.replace('"bfloat16"', '"float16"'))
    for fmt in ("json", "github"):
        out = run_cli("check", ".", "--env", "none", "--format", fmt, cwd=root).out
        out.encode("utf-8")  # strict: raises on a lone surrogate
        assert "m\\xff/config.json" in (json.loads(out)["findings"][0]["path"] if fmt == "json" else out)


def test_D16_a_writer_failure_refuses_one_file(tmp_path):
    root = project(
        tmp_path,
        {
            "config.json": '{"model_type":"gemma3","text_config":{"use_cache":true},"use_cache":false,"text_config":1}',
            "train.yaml": "model_name_or_path: .\noutput_dir: o\nlearning_rate: 1\nbf16: true\n",
        },
    )
    before = (root / "config.json").read_bytes()
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=root)
    assert "internal error" not in result.err and result.code in (0, 2)
    # the refusal says why in words, never an exception class (the second fuzz: "(TypeError)")
    refusal = [line for line in (result.out + result.err).splitlines() if "config.json: cannot apply the fix" in line]
    assert refusal and "later duplicate key" in refusal[0] and "Error" not in refusal[0], result.out + result.err
    assert (root / "config.json").read_bytes() == before


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_D17_line_endings_are_kept(tmp_path, newline):
    text = (FIXTURES / "GD101/fail-trl-yaml/sft.yaml").read_text().replace("\n", newline)
    root = project(tmp_path, {"config.json": GEMMA3_TEXT, "sft.yaml": text.encode()})
    assert run_cli("fix", ".", "--write", "--env", "none", "--gpu", "A100", cwd=root).code == 0
    after = (root / "sft.yaml").read_bytes().decode()
    assert "fp16: false" in after and "bf16: true" in after and after.count(newline) == text.count(newline)
    assert after.replace(newline, "") == after.replace(newline, "").replace("\n", "")  # no bare \n crept in


def test_D18_a_huge_config_costs_little(tmp_path):
    numbers = ",".join("1" for _ in range(1_900_000))
    root = project(
        tmp_path, {"config.json": '{"model_type": "gemma3_text", "hidden_size": 640, "big": [' + numbers + "]}"}
    )
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's (pytest's) high-water mark across exec.
    code = (
        "from gemma_doctor.cli import main; main(['check', '.', '--env', 'none']); "
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - start < 10
    assert int(out.stdout.strip().splitlines()[-1]) < 250_000  # KiB: 626 MB before


def test_D19_fixes_converge_when_the_training_arguments_cannot_be_written(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLES / "gemma3-clean", root)
    (root / "train.yaml").chmod(0o444)
    states = []
    for _ in range(3):
        run_cli("fix", ".", "--write", "--env", "none", "--gpu", "T4", "--unsafe-fixes", cwd=root)
        states.append((root / "accelerate.yaml").read_text())
    assert states[0] == states[1] == states[2]


def test_D20_an_inserted_statement_never_copies_its_neighbours(tmp_path):
    script = (
        "import torch\nfrom transformers import AutoModelForImageTextToText, Trainer, TrainingArguments\n"
        "steps = 0\nsteps += 1; model = AutoModelForImageTextToText.from_pretrained('google/gemma-3-4b-it', "
        "torch_dtype='auto')\nTrainer(model=model, args=TrainingArguments(output_dir='o', bf16=True, "
        "eval_strategy='steps'))\n"
    )
    # transformers 5.5: a training forward of this model builds a cache (GD201), whose fix is that line
    root = project(tmp_path, {"train.py": script, "requirements.txt": "transformers==5.5.0\n"})
    run_cli("fix", ".", "--write", "--env", "none", cwd=root)
    text = (root / "train.py").read_text()
    assert text.count("steps += 1") == 1 and "\nmodel.config.text_config.use_cache = False\n" in text


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_D21_owner_is_kept_and_hard_links_are_refused(tmp_path):
    root = project(tmp_path, {"config.json": GEMMA3_TEXT.replace('"bfloat16"', '"float16"')})
    os.chown(root / "config.json", 65534, 65534)
    assert run_cli("fix", ".", "--write", "--env", "none", cwd=root).code == 0
    info = (root / "config.json").stat()
    assert (info.st_uid, info.st_gid) == (65534, 65534) and '"bfloat16"' in (root / "config.json").read_text()
    linked = project(tmp_path / "h", {"config.json": GEMMA3_TEXT.replace('"bfloat16"', '"float16"')})
    os.link(linked / "config.json", tmp_path / "other-name.json")
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=linked)
    assert result.code == 2 and "hard links" in result.out
    assert '"float16"' in (tmp_path / "other-name.json").read_text()


def test_D22_bom_files_are_fixed_and_keep_their_bom(tmp_path):
    root = project(tmp_path, {"config.json": b"\xef\xbb\xbf" + GEMMA3_TEXT.replace('"bfloat16"', '"float16"').encode()})
    assert run_cli("fix", ".", "--write", "--env", "none", cwd=root).code == 0
    data = (root / "config.json").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b'"bfloat16"' in data


def test_D23_several_edits_in_one_script(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(
        FIXTURES / "GD203/fail-script-top-level", root, ignore=shutil.ignore_patterns("expected.txt", "messages.txt")
    )
    result = run_cli("fix", ".", "--write", "--env", "none", "--gpu", "T4", "--unsafe-fixes", cwd=root)
    assert result.code == 0 and "nothing to edit" not in result.out, result.out


def test_D24_block_scalar_values(tmp_path):
    text = "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1\nfp16: |\n  true\nbf16: true\n"
    root = project(tmp_path, {"sft.yaml": text})
    run_cli("fix", ".", "--write", "--env", "none", cwd=root)
    after = yaml.safe_load((root / "sft.yaml").read_text())
    assert after["fp16"] is False and after["bf16"] is True


def test_D25_compact_notebooks_stay_compact(tmp_path):
    doc = json.loads((FIXTURES / "GD202/fail-unsloth-colab-notebook/Gemma3_(4B).ipynb").read_text())
    root = project(tmp_path, {"nb.ipynb": json.dumps(doc, separators=(",", ":"))})
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=root)
    assert result.code == 0, result.out
    text = (root / "nb.ipynb").read_text()
    assert "\n" not in text.strip() and "text_config.use_cache = False" in text


def test_D26_error_messages_carry_no_exception_text(tmp_path):
    root = project(tmp_path, {"nb.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": ['x = "\udfff"\n']}]})})
    (root / "b.json").symlink_to("a.json")
    (root / "a.json").symlink_to("b.json")
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=root).json()
    messages = [e["message"] for e in report["errors"] + report["partly_read"]]
    assert "symbolic link loop" in messages and any("not valid Unicode" in m for m in messages)
    assert not any(word in m for m in messages for word in ("Errno", "OSError", "Error:", "Exception"))


def test_D27_suppressions_only_in_real_comments(tmp_path):
    yaml_text = (
        "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1\nnotes: |\n"
        "  # gemma-doctor: ignore[GD101]\nfp16: true\n"
    )
    script = (
        "from transformers import TrainingArguments\n"
        "a = TrainingArguments(output_dir='o', fp16=True, run_name='# gemma-doctor: ignore[GD101]')\n"
        "B = 'google/gemma-3-1b-it'\n"
    )
    root = project(tmp_path, {"sft.yaml": yaml_text, "train.py": script})
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=root).json()
    assert {f["path"] for f in report["findings"] if f["rule"] == "GD101"} == {"sft.yaml", "train.py"}


def test_D28_file_names_cannot_fake_report_lines(tmp_path):
    name = "a\nx.py:1:1: GD999 [error] injected.yaml"
    root = project(
        tmp_path, {"config.json": GEMMA3_TEXT, name: (FIXTURES / "GD101/fail-trl-yaml/sft.yaml").read_text()}
    )
    out = run_cli("check", ".", "--env", "none", cwd=root).out
    assert not any(line.startswith("x.py:1:1: GD999") for line in out.splitlines())
    assert "a\\nx.py" in out


def _dead_pid() -> int:
    """The process id of a process that has ended (a child started and waited for)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_D29_temporary_files_of_a_killed_fix_are_removed(tmp_path):
    root = project(tmp_path, {"config.json": GEMMA3_TEXT.replace('"bfloat16"', '"float16"')})
    stale = root / f".gemma-doctor-{_dead_pid()}-config.json.abc123.tmp"
    stale.write_text("left by a kill")
    assert run_cli("fix", ".", "--write", "--env", "none", cwd=root).code == 0
    assert not stale.exists() and sorted(p.name for p in root.iterdir()) == [".git", "config.json"]


def test_N10_a_live_fix_keeps_its_temporary_file_and_a_users_file_is_never_taken(tmp_path):
    """Two fix --write at once: one must not delete the other's in-flight temporary file (the second's write
    then failed with "No such file or directory"); a user's own file of the same shape, with no process id,
    is not ours either."""
    root = project(tmp_path, {"config.json": GEMMA3_TEXT.replace('"bfloat16"', '"float16"')})
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        in_flight = root / f".gemma-doctor-{sleeper.pid}-config.json.x1y2.tmp"
        in_flight.write_text("another fix is writing this")
        users = root / ".gemma-doctor-notes.tmp"
        users.write_text("mine")
        assert run_cli("fix", ".", "--write", "--env", "none", cwd=root).code == 0
        assert in_flight.read_text() == "another fix is writing this" and users.read_text() == "mine"
        assert '"float16"' not in (root / "config.json").read_text()  # the fix itself was written
    finally:
        sleeper.kill()
        sleeper.wait()


def test_D30_cache_refs_stay_inside_the_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    repo = cache / "models--google--gemma-3-1b-it"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("../../../outside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "config.json").write_text(GEMMA3_TEXT)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    from gemma_doctor.hub import snapshot_path

    assert snapshot_path("google/gemma-3-1b-it") is None
    assert snapshot_path("google/gemma-3-1b-it", "../../../outside") is None
    result = run_cli("check", "google/gemma-3-1b-it", "--env", "none")
    assert result.code == 2 and "not in the Hugging Face cache" in result.err


# --- The second fuzz (2026-12): each defect by its number -----------------------------------------


def test_N01_unicode_line_separators_are_line_breaks_as_pyyaml_reads_them(tmp_path):
    import yaml as pyyaml

    from gemma_doctor.yamlpos import parse_yaml

    text = "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\n\u2029fp16: true\n"
    assert parse_yaml(text).value == pyyaml.safe_load(text)
    (tmp_path / "sft.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "config.json").write_text((FIXTURES / "GD101/fail-trl-yaml/config.json").read_text())
    report = run_cli("check", str(tmp_path), "--env", "none", "--format", "json").json()
    assert "GD101" in {f["rule"] for f in report["findings"]}


def test_N02_a_key_longer_than_pyyaml_allows_is_pyyamls_to_judge():
    from gemma_doctor.yamlblock import read_block_yaml

    assert read_block_yaml("fp16" + " " * 1100 + ": true\n") is None
    assert read_block_yaml("'" + "k" * 1100 + "': 1\n") is None


def test_N03_nan_keys_are_one_key_as_in_pyyaml():
    import yaml as pyyaml

    from gemma_doctor.yamlblock import read_block_yaml

    text = ".nan: 1\n.NaN: 2\n"
    assert len(read_block_yaml(text)[0]) == len(pyyaml.safe_load(text)) == 1


def test_N04_a_huge_integer_is_one_line_of_ours(tmp_path):
    (tmp_path / "sft.yaml").write_text("output_dir: o\nfp16: true\nseed: " + "7" * 5000 + "\n")
    result = run_cli("check", str(tmp_path), "--env", "none")
    assert "more than 4,300 digits" in result.out and "set_int_max_str_digits" not in result.out + result.err


def test_N05_deep_toml_in_the_settings_is_a_usage_error(tmp_path):
    (tmp_path / ".gemma-doctor.toml").write_text("x = " + "[" * 500 + "]" * 500 + "\n")
    result = run_cli("check", str(tmp_path), "--env", "none")
    assert result.code == 2 and "nested too deeply" in result.err and "internal error" not in result.err


def test_N06_a_fifo_as_gitignore_or_baseline_never_blocks(tmp_path):
    import os

    (tmp_path / "config.json").write_text((FIXTURES / "GD102/fail-config-float16/config.json").read_text())
    os.mkfifo(tmp_path / ".gitignore")
    assert run_cli("check", str(tmp_path), "--env", "none", "--exit-zero").code == 0
    os.mkfifo(tmp_path / "base.json")
    result = run_cli("check", str(tmp_path), "--env", "none", "--baseline", str(tmp_path / "base.json"))
    assert result.code == 2 and "not a regular file" in result.err


def test_N08_a_form_feed_does_not_shift_suppression_comments(tmp_path):
    (tmp_path / "train.py").write_text(
        "from transformers import AutoModelForCausalLM, TrainingArguments\n\x0c\n"
        "model = AutoModelForCausalLM.from_pretrained('google/gemma-3-1b-it')\n"
        "args = TrainingArguments(output_dir='o', fp16=True)  # gemma-doctor: ignore[GD101] reviewed\n"
    )
    report = run_cli("check", str(tmp_path), "--env", "none", "--format", "json").json()
    assert {f["rule"] for f in report["findings"]} & {"GD101", "GD901"} == set()


def test_N09_a_reason_with_a_line_break_is_refused(tmp_path):
    shutil.copytree(FIXTURES / "GD101/fail-trl-yaml", tmp_path / "p", ignore=shutil.ignore_patterns("*.txt"))
    before = (tmp_path / "p/sft.yaml").read_bytes()
    result = run_cli("check", str(tmp_path / "p"), "--env", "none", "--add-ignore", "ok\nbf16: true")
    assert result.code == 2 and "one line" in result.err
    assert (tmp_path / "p/sft.yaml").read_bytes() == before


def test_N07_a_pathological_gitignore_line_costs_nothing(tmp_path):
    for index in range(50):
        (tmp_path / f"{'ab' * 50}{index}.yaml").write_text("x: 1\n")
    (tmp_path / ".gitignore").write_text("*a" * 5000 + "b\n")
    start = time.perf_counter()
    assert run_cli("check", str(tmp_path), "--env", "none", "--exit-zero").code == 0
    assert time.perf_counter() - start < 5  # it took 16.5 s before


def test_N14_a_generated_script_of_many_statements_is_one_line_not_seconds_and_gigabytes(tmp_path):
    from gemma_doctor.sources.python_code import MAX_PYTHON_STATEMENTS

    header = "from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='o', fp16=True)\n"
    root = project(tmp_path, {"config.json": GEMMA3_TEXT, "train.py": header + "x = 1\n" * 600_000})
    started = time.perf_counter()
    result = run_console("check", ".", "--env", "none", "--format", "json", cwd=root)
    assert time.perf_counter() - started < 10  # was ~20 s and ~1.5 GB, parsing 600,000 statements
    assert result.code == 2 and [e["path"] for e in result.json()["errors"]] == ["train.py"]
    assert "too long to be a training script" in result.json()["errors"][0]["message"]
    # semicolons count too: one line of 600,000 statements is the same file
    (root / "train.py").write_text(header + "x = 1;" * 600_000 + "\n")
    assert "too long" in run_console("check", ".", "--env", "none", cwd=root).out
    # a script just under the limit is read and judged
    (root / "train.py").write_text(header + "x = 1\n" * (MAX_PYTHON_STATEMENTS - 10))
    report = run_console("check", ".", "--env", "none", "--format", "json", cwd=root).json()
    assert report["errors"] == [] and any(f["rule"] == "GD101" for f in report["findings"])
    nb = notebook([header, "x = 1\n" * (MAX_PYTHON_STATEMENTS + 1)], indent=None)
    (root / "train.py").unlink()
    (root / "nb.ipynb").write_text(nb)
    assert "notebook too long" in run_console("check", ".", "--env", "none", cwd=root).out
