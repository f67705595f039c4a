"""The tool finder and the summary line, on their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from realtools import summary, toolbox

if TYPE_CHECKING:
    from pathlib import Path


def test_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A binary named in the tool's variable is used before ../shared/bin and PATH."""
    binary = tmp_path / "etcd"
    binary.write_text("#!/bin/sh\n")
    monkeypatch.setenv("ETCD_BIN", str(binary))
    assert toolbox.find("etcd") == binary


def test_variable_naming_nothing_finds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variable naming a missing file is a mistake to report, not a cue to look elsewhere."""
    monkeypatch.setenv("ETCD_BIN", str(tmp_path / "absent"))
    assert toolbox.find("etcd") is None


def test_missing_tool_fails_under_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """CI's REQUIRE_ALL_TESTS turns the skip for a missing tool into a failure."""
    monkeypatch.setenv("KUBECTL_BIN", str(tmp_path / "absent"))
    monkeypatch.setenv("REQUIRE_ALL_TESTS", "1")
    with pytest.raises(pytest.fail.Exception, match="KUBECTL_BIN"):
        toolbox.need("kubectl")


def test_summary_sums_every_counter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts from several writers add up, and every counter appears, zero or not."""
    target = tmp_path / "counts"
    monkeypatch.setenv(summary.ENV_VAR, str(target))
    summary.record("rounds", 3)
    summary.record("rounds", 2)
    summary.record("examples rendered")
    assert summary.line(target) == (
        "real tools: examples rendered 1, rounds 5, resources validated 0, objects dry-run 0, "
        "end-to-end Ready 0, deletions complete 0, failures 0"
    )


def test_summary_refuses_unknown_counter() -> None:
    """A misspelt counter would silently never show up in the line."""
    with pytest.raises(ValueError, match="unknown summary counter"):
        summary.record("round")
