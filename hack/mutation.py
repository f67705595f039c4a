"""Mutation testing as a gate: run mutmut on the modules that decide behaviour, keep the score.

``docs/mutation.json`` holds, per module, the SHA-256 of its source when it was last run and
of each test file that reached it (mutmut's own record of which tests run which function),
how many mutants mutmut made, how many the fast tests killed, which survivors are listed
as equivalent (``docs/mutation-equivalent.yaml``, reviewed, each with its reason) and the
score: killed / (mutants - equivalent). ``docs/mutation.md`` is the same as a table.

    python hack/mutation.py run [MODULE ...]   # re-run modules (default: all), update the report
    python hack/mutation.py check              # re-run what changed since the report, gate
    python hack/mutation.py report             # re-run measured modules that changed; never fail

A module changed when its source or one of its test files did.

A module is a path such as ``function/ordering.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "mutation.json"
STATS = ROOT / "mutants" / "mutmut-stats.json"
TABLE = ROOT / "docs" / "mutation.md"
EQUIVALENT = ROOT / "docs" / "mutation-equivalent.yaml"
MUTANTS = ROOT / "mutants"
MUTMUT = Path(sys.executable).parent / "mutmut"
THRESHOLD = 0.90
# mutmut's exit codes per mutant: the test run failed (or hung, or the type check refused
# the mutant), so the mutant was detected.
DETECTED = {1, 3, 24, -24, 36, 37, 152, 255}
NOT_RUN = None
TESTS_CHANGED = "tests changed since"


@dataclass(frozen=True)
class Score:
    """One module's result in the report."""

    sha256: str
    tests: dict[str, str]  # test file -> its SHA-256, for every file whose tests reached it
    mutants: int
    killed: int
    equivalent: int
    survivors: list[str]  # surviving mutants not listed as equivalent
    seconds: float  # summed test time of its mutants (one core)

    @property
    def score(self) -> float:
        """Killed out of the mutants that are not equivalent (1.0 for a module without any)."""
        real = self.mutants - self.equivalent
        return 1.0 if real <= 0 else self.killed / real


def modules() -> list[str]:
    """The modules under mutation: ``only_mutate`` in pyproject's ``[tool.mutmut]``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    found = {
        path.relative_to(ROOT).as_posix()
        for pattern in config["only_mutate"]
        for path in ROOT.glob(pattern)
        if path.suffix == ".py" and path.name != "__init__.py"
    }
    return sorted(found)


def source_hash(module: str) -> str:
    """SHA-256 of a file (a module or a test file): a changed hash means measuring again."""
    path = ROOT / module
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


def test_hashes() -> dict[str, str]:
    """Every test file's hash, taken before a run: the tests mutmut copied are these."""
    return {
        path.relative_to(ROOT).as_posix(): source_hash(path.relative_to(ROOT).as_posix())
        for path in sorted((ROOT / "tests").rglob("*.py"))
    }


def covering_tests(module: str, before: dict[str, str]) -> dict[str, str]:
    """The test files mutmut ran against ``module``'s functions, hashed as they were run."""
    if not STATS.is_file():
        return {}
    by_function: dict[str, list[str]] = json.loads(STATS.read_text())[
        "tests_by_mangled_function_name"
    ]
    # Functions are mangled as "<dotted module>.x_<name>" or "<dotted module>.xǁClassǁ<name>".
    prefix = _dotted(module) + ".x"
    files = {
        test.split("::", 1)[0]
        for function, tests in by_function.items()
        if function.startswith(prefix) and "." not in function.removeprefix(prefix)
        for test in tests
    }
    return {path: before.get(path, "absent") for path in sorted(files)}


def stale(module: str, entry: dict[str, Any] | None) -> str | None:
    """Why the report's entry no longer holds for ``module`` (None while it does)."""
    if entry is None:
        return "not measured"
    if entry.get("sha256") != source_hash(module):
        return "the source changed since"
    if "tests" not in entry:
        return "measured before its test files were recorded"
    changed = sorted(t for t, h in entry["tests"].items() if source_hash(t) != h)
    return f"{TESTS_CHANGED}: {', '.join(changed)}" if changed else None


