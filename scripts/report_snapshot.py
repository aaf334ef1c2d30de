"""Every JSON report gemma-doctor gives on this repository's examples, fixtures and corpus, with no
GPU, a T4 and an A100, in one file: run it before and after a change that must not change a report,
then ``diff`` the two files.

usage: python scripts/report_snapshot.py OUT.json [GEMMA_DOCTOR]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = {"nogpu": [], "T4": ["--gpu", "T4"], "A100": ["--gpu", "A100"]}


def projects() -> list[Path]:
    found = [p for p in sorted((ROOT / "examples").iterdir()) if p.is_dir()]
    found += [p for p in sorted((ROOT / "fixtures").glob("GD*/*")) if p.is_dir() and not p.name.endswith(".fixed")]
    found += [p for p in sorted((ROOT / "corpus").iterdir()) if p.is_dir()]
    return found


def main() -> int:
    out = Path(sys.argv[1])
    tool = sys.argv[2] if len(sys.argv) > 2 else shutil.which("gemma-doctor") or "gemma-doctor"
    reports = {}
    for project in projects():
        for variant, extra in VARIANTS.items():
            result = subprocess.run(
                [tool, "check", ".", "--format", "json", "--env", "none", "--exit-zero", *extra],
                cwd=project,
                capture_output=True,
                text=True,
            )
            try:
                report = json.loads(result.stdout)
            except ValueError:
                report = {"stdout": result.stdout, "stderr": result.stderr, "code": result.returncode}
            reports[f"{project.relative_to(ROOT)} [{variant}]"] = report
    out.write_text(json.dumps(reports, indent=1, sort_keys=True) + "\n")
    print(f"{len(reports)} reports written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
