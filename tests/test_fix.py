"""gemma-doctor fix: exact expected bytes for every fixable fixture, convergence, comment and
format preservation, symlinks (the Hugging Face cache layout), atomicity and read-only files."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import EXAMPLES, FIXTURES, run_cli

FIXABLE = sorted(p for p in FIXTURES.glob("GD*/fail-*") if p.with_name(p.name + ".fixed").is_dir())


def _copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("expected.txt", "messages.txt"))
    return target


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fixture", FIXABLE, ids=[f"{p.parent.name}/{p.name}" for p in FIXABLE])
def test_fix_writes_exactly_the_expected_bytes_and_converges(fixture, tmp_path):
    project = _copy(fixture, tmp_path)
    before = _snapshot(project)
    rule = fixture.parent.name
    result = run_cli("fix", ".", "--write", "--unsafe-fixes", "--env", "none", "--select", rule, cwd=project)
    assert result.code == 0, result.out + result.err
    after = _snapshot(project)
    fixed = fixture.with_name(fixture.name + ".fixed")
    expected = {str(p.relative_to(fixed)): p.read_bytes() for p in fixed.rglob("*") if p.is_file()}
    for name, data in after.items():
        assert data == expected.get(name, before[name]), name
    # The finding is gone, and a second run changes nothing and exits 0.
    report = run_cli("check", ".", "--env", "none", "--select", rule, "--format", "json", cwd=project).json()
    assert [
        f for f in report["findings"] if f["rule"] == rule and f["fix"] and f["fix"]["safety"] != "display-only"
    ] == []
    again = run_cli("fix", ".", "--write", "--unsafe-fixes", "--env", "none", "--select", rule, cwd=project)
    assert again.code == 0 and _snapshot(project) == after and "No fixes applied." in again.out


def test_dry_run_prints_a_diff_and_writes_nothing(tmp_path):
    project = _copy(EXAMPLES / "verify-hybridcache", tmp_path)
    before = _snapshot(project)
    result = run_cli("fix", ".", "--env", "none", cwd=project)
    assert result.code == 0 and _snapshot(project) == before
    assert "--- a/model/config.json\n+++ b/model/config.json\n" in result.out
    assert '+    "use_cache": false\n' in result.out
    broken = run_cli("fix", ".", "--env", "none", cwd=_copy(EXAMPLES / "gemma3-broken", tmp_path))
    assert "more fixes available with --unsafe-fixes (GD101, GD103)" in broken.out
    diff = run_cli("fix", ".", "--diff", "--env", "none", cwd=project)
    assert diff.code == 1 and _snapshot(project) == before


def test_safe_fixes_only_by_default_and_comments_survive(tmp_path):
    project = _copy(EXAMPLES / "gemma3-broken", tmp_path)
    run_cli("fix", ".", "--write", "--env", "none", cwd=project)
    train = (project / "train.yaml").read_text()
    assert "fp16: true   # our cluster has V100s" in train  # unsafe: untouched without --unsafe-fixes
    run_cli("fix", ".", "--write", "--unsafe-fixes", "--env", "none", cwd=project)
    train = (project / "train.yaml").read_text()
    assert "fp16: false   # our cluster has V100s\n" in train
    assert train.startswith("# TRL SFT recipe: trl sft --config train.yaml\n")
    clean = run_cli("check", ".", "--env", "none", cwd=project)
    assert clean.code == 0, clean.out


def test_display_only_advice_merges_into_one_pip_line(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(FIXTURES / "GD302/fail-unsloth-window", project)
    (project / "requirements.txt").write_text("unsloth==2025.6.12\nunsloth_zoo==2025.6.8\ntransformers==4.50.0\n")
    (project / "config.json").write_bytes((FIXTURES / "GD102/pass-config-bfloat16/config.json").read_bytes())
    (project / "train.yaml").write_text(
        "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nbf16: true\n"
        "torch_dtype: bfloat16\neval_strategy: steps\n"
    )
    result = run_cli("fix", ".", "--env", "none", cwd=project)
    line = next(row for row in result.out.splitlines() if "To satisfy every version rule together" in row)
    # Unsloth 2025.6.12's unconditional Requires-Dist (what pip enforces) excludes 4.52.0-4.52.2; the 4.52.3
    # exclusion was only in its `huggingface` extra (knowledge/audit.md row 51).
    assert line.endswith("pip install 'transformers>=4.51.3,!=4.47.0,!=4.52.0,!=4.52.1,!=4.52.2'")


def _hf_cache(tmp_path: Path) -> Path:
    """models--google--gemma-3-1b-it/snapshots/<rev>/config.json -> ../../blobs/<sha>, as huggingface_hub lays it out."""
    repo = tmp_path / "hub" / "models--google--gemma-3-1b-it"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    revision = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs" / "main").write_text(revision)
    blob = repo / "blobs" / "4b1d"
    blob.write_bytes((FIXTURES / "GD102/fail-config-float16/config.json").read_bytes())
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    os.symlink("../../blobs/4b1d", snapshot / "config.json")
    return snapshot


def test_never_writes_through_a_cache_symlink(tmp_path):
    snapshot = _hf_cache(tmp_path)
    blob = (snapshot / "config.json").resolve()
    before = blob.read_bytes()
    result = run_cli("fix", str(snapshot), "--write", "--env", "none")
    assert result.code == 2
    assert "is a symbolic link" in result.out and "load ./model instead of the Hub id" in result.out
    assert blob.read_bytes() == before and (snapshot / "config.json").is_symlink()


def test_the_cache_symlink_advice_works_as_printed_and_copies_no_weights(tmp_path):
    """Newcomer report 3.3: the advice copied the whole snapshot (the weights too), named an unnormalised
    path, and did not say to load the copy. Its commands, run as printed, give a folder whose config.json is
    a file of its own and whose weights are links; fix then writes the copy."""
    import shlex
    import subprocess

    snapshot = _hf_cache(tmp_path)
    (snapshot.parent.parent / "blobs" / "5eed").write_bytes(b"weights")
    os.symlink("../../blobs/5eed", snapshot / "model.safetensors")
    winding = tmp_path / "project" / ".." / snapshot.relative_to(tmp_path)
    (tmp_path / "project").mkdir()
    result = run_cli("fix", str(winding), "--write", "--env", "none")
    advice = next(line for line in result.out.splitlines() if "cp -rs" in line)
    commands = advice[advice.index("cp -rs") : advice.index("; then load")]
    assert "/../" not in commands, commands
    subprocess.run(commands, shell=True, check=True, cwd=tmp_path / "project")
    copy = tmp_path / "project" / "model"
    assert not (copy / "config.json").is_symlink() and (copy / "model.safetensors").is_symlink()
    assert (copy / "model.safetensors").read_bytes() == b"weights"
    fixed = run_cli("fix", str(copy), "--write", "--env", "none")
    assert fixed.code == 0, fixed.out
    assert (snapshot / "config.json").resolve().read_bytes() != (copy / "config.json").read_bytes()
    assert shlex.split(commands)[0] == "cp"


def test_the_summary_counts_only_the_fixes_fix_can_write(tmp_path):
    """A safe fix for a file in the Hugging Face cache (a symlink fix refuses to write through) is not
    "fixable with `gemma-doctor fix --write`": the summary counts what fix will really write."""
    snapshot = _hf_cache(tmp_path)
    through_link = run_cli("check", str(snapshot), "--env", "none")
    assert "GD102" in through_link.out and "fixable with" not in through_link.out, through_link.out
    copied = _copy(FIXTURES / "GD102/fail-config-float16", tmp_path)
    plain = run_cli("check", str(copied), "--env", "none")
    assert "1 fixable with `gemma-doctor fix --write`." in plain.out, plain.out


def test_read_only_file_is_not_changed(tmp_path):
    project = _copy(FIXTURES / "GD102/fail-config-float16", tmp_path)
    config = project / "config.json"
    config.chmod(0o444)
    before = config.read_bytes()
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=project)
    assert result.code == 2 and "read-only" in result.out
    assert config.read_bytes() == before and stat.S_IMODE(config.stat().st_mode) == 0o444


def test_a_write_that_fails_halfway_leaves_the_original(tmp_path, monkeypatch):
    from gemma_doctor import fixer

    project = _copy(FIXTURES / "GD102/fail-config-float16", tmp_path)
    before = (project / "config.json").read_bytes()

    def broken_fsync(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fixer.os, "fsync", broken_fsync)
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=project)
    assert result.code == 2 and "No space left on device" in result.out
    assert (project / "config.json").read_bytes() == before
    assert sorted(p.name for p in project.iterdir()) == ["config.json"]  # no temporary file left behind


def test_file_mode_is_kept(tmp_path):
    project = _copy(FIXTURES / "GD102/fail-config-float16", tmp_path)
    (project / "config.json").chmod(0o640)
    assert run_cli("fix", ".", "--write", "--env", "none", cwd=project).code == 0
    assert stat.S_IMODE((project / "config.json").stat().st_mode) == 0o640


def test_json_insert_follows_sorted_style(tmp_path):
    from gemma_doctor.findings import Edit
    from gemma_doctor.writers.json_writer import apply

    text = json.dumps({"b": 1, "d": {"x": 1}, "f": 2}, indent=2, sort_keys=True) + "\n"
    out = apply(text, [Edit("c.json", "json", ("c",), False), Edit("c.json", "json", ("d", "y"), "v")])
    assert out == '{\n  "b": 1,\n  "c": false,\n  "d": {\n    "x": 1,\n    "y": "v"\n  },\n  "f": 2\n}\n'


def test_notebook_fix_keeps_outputs_and_metadata(tmp_path):
    project = tmp_path / "nb"
    shutil.copytree(
        FIXTURES / "GD202/fail-unsloth-colab-notebook", project, ignore=shutil.ignore_patterns("expected.txt")
    )
    path = project / "Gemma3_(4B).ipynb"
    notebook = json.loads(path.read_text())
    cell = notebook["cells"][5]
    cell["source"] = [line.replace("bf16 = is_bfloat16_supported(),", "bf16 = True,") for line in cell["source"]]
    cell["source"] = [line.replace("fp16 = not is_bfloat16_supported(),", "fp16 = True,") for line in cell["source"]]
    original = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    path.write_text(original)
    result = run_cli("fix", ".", "--write", "--select", "GD103", "--env", "none", cwd=project)
    assert result.code == 0, result.out
    fixed = path.read_text()
    old_lines, new_lines = original.splitlines(), fixed.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(old_lines) == len(new_lines) and changed == [
        ('    "        fp16 = True,\\n",', '    "        fp16 = False,\\n",')
    ]
    assert json.loads(fixed)["cells"][2]["outputs"] == notebook["cells"][2]["outputs"]


def test_a_fix_that_breaks_the_file_is_never_written(tmp_path, monkeypatch):
    from gemma_doctor.writers import json_writer

    project = _copy(FIXTURES / "GD102/fail-config-float16", tmp_path)
    before = (project / "config.json").read_bytes()
    real = json_writer.apply
    monkeypatch.setattr(json_writer, "apply", lambda text, edits: real(text, edits) + "}{")
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=project)
    assert result.code == 2 and "the fix would make the file unreadable; not written" in result.out
    assert (project / "config.json").read_bytes() == before


def test_a_file_changed_after_reading_is_not_written(tmp_path, monkeypatch):
    from gemma_doctor import fixer

    project = _copy(FIXTURES / "GD102/fail-config-float16", tmp_path)
    config = project / "config.json"
    real = fixer.verify

    def verify_then_someone_edits(*args):
        verified = real(*args)
        config.write_text(config.read_text().replace('"vocab_size"', '"vocab_size" ', 1))
        return verified

    monkeypatch.setattr(fixer, "verify", verify_then_someone_edits)
    result = run_cli("fix", ".", "--write", "--env", "none", cwd=project)
    assert result.code == 2 and "changed on disk since it was read; not written" in result.out
    assert '"torch_dtype": "float16"' in config.read_text()
