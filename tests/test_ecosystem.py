"""CI formats (SARIF validated against the OASIS schema, GitHub annotations, JUnit), project
configuration, baselines, --add-ignore, Hugging Face cache ids and the generated rule docs."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import EXAMPLES, FIXTURES, ROOT, run_cli, run_console

BROKEN = EXAMPLES / "gemma3-broken"


def test_sarif_validates_against_the_official_schema():
    import jsonschema

    schema = json.loads((ROOT / "tests/data/sarif-schema-2.1.0.json").read_text())
    result = run_cli("check", str(BROKEN), "--env", "none", "--format", "sarif", "--gpu", "T4")
    sarif = json.loads(result.out)
    jsonschema.validate(sarif, schema)
    run = sarif["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    # The help travels inside the report: the project has no public URL yet, so no helpUri points at a guess.
    assert rules["GD202"]["help"]["markdown"].startswith("**Why is this bad?**") and "helpUri" not in rules["GD202"]
    first = run["results"][0]
    region = first["locations"][0]["physicalLocation"]["region"]
    assert first["ruleId"] == "GD103" and region == {"startLine": 3, "startColumn": 1}
    assert all(len(r["partialFingerprints"]["gemmaDoctor/v1"]) == 32 for r in run["results"])


def test_github_annotations_and_auto_selection(tmp_path):
    result = run_console("check", "examples/gemma3-broken", "--env", "none", cwd=ROOT, env={"GITHUB_ACTIONS": "true"})
    lines = result.out.splitlines()
    assert result.code == 1
    assert (
        "::error file=examples/gemma3-broken/train.yaml,line=10,col=1,title=GD101 fp16-on-gemma3::fp16 on a "
        "gemma3 model"
    ) in result.out
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_junit_report_parses():
    out = run_cli("check", str(BROKEN), "--env", "none", "--format", "junit").out
    suite = ElementTree.fromstring(out.split("\n", 1)[1]).find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "2"  # 2 errors fail; 1 warning passes
    assert suite.find("testcase/failure").get("type") == "GD103"


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "repo"
    shutil.copytree(BROKEN, project)
    (project / ".git").mkdir()  # config discovery stops at the repository root
    return project


def test_pyproject_settings_and_show_settings(tmp_path):
    project = _project(tmp_path)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "ft"\nversion = "0"\n\n[tool.gemma-doctor]\nignore = ["GD103"]\ntarget-gpu = "A100"\n'
        'fail-on = "warning"\nseverity = { GD201 = "info" }\nper-file-ignores = { "model/*" = ["GD202"] }\n'
        'env = "none"\n'
    )
    report = run_cli("check", ".", "--format", "json", cwd=project).json()
    rules = {(f["rule"], f["severity"]) for f in report["findings"]}
    assert rules == {("GD101", "error")}  # GD103 ignored; no GD201 on transformers 4.50 with checkpointing
    settings = run_cli("check", ".", "--show-settings", cwd=project)
    assert settings.code == 0
    assert "ignore = GD103    # from " in settings.out and str(project / "pyproject.toml") in settings.out
    assert "target-gpu = A100 (compute capability 8.0)" in settings.out
    assert "select = ALL    # from default" in settings.out
    cli_wins = run_cli("check", ".", "--show-settings", "--gpu", "T4", cwd=project).out
    assert "target-gpu = T4 (compute capability 7.5)    # from command line" in cli_wins


def test_dedicated_config_file_and_unknown_keys(tmp_path):
    project = _project(tmp_path)
    (project / ".gemma-doctor.toml").write_text('select = ["GD2"]\nexclude = ["model/*"]\n')
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=project).json()
    assert report["findings"] == []  # the only GD2 findings are in model/config.json, which is excluded
    (project / ".gemma-doctor.toml").write_text('selekt = ["GD2"]\n')
    bad = run_cli("check", ".", cwd=project)
    assert bad.code == 2 and "unknown setting 'selekt'" in bad.err
    (project / ".gemma-doctor.toml").write_text('ignore = ["GD777"]\n')
    bad = run_cli("check", ".", cwd=project)
    assert bad.code == 2 and "unknown rule id or prefix 'GD777'" in bad.err


def test_baseline_reports_only_new_findings_and_survives_line_shifts(tmp_path):
    project = _project(tmp_path)
    baseline = project / "gemma-doctor-baseline.json"
    first = run_cli("check", ".", "--env", "none", "--baseline", str(baseline), cwd=project)
    assert first.code == 0 and baseline.exists() and len(json.loads(baseline.read_text())["findings"]) == 3
    train = project / "train.yaml"
    train.write_text("# a new comment shifts every line\n\n" + train.read_text())
    shifted = run_cli("check", ".", "--env", "none", "--baseline", str(baseline), "--format", "json", cwd=project)
    assert shifted.code == 0 and shifted.json()["findings"] == []
    train.write_text(train.read_text() + "fp16_full_eval: true\n")
    new = run_cli("check", ".", "--env", "none", "--baseline", str(baseline), "--format", "json", cwd=project).json()
    assert [(f["rule"], f["key"]) for f in new["findings"]] == [("GD101", "fp16_full_eval")]


def test_add_ignore_writes_comments_where_the_format_allows(tmp_path):
    project = _project(tmp_path)
    result = run_cli("check", ".", "--env", "none", "--add-ignore", "adopting gemma-doctor", cwd=project)
    assert "added 2 suppression comments" in result.err
    assert (
        "fp16: true   # our cluster has V100s  # gemma-doctor: ignore[GD101] adopting gemma-doctor"
        in (project / "train.yaml").read_text()
    )
    assert "# gemma-doctor" in (project / "accelerate.yaml").read_text()
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=project).json()
    assert sorted(f["path"] for f in report["findings"]) == ["ds_zero2.json"]  # JSON has no comments


def _hub_cache(tmp_path: Path) -> tuple[Path, str]:
    """models--google--gemma-3-1b-it/{refs/main, blobs/<sha>, snapshots/<rev>/config.json -> ../../blobs/<sha>}."""
    cache = tmp_path / "hf" / "hub"
    repo = cache / "models--google--gemma-3-1b-it"
    revision = "b0d9f1c5c2a6a1a0e9f1c1d8e3a4b5c6d7e8f9a0"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    (repo / "blobs").mkdir()
    for name, source in (("config.json", FIXTURES / "GD102/fail-config-float16/config.json"),):
        blob = repo / "blobs" / f"blob-{name}"
        blob.write_bytes(source.read_bytes())
        snapshot = repo / "snapshots" / revision
        snapshot.mkdir(parents=True, exist_ok=True)
        os.symlink(f"../../blobs/blob-{name}", snapshot / name)
    return cache, revision


def test_hub_id_resolves_to_the_cache_snapshot_offline(tmp_path, monkeypatch):
    cache, revision = _hub_cache(tmp_path)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    report = run_cli("check", "google/gemma-3-1b-it", "--env", "none", "--format", "json", cwd=tmp_path).json()
    assert [f["rule"] for f in report["findings"]] == ["GD102"]
    assert report["findings"][0]["path"].endswith(f"snapshots/{revision}/config.json")
    # huggingface_hub's own reading of the same layout agrees.
    from huggingface_hub import try_to_load_from_cache

    from gemma_doctor.hub import snapshot_path

    theirs = Path(try_to_load_from_cache("google/gemma-3-1b-it", "config.json", cache_dir=str(cache)))
    assert theirs.parent == snapshot_path("google/gemma-3-1b-it")
    missing = run_cli("check", "google/gemma-3-27b-it", cwd=tmp_path)
    assert missing.code == 2 and "not in the Hugging Face cache" in missing.err and "--online" in missing.err
    by_revision = run_cli("check", "google/gemma-3-1b-it", "--revision", revision, "--env", "none", cwd=tmp_path)
    assert "GD102" in by_revision.out


def test_rule_docs_are_generated_and_current(tmp_path):
    from gemma_doctor.ruledocs import write_pages

    pages = write_pages(tmp_path)
    for page in pages:
        assert page.read_text() == (ROOT / "docs" / "rules" / page.name).read_text(), (
            f"docs/rules/{page.name} is stale: python -m gemma_doctor.ruledocs"
        )
    assert len(pages) == len(list((ROOT / "rules").glob("GD*.yaml"))) + 1


def test_online_fetch_fails_clearly_when_offline(tmp_path):
    """In a fresh process: huggingface_hub reads HF_HUB_OFFLINE when it is first imported, so an
    in-process run after another test imported it would really try the network."""
    pytest.importorskip("huggingface_hub")
    result = run_console(
        "check",
        "google/gemma-3-4b-it",
        "--online",
        cwd=tmp_path,
        env={"HF_HUB_CACHE": str(tmp_path / "empty-cache"), "HF_HUB_OFFLINE": "1"},
    )
    assert result.code == 2 and "google/gemma-3-4b-it: could not fetch config.json" in result.err
    assert "Traceback" not in result.err


def test_online_without_a_network_says_so_within_seconds(tmp_path):
    """huggingface_hub's retries took ~25 s without a network; --online now gives up after a 3 s probe of the
    endpoint (here one that never answers: a non-routable address)."""
    pytest.importorskip("huggingface_hub")
    started = time.perf_counter()
    result = run_console(
        "check",
        "google/gemma-3-4b-it",
        "--online",
        cwd=tmp_path,
        env={"HF_HUB_CACHE": str(tmp_path / "empty-cache"), "HF_ENDPOINT": "http://10.255.255.1"},
    )
    elapsed = time.perf_counter() - started
    assert result.code == 2 and "could not fetch config.json" in result.err
    assert len(result.err.strip().splitlines()) == 1 and elapsed < 10, (elapsed, result.err)


def test_notebook_findings_name_the_cell_in_ci_formats():
    notebook = FIXTURES / "GD202/fail-unsloth-colab-notebook"
    github = run_cli("check", str(notebook), "--env", "none", "--format", "github").out
    line = next(row for row in github.splitlines() if "title=GD202" in row)
    assert "line=" not in line and "::On a GPU" not in line and "cell 3, line 4: On a GPU with bf16" in line
    sarif = json.loads(run_cli("check", str(notebook), "--env", "none", "--format", "sarif").out)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "GD202")
    assert "region" not in result["locations"][0]["physicalLocation"]
    assert result["properties"]["cell"] == 3 and result["properties"]["cellLine"] == 4


def test_add_ignore_in_a_notebook_keeps_outputs(tmp_path):
    project = tmp_path / "nb"
    shutil.copytree(
        FIXTURES / "GD202/fail-unsloth-colab-notebook",
        project,
        ignore=shutil.ignore_patterns("expected.txt", "messages.txt"),
    )
    path = project / "Gemma3_(4B).ipynb"
    before = json.loads(path.read_text())
    result = run_cli("check", ".", "--env", "none", "--add-ignore", cwd=project)
    assert "added 2 suppression comments" in result.err
    after = json.loads(path.read_text())
    assert after["cells"][2]["outputs"] == before["cells"][2]["outputs"] and after["metadata"] == before["metadata"]
    assert "# gemma-doctor: ignore[GD202]" in "".join(after["cells"][2]["source"])
    report = run_cli("check", ".", "--env", "none", "--format", "json", cwd=project).json()
    assert report["findings"] == []


def test_the_hub_probe_gives_up_on_its_own_clock(monkeypatch):
    """A name lookup that hangs (getaddrinfo has no timeout) still ends the probe at its timeout; a name that
    does not resolve says so at once."""
    import socket

    from gemma_doctor import hub

    assert "cannot reach no-such-host.invalid:443" in hub._unreachable("https://no-such-host.invalid")

    def hangs(*args, **kwargs):
        time.sleep(5)
        raise OSError("gave up late")  # the probe's thread ends on its own after the test

    monkeypatch.setattr(socket, "create_connection", hangs)
    started = time.perf_counter()
    assert hub._unreachable("https://huggingface.co", timeout=0.5) == "no answer from huggingface.co:443 in 0.5 s"
    assert time.perf_counter() - started < 2
