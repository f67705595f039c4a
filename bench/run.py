"""Benchmark RunFunction over loopback gRPC: our function side by side with the SDK floor.

Starts ``python -m function serve --insecure`` and ``bench/floor.py`` on free ports of
127.0.0.1, sends both the same realistic requests (the seed claim, fully composed, with
observed resources from a converged simulation) and reports, from one run:

- p50 / p99 latency at concurrency 1 (the two servers alternate request by request);
- throughput and errors at concurrency 8 (the two servers alternate in time slices);
- peak RSS (VmHWM) of each server process;
- latency for claims with 1, 10, 100 and 300 apps (round-robin over every size).

Every loop is bounded by a request count or a deadline. ``--smoke`` is the short mode CI
runs; the full mode writes ``docs/benchmarks.md`` unless told not to.

Usage: ``python bench/run.py [--smoke] [--write-docs | --no-write-docs]``
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import io
import itertools
import math
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import cpu
import grpc
import realistic
import report
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function.offline import documents
from function.offline.fakeprovider import FakeProvider
from function.offline.simulate import simulate
from function.serving import fn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "seed" / "claim.yaml"
COMPOSITION = REPO / "compositions" / "composition-legacy.yaml"
DOCS = REPO / "docs" / "benchmarks.md"
GO_TEMPLATE = REPO / "bench" / "go-templating" / "seed.yaml"
PYTHONIC_COMPOSITION = REPO / "bench" / "pythonic" / "seed.yaml"
# Where the peers are found unless given: function-go-templating from the shared tools, and
# function-pythonic in the venv ``make bench-peers`` makes.
GO_TEMPLATING_DEFAULT = REPO.parent / "shared" / "bin" / "function-go-templating"
PYTHONIC_DEFAULT = REPO / ".venv-pythonic" / "bin" / "function-pythonic"
HOST = "127.0.0.1"
METHOD = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
SEED_LABEL = report.SEED_LABEL
CHANGING_LABEL = report.CHANGING_LABEL
GO_TEMPLATING_LABEL = "seed, go template"
OURS, COMPOSING, FLOOR, GO_TEMPLATING, PYTHONIC = report.SERVERS
BEFORE, COMPOSING_BEFORE = report.BEFORE_SERVERS
REAL = report.REAL_LABELS
# The observed resource whose value the function reads changes in "read value changed".
READ_RESOURCE = "listener"
# XRs sent once each to fill the memo before peak RSS is read (the full mode).
FILL_XRS = 500
# Requests with an unread change: enough that no two in a row are alike.
VARIANTS = 64
CHANGED_RESOURCE = "api"
APP_COUNTS = (1, 10, 100, 300)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 10.0
CLIENTS = 8
MAX_ERROR_SAMPLES = 5
SUMMARY_PREFIX = "bench summary:"
# Settings the SDK CLI reads from the environment; a stray one would change the servers.
SDK_ENV = (
    "ADDRESS",
    "DEBUG",
    "INSECURE",
    "MAX_GRPC_MESSAGE_SIZE",
    "MAX_RECV_MESSAGE_SIZE",
    "MAX_SEND_MESSAGE_SIZE",
    "TLS_SERVER_CERTS_DIR",
)
# Never route loopback calls through a proxy from the environment.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


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


class BenchError(RuntimeError):
    """The benchmark cannot go on (a server did not start, a request is not realistic)."""


# --- requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """Serialized requests, sent in turn, and what a correct answer from each server holds."""

    label: str
    apps: int
    variants: tuple[bytes, ...]
    resources: int
    # Our function's answer to each variant, composed in-process; empty for another input.
    answers: tuple[bytes, ...] = ()
    turn: Iterator[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Start the turn at the first variant."""
        # itertools.cycle advances atomically, so client threads may share one payload.
        object.__setattr__(self, "turn", itertools.cycle(range(len(self.variants))))

    @property
    def data(self) -> bytes:
        """The first request (every request, for a payload of one variant)."""
        return self.variants[0]

    def next(self) -> tuple[bytes, bytes | None]:
        """The next request in turn, and our answer to it if known."""
        index = next(self.turn)
        return self.variants[index], self.answers[index] if self.answers else None


