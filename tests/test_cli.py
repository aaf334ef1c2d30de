"""The CLI as a user calls it: the console script, exit codes, the JSON contract, rules and env."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, run_cli, run_console

BROKEN = EXAMPLES / "gemma3-broken"
CLEAN = EXAMPLES / "gemma3-clean"


def test_bundled_broken_example_text(tmp_path):
    result = run_console("check", "examples/gemma3-broken", "--env", "none", cwd=ROOT)
    assert result.code == 1
    lines = result.out.splitlines()
    assert "examples/gemma3-broken/train.yaml:10:1: GD101 [error] fp16 on a gemma3 model" in result.out
    # The run names deepspeed: DeepSpeed owns the precision, so accelerate installs no fp32-output
    # wrapper and the HybridCache crash path does not exist (audit row 9): no GD202 here.
    assert not any(" GD202 " in line for line in lines)
    # transformers 4.50 builds no cache in a training forward, and gradient checkpointing is on: no GD201
    assert not any(" GD201 " in line for line in lines)
    assert any(line.startswith("examples/gemma3-broken/accelerate.yaml:3:1: GD103 [warning]") for line in lines)
    assert any(line.startswith("examples/gemma3-broken/ds_zero2.json:3:5: GD103 [error]") for line in lines)
    assert lines[-1].startswith("Found 2 errors, 1 warning in 6 files.")
    assert "\x1b[" not in result.out  # no colour when not a terminal


def test_json_contract_version_1_4():
    result = run_console("check", "examples/gemma3-broken", "--format", "json", "--env", "none", cwd=ROOT)
    report = json.loads(result.out)
    assert set(report) == {"version", "minor", "findings", "errors", "partly_read", "summary"}
    assert (report["version"], report["minor"]) == (1, 4)
    assert report["summary"] == {
        "files": 6,
        "error": 2,
        "warning": 1,
        "info": 0,
        "not_judged": 0,
        "context_files": 0,
        "partly_read": 0,
        "unreadable": 0,
        "suppressed": 0,
        "baselined": 0,
    }
    for finding in report["findings"]:
        assert set(finding) == {
            "rule",
            "name",
            "severity",
            "path",
            "line",
            "column",
            "cell",
            "key",
            "message",
            "fix",
            "run",
        }
        assert finding["run"] == "examples/gemma3-broken/train.yaml"
        assert finding["severity"] in ("error", "warning", "info")
        assert "\\" not in finding["path"] and not finding["path"].startswith("/")
        assert finding["fix"] is None or set(finding["fix"]) == {"safety", "title"}
    gd101 = next(f for f in report["findings"] if f["rule"] == "GD101")
    assert gd101 | {"message": None, "fix": None, "run": None} == {
        "rule": "GD101",
        "name": "fp16-on-gemma3",
        "severity": "error",
        "path": "examples/gemma3-broken/train.yaml",
        "line": 10,
        "column": 1,
        "cell": None,
        "key": "fp16",
        "message": None,
        "fix": None,
        "run": None,
    }
    assert gd101["fix"]["safety"] == "unsafe"
    paths = [(f["path"], f["line"]) for f in report["findings"]]
    assert paths == sorted(paths)


def test_clean_example_has_no_findings():
    result = run_console("check", "examples/gemma3-clean", "--env", "none", cwd=ROOT)
    assert result.code == 0, result.out
    assert result.out.strip() == "Found no problems in 6 files."


def test_the_summary_counts_what_was_not_looked_at_or_was_taken_out(tmp_path):
    """Files partly read, unreadable, read only as context; findings suppressed or in the baseline: each
    is said in the summary, so "no problems" never stands over something the check did not see."""
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gemma3_text", "hidden_size": 8}))
    (tmp_path / "train.py").write_text(
        "from transformers import TrainingArguments\n"
        "args = TrainingArguments(output_dir='o', fp16=True)  # gemma-doctor: ignore[GD101]\n"
        "x = (1,\n"
    )
    (tmp_path / "notes.yaml").write_bytes(b"\x00\x01binary")
    result = run_console("check", ".", "--env", "none", cwd=tmp_path)
    lines = result.out.splitlines()
    assert "train.py: warning: partly read: syntax error: '(' was never closed at line 3;" in result.out
    assert "notes.yaml: error: binary file, not text" in lines
    assert lines[-1] == "Found no problems in 2 files. 1 file partly read. 1 file could not be read. 1 suppressed."
    assert result.code == 2  # the unreadable file; the partly read one alone would not fail the check
    (tmp_path / "notes.yaml").unlink()
    assert run_console("check", ".", "--env", "none", cwd=tmp_path).code == 0
    # a file passed on its own (pre-commit) is checked with the files beside it as context
    alone = run_console("check", "train.py", "--env", "none", "--format", "json", cwd=tmp_path).json()
    assert alone["summary"]["files"] == 2 and alone["summary"]["context_files"] == 1
    text = run_console("check", "train.py", "--env", "none", cwd=tmp_path).out.splitlines()[-1]
    assert text.startswith("Found no problems in 1 file (and 1 read as context).")
    # the first --baseline run says what it recorded, later ones count what it took out
    (tmp_path / "train.py").write_text("from transformers import TrainingArguments\nTrainingArguments(fp16=True)\n")
    first = run_console("check", ".", "--env", "none", "--baseline", "bl.json", cwd=tmp_path)
    assert "recorded 1 finding in the baseline bl.json" in first.err
    assert first.out.splitlines()[-1] == "Found no problems in 2 files. 1 in the baseline."
    again = run_console("check", ".", "--env", "none", "--baseline", "bl.json", "--format", "json", cwd=tmp_path)
    assert "recorded" not in again.err and again.json()["summary"]["baselined"] == 1


def test_exit_codes_fail_on_and_exit_zero():
    assert run_cli("check", str(BROKEN), "--env", "none", "--exit-zero").code == 0
    # a warning alone (GD203's) does not fail the run by default, and does with --fail-on warning (below)
    only_warning = run_cli(
        "check", str(ROOT / "fixtures/GD203/fail-top-level-only"), "--env", "none", "--format", "json"
    )
    assert {f["severity"] for f in only_warning.json()["findings"]} == {"warning"}
    # --ignore wins over --select: nothing runs, nothing fails
    nothing = run_cli("check", str(BROKEN), "--env", "none", "--select", "GD1", "--ignore", "GD1", "--format", "json")
    assert nothing.json()["findings"] == [] and nothing.code == 0
    warnings = run_cli("check", str(ROOT / "fixtures/GD203/fail-top-level-only"), "--env", "none")
    assert warnings.code == 0  # a warning does not fail by default
    assert (
        run_cli("check", str(ROOT / "fixtures/GD203/fail-top-level-only"), "--env", "none", "--fail-on", "warning").code
        == 1
    )


def test_select_and_ignore_by_prefix():
    every = {f["rule"] for f in run_cli("check", str(BROKEN), "--env", "none", "--format", "json").json()["findings"]}
    assert every == {"GD101", "GD103"}
    report = run_cli("check", str(BROKEN), "--env", "none", "--format", "json", "--select", "GD10").json()
    assert {f["rule"] for f in report["findings"]} == {"GD101", "GD103"}
    report = run_cli("check", str(BROKEN), "--env", "none", "--format", "json", "--ignore", "GD101,GD202").json()
    assert {f["rule"] for f in report["findings"]} == {"GD103"}


def test_gpu_changes_the_advice_and_fix_safety():
    report = run_cli("check", str(BROKEN), "--env", "none", "--format", "json", "--gpu", "A100").json()
    gd101 = next(f for f in report["findings"] if f["rule"] == "GD101")
    assert gd101["fix"]["safety"] == "safe" and "A100" in gd101["fix"]["title"]
    report = run_cli(
        "check", "examples/gemma3-broken", "--env", "none", "--format", "json", "--gpu", "T4", cwd=ROOT
    ).json()
    gd101 = next(f for f in report["findings"] if f["rule"] == "GD101")
    assert gd101["fix"]["safety"] == "unsafe" and "no bf16" in gd101["fix"]["title"]
    gd104 = sorted(f["path"] for f in report["findings"] if f["rule"] == "GD104")
    assert gd104 == ["examples/gemma3-broken/accelerate.yaml", "examples/gemma3-broken/ds_zero2.json"]


def test_no_gemma_rule_fires_on_llama(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps(
            {
                "architectures": ["LlamaForCausalLM"],
                "model_type": "llama",
                "torch_dtype": "float16",
                "use_cache": True,
                "hidden_size": 4096,
            }
        )
    )
    (tmp_path / "train.yaml").write_text(
        "model_name_or_path: meta-llama/Llama-3.1-8B\noutput_dir: o\nfp16: true\neval_strategy: steps\n"
    )
    (tmp_path / "requirements.txt").write_text("transformers==4.50.0\n")
    report = run_cli("check", str(tmp_path), "--env", "none", "--format", "json").json()
    assert report["findings"] == []


def test_model_family_from_model_id_without_config(tmp_path):
    (tmp_path / "train.yaml").write_text(
        "model_name_or_path: unsloth/gemma-3-1b-it-bnb-4bit\noutput_dir: o\nfp16: true\n"
    )
    report = run_cli("check", str(tmp_path), "--env", "none", "--format", "json").json()
    assert sorted(f["rule"] for f in report["findings"]) == ["GD101"]
    assert "gemma3_text" in next(f["message"] for f in report["findings"] if f["rule"] == "GD101")


def test_rules_and_rule_commands():
    listing = run_console("rules", cwd=ROOT)
    assert listing.code == 0 and "GD202  hybridcache-float-crash" in listing.out
    doc = run_console("rule", "GD202", cwd=ROOT)
    assert doc.code == 0
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Fix", "## Fix safety", "## References"):
        assert heading in doc.out
    as_json = json.loads(run_console("rule", "gd202", "--format", "json", cwd=ROOT).out)
    assert as_json["name"] == "hybridcache-float-crash"
    assert run_console("rule", "GD999", cwd=ROOT).code == 2


def test_version_and_module_entry_point():
    import subprocess
    import sys

    from gemma_doctor import __version__

    out = subprocess.run([sys.executable, "-m", "gemma_doctor", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"gemma-doctor {__version__}"


def test_the_console_script_delivers_everything_when_it_skips_teardown(tmp_path):
    """The console script ends a static command with os._exit: every byte of a large report still
    reaches the pipe and the -o file, with the command's exit code."""
    rules = run_console("rules", "--format", "json")
    assert rules.code == 0 and len(json.loads(rules.out)) >= 15 and len(rules.out) > 20_000
    report = tmp_path / "report.json"
    check = run_console("check", str(EXAMPLES / "gemma3-broken"), "--format", "json", "-o", str(report))
    assert check.code == 1 and json.loads(report.read_text())["findings"]
    module = subprocess.run(
        [sys.executable, "-m", "gemma_doctor", "check", str(EXAMPLES / "gemma3-clean")], capture_output=True, text=True
    )
    assert module.returncode == 0 and module.stdout == "Found no problems in 6 files.\n"


