"""Real servers for the serving tests: ``function serve`` subprocesses, certificates, clients.

Every server listens on a free port of 127.0.0.1 only, and ``Launcher.close`` kills
every subprocess it started, whatever the outcome of the test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
import yaml
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1
from realtools.certs import Authority

from function import main
from function.offline import documents

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "seed" / "claim.yaml"
HOST = "127.0.0.1"
V1_METHOD = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 5.0
# What the seed claim gets on the first call: everything that depends on nothing.
FIRST_WAVE = {"api", "certificate", "namespace", "nlb", "vpc-link"}
# Settings serve reads from the environment; a stray one would change the servers.
SDK_ENV = main.environment()
# Never route loopback calls through a proxy from the environment.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


def _identity(data: bytes) -> bytes:
    return data


# --- certificates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A PEM private key and certificate chain."""

    key: bytes
    chain: bytes


@dataclass(frozen=True)
class Certs:
    """The server's certs directory and the identities clients may present."""

    server_dir: Path
    ca: bytes
    client: Identity
    foreign_client: Identity


NO_SHIFT = dt.timedelta(0)


class _Authority(Authority):
    """A throwaway CA issuing Identities: servers for 127.0.0.1 and localhost, or clients."""

    def identity(
        self, common_name: str, *, server: bool, shift: dt.timedelta = NO_SHIFT
    ) -> Identity:
        """A leaf certificate and its key: a server one if ``server``, else a client one.

        Its validity is moved by ``shift`` (expired, or not valid yet).
        """
        leaf = (
            self.issue(common_name, ips=(HOST,), dns=("localhost",), shift=shift)
            if server
            else self.issue(common_name, client=True, shift=shift)
        )
        return Identity(key=leaf.key, chain=leaf.cert)


# --- the server subprocess ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _listener_inodes(port: int) -> list[int] | None:
    """Socket inodes listening on a TCP port, from Linux's /proc; None elsewhere."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    inodes: list[int] = []
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.append(int(inode))
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets a process holds open."""
    found: set[int] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    found.add(int(target[len("socket:[") : -1]))
    return found


class _PortTakenError(Exception):
    """Someone else listens on the port picked for the server."""


@dataclass
class Server:
    """A running ``function serve`` subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def target(self) -> str:
        """The gRPC target to dial."""
        return f"{HOST}:{self.port}"

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def listeners(self) -> tuple[int, int] | None:
        """(listeners on the port, of which this process owns), or None off Linux."""
        inodes = _listener_inodes(self.port)
        if inodes is None:
            return None
        ours = _socket_inodes(self.process.pid)
        return len(inodes), sum(1 for inode in inodes if inode in ours)

    def terminate(self) -> int:
        """Send SIGTERM and return the exit code; fail if it takes too long."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"server ignored SIGTERM for {STOP_TIMEOUT_S}s; output:\n{self.output()}")

    def kill(self) -> None:
        """Kill the process if it still runs, and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def wait_until_listening(self) -> None:
        """Block until the server accepts connections; fail with its output otherwise."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.kill()
                pytest.fail(
                    f"server exited with {self.process.returncode} before listening on "
                    f"{self.target}; output:\n{self.output()}"
                )
            counts = self.listeners()
            if counts is not None:
                total, ours = counts
                if total > ours:
                    raise _PortTakenError
                if ours:
                    return
            else:
                with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), 0.2):
                    return
            time.sleep(0.02)
        self.kill()
        pytest.fail(
            f"server not listening on {self.target} after {START_TIMEOUT_S}s; "
            f"output:\n{self.output()}"
        )


@dataclass
class Launcher:
    """Starts servers and kills every one of them on close."""

    workdir: Path
    servers: list[Server] = field(default_factory=list)

    def start(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> Server:
        """Start ``python -m function serve --address 127.0.0.1:PORT ARGS`` and wait for it."""
        environment = {k: v for k, v in os.environ.items() if k not in SDK_ENV}
        environment.update(env or {})
        for _ in range(3):
            port = _free_port()
            log = self.workdir / f"server-{port}-{len(self.servers)}.log"
            command = [sys.executable, "-m", "function", "serve", "--address", f"{HOST}:{port}"]
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [*command, *args],
                    cwd=REPO,
                    env=environment,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            server = Server(process=process, port=port, log=log)
            self.servers.append(server)
            try:
                server.wait_until_listening()
            except _PortTakenError:
                server.kill()  # gRPC sets SO_REUSEPORT: it would share the port silently.
                continue
            return server
        pytest.fail("no free loopback port found in 3 attempts")

    def close(self) -> None:
        """Kill every server still running."""
        for server in self.servers:
            server.kill()


# --- clients ------------------------------------------------------------------------------


def _seed_xr() -> dict[str, object]:
    return documents.composite_from(yaml.safe_load(SEED.read_text(encoding="utf-8")))


def _seed_request() -> fnv1.RunFunctionRequest:
    return documents.request(_seed_xr(), {}, None, tag="test-server")


def _channel(target: str, tls: grpc.ChannelCredentials | None) -> grpc.Channel:
    if tls is None:
        return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
    return grpc.secure_channel(target, tls, options=CHANNEL_OPTIONS)


def _client_tls(certs: Certs, identity: Identity | None) -> grpc.ChannelCredentials:
    if identity is None:
        return grpc.ssl_channel_credentials(root_certificates=certs.ca)
    return grpc.ssl_channel_credentials(
        root_certificates=certs.ca, private_key=identity.key, certificate_chain=identity.chain
    )


def _stub(channel: grpc.Channel, module: Any = grpcv1) -> Any:
    """A FunctionRunnerService stub from a generated (untyped) ``*_pb2_grpc`` module."""
    return module.FunctionRunnerServiceStub(channel)


def _run(
    target: str,
    req: fnv1.RunFunctionRequest,
    tls: grpc.ChannelCredentials | None = None,
) -> fnv1.RunFunctionResponse:
    """One RunFunction call on a fresh channel, so a fresh connection."""
    with _channel(target, tls) as channel:
        stub = _stub(channel)
        response: fnv1.RunFunctionResponse = stub.RunFunction(req, timeout=CALL_TIMEOUT_S)
        return response


def _raw_call(channel: grpc.Channel, body: bytes) -> bytes:
    """RunFunction with bytes in and bytes out: what is really on the wire."""
    call = channel.unary_unary(
        V1_METHOD, request_serializer=_identity, response_deserializer=_identity
    )
    response: bytes = call(body, timeout=CALL_TIMEOUT_S)
    return response


def _assert_first_wave(rsp: fnv1.RunFunctionResponse) -> None:
    """The seed claim's first answer: the independent resources and a gateway status."""
    assert documents.fatal_of(rsp) is None
    assert set(documents.desired_of(rsp)) == FIRST_WAVE
    status = documents.status_of(rsp)
    assert status["apiGateway"]["enabled"] is True
    assert status["ready"] is False
    assert rsp.desired.composite.ready == fnv1.READY_FALSE
    assert any(line.startswith("vcluster:") for line in status["pending"])
    assert rsp.meta.tag == "test-server"