def composed_answers(variants: Sequence[bytes]) -> tuple[bytes, ...]:
    """Our answers to serialized requests, composed in-process."""
    return tuple(
        bytes(
            fn.run(fnv1.RunFunctionRequest.FromString(data)).SerializeToString(deterministic=True)
        )
        for data in variants
    )


def _apps(count: int) -> list[dict[str, Any]]:
    return [
        {"name": f"app{i}", "pathPrefix": f"/p{i}", "service": f"svc{i}", "port": 8080}
        for i in range(count)
    ]


@dataclass(frozen=True)
class Converged:
    """A claim's XR, function input and the observed state its simulation converged to."""

    xr: dict[str, Any]
    function_input: dict[str, Any] | None
    observed: dict[str, dict[str, Any]]


def converge(label: str, apps: int) -> Converged:
    """The seed claim with ``apps`` apps, as observed once its simulation converged.

    Every size is its own XR (its own name), as separate claims would be.

    Raises:
        BenchError: the simulation did not converge or the request is not fully composed.
    """
    xr = documents.composite_from(documents.load_documents(SEED)[0])
    if apps:
        xr["spec"]["apps"] = _apps(apps)
        xr["metadata"]["name"] = f"{xr['metadata']['name']}-{apps}"
    function_input = documents.input_from(documents.load_documents(COMPOSITION))
    result = simulate(xr, function_input)
    if not result.converged or result.fatal is not None:
        msg = f"{label}: the simulation did not converge ({result.fatal})"
        raise BenchError(msg)
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    rsp = fn.run(documents.request(xr, observed, function_input))
    if documents.fatal_of(rsp) is not None or len(rsp.desired.resources) != len(observed):
        msg = f"{label}: the request does not compose every observed resource"
        raise BenchError(msg)
    return Converged(xr, function_input, observed)


def steady(state: Converged, label: str, apps: int) -> Payload:
    """One request, sent again and again: a steady-state reconcile of a converged claim."""
    req = documents.request(state.xr, state.observed, state.function_input)
    variants = (req.SerializeToString(),)
    return Payload(label, apps, variants, len(state.observed), composed_answers(variants))


def build_payload(label: str, apps: int) -> Payload:
    """The steady-state request of the seed claim with ``apps`` apps."""
    return steady(converge(label, apps), label, apps)


def unread_changes(state: Converged, label: str) -> Payload:
    """VARIANTS requests differing only where the function never reads, each with its own tag.

    A provider writing an observed resource bumps its resourceVersion; realtime compositions
    then call the function with that change and nothing else. The XR is a second one (its
    own name), so that its answers and the steady-state request's do not displace each other.
    """
    xr = copy.deepcopy(state.xr)
    xr["metadata"]["name"] = f"{xr['metadata']['name']}-changing"
    variants = []
    for number in range(VARIANTS):
        observed = copy.deepcopy(state.observed)
        observed[CHANGED_RESOURCE]["metadata"]["resourceVersion"] = str(number + 1)
        req = documents.request(xr, observed, state.function_input)
        variants.append(req.SerializeToString())
    return Payload(label, 0, tuple(variants), len(state.observed), composed_answers(variants))


def go_template_payload(state: Converged, template: Path, label: str) -> Payload:
    """The seed request with a peer's input (its one document) in place of ours."""
    loaded = documents.load_documents(template)
    if len(loaded) != 1:
        msg = f"{template}: expected one input document, found {len(loaded)}"
        raise BenchError(msg)
    req = documents.request(state.xr, state.observed, loaded[0])
    return Payload(label, 0, (req.SerializeToString(),), len(state.observed))


def dressed(state: Converged, suffix: str) -> Converged:
    """``state`` as Crossplane really sends it (``realistic``), for an XR of its own."""
    xr = copy.deepcopy(state.xr)
    xr["metadata"]["name"] = f"{xr['metadata']['name']}{suffix}"
    xr, observed = realistic.dress(xr, state.observed)
    return Converged(xr, state.function_input, observed)


