"""Run gemma-doctor over a corpus of projects and print counts by rule and by run, and, where
the corpus has labels (corpus/labels.json), precision and recall per rule.

    python bench/corpus.py                 # the corpus in this repository, against its labels
    python bench/corpus.py DIR [DIR ...]   # any folders of projects: counts only

A finding is matched to a label by file, line (cell:line for notebooks) and rule.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def check(project: Path, args: list[str]) -> dict:
    command = [
        sys.executable,
        "-m",
        "gemma_doctor",
        "check",
        ".",
        "--env",
        "none",
        "--format",
        "json",
        "--exit-zero",
        *args,
    ]
    out = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)
    if out.returncode not in (0, 2) or not out.stdout.strip():
        raise SystemExit(f"{project}: gemma-doctor failed (exit {out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def key(finding: dict) -> str:
    where = f"{finding['cell']}:{finding['line']}" if finding["cell"] else str(finding["line"])
    return f"{finding['path']}:{where} {finding['rule']}"


def labelled() -> int:
    cases = json.loads((CORPUS / "labels.json").read_text())["cases"]
    true_pos: Counter = Counter()
    false_pos: Counter = Counter()
    false_neg: Counter = Counter()
    by_run: Counter = Counter()
    wrong = []
    for case in cases:
        project = (CORPUS / case["project"]).resolve()
        report = check(project, case["args"])
        found = {key(f) for f in report["findings"]}
        for finding in report["findings"]:
            by_run[(case["project"], finding["run"] or "-")] += 1
        expected = set(case["expect"])
        for item in found:
            rule = item.rsplit(" ", 1)[1]
            if item in expected:
                true_pos[rule] += 1
            else:
                false_pos[rule] += 1
                wrong.append(f"false alarm  {case['project']} {' '.join(case['args'])}: {item}")
        for item in expected - found:
            false_neg[item.rsplit(" ", 1)[1]] += 1
            wrong.append(f"missed       {case['project']} {' '.join(case['args'])}: {item}")
    rules = sorted(set(true_pos) | set(false_pos) | set(false_neg))
    print(f"{len(cases)} labelled cases in {CORPUS.relative_to(ROOT)}/\n")
    print(f"{'rule':<7} {'true':>5} {'false':>6} {'missed':>7} {'precision':>10} {'recall':>7}")
    for rule in rules:
        tp, fp, fn = true_pos[rule], false_pos[rule], false_neg[rule]
        precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        recall = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
        print(f"{rule:<7} {tp:>5} {fp:>6} {fn:>7} {precision:>10} {recall:>7}")
    tp, fp, fn = sum(true_pos.values()), sum(false_pos.values()), sum(false_neg.values())
    print(f"{'all':<7} {tp:>5} {fp:>6} {fn:>7} {tp / max(tp + fp, 1):>10.2f} {tp / max(tp + fn, 1):>7.2f}\n")
    print("findings by run:")
    for (project, run), count in sorted(by_run.items()):
        print(f"  {count:>3}  {project}  run {run}")
    for line in wrong:
        print(line)
    return 1 if wrong else 0


def counts(folders: list[str]) -> int:
    rules: Counter = Counter()
    runs: Counter = Counter()
    for folder in folders:
        for project in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
            report = check(project, [])
            for finding in report["findings"]:
                rules[finding["rule"]] += 1
                runs[(project.name, finding["run"] or "-")] += 1
    for rule, count in sorted(rules.items()):
        print(f"{rule}  {count}")
    print(f"{len(runs)} runs with findings")
    return 0


if __name__ == "__main__":
    raise SystemExit(counts(sys.argv[1:]) if sys.argv[1:] else labelled())
