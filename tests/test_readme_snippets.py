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


def test_the_snippets_name_the_release_tag_of_this_version():
    """`rev:` and the git install name `v<version>`, the tag a release gets (issue 13: v0.1.0 never did).

    The version is checked in any checkout. That the tag exists is checked where the checkout has tags:
    a CI clone may carry none at all, and then there is nothing to look the tag up in."""
    from gemma_doctor import __version__

    rev = yaml.safe_load(snippet("pre-commit"))["repos"][0]["rev"]
    assert f'@{rev}"' in snippet("github-actions")
    assert rev == f"v{__version__}", f"the snippets name {rev}, but this is version {__version__}"
    assert "pip install gemma-doctor" not in README and "gemma-doctor[" not in README  # nothing is published
    if not (ROOT / ".git").exists():
        return
    tags = subprocess.run(["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if tags:
        assert rev in tags, f"{rev} is not a tag of this repository (it has {', '.join(tags)})"