def test_a_full_disk_under_the_output_is_one_line():
    """`check > report.txt` on a full disk: one line naming the problem, exit 2, not "internal error"."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    exe = os.path.join(os.path.dirname(sys.executable), "gemma-doctor")
    for args in (["check", str(EXAMPLES / "gemma3-broken")], ["rules"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run([exe, *args], stdout=full, stderr=subprocess.PIPE, text=True)
        assert result.returncode == 2, result.stderr
        assert result.stderr == "gemma-doctor: error: could not write the output: No space left on device\n"


def test_a_closed_stdout_is_one_line_and_nothing_is_written(tmp_path):
    """`check >&-`: one line, exit 2, before any file is read or written; with -o the report goes
    to the file as usual."""
    exe = os.path.join(os.path.dirname(sys.executable), "gemma-doctor")
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES / "gemma3-broken", project)
    before = {path: path.read_bytes() for path in project.rglob("*") if path.is_file()}
    for args in (["check", "."], ["fix", "--write", "."]):
        result = subprocess.run(
            ["bash", "-c", '"$0" "$@" >&-', exe, *args], cwd=project, stderr=subprocess.PIPE, text=True
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr == "gemma-doctor: error: standard output is closed, so there is nowhere to write to\n"
    assert {path: path.read_bytes() for path in project.rglob("*") if path.is_file()} == before
    report = tmp_path / "report.json"
    result = subprocess.run(
        ["bash", "-c", '"$0" "$@" >&-', exe, "check", ".", "--format", "json", "-o", str(report)],
        cwd=project,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert result.returncode == 1 and result.stderr == ""
    assert json.loads(report.read_text())["findings"]


def test_env_command_with_freeze_file(tmp_path):
    freeze = tmp_path / "freeze.txt"
    freeze.write_text(
        "transformers==4.50.3\naccelerate==0.25.0\ntorch==2.6.0\nunsloth==2025.3.19\nunsloth_zoo==2025.3.9\n"
    )
    result = run_console("env", "--env", str(freeze), "--format", "json", cwd=tmp_path)
    entries = {e["package"]: e for e in json.loads(result.out)["packages"]}
    assert result.code == 1
    assert entries["transformers"]["verdict"] == "warning" and "HybridCache" in entries["transformers"]["notes"][0]
    assert entries["accelerate"]["verdict"] == "error"  # GD304: 4.x needs >= 0.26.0
    assert entries["unsloth_zoo"]["verdict"] == "error"  # GD303
    assert entries["torch"]["verdict"] == "ok"


def test_env_reads_dist_info_without_imports(tmp_path):
    site = tmp_path / "site"
    (site / "transformers-4.51.3.dist-info").mkdir(parents=True)
    (site / "accelerate-1.6.0.dist-info").mkdir()
    from gemma_doctor.sources.versions import installed_versions

    found = {v.package: v.version for v in installed_versions([str(site)])}
    assert found == {"transformers": "4.51.3", "accelerate": "1.6.0"}


def test_pins_in_the_project_beat_installed_versions(tmp_path):
    shutil.copytree(
        ROOT / "fixtures/GD202/fail-trainer-eval",
        tmp_path / "p",
    )
    freeze = tmp_path / "freeze.txt"
    freeze.write_text("transformers==4.57.1\naccelerate==1.10.0\n")
    report = run_cli("check", str(tmp_path / "p"), "--env", str(freeze), "--format", "json").json()
    assert any(f["rule"] == "GD202" for f in report["findings"])  # requirements.txt pins 4.50.0


def test_catalogue_entries_validate_against_schema():
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "rules/rule.schema.json").read_text())
    for path in sorted((ROOT / "rules").glob("GD*.yaml")):
        entry = yaml.safe_load(path.read_text())
        jsonschema.validate(entry, schema)
        assert path.stem == entry["id"]


def test_catalogue_index_is_current():
    from gemma_doctor.knowledge import build_index

    index = json.loads((ROOT / "rules/index.json").read_text())
    assert index == json.loads(json.dumps(build_index())), "run: python -m gemma_doctor.knowledge"


def test_the_typed_requests_hold_every_option_of_their_command():
    """requests.CheckRequest / FixRequest have a field for each option of check / fix in cli.COMMANDS,
    and nothing else but cwd: the CLI boundary cannot drift from the option table."""
    from gemma_doctor.cli import COMMANDS
    from gemma_doctor.requests import CheckRequest, FixRequest

    for command, kind in (("check", CheckRequest), ("fix", FixRequest)):
        dests = {option.dest for option in COMMANDS[command][1]}
        assert set(kind.__record_fields__) - {"cwd", "fail_on"} == dests - {"fail_on"}, command


def test_a_bad_compute_capability_names_its_own_flag():
    result = run_cli("check", str(BROKEN), "--env", "none", "--compute-capability", "abc")
    assert result.code == 2
    assert (
        result.err.strip()
        == "gemma-doctor: error: --compute-capability: compute capability must look like 7.5, not 'abc'"
    )


def test_explain_fix_quiet_and_statistics_as_ruff_users_type_them(tmp_path):
    """`explain GD101` is `rule GD101`; `check --fix` applies the safe fixes and reports what is left; text
    findings point to their doc; --quiet prints the findings alone; --statistics counts them per rule."""
    assert run_console("explain", "GD101", cwd=ROOT).out == run_console("rule", "GD101", cwd=ROOT).out
    import shutil

    project = tmp_path / "p"
    shutil.copytree(EXAMPLES / "verify-hybridcache", project)
    before = run_cli("check", ".", "--env", "none", cwd=project).out
    assert "(gemma-doctor rule GD202)" in before
    fixed = run_cli("check", ".", "--env", "none", "--fix", "--format", "json", cwd=project)
    assert "fixed 1 finding" in fixed.err and "GD202" not in {f["rule"] for f in fixed.json()["findings"]}
    quiet = run_cli("check", str(BROKEN), "--env", "none", "--quiet").out.splitlines()
    assert quiet and all(" [" in line and "(gemma-doctor rule GD" in line for line in quiet)
    stats = run_cli("check", str(BROKEN), "--env", "none", "--statistics").out.splitlines()
    assert stats == ["    2  GD103  conflicting-precision", "    1  GD101  fp16-on-gemma3"]


def test_trace_shows_why_gd101_fired_on_the_broken_example():
    """check --trace on examples/gemma3-broken: for GD101, the fp16 line, the precedence against the accelerate
    and DeepSpeed files, and where the weights' dtype comes from; JSON carries the same lines as `trace`."""
    report = json.loads(
        run_console("check", "examples/gemma3-broken", "--format", "json", "--env", "none", "--trace", cwd=ROOT).out
    )
    gd101 = next(f for f in report["findings"] if f["rule"] == "GD101")
    trace = gd101["trace"]
    assert trace[0].startswith("rule GD101: ")
    [precision] = [line for line in trace if line.startswith("precision: ")]
    assert precision.startswith("precision: fp16 (training arguments set fp16)")
    assert "fp16 = True at examples/gemma3-broken/train.yaml:10:1" in precision
    assert "mixed_precision = 'bf16' at examples/gemma3-broken/accelerate.yaml:3:1" in precision
    assert "at examples/gemma3-broken/ds_zero2.json:3:5" in precision
    [weights] = [line for line in trace if line.startswith("weights: ")]
    assert weights.startswith("weights: bfloat16") and "examples/gemma3-broken/train.yaml:" in weights
    assert "transformers: 4.50.0 (examples/gemma3-broken/requirements.txt:2:1)" in trace
    text = run_console("check", "examples/gemma3-broken", "--env", "none", "--trace", cwd=ROOT).out
    assert "  = trace: precision: fp16 (training arguments set fp16)" in text
    plain = json.loads(
        run_console("check", "examples/gemma3-broken", "--format", "json", "--env", "none", cwd=ROOT).out
    )
    assert all("trace" not in finding for finding in plain["findings"])


