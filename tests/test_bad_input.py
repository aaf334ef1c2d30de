"""Broken and hostile files: one line under errors, exit 2, no traceback, and every
other file is still checked."""

from __future__ import annotations

import json
import os

import pytest
from conftest import FIXTURES, run_console

GOOD_CONFIG = (FIXTURES / "GD102" / "fail-config-float16" / "config.json").read_bytes()


def _project(tmp_path, name, data):
    project = tmp_path / "project"
    (project / "model").mkdir(parents=True)
    (project / "model" / "config.json").write_bytes(GOOD_CONFIG)  # a real finding that must survive
    target = project / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        target.write_bytes(data)
    else:
        target.write_text(data)
    return project


ALIAS_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    + "output_dir: x\nfp16: true\n"
)

CASES = {
    "empty config.json": ("other/config.json", b"", "empty file"),
    "binary config.json": ("other/config.json", b"\x00\x01\x02binary", "binary file"),
    "not utf-8": ("train.yaml", b"fp16: \xff\xfe true\n", "not UTF-8 (byte 0xff at offset 6)"),
    "not utf-8 after a BOM": ("train.yaml", b"\xef\xbb\xbffp16: \xfe true\n", "not UTF-8 (byte 0xfe at offset 9)"),
    "invalid json": ("other/config.json", b'{"model_type": "gemma3_text",', "invalid JSON"),
    "deep json": ("args.json", b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    "deep yaml": ("train.yaml", ("a:\n" + "".join(" " * i + "b:\n" for i in range(1, 1500))).encode(), "nesting depth"),
    "alias bomb": ("train.yaml", ALIAS_BOMB.encode(), "alias bomb"),
    "wrong json type": ("other/config.json", b"[1, 2, 3]", None),
    "invalid notebook": ("nb.ipynb", b"{not json", "not a notebook"),
    "syntax error": (
        "train.py",
        b"from transformers import TrainingArguments\nargs = TrainingArguments(fp16=True\n",
        "syntax error",
    ),
    "bad toml": ("pyproject.toml", b"[project\nname=", "invalid TOML"),
    "huge yaml": ("train.yaml", b"# " + b"x" * (5 * 1024 * 1024) + b"\n", "file too large"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_file_is_one_line_and_the_rest_is_checked(tmp_path, name):
    relative, data, reason = CASES[name]
    project = _project(tmp_path, relative, data)
    result = run_console("check", ".", "--format", "json", "--env", "none", cwd=project)
    assert "Traceback" not in result.err
    report = result.json()
    assert any(f["rule"] == "GD102" and f["path"] == "model/config.json" for f in report["findings"]), report
    if relative.endswith("config.json") and name != "binary config.json":
        # Text that from_pretrained cannot parse as a config is the project's problem: one GD401 finding
        # (exit 1), whether it does not parse or parses to a list, and no error line repeating it.
        gd401 = [f for f in report["findings"] if f["rule"] == "GD401" and f["path"] == relative]
        assert len(gd401) == 1 and (reason or "JSON object") in gd401[0]["message"], gd401
        assert not [e for e in report["errors"] if e["path"] == relative], report["errors"]
        assert result.code == 1
        return
    if name == "syntax error":  # one statement skipped, the rest read: partly read, a warning, not exit 2
        assert not report["errors"] and result.code == 1  # GD102's error, nothing else
        partly = [p for p in report["partly_read"] if p["path"] == relative]
        assert len(partly) == 1 and reason in partly[0]["message"] and report["summary"]["partly_read"] == 1
        return
    assert result.code == 2
    errors = [e for e in report["errors"] if e["path"] == relative]
    assert len(errors) == 1 and "\n" not in errors[0]["message"], report["errors"]
    assert reason in errors[0]["message"]
    assert report["summary"]["unreadable"] == len(report["errors"])
    # a file that is not text is an error line only, never also a finding
    assert not any(f["path"] == relative for f in report["findings"])


def test_text_output_names_the_file_in_one_line(tmp_path):
    project = _project(tmp_path, "train.yaml", b"fp16: \xff true\n")
    result = run_console("check", ".", "--env", "none", cwd=project)
    assert result.code == 2 and "Traceback" not in result.err
    lines = [line for line in result.out.splitlines() if line.startswith("train.yaml")]
    assert lines == ["train.yaml: error: not UTF-8 (byte 0xff at offset 6)"], result.out
    assert result.out.splitlines()[-1].endswith(" 1 file could not be read.")


def test_truncated_model_config_is_one_line_without_a_doubled_word(tmp_path):
    project = _project(tmp_path, "other/config.json", b'{\n  "model_type": "gemma3_text",\n  "x": "abc')
    result = run_console("check", ".", "--env", "none", cwd=project)
    lines = [line for line in result.out.splitlines() if line.startswith("other/config.json")]
    assert len(lines) == 1 and "GD401" in lines[0], result.out
    # json says "Unterminated string starting at", and the position follows it once
    assert "Unterminated string starting at line 3 column 8." in lines[0] and "at at" not in lines[0]
    assert result.code == 1


def test_symlink_loop_argument(tmp_path):
    loop = tmp_path / "loop.yaml"
    os.symlink(loop, loop)
    result = run_console("check", str(loop), "--format", "json", "--env", "none", cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.err
    assert json.loads(result.out)["errors"][0]["message"] == "symbolic link loop"


def test_missing_path_is_an_input_error(tmp_path):
    result = run_console("check", "nope/train.yaml", "--env", "none", cwd=tmp_path)
    assert result.code == 2 and "Traceback" not in result.err
    assert "nope/train.yaml" in result.out


def test_pickles_are_never_read(tmp_path):
    """training_args.bin is a pickle: loading it could run code. It is not even opened."""
    project = _project(tmp_path, "training_args.bin", b"\x80\x04\x95 not a real pickle")
    result = run_console("check", ".", "--format", "json", "--env", "none", cwd=project)
    assert result.json()["errors"] == [] and result.code == 1


def test_unknown_rule_and_gpu_are_usage_errors(tmp_path):
    assert run_console("check", ".", "--select", "GD999", cwd=tmp_path).code == 2
    bad_gpu = run_console("check", ".", "--gpu", "TPUv9", cwd=tmp_path)
    assert bad_gpu.code == 2 and "unknown GPU" in bad_gpu.err and "Traceback" not in bad_gpu.err


def test_lfs_pointer_is_reported_once_and_named(tmp_path):
    from conftest import run_cli

    (tmp_path / "config.json").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 855\n")
    result = run_cli("check", str(tmp_path), "--env", "none", "--format", "json")
    report = result.json()
    assert result.code == 2 and report["findings"] == []
    assert [e["message"] for e in report["errors"]] == [
        "config.json is a Git LFS pointer, not the file; run `git lfs pull`"
    ]


def test_empty_and_unlistable_directories_do_not_pass_silently(tmp_path):
    import os

    from conftest import run_cli

    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("check", str(empty), "--env", "none")
    assert result.code == 0 and "no files that gemma-doctor reads under" in result.err
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "train.yaml").write_text("fp16: true\n")
    locked.chmod(0o000)
    try:
        if os.access(locked, os.R_OK):  # root reads anything: nothing to test as root
            return
        result = run_cli("check", str(locked), "--env", "none")
        assert result.code == 2 and "cannot list the directory" in result.out
    finally:
        locked.chmod(0o755)


def test_unwritable_report_path_is_one_line(tmp_path):
    from conftest import run_cli

    result = run_cli("check", str(tmp_path), "--env", "none", "-o", str(tmp_path / "missing-dir" / "out.json"))
    assert result.code == 2 and "cannot write the report" in result.err and "internal error" not in result.err
