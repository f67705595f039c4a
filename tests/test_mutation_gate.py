"""hack/mutation.py: which modules the gate re-runs, in what order, and what it prints."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SOURCE, TESTS, SAME = "function/source.py", "function/tested.py", "function/same.py"


def _gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_gate", ROOT / "hack" / "mutation.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses resolve their annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _entry(score: float) -> dict[str, Any]:
    killed = round(score * 100)
    return {"mutants": 100, "killed": killed, "equivalent": 0, "survivors": [], "score": score}


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The gate over three modules: source changed, tests changed, and unchanged."""
    module = _gate()
    reasons = {
        SOURCE: "the source changed since",
        TESTS: f"{module.TESTS_CHANGED}: tests/test_x.py",
        SAME: None,
    }
    monkeypatch.setattr(module, "modules", lambda: [SOURCE, TESTS, SAME])
    monkeypatch.setattr(module, "stale", lambda name, _entry: reasons[name])
    return module


@pytest.mark.parametrize(
    ("first_finishes", "budget_left", "tests_rerun", "why"),
    [
        (True, 100.0, True, "Budget left after the changed sources: tests-only ones re-run."),
        (False, 100.0, False, "The changed sources did not finish: nothing more is started."),
        (True, 0.0, False, "No budget left: the tests-only module keeps its committed score."),
    ],
)
def test_changed_sources_first_then_a_sample_of_changed_tests(
    gate: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    first_finishes: bool,
    budget_left: float,
    tests_rerun: bool,
    why: str,
) -> None:
    """A changed source is always re-run first; a tests-only change only with budget to spare."""
    calls: list[tuple[list[str], float]] = []
    clock = iter([0.0, 900.0 - budget_left])
    monkeypatch.setattr(gate.time, "monotonic", lambda: next(clock))

    def rerun(changed: list[str], budget_s: float) -> tuple[dict[str, Any], bool]:
        calls.append((changed, budget_s))
        return {name: _entry(0.95) for name in changed}, first_finishes or len(calls) > 1

    monkeypatch.setattr(gate, "rerun", rerun)
    report = {SOURCE: _entry(0.5), TESTS: _entry(0.8), SAME: _entry(0.99)}
    below = gate.print_all(report, 900.0, measured_only=False)
    assert calls[0] == ([SOURCE], 900.0), why
    assert (len(calls) == 2) is tests_rerun, why
    if tests_rerun:
        assert calls[1] == ([TESTS], budget_left), why
    printed = capsys.readouterr().out
    # The committed 80% of the tests-only module counts against the gate unless re-run.
    assert below == (0 if tests_rerun and first_finishes else 1), why
    assert ("not re-run within the budget: the committed score" in printed) is not tests_rerun, why


def test_report_mode_never_measures_a_module_it_never_measured(
    gate: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Report mode re-runs only modules already in the report, never an unmeasured one."""
    asked: list[list[str]] = []

    def rerun(changed: list[str], _budget_s: float) -> tuple[dict[str, Any], bool]:
        asked.append(changed)
        return {name: _entry(0.95) for name in changed}, True

    monkeypatch.setattr(gate, "rerun", rerun)
    monkeypatch.setattr(gate.time, "monotonic", lambda: 0.0)
    gate.print_all({TESTS: _entry(0.8), SAME: _entry(0.99)}, 900.0, measured_only=True)
    assert asked == [[], [TESTS]]
