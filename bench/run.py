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
import gc
import math
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import grpc
import report
from crossplane.function.proto.v1 import run_function_pb2 as fnv1

from function import fn, offline
from function.fakeprovider import FakeProvider
from function.simulate import simulate

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "claim-seed.yaml"
COMPOSITION = REPO / "compositions" / "composition-legacy.yaml"
DOCS = REPO / "docs" / "benchmarks.md"
HOST = "127.0.0.1"
METHOD = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
OURS, FLOOR = "ours", "floor"
SEED_LABEL = "seed"
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


FULL = Mode(
    latency_requests=1000,
    warmup_requests=50,
    scaling_rounds=100,
    throughput_seconds=30.0,
    slices=6,
)
SMOKE = Mode(
    latency_requests=150,
    warmup_requests=10,
    scaling_rounds=10,
    throughput_seconds=1.0,
    slices=2,
)


class BenchError(RuntimeError):
    """The benchmark cannot go on (a server did not start, a request is not realistic)."""


# --- requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """One serialized request and what a correct answer from each server looks like."""

    label: str
    apps: int
    data: bytes
    resources: int


def _apps(count: int) -> list[dict[str, Any]]:
    return [
        {"name": f"app{i}", "pathPrefix": f"/p{i}", "service": f"svc{i}", "port": 8080}
        for i in range(count)
    ]


def build_payload(label: str, apps: int) -> Payload:
    """The seed claim with ``apps`` apps and the observed state of a converged simulation.

    Raises:
        BenchError: the simulation did not converge or the request is not fully composed.
    """
    xr = offline.composite_from(offline.load_documents(SEED)[0])
    if apps:
        xr["spec"]["apps"] = _apps(apps)
    function_input = offline.input_from(offline.load_documents(COMPOSITION))
    result = simulate(xr, function_input)
    if not result.converged or result.fatal is not None:
        msg = f"{label}: the simulation did not converge ({result.fatal})"
        raise BenchError(msg)
    last = result.rounds[-1]
    observed = FakeProvider(xr["metadata"]["name"]).apply(last.desired, last.observed_before)
    req = offline.request(xr, observed, function_input, tag=f"bench-{label}")
    rsp = fn.run(req)
    if offline.fatal_of(rsp) is not None or len(rsp.desired.resources) != len(observed):
        msg = f"{label}: the request does not compose every observed resource"
        raise BenchError(msg)
    return Payload(label, apps, req.SerializeToString(), len(observed))


def build_payloads() -> list[Payload]:
    """The seed claim, then the seed claim with each of APP_COUNTS apps."""
    payloads = [build_payload(SEED_LABEL, 0)]
    payloads += [build_payload(f"{n} app{'s' * (n > 1)}", n) for n in APP_COUNTS]
    return payloads


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
    def launch(cls, name: str, argv: Sequence[str], log: IO[bytes]) -> Server:
        """Start a server on a free port; ``argv`` is completed with ``--address``."""
        address = f"{HOST}:{free_port()}"
        command = [sys.executable, *argv, "--address", address]
        env = {k: v for k, v in os.environ.items() if k not in SDK_ENV}
        server = cls(name, command, address, log)
        server.proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
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


def wrong_answer(server: Server, payload: Payload, raw: bytes) -> str | None:
    """Why an answer is wrong, or None: ours composes everything, the floor echoes nothing."""
    rsp = fnv1.RunFunctionResponse.FromString(raw)
    if (fatal := offline.fatal_of(rsp)) is not None:
        return f"Fatal: {fatal}"
    expected = payload.resources if server.name == OURS else 0
    if len(rsp.desired.resources) != expected:
        return f"{len(rsp.desired.resources)} desired resources, expected {expected}"
    return None


def timed_call(server: Server, payload: Payload, errors: Errors) -> float | None:
    """One checked call; its latency in seconds, or None when it failed."""
    start = time.perf_counter()
    try:
        raw = server.call(payload.data)
    except grpc.RpcError as error:
        errors.add(server.name, f"{payload.label}: {error.code()}")
        return None
    elapsed = time.perf_counter() - start
    if (problem := wrong_answer(server, payload, raw)) is not None:
        errors.add(server.name, f"{payload.label}: {problem}")
        return None
    return elapsed


# --- measurements -----------------------------------------------------------------------


Samples = dict[tuple[str, str], list[float]]


