"""The README's copy-paste snippets work: the pre-commit config validates and names real hooks,
and the GitHub Actions steps that call gemma-doctor run as written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import EXAMPLES, ROOT, run_cli

README = (ROOT / "README.md").read_text()


def snippet(name: str) -> str:
    match = re.search(rf"<!-- snippet: {name} -->\n```yaml\n(.*?)```", README, re.S)
    assert match, f"README has no {name} snippet"
    return match.group(1)


def test_pre_commit_snippet_validates_and_names_real_hooks(tmp_path):
    pytest.importorskip("pre_commit")
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(snippet("pre-commit"))
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    used = {hook["id"] for repo in yaml.safe_load(config.read_text())["repos"] for hook in repo["hooks"]}
    assert used <= hooks and hooks == {"gemma-doctor", "gemma-doctor-fix", "gemma-doctor-env"}
    manifest = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
    )
    assert manifest.returncode == 0, manifest.stdout


def test_github_actions_steps_run(tmp_path):
    workflow = yaml.safe_load(snippet("github-actions"))
    steps = workflow["jobs"]["check"]["steps"]
    commands = [step["run"] for step in steps if "run" in step and step["run"].startswith("gemma-doctor")]
    assert len(commands) == 2
    project = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "gemma3-clean", project)
    for command in commands:
        result = run_cli(*shlex.split(command)[1:], cwd=project)
        assert result.code == 0, (command, result.out, result.err)
    assert '"version": "2.1.0"' in (project / "gemma-doctor.sarif").read_text()


def test_the_snippets_pin_a_commit_of_this_repository():
    """A clone of main carries no tags (tags do not travel with it), so the snippets pin a commit hash, the same
    in both, and it is a commit of this repository's history."""
    rev = yaml.safe_load(snippet("pre-commit"))["repos"][0]["rev"]
    assert re.fullmatch(r"[0-9a-f]{40}", rev), rev
    assert f'@{rev}"' in snippet("github-actions")
    assert "pip install gemma-doctor" not in README and "gemma-doctor[" not in README  # nothing is published
    if (ROOT / ".git").exists():
        known = subprocess.run(["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True)
        assert known.returncode == 0, f"{rev} is not a commit of this repository"


@pytest.mark.slow
def test_the_pre_commit_snippet_works_from_a_tagless_clone(tmp_path):
    """The snippet as written, against `git clone --no-tags` of this repository: the hook installs from the
    pinned commit and blocks a project with fp16 on Gemma 3."""
    pytest.importorskip("pre_commit")
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "gemma-doctor"
    subprocess.run(["git", "clone", "-q", "--no-tags", str(ROOT), str(clone)], check=True)
    assert subprocess.run(["git", "tag"], cwd=clone, capture_output=True, text=True).stdout == ""
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES / "gemma3-broken", project)
    (project / ".pre-commit-config.yaml").write_text(snippet("pre-commit").replace("../gemma-doctor", str(clone)))
    for command in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(command, cwd=project, check=True)
    env = {**__import__("os").environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    run = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "gemma-doctor", "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # blocked: GD101
    assert "GD101 [error]" in run.stdout and "did not match" not in run.stdout + run.stderr


@pytest.mark.slow
@pytest.mark.parametrize("trl", [None, "0.15.2"])
def test_the_verify_extra_installs_beside_the_hybridcache_stack(tmp_path, trl):
    """`pip install '.[verify]'` resolves beside transformers 4.50.0 and accelerate 1.5.2 (with and without
    trl 0.15.2), the stack whose crash verify reproduces: its floors must not exclude it."""
    pins = ["transformers==4.50.0", "accelerate==1.5.2", *([f"trl=={trl}"] if trl else [])]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            "-",
            f"{ROOT}[verify]",
            *pins,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    installed = {
        item["metadata"]["name"].lower(): item["metadata"]["version"] for item in json.loads(done.stdout)["install"]
    }
    assert installed["transformers"] == "4.50.0" and installed["accelerate"] == "1.5.2"
    if trl:
        assert installed["trl"] == trl
