"""Counts the real-tool suites report, summed into CI's one summary line.

Tests call ``record`` as they go; each count is one JSON line appended to the file named by
``$REALTOOLS_SUMMARY`` (appends of one short line are atomic, so pytest-xdist workers can
share it). ``python tests/realtools/summary.py FILE`` prints the line.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

# The counters, in the order the summary line shows them.
COUNTERS = (
    "examples rendered",
    "rounds",
    "resources validated",
    "objects dry-run",
    "end-to-end Ready",
    "deletions complete",
    "failures",
)
ENV_VAR = "REALTOOLS_SUMMARY"


def record(counter: str, count: int = 1) -> None:
    """Add ``count`` to ``counter`` (a no-op unless ``$REALTOOLS_SUMMARY`` names a file)."""
    if counter not in COUNTERS:
        msg = f"unknown summary counter {counter!r}"
        raise ValueError(msg)
    target = os.environ.get(ENV_VAR)
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(json.dumps({counter: count}) + "\n")


def line(path: Path) -> str:
    """The summary line for the counts recorded in ``path``."""
    totals: Counter[str] = Counter()
    if path.is_file():
        for raw in path.read_text(encoding="utf-8").splitlines():
            totals.update(json.loads(raw))
    return "real tools: " + ", ".join(f"{name} {totals[name]}" for name in COUNTERS)


if __name__ == "__main__":
    sys.stdout.write(line(Path(sys.argv[1])) + "\n")