def _bump(observed: dict[str, Any], key: str, number: int) -> None:
    """A write to an observed object, as the API server records it: a new resourceVersion."""
    observed[key]["metadata"]["resourceVersion"] = str(900_000 + number)


def real_changes(state: Converged, label: str, *, read: bool) -> Payload:
    """VARIANTS real-sized requests, each a write to one observed object since the last.

    ``read``: the write changes the listener ARN, which the integration copies (the
    answer changes); otherwise only the API's resourceVersion changes.
    """
    variants = []
    for number in range(VARIANTS):
        observed = copy.deepcopy(state.observed)
        if read:
            at_provider = observed[READ_RESOURCE]["status"]["atProvider"]
            at_provider["arn"] = f"{at_provider['arn']}-{number}"
        _bump(observed, READ_RESOURCE if read else CHANGED_RESOURCE, number)
        req = documents.request(state.xr, observed, state.function_input)
        variants.append(req.SerializeToString())
    return Payload(label, 0, tuple(variants), len(state.observed), composed_answers(variants))


def fill_requests(state: Converged, count: int) -> list[bytes]:
    """The real-sized seed request for ``count`` XRs of other names, to fill the memo."""
    req = documents.request(state.xr, state.observed, state.function_input)
    found = []
    for number in range(count):
        req.observed.composite.resource["metadata"]["name"] = f"fill-{number:04d}"
        found.append(bytes(documents.retag(req).SerializeToString()))
    return found


