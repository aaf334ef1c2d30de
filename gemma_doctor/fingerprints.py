"""Stable finding fingerprints: they survive unrelated line shifts.

A fingerprint hashes the rule, the file, the notebook cell and the key path (not
the line), plus an occurrence number for findings that share all of those, so
adding a comment above a finding does not make it "new" in a baseline or in
GitHub code scanning.
"""

from __future__ import annotations

import hashlib
from collections import Counter


def assign(findings) -> None:
    seen: Counter = Counter()
    for finding in findings:  # findings arrive sorted, so occurrence numbers are stable
        loc = finding.location
        base = "\x1f".join([finding.rule, loc.path or "", str(loc.cell or ""), loc.key or "", _stem(finding.message)])
        seen[base] += 1
        finding.fingerprint = hashlib.sha256(f"{base}\x1f{seen[base]}".encode("utf-8", "surrogateescape")).hexdigest()[
            :32
        ]


def _stem(message: str) -> str:
    # Messages may quote versions and values; keep the first clause, which names the problem.
    return message.split(":", 1)[0]
