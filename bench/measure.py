"""The benchmark's measurements: latency, throughput, RSS and CPU per call, servers taking turns.

Every (server, request) pair is measured in the same run, in an order that rotates, so
that drift on a shared machine lands on every side of each ratio.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import cpu
import grpc
import report
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from payloads import GO_TEMPLATE, REPO
from servers import CALL_TIMEOUT_S, Errors, timed_call

from function.offline import documents

if TYPE_CHECKING:
    from collections.abc import Sequence

    from payloads import Payload
    from servers import Server

OURS, COMPOSING, FLOOR, GO_TEMPLATING, PYTHONIC = report.SERVERS
BEFORE, COMPOSING_BEFORE = report.BEFORE_SERVERS
REAL = report.REAL_LABELS
# XRs sent once each to fill the memo before peak RSS is read (the full mode).
FILL_XRS = 500
CLIENTS = 8


@dataclass(frozen=True)
class Mode:
    """How much to measure."""

    latency_requests: int
    warmup_requests: int
    scaling_rounds: int
    throughput_seconds: float
    slices: int
    cpu_rounds: int
    cpu_block_seconds: float
    fill_xrs: int
    fairness_seconds: float


FULL = Mode(
    latency_requests=1000,
    warmup_requests=50,
    scaling_rounds=100,
    throughput_seconds=30.0,
    slices=6,
    cpu_rounds=30,
    cpu_block_seconds=0.15,
    fill_xrs=FILL_XRS,
    fairness_seconds=8.0,
)
SMOKE = Mode(
    latency_requests=150,
    warmup_requests=10,
    scaling_rounds=10,
    throughput_seconds=1.0,
    slices=2,
    cpu_rounds=2,
    cpu_block_seconds=0.02,
    fill_xrs=5,
    fairness_seconds=0.3,
)


Samples = dict[tuple[str, str], list[float]]


def interleaved_latency(
    pairs: Sequence[tuple[Server, Payload]], rounds: int, warmup: int, errors: Errors
) -> Samples:
    """Concurrency 1: every (server, request) pair once per round, the order rotating.

    Rotating the order each round means no pair always follows another, and machine
    drift over the run lands on every pair alike.
    """
    samples: Samples = {(s.name, p.label): [] for s, p in pairs}
    for server, payload in pairs:
        for _ in range(warmup):
            timed_call(server, payload, errors)
    gc.collect()
    gc.disable()
    try:
        for number in range(rounds):
            shift = number % len(pairs)
            for server, payload in [*pairs[shift:], *pairs[:shift]]:
                if (elapsed := timed_call(server, payload, errors)) is not None:
                    samples[server.name, payload.label].append(elapsed)
    finally:
        gc.enable()
    return samples


def _slice(server: Server, payload: Payload, seconds: float, errors: Errors) -> report.Throughput:
    """CLIENTS threads calling one server back to back for ``seconds``."""
    counts = [0] * CLIENTS
    barrier = threading.Barrier(CLIENTS + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        barrier.wait()
        while time.monotonic() < deadline[0]:
            if timed_call(server, payload, errors) is not None:
                counts[index] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    cpu_before = server.cpu_seconds()
    start = time.monotonic()
    deadline[0] = start + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + CALL_TIMEOUT_S + 5)
    elapsed = time.monotonic() - start
    return report.Throughput(sum(counts), elapsed, server.cpu_seconds() - cpu_before)


def alternating_throughput(
    pairs: Sequence[tuple[Server, Payload]], mode: Mode, errors: Errors
) -> dict[str, report.Throughput]:
    """Concurrency 8 in ``mode.slices`` slices per server, the order rotating every slice."""
    totals = {s.name: report.Throughput() for s, _ in pairs}
    per_slice = mode.throughput_seconds / mode.slices
    for number in range(mode.slices):
        shift = number % len(pairs)
        for server, payload in [*pairs[shift:], *pairs[:shift]]:
            totals[server.name] += _slice(server, payload, per_slice, errors)
    return totals


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Requests:
    """Every payload of a run."""

    seed: Payload
    changing: Payload
    sizes: list[Payload]  # the seed, then each of APP_COUNTS
    go_template: Payload | None
    real: dict[str, Payload]  # by label: REAL
    peers: dict[str, Payload]  # by server: the real-sized seed with the peer's input
    fill: list[bytes]
    sizes_added: dict[str, int]  # realistic.PARTS -> bytes added to the observed resources


def latency_pairs(servers: dict[str, Server], requests: Requests) -> list[tuple[Server, Payload]]:
    """The seed at concurrency 1: ours three ways, and the floor."""
    return [
        (servers[OURS], requests.seed),
        (servers[OURS], requests.changing),
        (servers[COMPOSING], requests.seed),
        (servers[FLOOR], requests.seed),
    ]


def go_templating_pairs(
    servers: dict[str, Server], requests: Requests
) -> list[tuple[Server, Payload]]:
    """The seed at concurrency 1 against function-go-templating, in a phase of its own.

    Go's collector and scheduler keep a core busy after each call, which slows whatever
    call comes next: the floor ratios are measured without function-go-templating.
    """
    if requests.go_template is None or GO_TEMPLATING not in servers:
        return []
    return [
        (servers[OURS], requests.seed),
        (servers[COMPOSING], requests.seed),
        (servers[GO_TEMPLATING], requests.go_template),
        (servers[FLOOR], requests.seed),
    ]


def _latencies(
    pairs: Sequence[tuple[Server, Payload]], samples: Samples
) -> dict[tuple[str, str], report.Latency]:
    return {
        (s.name, p.label): report.Latency(
            statistics.median(samples[s.name, p.label] or [math.nan]),
            percentile(samples[s.name, p.label], 0.99),
            len(samples[s.name, p.label]),
        )
        for s, p in pairs
    }


def measure(
    mode: Mode, servers: dict[str, Server], requests: Requests, before: str | None
) -> report.Result:
    """Run every measurement against started servers and collect the figures."""
    errors = Errors()
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    rss_idle = {name: s.peak_rss_kib() for name, s in servers.items()}

    pairs = latency_pairs(servers, requests)
    latency = interleaved_latency(pairs, mode.latency_requests, mode.warmup_requests, errors)
    go_pairs = go_templating_pairs(servers, requests)
    go_latency = (
        interleaved_latency(go_pairs, mode.latency_requests, mode.warmup_requests, errors)
        if go_pairs
        else {}
    )
    errors_before = errors.total
    # At concurrency 8, each server gets the steady-state request.
    steady = {s.name: (s, p) for s, p in [*pairs, *go_pairs] if p is not requests.changing}
    throughput = alternating_throughput(list(steady.values()), mode, errors)
    throughput_errors = errors.total - errors_before
    rss_seed = {name: s.peak_rss_kib() for name, s in servers.items()}
    scaling = interleaved_latency(
        [(servers[n], p) for p in requests.sizes for n in (OURS, COMPOSING, FLOOR)],
        mode.scaling_rounds,
        max(1, mode.warmup_requests // 5),
        errors,
    )
    rss_end = {name: s.peak_rss_kib() for name, s in servers.items()}
    real = real_phases(mode, servers, requests, errors, before)

    return report.Result(
        real=real,
        latency=_latencies(pairs, latency),
        go_latency=_latencies(go_pairs, go_latency),
        throughput=throughput,
        throughput_errors=throughput_errors,
        rss_idle_kib=rss_idle,
        rss_seed_kib=rss_seed,
        rss_end_kib=rss_end,
        scaling_p50={
            (n, p.label): statistics.median(scaling[n, p.label] or [math.nan])
            for p in requests.sizes
            for n in (OURS, COMPOSING, FLOOR)
        },
        scaling_count=min(len(v) for v in scaling.values()),
        payloads=[(p.label, p.apps, len(p.data), p.resources) for p in requests.sizes],
        errors=dict(errors.counts),
        error_samples=list(errors.samples),
        seconds=time.monotonic() - started,
        load=(load_before, os.getloadavg()[0]),
        clients=CLIENTS,
        mode=mode.__dict__,
        go_templating=None
        if GO_TEMPLATING not in servers
        else report.GoTemplating(
            binary=str(servers[GO_TEMPLATING].command[0]),
            template=str(GO_TEMPLATE.relative_to(REPO)),
        ),
    )


def real_phases(
    mode: Mode,
    servers: dict[str, Server],
    requests: Requests,
    errors: Errors,
    before: str | None,
) -> report.Real:
    """CPU per call on real-sized requests, peak RSS with a full memo, and fairness."""
    same, changed, read, large = (requests.real[label] for label in REAL)
    ours, composing, floor = servers[OURS], servers[COMPOSING], servers[FLOOR]
    remembering = [ours, floor, *(servers[n] for n in (BEFORE,) if n in servers)]
    composers = [composing, *(servers[n] for n in (COMPOSING_BEFORE,) if n in servers)]
    pairs: list[tuple[Server, Payload]] = [
        *((server, payload) for payload in (same, changed, read) for server in remembering),
        *((server, payload) for payload in (same, large) for server in composers),
        *((servers[name], payload) for name, payload in requests.peers.items()),
    ]
    for server, payload in pairs:
        for _ in range(max(1, mode.warmup_requests // 10)):
            timed_call(server, payload, errors)

    def call(server: cpu.Target, payload: cpu.Sent) -> float | None:
        return timed_call(cast("Server", server), cast("Payload", payload), errors)

    found = cpu.cpu_per_call(pairs, call, mode.cpu_rounds, mode.cpu_block_seconds)

    def send(server: cpu.Target, data: bytes) -> None:
        try:
            raw = cast("Server", server).call(data)
        except grpc.RpcError as error:
            errors.add(server.name, f"filling the memo: {error.code()}")
            return
        if documents.fatal_of(fnv1.RunFunctionResponse.FromString(raw)) is not None:
            errors.add(server.name, "filling the memo: Fatal")

    rss_full = cpu.fill(remembering, requests.fill, send)
    fair = cpu.fairness(composing, same, large, call, mode.fairness_seconds)
    return report.Real(
        cpu=found,
        rss_full_kib=rss_full,
        fill_xrs=len(requests.fill),
        fairness=fair,
        sizes=[(label, len(p.data), p.resources) for label, p in requests.real.items()],
        bare_seed_bytes=len(requests.seed.data),
        parts=requests.sizes_added,
        peers={name: servers[name].command[0] for name in requests.peers},
        before=before,
    )
