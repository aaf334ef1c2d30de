"""Every rule's fixtures: each fail-* directory produces exactly the findings in its
expected.txt for that rule; each pass-* directory produces none of that rule."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import FIXTURES, ROOT, run_cli

# fail-NAME.fixed/ beside a fixture holds the exact bytes `fix` must write: not a case of its own.
CASES = sorted(p for p in FIXTURES.glob("GD*/*") if p.is_dir() and not p.name.endswith(".fixed"))


def rule_findings(directory, rule_id, tmp_path):
    # The fixture without its expectation (expected.txt): exactly what a user would have.
    project = tmp_path / directory.name
    shutil.copytree(directory, project, ignore=shutil.ignore_patterns("expected.txt", "messages.txt"))
    result = run_cli("check", ".", "--format", "json", "--env", "none", "--exit-zero", cwd=project)
    assert result.code == 0, result.err
    report = result.json()
    # A sorted list, not a set: a finding reported twice is a defect the test must see.
    found = sorted(
        f"{f['path']}:{'cell {}:'.format(f['cell']) if f['cell'] else ''}{f['line']}:{f['column']} {f['rule']}"
        for f in report["findings"]
        if f["rule"] == rule_id
    )
    return found, report


@pytest.mark.parametrize("directory", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_fixture(directory, tmp_path):
    rule_id = directory.parent.name
    found, report = rule_findings(directory, rule_id, tmp_path)
    if directory.name.startswith("fail"):
        expected = sorted(line for line in (directory / "expected.txt").read_text().split("\n") if line)
        assert found == expected, report
        # The messages themselves, pinned: GEMMA_DOCTOR_UPDATE_SNAPSHOTS=1 rewrites messages.txt.
        messages = "".join(
            sorted(
                f"{f['line']}:{f['column']} {f['rule']} [{f['severity']}] {f['message']}\n"
                for f in report["findings"]
                if f["rule"] == rule_id
            )
        )
        snapshot = directory / "messages.txt"
        if os.environ.get("GEMMA_DOCTOR_UPDATE_SNAPSHOTS") == "1":
            snapshot.write_text(messages)
        assert snapshot.is_file(), f"{snapshot} is missing: run with GEMMA_DOCTOR_UPDATE_SNAPSHOTS=1"
        assert messages == snapshot.read_text()
    else:
        assert found == [], report
        assert report["errors"] == []


def test_every_rule_has_doc_and_both_fixtures():
    from gemma_doctor.checks import registered
    from gemma_doctor.knowledge import catalogue

    docs = catalogue()
    rules = set(registered()) | {"GD901"}
    assert rules == set(docs), "every rule needs a catalogue entry and every entry a rule"
    for rule_id in docs:
        kinds = {p.name.split("-")[0] for p in (FIXTURES / rule_id).iterdir() if p.is_dir() and "." not in p.name}
        assert kinds == {"fail", "pass"}, f"{rule_id} needs fail-* and pass-* fixtures, has {kinds}"


_SAFETY_RANK = {"safe": 0, "unsafe": 1, "display-only": 2, "none": 3}


def test_catalogue_fix_safety_is_the_least_safe_fix_a_rule_emits(tmp_path):
    """The catalogue's fix_safety is the least safe fix the rule's code emits (display-only advice aside): a
    rule documented as safe never applies an unsafe edit, on any fixture, with any kind of GPU."""
    from gemma_doctor.knowledge import catalogue

    emitted: dict[str, set[str]] = {}
    for directory in sorted(p for p in FIXTURES.glob("GD*/fail-*") if p.is_dir() and not p.name.endswith(".fixed")):
        for gpu in ([], ["--gpu", "A100"], ["--gpu", "T4"]):
            report = run_cli("check", str(directory), "--format", "json", "--env", "none", "--exit-zero", *gpu).json()
            for finding in report["findings"]:
                if finding["fix"] and finding["fix"]["safety"] != "display-only":
                    emitted.setdefault(finding["rule"], set()).add(finding["fix"]["safety"])
    docs = catalogue()
    for rule_id, safeties in emitted.items():
        documented = docs[rule_id].fix_safety
        assert all(_SAFETY_RANK[s] <= _SAFETY_RANK[documented] for s in safeties), (rule_id, documented, safeties)


def test_every_fixable_rule_has_the_expected_bytes_after_fix():
    """A rule whose catalogue entry promises an applied fix (safe or unsafe) has at least one
    fail-*.fixed/ folder with the exact bytes `fix` must write."""
    from gemma_doctor.knowledge import catalogue

    for rule_id, doc in catalogue().items():
        if doc.fix_safety in ("safe", "unsafe") and doc.fix_safety != "none":
            fixed = [p for p in (FIXTURES / rule_id).glob("fail-*.fixed") if p.is_dir()]
            assert fixed, f"{rule_id} is fixable ({doc.fix_safety}) but has no fail-*.fixed/ folder"


def test_one_rule_per_module_named_after_its_id_and_name():
    """checks/<id>_<name>.py holds exactly the rule of that catalogue entry, and nothing else does."""
    import importlib

    from gemma_doctor import checks
    from gemma_doctor.knowledge import catalogue

    docs = catalogue()
    modules = sorted(p.stem for p in (ROOT / "gemma_doctor" / "checks").glob("gd*.py"))
    assert modules == sorted(checks.module_name(doc.id, doc.name) for doc in docs.values())
    for doc in docs.values():
        before = set(checks.RULES)
        module = importlib.import_module(f"gemma_doctor.checks.{checks.module_name(doc.id, doc.name)}")
        registered_here = {
            rule_id for rule_id, function in checks.RULES.items() if function.__module__ == module.__name__
        }
        expected = set() if doc.id in checks.ENGINE_RULES else {doc.id}
        assert registered_here == expected, (module.__name__, registered_here)
        assert set(checks.RULES) - before <= expected


def test_a_rule_module_missing_from_the_index_is_one_usage_line(tmp_path, monkeypatch):
    from gemma_doctor import checks

    stray = ROOT / "gemma_doctor" / "checks" / "gd999_not_in_the_index.py"
    stray.write_text('"""A rule the index does not know."""\n')
    try:
        result = run_cli("check", str(ROOT / "examples" / "gemma3-clean"), "--env", "none")
        assert result.code == 2
        assert result.err.strip() == (
            "gemma-doctor: error: rule module gd999_not_in_the_index not in rules/index.json: "
            "run `python scripts/new_rule.py --regenerate`"
        )
        assert checks.unindexed_modules() == ["gd999_not_in_the_index"]
    finally:
        stray.unlink()
