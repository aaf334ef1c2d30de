"""Hold the block-YAML reader to PyYAML on a tree of real files.

    python scripts/yaml_differential.py DIR [DIR ...]

For every .yaml/.yml file: read by ``yamlblock`` (and then equal to PyYAML's values and
positions), left to PyYAML, or wrong. Prints the counts and each wrong file; exits 1 if any.
Run it on mirrored public projects (Axolotl, LLaMA-Factory, PEFT...); the test suite runs the
same comparison on this repository's files and on generated documents.
"""

from __future__ import annotations

import math
import os
import sys

from gemma_doctor.yamlblock import read_block_yaml
from gemma_doctor.yamlpos import parse_yaml_with_pyyaml


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return same(list(a), list(b)) and same(list(a.values()), list(b.values()))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def main(roots: list[str]) -> int:
    counts = {"read here": 0, "left to PyYAML": 0, "wrong": 0}
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                if not name.endswith((".yaml", ".yml")):
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                got = read_block_yaml(text)
                if got is None:
                    counts["left to PyYAML"] += 1
                    continue
                try:
                    expected = parse_yaml_with_pyyaml(text)
                    right = same(got[0], expected.value) and same(
                        list(got[1].items()), list(expected.positions.items())
                    )
                except ValueError:
                    right = False
                counts["wrong" if not right else "read here"] += 1
                if not right:
                    print(f"wrong: {path}")
    print(", ".join(f"{name}: {count}" for name, count in counts.items()))
    return 1 if counts["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
