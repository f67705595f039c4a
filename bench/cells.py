"""How the benchmark writes its figures: ratios, durations, sizes, verdicts and Markdown tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN when the denominator is zero or NaN."""
    if not denominator or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def ms(seconds: float) -> str:
    """Seconds as milliseconds, or n/a."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.2f} ms"


def mib(kib: int) -> str:
    """KiB as MiB."""
    return f"{kib / 1024:.1f} MiB"


def times(value: float) -> str:
    """A ratio, or n/a."""
    return "n/a" if math.isnan(value) else f"{value:.2f} x"


def verdict(held: bool) -> str:  # noqa: FBT001
    """Whether a target held, the misses in bold."""
    return "held" if held else "**not held**"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
