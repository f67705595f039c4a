"""The benchmark page says how far the memo-off row is from its target, from the run's figures."""

from __future__ import annotations

import importlib
import math
import sys
from typing import Any

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
realreport: Any = importlib.import_module("realreport")
cpu: Any = importlib.import_module("cpu")


def _real(composing_ms: float | None, floor_ms: float) -> Any:
    """A run's figures: the seed request's CPU per call, ours memo-off and the floor's."""
    figures = {(realreport.FLOOR, realreport.SAME): cpu.Cpu(100, floor_ms / 10)}
    if composing_ms is not None:
        figures[realreport.COMPOSING, realreport.SAME] = cpu.Cpu(100, composing_ms / 10)
    return realreport.Real(
        cpu=figures,
        rss_full_kib={},
        fill_xrs=0,
        fairness=cpu.Fairness(math.nan, math.nan, math.nan, math.nan, 0),
        sizes=[],
        bare_seed_bytes=0,
        parts={},
        peers={},
        before=None,
    )


@pytest.mark.parametrize(
    ("composing_ms", "expected", "why"),
    [
        pytest.param(4.0, "Holding 2.5 x would take 38% of this run's CPU per memo-off call away.",
                     "4 ms against 1 ms is 4 x: 1 - 2.5/4 of the call must go.", id="above"),
        pytest.param(2.5, "This run held 2.5 x for a call composed every time.",
                     "A ratio at the target holds it.", id="at"),
        pytest.param(2.0, "This run held 2.5 x for a call composed every time.",
                     "A ratio below the target holds it.", id="below"),
        pytest.param(None, "This run did not measure a call composed every time.",
                     "No figure is no verdict, not a held target.", id="unmeasured"),
    ],
)  # fmt: skip
def test_the_memo_off_gap_is_worked_out_from_the_run(
    composing_ms: float | None, expected: str, why: str
) -> None:
    """The sentence follows the measured ratio against COMPOSING_TARGET."""
    assert realreport.COMPOSING_TARGET == 2.5
    assert realreport._composing_gap(_real(composing_ms, 1.0)) == expected, why  # noqa: SLF001