def interleaved_latency(
    pairs: Sequence[tuple[Server, Payload]], rounds: int, warmup: int, errors: Errors
) -> Samples:
    """Concurrency 1: every (server, request) pair once per round, the order rotating.

    Rotating the order each round means neither server always follows the other, and
    machine drift over the run lands on every pair alike.
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


@dataclass
class Throughput:
    """Calls completed at concurrency 8 and the server CPU time they took."""

    calls: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        """Completed calls per second of wall time."""
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_call(self) -> float:
        """Server CPU milliseconds per completed call."""
        return 1000 * self.cpu_seconds / self.calls if self.calls else math.nan


def _slice(server: Server, payload: Payload, seconds: float, errors: Errors) -> Throughput:
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
    return Throughput(sum(counts), elapsed, server.cpu_seconds() - cpu_before)


def alternating_throughput(
    servers: Sequence[Server], payload: Payload, mode: Mode, errors: Errors
) -> dict[str, Throughput]:
    """Concurrency 8 in ``mode.slices`` slices per server, alternating which goes first."""
    totals = {s.name: Throughput() for s in servers}
    per_slice = mode.throughput_seconds / mode.slices
    for number in range(mode.slices):
        order = servers if number % 2 == 0 else list(reversed(servers))
        for server in order:
            part = _slice(server, payload, per_slice, errors)
            total = totals[server.name]
            total.calls += part.calls
            total.seconds += part.seconds
            total.cpu_seconds += part.cpu_seconds
    return totals


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# --- the run ----------------------------------------------------------------------------


def measure(mode: Mode, servers: dict[str, Server], payloads: list[Payload]) -> report.Result:
    """Run every measurement against started servers and collect the figures."""
    errors = Errors()
    seed = payloads[0]
    ours, floor = servers[OURS], servers[FLOOR]
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    rss_idle = {name: s.peak_rss_kib() for name, s in servers.items()}

    latency = interleaved_latency(
        [(ours, seed), (floor, seed)], mode.latency_requests, mode.warmup_requests, errors
    )
    errors_before = errors.total
    throughput = alternating_throughput([ours, floor], seed, mode, errors)
    throughput_errors = errors.total - errors_before
    rss_seed = {name: s.peak_rss_kib() for name, s in servers.items()}
    scaling = interleaved_latency(
        [(s, p) for p in payloads for s in (ours, floor)],
        mode.scaling_rounds,
        max(1, mode.warmup_requests // 5),
        errors,
    )
    rss_end = {name: s.peak_rss_kib() for name, s in servers.items()}

    return report.Result(
        latency_p50={n: statistics.median(latency[n, seed.label]) for n in servers},
        latency_p99={n: percentile(latency[n, seed.label], 0.99) for n in servers},
        latency_count={n: len(latency[n, seed.label]) for n in servers},
        throughput_rps={n: t.per_second for n, t in throughput.items()},
        throughput_calls={n: t.calls for n, t in throughput.items()},
        throughput_seconds={n: t.seconds for n, t in throughput.items()},
        throughput_errors=throughput_errors,
        cpu_ms_per_call={n: t.cpu_ms_per_call for n, t in throughput.items()},
        rss_idle_kib=rss_idle,
        rss_seed_kib=rss_seed,
        rss_end_kib=rss_end,
        scaling_p50={
            (n, p.label): statistics.median(scaling[n, p.label] or [math.nan])
            for p in payloads
            for n in servers
        },
        scaling_count=min(len(v) for v in scaling.values()),
        payloads=[(p.label, p.apps, len(p.data), p.resources) for p in payloads],
        errors=dict(errors.counts),
        error_samples=list(errors.samples),
        seconds=time.monotonic() - started,
        load=(load_before, os.getloadavg()[0]),
        clients=CLIENTS,
        mode=mode.__dict__,
    )


def run(mode: Mode) -> report.Result:
    """Build the requests, start both servers, measure, and always stop the servers."""
    payloads = build_payloads()
    commands = {
        OURS: ["-m", "function", "serve", "--insecure"],
        FLOOR: [str(Path(__file__).with_name("floor.py"))],
    }
    servers: dict[str, Server] = {}
    with contextlib.ExitStack() as stack:
        for name, argv in commands.items():
            log = stack.enter_context(tempfile.TemporaryFile(prefix=f"bench-{name}-"))
            servers[name] = Server.launch(name, argv, log)
            stack.callback(servers[name].stop)
        for server in servers.values():
            server.wait_ready(payloads[0].data)
        return measure(mode, servers, payloads)


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
    args = parser.parse_args(argv)
    mode = SMOKE if args.smoke else FULL
    write_docs = (not args.smoke) if args.write_docs is None else args.write_docs
    command = shlex.join(["python", "bench/run.py", *(argv or sys.argv[1:])])
    try:
        result = run(mode)
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
