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

import realreport

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SERVERS = OURS, COMPOSING, FLOOR, GO_TEMPLATING, PYTHONIC = (
    realreport.OURS,
    realreport.COMPOSING,
    realreport.FLOOR,
    realreport.GO_TEMPLATING,
    realreport.PYTHONIC,
)
BEFORE_SERVERS = realreport.BEFORE, realreport.COMPOSING_BEFORE
REAL_LABELS = realreport.REAL_LABELS
Real = realreport.Real
SEED_LABEL = "seed"
CHANGING_LABEL = "seed, unread change"
LARGEST_LABEL = "300 apps"
# The targets, as ratios measured in one run.
P50_TARGET = 1.3
SCALING_TARGET = 10.0
RSS_TARGET = 1.5
FULL_COMMAND = "python bench/run.py --before"  # what `make bench` runs, then its revision
PACKAGES = ("crossplane-function-sdk-python", "grpcio", "protobuf", "pydantic")
# How each latency row is described: (server, request label) -> what the call does.
WAYS = {
    (OURS, SEED_LABEL): "ours: the same request again (same tag: the memo answers)",
    (OURS, CHANGING_LABEL): "ours: an unread field changed (new tag: the memo checks its inputs)",
    (COMPOSING, SEED_LABEL): "ours, memo off: composed every call",
    (FLOOR, SEED_LABEL): "floor: no-op SDK function",
}
GO_TEMPLATE_WAY = "function-go-templating: renders the template every call"


@dataclass(frozen=True)
class Latency:
    """Concurrency-1 latency of one (server, request) pair, in seconds."""

    p50: float
    p99: float
    count: int


@dataclass(frozen=True)
class Throughput:
    """Calls completed at concurrency 8 and the server CPU time they took."""

    calls: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __add__(self, other: Throughput) -> Throughput:
        """Both slices' figures together."""
        return Throughput(
            self.calls + other.calls,
            self.seconds + other.seconds,
            self.cpu_seconds + other.cpu_seconds,
        )

    @property
    def per_second(self) -> float:
        """Completed calls per second of wall time."""
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        """Server CPU milliseconds per completed call."""
        return 1000 * self.cpu_seconds / self.calls if self.calls else math.nan


@dataclass(frozen=True)
class GoTemplating:
    """Where the function-go-templating figures came from."""

    binary: str
    template: str


@dataclass(frozen=True)
class Result:
    """Every figure of one run; latencies in seconds, memory in KiB."""

    real: Real
    latency: dict[tuple[str, str], Latency]
    go_latency: dict[tuple[str, str], Latency]  # a phase of its own; empty if not measured
    throughput: dict[str, Throughput]
    throughput_errors: int
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
    go_templating: GoTemplating | None

    @property
    def total_errors(self) -> int:
        """Failed calls and wrong answers over the whole run."""
        return sum(self.errors.values())

    @property
    def servers(self) -> list[str]:
        """The servers of this run, in SERVERS order."""
        return [name for name in SERVERS if name in self.throughput]

    def p50(self, server: str, label: str = SEED_LABEL) -> float:
        """A pair's p50 latency; NaN if it was not measured."""
        found = self.latency.get((server, label))
        return found.p50 if found is not None else math.nan

    def over_floor(self, server: str, label: str = SEED_LABEL) -> float:
        """A pair's p50 over the floor's p50 for the seed claim."""
        return _div(self.p50(server, label), self.p50(FLOOR))

    def versus_go_templating(self, server: str, label: str = SEED_LABEL) -> float:
        """A pair's p50 over function-go-templating's, measured in the same phase."""
        ours = self.go_latency.get((server, label))
        go = next((v for (name, _), v in self.go_latency.items() if name == GO_TEMPLATING), None)
        return math.nan if ours is None or go is None else _div(ours.p50, go.p50)

    @property
    def scaling_ratio(self) -> float:
        """Composing every call: p50 for 300 apps over p50 for the seed claim."""
        return _div(
            self.scaling_p50[COMPOSING, LARGEST_LABEL], self.scaling_p50[COMPOSING, SEED_LABEL]
        )


def _div(numerator: float, denominator: float) -> float:
    if not denominator or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def _ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.2f} ms"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def _x(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f} x"


def _held(ok: bool) -> str:  # noqa: FBT001
    return "held" if ok else "**not held**"


