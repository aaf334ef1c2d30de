"""One process of ``verify --launch``: ``accelerate launch`` starts this on every GPU.

Usage (internal): python -m gemma_doctor.verify.worker PLAN.json RESULT.json STEPS
"""

from __future__ import annotations

import json
import os
import sys

from gemma_doctor.verify.plan import VerifyPlan
from gemma_doctor.verify.run import run


def main(plan_path: str, result_path: str, steps: str) -> int:
    with open(plan_path, encoding="utf-8") as handle:
        plan = VerifyPlan(**json.load(handle))
    result = run(plan, "auto", int(steps), launched=True)
    rank = int(os.environ.get("RANK", "0"))
    if rank == 0:
        with open(result_path, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "status": result.status,
                    "device": result.device,
                    "versions": result.versions,
                    "steps": result.steps,
                    "eval_loss": result.eval_loss,
                    "rule": result.rule,
                    "message": result.message,
                    "frame": result.frame,
                    "coverage": result.coverage,
                    "exercised": result.exercised,
                    "world_size": int(os.environ.get("WORLD_SIZE", "1")),
                },
                handle,
            )
    return 0 if result.status == "passed" else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
