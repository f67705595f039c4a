"""``docs/benchmarks.md`` from the figures of one run (``report.Result``)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import cells
import realreport
import report

from function.serving.memo import DEFAULT_BUDGET_MIB


def _cpu_model() -> str:
    with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _versions() -> str:
    found = []
    for name in report.PACKAGES:
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
    return (name, cells.times(value), cells.verdict(value <= target))


def _go_targets(result: report.Result) -> list[tuple[str, str, str]]:
    if not result.go_latency:
        return [("seed p50 below function-go-templating", "not measured", "see below")]
    return [
        _ratio_target(
            f"seed p50 below function-go-templating: {way}",
            result.versus_go_templating(server),
            1.0,
        )
        for server, way in (
            (report.OURS, "same request"),
            (report.COMPOSING, "composed every call"),
        )
    ]


def _targets(result: report.Result) -> list[tuple[str, str, str]]:
    rss = cells.ratio(result.rss_end_kib[report.OURS], result.rss_end_kib[report.FLOOR])
    seconds = result.mode["throughput_seconds"]
    calls = sum(t.calls for t in result.throughput.values())
    return [
        _ratio_target(
            f"seed p50 <= {report.P50_TARGET} x the floor: same request (steady state)",
            result.over_floor(report.OURS),
            report.P50_TARGET,
        ),
        _ratio_target(
            f"seed p50 <= {report.P50_TARGET} x the floor: an unread field changed",
            result.over_floor(report.OURS, report.CHANGING_LABEL),
            report.P50_TARGET,
        ),
        _ratio_target(
            f"seed p50 <= {report.P50_TARGET} x the floor: composed every call (memo off)",
            result.over_floor(report.COMPOSING),
            report.P50_TARGET,
        ),
        *_go_targets(result),
        _ratio_target(
            f"300 apps p50 <= {report.SCALING_TARGET:.0f} x the seed claim (composed every call)",
            result.scaling_ratio,
            report.SCALING_TARGET,
        ),
        _ratio_target(f"peak RSS <= {report.RSS_TARGET} x the floor", rss, report.RSS_TARGET),
        (
            f"{result.clients} clients for {seconds:.0f} s per server: zero errors",
            f"{result.throughput_errors} errors in {calls} calls",
            cells.verdict(result.throughput_errors == 0),
        ),
    ]


def _go_section(result: report.Result) -> str:
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


def _go_table(result: report.Result) -> str:
    if not result.go_latency:
        return ""
    return f"""
Against function-go-templating, in a phase of its own (see Method):

{cells.md_table(report.GO_HEADER, report.go_rows(result))}
"""


def markdown(result: report.Result, command: str, *, smoke: bool) -> str:
    """``docs/benchmarks.md`` from the figures of one run."""
    mode = result.mode
    slice_s = mode["throughput_seconds"] / mode["slices"]
    today = dt.datetime.now(tz=dt.UTC).date().isoformat()
    go = result.go_templating
    env = f"GO_TEMPLATING_BIN={go.binary} " if go is not None else ""
    by = (
        f"`{env}make bench` (`{command}`)"
        if command.startswith(report.FULL_COMMAND)
        else f"`{command}`"
    )
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

{cells.md_table(("target", "measured", "verdict"), _targets(result))}

Crossplane sends the same request again on every poll and resync of an XR that did
not change, and, with realtime compositions, a request whose observed resources
changed in fields the function never reads whenever a provider writes one. Both are
answered from the memo (`function/serving/memo.py`); an XR whose spec or read values changed is
composed. "Composed every call" is the cost of composing, with the memo turned off.

## Latency

{cells.md_table(report.LATENCY_HEADER, report.floor_rows(result))}
{_go_table(result)}
## Throughput at concurrency {result.clients}

{cells.md_table(report.THROUGHPUT_HEADER, report.throughput_rows(result))}

## Memory (peak RSS)

{cells.md_table(report.MEMORY_HEADER, report.memory_rows(result))}

## Scaling with the number of apps (routes)

p50 at concurrency 1 over {result.scaling_count} requests per claim size and server; each
size is its own XR. Sizes and servers take turns request by request, so "composed /
seed" compares figures measured side by side. The floor's column is the cost of gRPC and
of parsing the larger request alone.

{cells.md_table(report.SCALING_HEADER, report.scaling_rows(result))}

## Method

- **Servers.** Ours is `python -m function serve --insecure`, once as shipped (the memo
  on, {DEFAULT_BUDGET_MIB} MiB) and once with `--cache-mib 0`. The floor is `bench/floor.py`:
  a no-op function on the same SDK (crossplane-function-sdk-python) that returns the request's
  desired state unchanged (`response.to(req)`), served by the SDK runtime with the same
  logging and message limits; like every SDK function, it parses each request whole. Ours
  reads a request shallowly first and parses it whole only to compose
  (`function/serving/shallow.py`), so an answer it gives again can cost less than the floor.
  All listen on free ports of 127.0.0.1 and are stopped at the end of the run.
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
