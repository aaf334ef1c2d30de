"""The three pre-commit hooks, for real: `pre-commit try-repo` against a temporary git repository.
pre-commit installs this repository into its own virtualenv (from PyPI for the dependencies)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow
pytest.importorskip("pre_commit")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    path = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    return dict(
        os.environ,
        PRE_COMMIT_HOME=str(home),
        PATH=path,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@e",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@e",
    )


def _repo(tmp_path: Path, example: str, env) -> Path:
    repo = tmp_path / example
    shutil.copytree(EXAMPLES / example, repo)
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "init"]):
        subprocess.run(command, cwd=repo, env=env, check=True)
    return repo


def try_repo(repo: Path, hook: str, env, *files: str):
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--files", *files]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=600)


def test_check_hook_red_and_green_with_context(tmp_path, env):
    red = try_repo(_repo(tmp_path, "gemma3-broken", env), "gemma-doctor", env, "train.yaml")
    assert red.returncode == 1, red.stdout + red.stderr
    assert "train.yaml:10:1: GD101 [error]" in red.stdout
    # Only train.yaml was passed; the DeepSpeed file its run names is judged with it.
    assert "ds_zero2.json:3:5: GD103 [error]" in red.stdout
    green = try_repo(_repo(tmp_path, "gemma3-clean", env), "gemma-doctor", env, "train.yaml", "model/config.json")
    assert green.returncode == 0, green.stdout + green.stderr


def test_fix_hook_fails_once_then_passes(tmp_path, env):
    repo = _repo(tmp_path, "verify-hybridcache", env)  # GD202's safe fix: text_config.use_cache false
    first = try_repo(repo, "gemma-doctor-fix", env, "model/config.json", "train.yaml")
    assert first.returncode == 1 and "files were modified by this hook" in first.stdout
    assert '"use_cache": false' in (repo / "model/config.json").read_text()
    second = try_repo(repo, "gemma-doctor-fix", env, "model/config.json", "train.yaml")
    assert second.returncode == 0, second.stdout


def test_env_hook_uses_the_installed_environment(tmp_path, env):
    """evaluation_strategy is a warning when the version is unknown (the isolated hook) and an error
    against the transformers installed here (>= 4.51, the system hook)."""
    transformers = pytest.importorskip("transformers")

    repo = tmp_path / "env-project"
    repo.mkdir()
    (repo / "train.yaml").write_text(
        "model_name_or_path: google/gemma-3-1b-it\noutput_dir: o\nlearning_rate: 1.0e-4\n"
        "bf16: true\nevaluation_strategy: steps\n"
    )
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "init"]):
        subprocess.run(command, cwd=repo, env=env, check=True)
    isolated = try_repo(repo, "gemma-doctor", env, "train.yaml")
    assert isolated.returncode == 0, isolated.stdout
    system = try_repo(repo, "gemma-doctor-env", env, "train.yaml")
    assert system.returncode == 1, system.stdout
    assert f"this project uses {transformers.__version__}" in system.stdout


def test_real_commits_touching_only_config_or_requirements_are_judged_with_their_run(tmp_path, env):
    """Two real commits got through before: one that re-pinned transformers 4.50.0 in requirements.txt,
    one that dropped text_config.use_cache: false from model/config.json. Through the installed hook,
    each now fails with GD202: the run that reads the changed file is re-checked."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    repo = tmp_path / "project"
    shutil.copytree(EXAMPLES / "verify-hybridcache", repo)
    config, requirements = repo / "model/config.json", repo / "requirements.txt"
    cache_on, pinned_450 = config.read_text(), requirements.read_text()
    assert '"use_cache"' not in cache_on and "transformers==4.50.0" in pinned_450
    cache_off = cache_on.replace('"text_config": {', '"text_config": {\n    "use_cache": false,', 1)
    pinned_451 = pinned_450.replace("transformers==4.50.0", "transformers==4.51.3")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {head}\n    hooks:\n      - id: gemma-doctor\n"
    )

    def git(*args, check=True):
        return subprocess.run(
            ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=check, timeout=600
        )

    requirements.write_text(pinned_451)  # green: the crash is fixed in 4.51
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "init", "--no-verify")
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env, check=True, capture_output=True)

    requirements.write_text(pinned_450)  # touches only requirements.txt
    git("add", "requirements.txt")
    repinned = git("commit", "-m", "pin transformers back to 4.50.0", check=False)
    assert repinned.returncode != 0 and "GD202" in repinned.stdout + repinned.stderr, repinned.stdout + repinned.stderr

    config.write_text(cache_off)  # green again: 4.50.0 with the cache off where the model reads it
    git("add", "-A")
    git("commit", "-qm", "4.50.0 with the cache off")
    config.write_text(cache_on)  # touches only model/config.json
    git("add", "model/config.json")
    dropped = git("commit", "-m", "drop text_config.use_cache", check=False)
    assert dropped.returncode != 0 and "GD202" in dropped.stdout + dropped.stderr, dropped.stdout + dropped.stderr
