"""The benchmark's smoke mode runs end to end, so ``bench/`` never rots.

Only completion and correctness are asserted: zero failed calls and the summary line.
Timings and ratios are reported by the benchmark itself, never asserted here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the benchmark, shortened

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "bench" / "run.py"
DOCS = ROOT / "docs" / "benchmarks.md"
# Generous: the smoke run takes seconds, but CI shares two cores with other tests.
TIMEOUT_S = 300


def test_bench_smoke_completes_without_errors() -> None:
    docs_before = DOCS.read_bytes() if DOCS.exists() else None
    completed = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--no-peers"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    output = f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    assert completed.returncode == 0, output
    summaries = [
        line for line in completed.stdout.splitlines() if line.startswith("bench summary:")
    ]
    assert len(summaries) == 1, output
    assert summaries[0] == completed.stdout.splitlines()[-1], output
    assert " errors=0 " in f" {summaries[0].removeprefix('bench summary:')} ", output
    # The peers are left out: CI need not install them.
    assert "go-templating=not-measured" in summaries[0], output
    # Smoke mode must leave the committed figures alone.
    assert (DOCS.read_bytes() if DOCS.exists() else None) == docs_before