def summary(result: Result) -> str:
    """The one line a person or CI reads first."""
    versus_go = result.versus_go_templating(COMPOSING)
    go = (
        "go-templating=not-measured"
        if math.isnan(versus_go)
        else f"p50_composed/go-templating={versus_go:.2f}"
    )
    return (
        f"errors={result.total_errors} "
        f"p50_same_request/floor={result.over_floor(OURS):.2f} "
        f"p50_unread_change/floor={result.over_floor(OURS, CHANGING_LABEL):.2f} "
        f"p50_composed/floor={result.over_floor(COMPOSING):.2f} "
        f"throughput_ours/floor="
        f"{_div(result.throughput[OURS].per_second, result.throughput[FLOOR].per_second):.2f} "
        f"rss_ours/floor={_div(result.rss_end_kib[OURS], result.rss_end_kib[FLOOR]):.2f} "
        f"p50_300apps/seed={result.scaling_ratio:.2f} "
        f"{go} {realreport.summary(result.real)}"
    )


def _latency_rows(
    phase: dict[tuple[str, str], Latency], ratio: Callable[[str, str], float]
) -> list[tuple[str, ...]]:
    """(what, requests, p50, p99, ratio) rows of one latency phase."""
    return [
        (
            WAYS.get((server, label), GO_TEMPLATE_WAY),
            str(value.count),
            _ms(value.p50),
            _ms(value.p99),
            _x(ratio(server, label)),
        )
        for (server, label), value in phase.items()
    ]


def _floor_rows(result: Result) -> list[tuple[str, ...]]:
    return _latency_rows(result.latency, result.over_floor)


def _go_rows(result: Result) -> list[tuple[str, ...]]:
    return _latency_rows(result.go_latency, result.versus_go_templating)


def _throughput_rows(result: Result) -> list[tuple[str, ...]]:
    floor = result.throughput[FLOOR]
    return [
        (
            name,
            f"{value.per_second:.0f}/s",
            str(value.calls),
            f"{value.cpu_ms_per_call:.2f} ms",
            _x(_div(value.per_second, floor.per_second)),
            _x(_div(value.cpu_ms_per_call, floor.cpu_ms_per_call)),
        )
        for name, value in result.throughput.items()
    ]


def _memory_rows(result: Result) -> list[tuple[str, ...]]:
    return [
        (
            name,
            _mib(result.rss_idle_kib[name]),
            _mib(result.rss_seed_kib[name]),
            _mib(result.rss_end_kib[name]),
            _x(_div(result.rss_end_kib[name], result.rss_end_kib[FLOOR])),
        )
        for name in result.servers
    ]


def _scaling_rows(result: Result) -> list[tuple[str, ...]]:
    seed = result.scaling_p50[COMPOSING, SEED_LABEL]
    return [
        (
            label,
            str(apps),
            f"{size / 1024:.0f} KiB",
            str(resources),
            _ms(result.scaling_p50[COMPOSING, label]),
            _x(_div(result.scaling_p50[COMPOSING, label], seed)),
            _ms(result.scaling_p50[OURS, label]),
            _ms(result.scaling_p50[FLOOR, label]),
        )
        for label, apps, size, resources in result.payloads
    ]


