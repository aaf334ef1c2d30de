"""Speed of `verify` against the cost of just importing its stack, in one process.

Goal (issue 5): on an H100 the tiny verify finishes within 5 s of the time to
import torch and transformers' Trainer; on a CPU it finishes in under 60 s.
Usage: python bench/verify_gpu.py PROJECT_DIR
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    project = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/gemma3-clean")
    t0 = time.perf_counter()
    import torch  # noqa: F401
    from transformers import Trainer  # noqa: F401

    t1 = time.perf_counter()
    from gemma_doctor.engine import Options
    from gemma_doctor.verify.command import installed_setup
    from gemma_doctor.verify.plan import make_plan
    from gemma_doctor.verify.run import run

    plan = make_plan(installed_setup(project, Options(env="auto")))
    result = run(plan, "auto", 2)
    t2 = time.perf_counter()
    import_s, verify_s = t1 - t0, t2 - t1
    print(f"device            {result.device}")
    print(f"status            {result.status}")
    print(f"import torch + Trainer   {import_s:6.2f} s")
    print(f"verify after imports     {verify_s:6.2f} s   (goal on an H100: <= 5 s)")
    print(f"total                    {t2 - t0:6.2f} s   (goal on a CPU: < 60 s)")


if __name__ == "__main__":
    main()
