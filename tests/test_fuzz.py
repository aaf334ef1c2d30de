"""A bounded, seeded slice of the fuzz campaign (bench/fuzz.py) in CI: mutated projects through
``check``, ``fix --write`` round trips, and SIGKILLs during ``fix --write``."""

from __future__ import annotations

import random
import shutil
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import fuzz


def test_check_never_crashes_hangs_or_prints_bad_output(tmp_path):
    rng = random.Random(20261128)
    pool = fuzz.seeds()
    problems = []
    for number in range(250):
        project = fuzz.mutated_project(rng.choice(pool), tmp_path / f"c{number}", rng)
        problems += [f"{project.name}: {p}" for p in fuzz.check_case(project, rng)]
        shutil.rmtree(project)
    assert problems == []


def test_fix_round_trips_parse_keep_style_and_converge(tmp_path):
    rng = random.Random(11)
    pool = fuzz.seeds()
    problems = []
    for number in range(60):
        target = tmp_path / f"f{number}"
        if number % 2:
            fuzz.mutated_project(rng.choice(pool), target, rng)
        else:
            fuzz.transformed_project(rng.choice(pool), target, "crlf" if number % 4 == 0 else "bom")
        problems += fuzz.fix_case(target, rng)
    assert problems == []


@pytest.mark.slow
def test_sigkill_during_fix_leaves_original_or_fixed_files(tmp_path):
    rng = random.Random(3)
    fixable = [p for p in fuzz.seeds() if p.name.startswith("fail-") or p.parent.name == "examples"]
    problems = []
    for _trial in range(12):
        seed = rng.choice(fixable)
        reference = fuzz.reference_fix(seed, tmp_path)
        problems += fuzz.kill_case(seed, tmp_path, rng, reference)
    assert problems == []


def test_hostile_files_never_hang_crash_or_hide_a_setting(tmp_path):
    """The second fuzz report's classes (FIFOs in every file slot, a pathological .gitignore, deep TOML,
    keys past PyYAML's limit, Unicode line separators), each kind on several seeds."""
    rng = random.Random(7)
    pool = fuzz.seeds()
    problems = []
    for number in range(40):
        kind = fuzz.HOSTILE[number % len(fuzz.HOSTILE)]
        project = fuzz.hostile_project(rng.choice(pool), tmp_path / f"h{number}", rng, kind)
        problems += [f"{kind} {project.name}: {p}" for p in fuzz.hostile_case(project, rng)]
        shutil.rmtree(project)
    assert problems == []


def test_the_line_separator_oracle_catches_a_reader_that_misses_the_break(tmp_path, monkeypatch):
    import gemma_doctor.sources.document as document

    real = document.parse_yaml
    monkeypatch.setattr(document, "parse_yaml", lambda text: real(text.replace("\u2029", "x").replace("\u2028", "x")))
    seed = ROOT / "fixtures/GD101/fail-trl-yaml"
    project = fuzz.hostile_project(seed, tmp_path / "h", random.Random(1), "line-separator")
    assert any("reads differently from a newline" in p for p in fuzz.hostile_case(project, random.Random(1)))


def test_the_yaml_reader_reads_what_pyyaml_reads(monkeypatch):
    rng = random.Random(2028)
    assert [p for _ in range(3000) for p in fuzz.yaml_case(rng)] == []
    # the oracle can fail: a reader that takes U+2029 for an ordinary character (fuzz N01) is caught
    import gemma_doctor.yamlpos as yamlpos

    real = yamlpos.parse_yaml
    monkeypatch.setattr(yamlpos, "parse_yaml", lambda text: real(text.replace("\u2029", " ")))
    rng = random.Random(2028)
    assert any(p for _ in range(3000) for p in fuzz.yaml_case(rng))