LATENCY_HEADER = ("seed claim, concurrency 1", "requests", "p50", "p99", "p50 / floor")
GO_HEADER = ("seed claim, concurrency 1", "requests", "p50", "p99", "p50 / go-templating")
THROUGHPUT_HEADER = ("server", "calls/s", "calls", "CPU per call", "calls/s / floor", "CPU / floor")
MEMORY_HEADER = ("server", "after start-up", "after seed phases", "at the end", "end / floor")
SCALING_HEADER = (
    "claim",
    "apps",
    "request",
    "resources",
    "composed p50",
    "composed / seed",
    "same request p50",
    "floor p50",
)


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(
            f"{c:>{w}}" if i else f"{c:<{w}}"
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def table(result: Result) -> str:
    """A plain console table of every figure."""
    parts = [
        _text_table(realreport.TARGETS_HEADER, realreport.targets(result.real)),
        _text_table(
            ("server", "request", "calls", "CPU per call", "over the floor"),
            realreport.cpu_rows(result.real),
        ),
        _text_table(LATENCY_HEADER, _floor_rows(result)),
        *([_text_table(GO_HEADER, _go_rows(result))] if result.go_latency else []),
        _text_table(THROUGHPUT_HEADER, _throughput_rows(result)),
        _text_table(MEMORY_HEADER, _memory_rows(result)),
        _text_table(SCALING_HEADER, _scaling_rows(result)),
        (
            f"errors: {result.errors or 'none'}; run took {result.seconds:.0f} s; "
            f"load average {result.load[0]:.2f} -> {result.load[1]:.2f}"
        ),
    ]
    return "\n\n".join(parts)


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


def _ratio_target(name: str, value: float, target: float) -> tuple[str, str, str]:
    return (name, _x(value), _held(value <= target))


def _go_targets(result: Result) -> list[tuple[str, str, str]]:
    if not result.go_latency:
        return [("seed p50 below function-go-templating", "not measured", "see below")]
    return [
        _ratio_target(
            f"seed p50 below function-go-templating: {way}",
            result.versus_go_templating(server),
            1.0,
        )
        for server, way in ((OURS, "same request"), (COMPOSING, "composed every call"))
    ]


def _targets(result: Result) -> list[tuple[str, str, str]]:
    rss = _div(result.rss_end_kib[OURS], result.rss_end_kib[FLOOR])
    seconds = result.mode["throughput_seconds"]
    calls = sum(t.calls for t in result.throughput.values())
    return [
        _ratio_target(
            f"seed p50 <= {P50_TARGET} x the floor: same request (steady state)",
            result.over_floor(OURS),
            P50_TARGET,
        ),
        _ratio_target(
            f"seed p50 <= {P50_TARGET} x the floor: an unread field changed",
            result.over_floor(OURS, CHANGING_LABEL),
            P50_TARGET,
        ),
        _ratio_target(
            f"seed p50 <= {P50_TARGET} x the floor: composed every call (memo off)",
            result.over_floor(COMPOSING),
            P50_TARGET,
        ),
        *_go_targets(result),
        _ratio_target(
            f"300 apps p50 <= {SCALING_TARGET:.0f} x the seed claim (composed every call)",
            result.scaling_ratio,
            SCALING_TARGET,
        ),
        _ratio_target(f"peak RSS <= {RSS_TARGET} x the floor", rss, RSS_TARGET),
        (
            f"{result.clients} clients for {seconds:.0f} s per server: zero errors",
            f"{result.throughput_errors} errors in {calls} calls",
            _held(result.throughput_errors == 0),
        ),
    ]


def _go_section(result: Result) -> str:
    if result.go_templating is None:
        return """## function-go-templating: not measured in this run

No binary was given (`--go-templating PATH` or `GO_TEMPLATING_BIN=PATH`) and none is at
`../shared/bin/function-go-templating`. The Go module proxy refuses every crossplane module,
so `make bench` cannot build it itself."""
    go = result.go_templating
    return f"""## function-go-templating

Measured from the binary `{go.binary}`, given `{go.template}` as its input: a
hand-written Go template that renders the seed claim's resource set with the same
gating, readiness and status (its header lists what it leaves out). It gets the same
XR and observed resources as ours. function-pythonic 0.1.4 is measured the same way on
the real-sized requests, given `bench/pythonic/seed.yaml`."""


def _go_table(result: Result) -> str:
    if not result.go_latency:
        return ""
    return f"""
Against function-go-templating, in a phase of its own (see Method):

{_md_table(GO_HEADER, _go_rows(result))}
"""


def markdown(result: Result, command: str, *, smoke: bool) -> str:
    """``docs/benchmarks.md`` from the figures of one run."""
    mode = result.mode
    slice_s = mode["throughput_seconds"] / mode["slices"]
    today = dt.datetime.now(tz=dt.UTC).date().isoformat()
    go = result.go_templating
    env = f"GO_TEMPLATING_BIN={go.binary} " if go is not None else ""
    by = f"`{env}make bench` (`{command}`)" if command.startswith(FULL_COMMAND) else f"`{command}`"
    kind = "a smoke run (too short to be representative)" if smoke else "one full run"
    count = len(result.servers)
    return f"""# Benchmarks

Generated by {by} on {today}, from {kind}, on the code at
{_revision()}. Every figure and ratio below comes from that single run: nothing is carried
over from other runs. Ratios are reported, never asserted by tests; CI only runs
`python bench/run.py --smoke` so that the benchmark keeps working.

Latencies are medians (and p99) on a **shared, noisy 2-core machine**: other jobs may
run beside the benchmark, and the client shares the two cores with the servers, so
absolute times move from run to run. The servers are measured interleaved (see Method)
so that drift lands on every side of each ratio.

{realreport.markdown(result.real)}
## Targets on bare requests (issue 5)

The rest of this page measures the bare requests `simulate` leaves behind (no
managedFields, owner references or provider echoes), as issue 5 set them.

{_md_table(("target", "measured", "verdict"), _targets(result))}

Crossplane sends the same request again on every poll and resync of an XR that did
not change, and, with realtime compositions, a request whose observed resources
changed in fields the function never reads whenever a provider writes one. Both are
answered from the memo (`function/serving/memo.py`); an XR whose spec or read values changed is
composed. "Composed every call" is the cost of composing, with the memo turned off.

## Latency

{_md_table(LATENCY_HEADER, _floor_rows(result))}
{_go_table(result)}
## Throughput at concurrency {result.clients}

{_md_table(THROUGHPUT_HEADER, _throughput_rows(result))}

## Memory (peak RSS)

{_md_table(MEMORY_HEADER, _memory_rows(result))}

## Scaling with the number of apps (routes)

p50 at concurrency 1 over {result.scaling_count} requests per claim size and server; each
size is its own XR. Sizes and servers take turns request by request, so "composed /
seed" compares figures measured side by side. The floor's column is the cost of gRPC and
of parsing the larger request alone.

{_md_table(SCALING_HEADER, _scaling_rows(result))}

## Method

- **Servers.** Ours is `python -m function serve --insecure`, once as shipped (the memo
  on, 32 MiB) and once with `--cache-mib 0`. The floor is `bench/floor.py`: a no-op
  function on the same SDK (crossplane-function-sdk-python) that returns the request's
  desired state unchanged (`response.to(req)`), served by the SDK runtime with the same
  logging and message limits. All listen on free ports of 127.0.0.1 and are stopped at
  the end of the run.
- **Requests.** The seed claim (`examples/seed/claim.yaml`) as the legacy XR, the input of
  `compositions/composition-legacy.yaml`, and the observed resources a converged
  `simulate` leaves behind (every resource observed and Ready), so the full resource set
  is composed. Each request is tagged as Crossplane tags it (SHA-256 of its
  deterministic serialization). "An unread field changed" cycles through 64 requests
  that differ only in the `resourceVersion` of the observed API, each with its own tag.
  The scaling claims add 1, 10, 100 and 300 `spec.apps` entries and converge again.
  Requests are serialized once; the client sends bytes and checks every answer (no
  Fatal result; ours and go-templating return every resource, the floor none).
- **Latency (concurrency 1).** One client over one loopback gRPC channel per server;
  the pairs above take turns request by request, the order rotating every round;
  {mode["latency_requests"]} timed requests per pair after {mode["warmup_requests"]}
  warm-up requests. function-go-templating, when given, is measured in a second phase
  with ours and the floor: Go's collector keeps a core busy after each of its calls,
  which would slow the next call of every other server in the first phase.
- **Throughput (concurrency {result.clients}).** {result.clients} client threads share one
  channel (as Crossplane shares one connection) and call back to back with the
  steady-state request. Each of the {count} servers gets {mode["throughput_seconds"]:.0f} s
  in all, in {mode["slices"]} slices of {slice_s:.1f} s, the order rotating, so all see
  the same machine conditions. CPU per call is the server process's user + system time
  over the calls it completed.
- **Memory.** Peak RSS is `VmHWM` from `/proc/PID/status` of each server process. Ours
  (memo on) ends holding the answers of six XRs, the 300-app claim's among them.
- **Profile.** `python bench/hotspots.py [--apps N]` runs `function.serving.fn.run` in-process on
  the same request under pyinstrument and prints where the time goes.

## Machine

- CPUs: {os.cpu_count()} (`nproc`), {_cpu_model()}
- Python {platform.python_version()} ({platform.python_implementation()}), \
{platform.system()} {platform.release()}
- {_versions()}
- Load average (1 min) at start and end of the run: {result.load[0]:.2f}, {result.load[1]:.2f}
- Measurement time: {result.seconds:.0f} s

{_go_section(result)}
"""