def _on_a_terminal(args: list[str], cwd, columns: int) -> str:
    """The console script's stdout on a pseudo-terminal of ``columns`` (what a user in a shell sees)."""
    import pty

    exe = Path(sys.executable).parent / "gemma-doctor"
    leader, follower = pty.openpty()
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1")
    env.pop("GITHUB_ACTIONS", None)
    proc = subprocess.Popen([str(exe), *args], cwd=cwd, stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_long_messages_wrap_on_a_terminal_and_never_in_a_pipe():
    args = ["check", "examples/gemma3-broken", "--env", "none"]
    piped = run_console(*args, cwd=ROOT).out
    findings = [line for line in piped.splitlines() if " GD" in line and "[" in line and not line.startswith(" ")]
    assert any(len(line) > 200 for line in findings)  # the messages are long: one line each off a terminal
    shown = _on_a_terminal(args, ROOT, 100)
    assert max(len(line) for line in shown.splitlines()) <= 100, shown
    # the same words, each finding's first line still path:line:col: GDxxx [severity], continuations indented
    assert shown.split() == piped.split()
    first_lines = [line for line in shown.splitlines() if not line.startswith(" ")]
    assert [line.split(" [")[0] for line in first_lines if " GD" in line] == [line.split(" [")[0] for line in findings]


@pytest.mark.parametrize(
    "load, transformers, safety",
    [
        (', torch_dtype="auto"', "4.57.6", "unsafe"),  # the load is rewritten to float32 with fp16 off
        (", torch_dtype=torch.float32", "4.57.6", "unsafe"),  # fp16 off alone makes it fp32
        ("", "5.25.0", "display-only"),  # 5.x loads the config's bfloat16, which no keyword here says
    ],
)
def test_the_fp32_fix_on_a_t4_makes_the_run_fp32_or_is_advice(tmp_path, load, transformers, safety):
    """fp16 off alone leaves bf16 weights bf16: emulated bf16, not the fp32 the fix promises. So the fix also
    loads the model in float32 where the load says its dtype, and is advice naming the load elsewhere."""
    (tmp_path / "config.json").write_text(
        json.dumps({"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "torch_dtype": "bfloat16"})
    )
    (tmp_path / "requirements.txt").write_text(f"transformers=={transformers}\ntrl==0.24.0\n")
    (tmp_path / "train.py").write_text(
        "import torch\nfrom transformers import AutoModelForCausalLM\nfrom trl import SFTConfig, SFTTrainer\n"
        f'model = AutoModelForCausalLM.from_pretrained("."{load})\n'
        'args = SFTConfig(output_dir="o", fp16=True, bf16=False)\nSFTTrainer(model=model, args=args).train()\n'
    )
    report = run_console("check", ".", "--gpu", "T4", "--format", "json", cwd=tmp_path).json()
    (gd101,) = [f for f in report["findings"] if f["rule"] == "GD101"]
    assert gd101["fix"]["safety"] == safety
    if safety == "display-only":
        assert "torch_dtype=torch.float32" in gd101["fix"]["title"] and "bfloat16" in gd101["fix"]["title"]
    run_console("fix", ".", "--gpu", "T4", "--unsafe-fixes", "--write", cwd=tmp_path)
    text = (tmp_path / "train.py").read_text()
    after = run_console("check", ".", "--gpu", "T4", "--format", "json", "--trace", cwd=tmp_path).json()
    if safety == "display-only":  # advice is never written
        assert "fp16=True" in text and any(f["rule"] == "GD101" for f in after["findings"])
        return
    assert "fp16=False" in text and not any(f["rule"] == "GD101" for f in after["findings"])
    if "auto" in load:  # read back: the load the fix wrote is float32
        assert 'from_pretrained(".", torch_dtype="float32")' in text


@pytest.mark.parametrize("option", ["--config=--", "--gpu=--", "--env=--"])
def test_a_double_dash_given_as_a_value_is_one_usage_line(tmp_path, option):
    """argparse 3.11 turns `--config=--` into [] and the check went on as if no option were given (3.13's
    argparse keeps '--', which the option then refuses itself): either way, one usage line."""
    result = run_cli("check", option, str(tmp_path))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "--" in result.err.split(":", 2)[-1], result.err
    if sys.version_info < (3, 13):
        assert "needs a value, and '--' is not one" in result.err, result.err


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_gemma_doctor_jobs_must_be_a_number_of_processes(tmp_path, value, monkeypatch):
    monkeypatch.setenv("GEMMA_DOCTOR_JOBS", value)
    result = run_cli("check", str(tmp_path))
    assert result.code == 2 and "GEMMA_DOCTOR_JOBS must be a whole number" in result.err, result.err
