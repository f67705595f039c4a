"""Figures of one benchmark run and their rendering: table, summary line, Markdown."""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

OURS, FLOOR = "ours", "floor"
SEED_LABEL = "seed"
LARGEST_LABEL = "300 apps"
# The targets, as ratios measured in one run.
P50_TARGET = 1.3
SCALING_TARGET = 10.0
RSS_TARGET = 1.5
GO_TEMPLATING_BLOCKED = (
    "not measured: the Go module proxy this machine reaches refuses every crossplane "
    "module, so function-go-templating cannot be built here"
)
PROXY_EVIDENCE = (
    "$ curl https://proxy.golang.org/github.com/crossplane-contrib/"
    "function-go-templating/@v/list\n"
    "This module version is not available.   (HTTP 403)"
)
FULL_COMMAND = "python bench/run.py"
PACKAGES = ("crossplane-function-sdk-python", "grpcio", "protobuf", "pydantic")


@dataclass(frozen=True)
class Result:
    """Every figure of one run; latencies in seconds, memory in KiB."""

    latency_p50: dict[str, float]
    latency_p99: dict[str, float]
    latency_count: dict[str, int]
    throughput_rps: dict[str, float]
    throughput_calls: dict[str, int]
    throughput_seconds: dict[str, float]
    throughput_errors: int
    cpu_ms_per_call: dict[str, float]
    rss_idle_kib: dict[str, int]
    rss_seed_kib: dict[str, int]
    rss_end_kib: dict[str, int]
    scaling_p50: dict[tuple[str, str], float]
    scaling_count: int
    payloads: list[tuple[str, int, int, int]]
    errors: dict[str, int]
    error_samples: list[str]
    seconds: float
    load: tuple[float, float]
    clients: int
    mode: dict[str, Any]

    @property
    def total_errors(self) -> int:
        """Failed calls and wrong answers over the whole run."""
        return sum(self.errors.values())

    def ratio(self, figures: dict[str, float] | dict[str, int]) -> float:
        """Ours over the floor's value of one figure."""
        return _div(figures[OURS], figures[FLOOR])

    @property
    def scaling_ratio(self) -> float:
        """Our p50 for 300 apps over our p50 for the seed claim (same interleaved phase)."""
        return _div(self.scaling_p50[OURS, LARGEST_LABEL], self.scaling_p50[OURS, SEED_LABEL])


def _div(numerator: float, denominator: float) -> float:
    if not denominator or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def _x(value: float) -> str:
    return f"{value:.2f} x"


def _held(ok: bool) -> str:  # noqa: FBT001
    return "held" if ok else "**not held**"


def summary(result: Result) -> str:
    """The one line a person or CI reads first."""
    return (
        f"errors={result.total_errors} "
        f"p50_ours/floor={result.ratio(result.latency_p50):.2f} "
        f"p99_ours/floor={result.ratio(result.latency_p99):.2f} "
        f"throughput_ours/floor={result.ratio(result.throughput_rps):.2f} "
        f"rss_ours/floor={result.ratio(result.rss_end_kib):.2f} "
        f"p50_300apps/seed={result.scaling_ratio:.2f} "
        f"go-templating=blocked"
    )


def _figure_rows(result: Result) -> list[tuple[str, str, str, str]]:
    """(figure, ours, floor, ours / floor) rows."""
    rows: list[tuple[str, str, str, str]] = []

    def add(name: str, figures: dict[str, Any], fmt: Any) -> None:  # noqa: ANN401
        rows.append((name, fmt(figures[OURS]), fmt(figures[FLOOR]), _x(result.ratio(figures))))

    add("seed p50 latency, concurrency 1", result.latency_p50, _ms)
    add("seed p99 latency, concurrency 1", result.latency_p99, _ms)
    add(f"throughput, concurrency {result.clients}", result.throughput_rps, lambda v: f"{v:.0f}/s")
    add("server CPU per call, concurrency 8", result.cpu_ms_per_call, lambda v: f"{v:.2f} ms")
    add("peak RSS after start-up", result.rss_idle_kib, _mib)
    add("peak RSS after seed latency + throughput", result.rss_seed_kib, _mib)
    add("peak RSS at the end (incl. 300 apps)", result.rss_end_kib, _mib)
    return rows


def _scaling_rows(result: Result) -> list[tuple[str, ...]]:
    seed = result.scaling_p50[OURS, SEED_LABEL]
    return [
        (
            label,
            str(apps),
            f"{size / 1024:.0f} KiB",
            str(resources),
            _ms(result.scaling_p50[OURS, label]),
            _ms(result.scaling_p50[FLOOR, label]),
            _x(_div(result.scaling_p50[OURS, label], seed)),
        )
        for label, apps, size, resources in result.payloads
    ]