def _dotted(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def equivalents() -> dict[str, str]:
    """Surviving mutants reviewed as equivalent (no test can tell them apart), with reasons."""
    if not EQUIVALENT.is_file():
        return {}
    listed = yaml.safe_load(EQUIVALENT.read_text()) or []
    return {str(entry["mutant"]): str(entry["reason"]) for entry in listed}


def measure(module: str, reviewed: dict[str, str], before: dict[str, str]) -> Score | None:
    """The module's score from mutmut's results; None if any of its mutants was not run."""
    meta = MUTANTS / f"{module}.meta"
    if not meta.is_file():
        return None
    data: dict[str, Any] = json.loads(meta.read_text())
    codes: dict[str, int | None] = data["exit_code_by_key"]
    if any(code is NOT_RUN for code in codes.values()):
        return None
    survivors = sorted(name for name, code in codes.items() if code not in DETECTED)
    equivalent = [name for name in survivors if name in reviewed]
    return Score(
        sha256=source_hash(module),
        tests=covering_tests(module, before),
        mutants=len(codes),
        killed=len(codes) - len(survivors),
        equivalent=len(equivalent),
        survivors=[name for name in survivors if name not in reviewed],
        seconds=round(sum(data.get("durations_by_key", {}).values()), 1),
    )


def run_mutmut(chosen: list[str], budget_s: float | None) -> bool:
    """Run mutmut on the mutants of ``chosen``; False if the time budget ran out first."""
    env = {**os.environ}
    # Found as the suite finds it (beside this checkout, or beside the one it was cloned
    # from), and passed on as a path: mutmut runs the tests from a copy in mutants/.
    sys.path.insert(0, str(ROOT / "tests"))
    from crdcheck import crds_dir  # noqa: PLC0415

    env.setdefault("SHARED_CRDS_DIR", str(crds_dir()))
    names = [f"{_dotted(module)}.*" for module in chosen]
    command = [str(MUTMUT), "run", "--max-children", os.environ.get("MUTATION_JOBS", "2"), *names]
    try:
        subprocess.run(command, cwd=ROOT, env=env, check=False, timeout=budget_s)  # noqa: S603
    except subprocess.TimeoutExpired:
        return False
    return True


def load_report() -> dict[str, dict[str, Any]]:
    """The committed report, by module, with survivors reviewed since as equivalent moved over.

    Reviewing a survivor (listing it in the equivalents file) needs no new run of its module.
    """
    if not REPORT.is_file():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(REPORT.read_text())
    reviewed = equivalents()
    for entry in loaded.values():
        listed = [name for name in entry["survivors"] if name in reviewed]
        entry["equivalent"] += len(listed)
        entry["survivors"] = [name for name in entry["survivors"] if name not in reviewed]
        entry["score"] = round(_score(entry), 4)
    return loaded


def write_report(report: dict[str, dict[str, Any]]) -> None:
    """Write the machine-readable report and its table, modules in order."""
    ordered = {module: report[module] for module in sorted(report)}
    REPORT.write_text(json.dumps(ordered, indent=2, sort_keys=True) + "\n")
    rows = [
        f"| `{module}` | {entry['mutants']} | {entry['killed']} | {entry['equivalent']} | "
        f"{len(entry['survivors'])} | {_score(entry):.1%} | {entry['seconds']:.0f} |"
        for module, entry in ordered.items()
    ]
    total = sum(entry["seconds"] for entry in ordered.values())
    TABLE.write_text(
        "# Mutation score per module\n\n"
        "Written by `make mutation` (`hack/mutation.py`); do not edit by hand. A mutant is\n"
        "killed when a fast test fails on it; equivalent mutants are listed with their reason\n"
        "in `docs/mutation-equivalent.yaml`. Score = killed / (mutants - equivalent); CI fails\n"
        f"below {THRESHOLD:.0%}. Seconds: the tests' time over the module's mutants, one core.\n\n"
        "| module | mutants | killed | equivalent | survived | score | seconds |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + f"\n\nTotal: {total:.0f} s.\n"
    )


def _score(entry: dict[str, Any]) -> float:
    real = entry["mutants"] - entry["equivalent"]
    return 1.0 if real <= 0 else float(entry["killed"]) / real


def _print(module: str, entry: dict[str, Any] | None, origin: str) -> bool:
    """Print one module's line; True if it passes the gate."""
    if entry is None:
        sys.stdout.write(f"{module:45} not measured ({origin})\n")
        return False
    score = _score(entry)
    sys.stdout.write(
        f"{module:45} {score:7.1%}  {entry['killed']}/{entry['mutants'] - entry['equivalent']}"
        f"  ({origin})\n"
    )
    for name in entry["survivors"]:
        sys.stdout.write(f"    survived: {name}\n")
    return score >= THRESHOLD


def command_run(chosen: list[str]) -> int:
    """Re-run ``chosen`` (all modules when empty) and update their report entries."""
    known = modules()
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        sys.stderr.write(f"not under mutation (see [tool.mutmut] only_mutate): {unknown}\n")
        return 2
    chosen = chosen or known
    before = test_hashes()
    run_mutmut(chosen, None)
    report, reviewed, ok = load_report(), equivalents(), True
    for module in chosen:
        score = measure(module, reviewed, before)
        if score is None:
            ok = _print(module, None, "mutmut did not finish it") and ok
            continue
        report[module] = {**asdict(score), "score": round(score.score, 4)}
        ok = _print(module, report[module], "re-run") and ok
    write_report(report)
    return 0 if ok else 1


Entry = dict[str, Any]


def rerun(changed: list[str], budget_s: float) -> tuple[dict[str, Entry | None], bool]:
    """Re-run ``changed`` within the budget: their new entries, and whether mutmut finished."""
    if not changed:
        return {}, True
    sys.stdout.write(f"re-running {len(changed)} changed module(s): {' '.join(changed)}\n")
    started = time.monotonic()
    before = test_hashes()
    finished = run_mutmut(changed, budget_s)
    sys.stdout.write(f"mutmut took {time.monotonic() - started:.0f} s\n")
    reviewed = equivalents()
    scores = {module: measure(module, reviewed, before) for module in changed}
    return {m: None if s is None else {**asdict(s), "score": s.score} for m, s in scores.items()}, (
        finished
    )


def print_all(report: dict[str, Entry], budget_s: float, *, measured_only: bool) -> int:
    """Re-run what changed (only modules in the report if ``measured_only``), print all.

    A module whose source changed, or that was never measured, is re-run first: its
    committed score says nothing about it. A module whose tests alone changed is re-run
    with what is left of the budget, a time-bounded sample; one the budget does not
    reach keeps its committed score, marked as such.

    Returns how many modules are below the threshold or not measured.
    """
    known = modules()
    reasons = {m: stale(m, report.get(m)) for m in known}
    wanted = [m for m in known if reasons[m] and (m in report or not measured_only)]
    tests_only = [m for m in wanted if str(reasons[m]).startswith(TESTS_CHANGED)]
    started = time.monotonic()
    fresh, finished = rerun([m for m in wanted if m not in tests_only], budget_s)
    left = budget_s - (time.monotonic() - started)
    sampled: dict[str, Entry | None] = {}
    if finished and tests_only and left > 0:
        sampled, _ = rerun(tests_only, left)
    below = 0
    for module in known:
        entry, origin = report.get(module), reasons[module] or "from the report"
        if module in fresh:
            entry = fresh[module]
            origin = f"re-run: {origin}" if finished else f"budget of {budget_s:.0f} s ran out"
        elif sampled.get(module) is not None:
            entry, origin = sampled[module], f"re-run: {origin}"
        elif module in tests_only:
            origin = f"{origin}; not re-run within the budget: the committed score"
        below += not _print(module, entry, origin)
    return below


def command_check(budget_s: float) -> int:
    """Re-run the modules that changed since the report, within the budget; gate all."""
    if print_all(load_report(), budget_s, measured_only=False):
        sys.stdout.write(
            "mutation gate failed: kill the survivors with sharper tests, list true equivalents in "
            "docs/mutation-equivalent.yaml, and refresh with `make mutation MODULES=...`\n"
        )
        return 1
    return 0


def command_report(budget_s: float) -> int:
    """Re-run, within the budget, the measured modules that changed; print every score; never fail.

    What CI runs until every module has been measured at 90% or more: the gate itself
    (``check``) would spend CI's time re-running unmeasured modules and then fail.
    """
    below = print_all(load_report(), budget_s, measured_only=True)
    sys.stdout.write(
        f"mutation gate NOT enforced (report only): {below} of {len(modules())} modules are below "
        f"{THRESHOLD:.0%} or not measured; `make mutation MODULES=...` measures them\n"
    )
    return 0


def main() -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="re-run modules and update the report")
    run.add_argument("modules", nargs="*")
    check = sub.add_parser("check", help="CI: re-run changed modules within a budget, gate all")
    check.add_argument("--budget-seconds", type=float, default=15 * 60)
    report = sub.add_parser("report", help="re-run changed measured modules; never fails")
    report.add_argument("--budget-seconds", type=float, default=15 * 60)
    args = parser.parse_args()
    if args.command == "run":
        return command_run(list(args.modules))
    if args.command == "report":
        return command_report(args.budget_seconds)
    return command_check(args.budget_seconds)


if __name__ == "__main__":
    sys.exit(main())
