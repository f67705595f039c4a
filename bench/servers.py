"""The servers the benchmark calls: each in a subprocess, over a loopback gRPC channel.

Every answer is checked (``wrong_answer``): a failed call or a wrong answer is counted,
never timed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import grpc
import report
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from payloads import REPO, BenchError

from function import main
from function.offline import documents

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from payloads import Payload

HOST = "127.0.0.1"
METHOD = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
OURS, COMPOSING, FLOOR, GO_TEMPLATING, PYTHONIC = report.SERVERS
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 10.0
MAX_ERROR_SAMPLES = 5
# Settings serve reads from the environment; a stray one would change the servers.
SDK_ENV = main.environment()
# Never route loopback calls through a proxy from the environment.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


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