def table(result: Result) -> str:
    """A plain console table of every figure."""
    lines = [f"{'figure':45} {'ours':>12} {'floor':>12} {'ours/floor':>11}"]
    lines += [f"{a:45} {b:>12} {c:>12} {d:>11}" for a, b, c, d in _figure_rows(result)]
    lines.append("")
    lines.append(f"{'claim':10} {'request':>9} {'ours p50':>11} {'floor p50':>11} {'vs seed':>9}")
    lines += [
        f"{row[0]:10} {row[2]:>9} {row[4]:>11} {row[5]:>11} {row[6]:>9}"
        for row in _scaling_rows(result)
    ]
    lines.append(
        f"\nerrors: {result.errors or 'none'}; run took {result.seconds:.0f} s; "
        f"load average {result.load[0]:.2f} -> {result.load[1]:.2f}"
    )
    return "\n".join(lines)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def _revision() -> str:
    """The git commit of the working tree, marked when it has uncommitted changes."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty=+uncommitted changes", "--abbrev=12"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "an unknown revision"
    commit, _, dirty = described.partition("+")
    return f"commit `{commit}`" + (f" with {dirty}" if dirty else "")


def _targets(result: Result) -> list[tuple[str, str, str]]:
    p50 = result.ratio(result.latency_p50)
    rss = result.ratio(result.rss_end_kib)
    seconds = result.mode["throughput_seconds"]
    return [
        (f"seed p50 <= {P50_TARGET} x the floor", _x(p50), _held(p50 <= P50_TARGET)),
        ("seed p50 below function-go-templating", "not measured", "blocked (see below)"),
        (
            f"300 apps p50 <= {SCALING_TARGET:.0f} x the seed claim",
            _x(result.scaling_ratio),
            _held(result.scaling_ratio <= SCALING_TARGET),
        ),
        (f"peak RSS <= {RSS_TARGET} x the floor", _x(rss), _held(rss <= RSS_TARGET)),
        (
            f"{result.clients} clients for {seconds:.0f} s: zero errors",
            f"{result.throughput_errors} errors in {sum(result.throughput_calls.values())} calls",
            _held(result.throughput_errors == 0),
        ),
    ]


def markdown(result: Result, command: str, *, smoke: bool) -> str:
    """``docs/benchmarks.md`` from the figures of one run."""
    mode = result.mode
    slice_s = mode["throughput_seconds"] / mode["slices"]
    today = dt.datetime.now(tz=dt.UTC).date().isoformat()
    revision = _revision()
    by = "`make bench` (`python bench/run.py`)" if command == FULL_COMMAND else f"`{command}`"
    kind = "a smoke run (too short to be representative)" if smoke else "one full run"
    return f"""# Benchmarks

Generated by {by} on {today}, from {kind}, on the code at
{revision}. Every figure and ratio below comes from that single run: nothing is carried
over from other runs. Ratios are reported, never asserted by tests; CI only runs
`python bench/run.py --smoke` so that the benchmark keeps working.

Latencies are whole-run medians (and p99) on a **shared, noisy 2-core machine**: other
jobs may run beside the benchmark, and the client shares the two cores with both servers,
so absolute times move from run to run. The two servers are measured interleaved (see
Method) so that drift lands on both sides of each ratio.

## Targets (issue 5)

{_md_table(("target", "measured", "verdict"), _targets(result))}

## Our function against the floor

{_md_table(("figure", "ours", "floor", "ours / floor"), _figure_rows(result))}

- Requests timed at concurrency 1: {result.latency_count[OURS]} per server, after
  {mode["warmup_requests"]} warm-up requests each.
- Calls at concurrency {result.clients}: {result.throughput_calls[OURS]} (ours),
  {result.throughput_calls[FLOOR]} (floor).
- Errors over the whole run: {result.errors or "none"}.

## Scaling with the number of apps (routes)

p50 at concurrency 1 over {result.scaling_count} requests per claim size and server. Sizes
and servers take turns request by request, so "ours / seed" compares figures measured side
by side. The floor's column is the cost of gRPC and of parsing the larger request alone.

{
        _md_table(
            ("claim", "apps", "request", "resources", "ours p50", "floor p50", "ours / seed"),
            _scaling_rows(result),
        )
    }

## Method

- **Servers.** Ours is `python -m function serve --insecure --address 127.0.0.1:PORT`.
  The floor is `bench/floor.py`: a no-op function on the same SDK
  (crossplane-function-sdk-python) that returns the request's desired state unchanged
  (`response.to(req)`), served by the same SDK runtime with the same logging and message
  limits. Both listen on free ports of 127.0.0.1 and are stopped at the end of the run.
- **Requests.** The seed claim (`examples/claim-seed.yaml`) as the legacy XR, the input of
  `compositions/composition-legacy.yaml`, and the observed resources a converged
  `simulate` leaves behind (every resource observed and Ready), so our function composes
  the full resource set. The scaling claims add 1, 10, 100 and 300 `spec.apps` entries
  and converge again. Requests are serialized once; the client sends bytes and checks
  every answer (no Fatal result; ours returns every resource, the floor none, since the
  request carries no desired state from an earlier step).
- **Latency (concurrency 1).** One client over one loopback gRPC channel per server; the
  servers alternate request by request, and which goes first alternates every round.
- **Throughput (concurrency {result.clients}).** {result.clients} client threads share one
  channel (as Crossplane shares one connection) and call back to back. Each server gets
  {mode["throughput_seconds"]:.0f} s in all, in {mode["slices"]} slices of
  {slice_s:.1f} s that alternate with the other server's, so both see the same machine
  conditions. Server CPU per call is the server process's user + system time over the
  calls it completed.
- **Memory.** Peak RSS is `VmHWM` from `/proc/PID/status` of each server process. Both
  servers receive the same requests, including the 300-app claim.
- **Profile.** `python bench/hotspots.py [--apps N]` runs `function.fn.run` in-process on
  the same request under pyinstrument and prints where the time goes.

## Machine

- CPUs: {os.cpu_count()} (`nproc`), {_cpu_model()}
- Python {platform.python_version()} ({platform.python_implementation()}), \
{platform.system()} {platform.release()}
- {_versions()}
- Load average (1 min) at start and end of the run: {result.load[0]:.2f}, {result.load[1]:.2f}
- Measurement time: {result.seconds:.0f} s

## function-go-templating: blocked

The issue asks for a side-by-side with `function-go-templating` built from the Go module
proxy. That comparison is
{GO_TEMPLATING_BLOCKED}:

```text
{PROXY_EVIDENCE}
```

The ratio ours / go-templating is therefore not reported, and the target "below
function-go-templating" is neither held nor failed. Once the module can be built, it
slots into `bench/run.py` as a third server.
"""
