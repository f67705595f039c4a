"""Measured durations of the control-plane suite, printed at the end of the run.

``record`` appends one JSON line to the file ``$REALTOOLS_TIMINGS`` names; the terminal
summary prints them in the order they were recorded. Without pytest-xdist the suite names
a file itself; under xdist (``make test``) only a variable set beforehand reaches the
workers, so CI (``.ci/run``) sets it and prints the file with ``python timings.py FILE``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ENV_VAR = "REALTOOLS_TIMINGS"


def record(label: str, value: float, unit: str = "s") -> None:
    """Note a measurement (a no-op unless ``$REALTOOLS_TIMINGS`` names a file)."""
    _append({"label": label, "value": round(value, 1), "unit": unit})


def note(label: str, text: str) -> None:
    """Note an observation that is not a number (printed with the measurements)."""
    _append({"label": label, "text": text})


def _append(entry: dict[str, object]) -> None:
    target = os.environ.get(ENV_VAR)
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


def _line(entry: dict[str, object]) -> str:
    if "text" in entry:
        return f"{entry['label']}: {entry['text']}"
    unit = f" {entry['unit']}" if entry["unit"] else ""
    return f"{entry['label']}: {entry['value']:g}{unit}"


def lines(path: Path) -> list[str]:
    """One line per measurement or observation recorded in ``path``."""
    if not path.is_file():
        return []
    return [_line(json.loads(raw)) for raw in path.read_text(encoding="utf-8").splitlines() if raw]


if __name__ == "__main__":
    for line in lines(Path(sys.argv[1])):
        sys.stdout.write(line + "\n")