# --- servers ----------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _proc_status(pid: int, key: str) -> int:
    """A ``kB`` figure from /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    msg = f"/proc/{pid}/status has no {key}"
    raise BenchError(msg)


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A function server in a subprocess and a loopback channel to it."""

    name: str
    command: list[str]
    address: str
    log: IO[bytes]
    proc: subprocess.Popen[bytes] | None = None
    channel: grpc.Channel | None = None
    rpc: Callable[..., bytes] | None = None

    @classmethod
    def launch(
        cls, name: str, argv: Sequence[str], log: IO[bytes], checkout: Path = REPO
    ) -> Server:
        """Start a server on a free port; ``argv`` (a whole command) gets ``--address``.

        ``checkout``: the copy of this repository whose ``function`` package it runs
        (another for the code ``--before`` names).
        """
        address = f"{HOST}:{free_port()}"
        command = [*argv, "--address", address]
        env = {k: v for k, v in os.environ.items() if k not in SDK_ENV}
        if checkout != REPO:
            env["PYTHONPATH"] = str(checkout)
        server = cls(name, command, address, log)
        server.proc = subprocess.Popen(
            command, cwd=checkout, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        server.channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
        server.rpc = server.channel.unary_unary(METHOD)
        return server

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self.proc is None:
            msg = f"{self.name} was never started"
            raise BenchError(msg)
        return self.proc.pid

    def call(self, data: bytes) -> bytes:
        """One RunFunction call with an already serialized request."""
        if self.rpc is None:
            msg = f"{self.name} was never started"
            raise BenchError(msg)
        return self.rpc(data, timeout=CALL_TIMEOUT_S)

    def wait_ready(self, data: bytes) -> None:
        """Wait until the server answers a request, or fail if it exits or takes too long.

        Raises:
            BenchError: the server exited or did not answer within START_TIMEOUT_S.
        """
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                msg = f"{self.name} exited with {self.proc.returncode}: {self.output()}"
                raise BenchError(msg)
            with contextlib.suppress(grpc.RpcError):
                if self.rpc is not None:
                    self.rpc(data, timeout=1.0, wait_for_ready=True)
                    return
        msg = f"{self.name} did not answer within {START_TIMEOUT_S:.0f} s: {self.output()}"
        raise BenchError(msg)

    def peak_rss_kib(self) -> int:
        """Peak resident set size of the server process so far (VmHWM)."""
        return _proc_status(self.pid, "VmHWM")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far."""
        return _cpu_seconds(self.pid)

    def output(self) -> str:
        """The last lines the server printed."""
        self.log.flush()
        self.log.seek(0)
        return " | ".join(self.log.read().decode(errors="replace").splitlines()[-5:])

    def stop(self) -> None:
        """Close the channel and stop the process: SIGTERM, then SIGKILL."""
        if self.channel is not None:
            self.channel.close()
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)


# --- checking answers -------------------------------------------------------------------


@dataclass
class Errors:
    """Failed calls and wrong answers, per server, with a few samples."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, server: str, message: str) -> None:
        """Count one error."""
        with self.lock:
            self.counts[server] = self.counts.get(server, 0) + 1
            if len(self.samples) < MAX_ERROR_SAMPLES:
                self.samples.append(f"{server}: {message}")

    @property
    def total(self) -> int:
        """Every error of the run."""
        return sum(self.counts.values())


def wrong_answer(server: Server, payload: Payload, raw: bytes, ours: bytes | None) -> str | None:
    """Why an answer is wrong, or None.

    Ours must be the in-process composition, byte for byte; go-templating must compose
    every resource; the floor echoes the request's empty desired state.
    """
    if server.name in {OURS, COMPOSING} and raw != ours:
        return "not the answer composing in-process gives"
    rsp = fnv1.RunFunctionResponse.FromString(raw)
    if (fatal := documents.fatal_of(rsp)) is not None:
        return f"Fatal: {fatal}"
    expected = 0 if server.name == FLOOR else payload.resources
    if len(rsp.desired.resources) != expected:
        return f"{len(rsp.desired.resources)} desired resources, expected {expected}"
    return None


def timed_call(server: Server, payload: Payload, errors: Errors) -> float | None:
    """One checked call; its latency in seconds, or None when it failed."""
    data, ours = payload.next()
    start = time.perf_counter()
    try:
        raw = server.call(data)
    except grpc.RpcError as error:
        errors.add(server.name, f"{payload.label}: {error.code()}")
        return None
    elapsed = time.perf_counter() - start
    if (problem := wrong_answer(server, payload, raw, ours)) is not None:
        errors.add(server.name, f"{payload.label}: {problem}")
        return None
    return elapsed


# --- measurements -----------------------------------------------------------------------


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


# --- the run ----------------------------------------------------------------------------


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


def build_requests(peers: dict[str, Path], fill_xrs: int) -> Requests:
    """Converge the seed claim and every size once, and serialize their requests."""
    seed_state = converge(SEED_LABEL, 0)
    seed = steady(seed_state, SEED_LABEL, 0)
    sizes = [seed] + [build_payload(f"{n} app{'s' * (n > 1)}", n) for n in APP_COUNTS]
    real_same, real_changing, real_reading = (
        dressed(seed_state, suffix) for suffix in ("-real", "-real-changing", "-real-reading")
    )
    large_state = converge(report.LARGEST_LABEL, APP_COUNTS[-1])
    same_label, changed_label, read_label, large_label = REAL
    real = {
        same_label: steady(real_same, same_label, 0),
        changed_label: real_changes(real_changing, changed_label, read=False),
        read_label: real_changes(real_reading, read_label, read=True),
        large_label: steady(dressed(large_state, "-real"), large_label, APP_COUNTS[-1]),
    }
    inputs = {GO_TEMPLATING: GO_TEMPLATE, PYTHONIC: PYTHONIC_COMPOSITION}
    return Requests(
        seed=seed,
        changing=unread_changes(seed_state, CHANGING_LABEL),
        sizes=sizes,
        go_template=go_template_payload(seed_state, GO_TEMPLATE, GO_TEMPLATING_LABEL)
        if GO_TEMPLATING in peers
        else None,
        real=real,
        peers={
            name: go_template_payload(real_same, inputs[name], f"{same_label}, {name}")
            for name in peers
        },
        fill=fill_requests(dressed(seed_state, "-fill"), fill_xrs),
        sizes_added=realistic.sizes(seed_state.observed, real_same.observed),
    )


def commands(peers: dict[str, Path], *, before: bool) -> dict[str, list[str]]:
    """How each server is started (without ``--address``)."""
    ours = [sys.executable, "-m", "function", "serve", "--insecure"]
    found = {
        OURS: ours,
        COMPOSING: [*ours, "--cache-mib", "0"],
        FLOOR: [sys.executable, str(Path(__file__).with_name("floor.py"))],
    }
    if before:
        found.update({BEFORE: ours, COMPOSING_BEFORE: [*ours, "--cache-mib", "0"]})
    found.update({name: [str(binary), "--insecure"] for name, binary in peers.items()})
    return found


def extract(revision: str, into: Path) -> None:
    """This repository's files at ``revision``, written into ``into``.

    Raises:
        BenchError: git does not know the revision.
    """
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", revision],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        msg = f"--before {revision}: git archive failed ({error})"
        raise BenchError(msg) from error
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run(mode: Mode, peers: dict[str, Path], before: str | None = None) -> report.Result:
    """Build the requests, start the servers, measure, and always stop the servers."""
    requests = build_requests(peers, mode.fill_xrs)
    servers: dict[str, Server] = {}
    with contextlib.ExitStack() as stack:
        earlier = REPO
        if before is not None:
            earlier = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-before-")))
            extract(before, earlier)
        for name, argv in commands(peers, before=before is not None).items():
            log = stack.enter_context(tempfile.TemporaryFile(prefix="bench-server-"))
            checkout = earlier if name in {BEFORE, COMPOSING_BEFORE} else REPO
            servers[name] = Server.launch(name, argv, log, checkout)
            stack.callback(servers[name].stop)
        for name, server in servers.items():
            first = requests.peers.get(name, requests.seed)
            server.wait_ready(first.data)
        return measure(mode, servers, requests, before)


def _found(path: Path) -> Path | None:
    return path if path.exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, run, print the table and one summary line; 1 if any call failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a short run for CI")
    parser.add_argument(
        "--write-docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"write {DOCS.relative_to(REPO)} (default: only in full mode)",
    )
    for flag, env, default, given, where in (
        (
            "--go-templating",
            "GO_TEMPLATING_BIN",
            GO_TEMPLATING_DEFAULT,
            GO_TEMPLATE,
            "../shared/bin",
        ),
        ("--pythonic", "PYTHONIC_BIN", PYTHONIC_DEFAULT, PYTHONIC_COMPOSITION, ".venv-pythonic"),
    ):
        parser.add_argument(
            flag,
            type=Path,
            default=os.environ.get(env) or _found(default),
            help=f"function-{flag[2:]} to measure beside ours, given {given.relative_to(REPO)} "
            f"as input (default: ${env}, else the one in {where} if there)",
        )
    parser.add_argument(
        "--no-peers", action="store_true", help="measure neither peer (what CI's smoke run does)"
    )
    parser.add_argument(
        "--before",
        metavar="REVISION",
        help="also measure our function as it was at REVISION (a git commit of this "
        "repository) on the real-sized requests, to show what the changes since bought",
    )
    args = parser.parse_args(argv)
    peers = (
        {}
        if args.no_peers
        else {
            name: path
            for name, path in ((GO_TEMPLATING, args.go_templating), (PYTHONIC, args.pythonic))
            if path is not None
        }
    )
    mode = SMOKE if args.smoke else FULL
    write_docs = (not args.smoke) if args.write_docs is None else args.write_docs
    command = shlex.join(["python", "bench/run.py", *(argv or sys.argv[1:])])
    try:
        result = run(mode, peers, args.before)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    print(report.table(result))
    if write_docs:
        DOCS.parent.mkdir(parents=True, exist_ok=True)
        DOCS.write_text(report.markdown(result, command, smoke=args.smoke), encoding="utf-8")
        print(f"wrote {DOCS.relative_to(REPO)}")
    for sample in result.error_samples:
        print(f"error: {sample}", file=sys.stderr)
    print(f"{SUMMARY_PREFIX} {report.summary(result)}")
    return 1 if result.total_errors else 0


if __name__ == "__main__":
    sys.exit(main())
