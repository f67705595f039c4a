"""The real-tool suites: every test here is marked ``realtools`` and counts its failures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from realtools import summary

if TYPE_CHECKING:
    from collections.abc import Iterable

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: Iterable[pytest.Item]) -> None:
    """Mark the tests of this folder, so ``-m "not realtools"`` leaves them out."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.realtools)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count a failed real-tool test (set-up, call or tear-down) in the summary line."""
    if report.failed and "realtools" in report.keywords:
        summary.record("failures")
