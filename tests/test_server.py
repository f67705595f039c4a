"""End-to-end tests of the real gRPC server: ``python -m function serve`` in a subprocess.

Every server listens on a free port of 127.0.0.1 only, and every fixture kills its
subprocesses, whatever the outcome of the test.
"""

from __future__ import annotations

import contextlib
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
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from crossplane.function.proto.v1beta1 import run_function_pb2_grpc as grpcv1beta1
from realtools.certs import Authority

from function import offline
from function.simulate import simulate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "claim-seed.yaml"
HOST = "127.0.0.1"
V1_METHOD = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 5.0
# What the seed claim gets on the first call: everything that depends on nothing.
FIRST_WAVE = {"api", "certificate", "namespace", "nlb", "vpc-link"}
# Settings the SDK CLI reads from the environment; a stray one would change every test.
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


class _Authority(Authority):
    """A throwaway CA issuing Identities: servers for 127.0.0.1 and localhost, or clients."""

    def identity(self, common_name: str, *, server: bool) -> Identity:
        """A leaf certificate and its key: a server one if ``server``, else a client one."""
        leaf = (
            self.issue(common_name, ips=(HOST,), dns=("localhost",))
            if server
            else self.issue(common_name, client=True)
        )
        return Identity(key=leaf.key, chain=leaf.cert)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A CA, a server cert in a certs dir laid out as the SDK reads it, and client certs."""
    authority = _Authority("function-test-ca")
    server = authority.identity("function-vcluster-environment", server=True)
    server_dir = tmp_path_factory.mktemp("tls")
    (server_dir / "tls.crt").write_bytes(server.chain)
    (server_dir / "tls.key").write_bytes(server.key)
    (server_dir / "ca.crt").write_bytes(authority.pem)
    return Certs(
        server_dir=server_dir,
        ca=authority.pem,
        client=authority.identity("crossplane", server=False),
        foreign_client=_Authority("someone-else-ca").identity("crossplane", server=False),
    )


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


@pytest.fixture(scope="module")
def module_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    """Servers shared by the tests of this module."""
    started = Launcher(tmp_path_factory.mktemp("servers"))
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(scope="module")
def insecure_server(module_launcher: Launcher) -> Server:
    """One ``--insecure`` server for the tests that only need an answer."""
    return module_launcher.start(["--insecure"])


# --- clients ------------------------------------------------------------------------------


def _seed_xr() -> dict[str, object]:
    return offline.composite_from(yaml.safe_load(SEED.read_text(encoding="utf-8")))


def _seed_request() -> fnv1.RunFunctionRequest:
    return offline.request(_seed_xr(), {}, None, tag="test-server")


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
    assert offline.fatal_of(rsp) is None
    assert set(offline.desired_of(rsp)) == FIRST_WAVE
    status = offline.status_of(rsp)
    assert status["apiGateway"]["enabled"] is True
    assert status["ready"] is False
    assert rsp.desired.composite.ready == fnv1.READY_FALSE
    assert any(line.startswith("vcluster:") for line in status["pending"])
    assert rsp.meta.tag == "test-server"


# --- serving modes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """How the server is started and how a client must dial it."""

    args: tuple[str, ...]
    certs_env: bool
    client_tls: bool


CERTS_DIR = "{certs}"  # placeholder in Mode.args, replaced by the certs fixture's dir


def _mode_args(mode: Mode, certs: Certs) -> tuple[list[str], dict[str, str]]:
    args = [str(certs.server_dir) if a == CERTS_DIR else a for a in mode.args]
    env = {"TLS_SERVER_CERTS_DIR": str(certs.server_dir)} if mode.certs_env else {}
    return args, env


MODES = [
    # Local development and `crank render` dial the function without TLS.
    pytest.param(Mode(("--insecure",), certs_env=False, client_tls=False), id="insecure"),
    # The flag form of mTLS, as a human would run it.
    pytest.param(
        Mode(("--tls-certs-dir", CERTS_DIR), certs_env=False, client_tls=True), id="mtls-flag"
    ),
    # The env form of mTLS: Crossplane's package runtime sets TLS_SERVER_CERTS_DIR.
    pytest.param(Mode((), certs_env=True, client_tls=True), id="mtls-env"),
    # Both given: the function drops the certs and serves insecurely on one listener.
    pytest.param(
        Mode(("--insecure", "--tls-certs-dir", CERTS_DIR), certs_env=False, client_tls=False),
        id="insecure-and-certs",
    ),
]


@pytest.mark.parametrize("mode", MODES)
def test_serves_seed_claim_then_exits_zero_on_sigterm(
    mode: Mode, certs: Certs, launcher: Launcher
) -> None:
    args, env = _mode_args(mode, certs)
    server = launcher.start(args, env)
    tls = _client_tls(certs, certs.client) if mode.client_tls else None

    _assert_first_wave(_run(server.target, _seed_request(), tls))

    counts = server.listeners()
    if counts is not None:
        assert counts == (1, 1), f"expected one listener, ours; got (total, ours)={counts}"
    # The SDK stops the server with a grace period on SIGTERM and returns normally: exit 0.
    assert server.terminate() == 0, server.output()


def test_converges_over_grpc(insecure_server: Server) -> None:
    """Drive the whole fake-provider simulation through the wire, not in-process."""
    with _channel(insecure_server.target, None) as channel:
        stub = _stub(channel)

        def runner(req: fnv1.RunFunctionRequest) -> fnv1.RunFunctionResponse:
            response: fnv1.RunFunctionResponse = stub.RunFunction(req, timeout=CALL_TIMEOUT_S)
            return response

        result = simulate(_seed_xr(), None, runner=runner)

    assert result.fatal is None
    assert result.converged, result.final_status
    assert not result.dropped
    last = result.rounds[-1]
    assert FIRST_WAVE | {"vcluster", "integration", "stage"} <= set(last.desired)
    assert last.status["apiGateway"]["enabled"] is True
    assert last.xr_ready


# --- mTLS ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["flag", "env"])
def mtls_server(request: pytest.FixtureRequest, certs: Certs, module_launcher: Launcher) -> Server:
    """An mTLS server, its certs dir given by flag or by TLS_SERVER_CERTS_DIR."""
    if request.param == "flag":
        return module_launcher.start(["--tls-certs-dir", str(certs.server_dir)])
    return module_launcher.start([], {"TLS_SERVER_CERTS_DIR": str(certs.server_dir)})


REFUSED_CLIENTS = [
    # Plaintext must never reach a function that was given certificates.
    pytest.param(lambda _: None, id="plaintext"),
    # TLS alone is not enough: Crossplane authenticates with its client certificate.
    pytest.param(lambda c: _client_tls(c, None), id="tls-without-client-cert"),
    # Only callers whose certificate our CA signed may call.
    pytest.param(lambda c: _client_tls(c, c.foreign_client), id="client-cert-from-another-ca"),
]


def test_mtls_accepts_client_signed_by_ca(mtls_server: Server, certs: Certs) -> None:
    _assert_first_wave(_run(mtls_server.target, _seed_request(), _client_tls(certs, certs.client)))


@pytest.mark.parametrize("dial", REFUSED_CLIENTS)
def test_mtls_refuses(
    dial: Callable[[Certs], grpc.ChannelCredentials | None],
    mtls_server: Server,
    certs: Certs,
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _run(mtls_server.target, _seed_request(), dial(certs))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert mtls_server.process.poll() is None, "a refused handshake must not stop the server"


# --- both flags -----------------------------------------------------------------------------


def test_insecure_wins_over_certs_on_one_listener(certs: Certs, launcher: Launcher) -> None:
    """SDK 0.15.1 opened a TLS and a plaintext listener on one port: about half the calls failed."""
    server = launcher.start(["--insecure", "--tls-certs-dir", str(certs.server_dir)])
    request = _seed_request()
    failures: list[str] = []
    for attempt in range(20):
        try:  # A fresh channel each time: a new connection the kernel may give any listener.
            _assert_first_wave(_run(server.target, request))
        except grpc.RpcError as error:
            failures.append(f"call {attempt}: {error.code()} {error.details()}")
    assert not failures, "\n".join(failures)
    counts = server.listeners()
    if counts is not None:
        assert counts == (1, 1), f"expected one listener, ours; got (total, ours)={counts}"
    # And no TLS: a TLS client cannot talk to a plaintext listener.
    with pytest.raises(grpc.RpcError) as caught:
        _run(server.target, request, _client_tls(certs, certs.client))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


# --- protocol versions, determinism, bad input ----------------------------------------------


def test_v1beta1_service_answers_like_v1(insecure_server: Server) -> None:
    """Older Crossplane versions call v1beta1; the SDK registers it next to v1."""
    v1_request = _seed_request()
    beta_request = fnv1beta1.RunFunctionRequest.FromString(v1_request.SerializeToString())
    with _channel(insecure_server.target, None) as channel:
        stub = _stub(channel, grpcv1beta1)
        beta: fnv1beta1.RunFunctionResponse = stub.RunFunction(beta_request, timeout=CALL_TIMEOUT_S)
    v1 = _run(insecure_server.target, v1_request)
    assert set(beta.desired.resources) == FIRST_WAVE
    assert not [r for r in beta.results if r.severity == fnv1beta1.SEVERITY_FATAL]
    as_v1 = fnv1.RunFunctionResponse.FromString(beta.SerializeToString())
    assert as_v1.SerializeToString(deterministic=True) == v1.SerializeToString(deterministic=True)


def test_same_request_gives_identical_bytes(insecure_server: Server, launcher: Launcher) -> None:
    """Same input, same wire bytes: composed, remembered, or composed by another process.

    protobuf's upb runtime orders map entries (every Struct) with a per-process
    seed, so the server serializes responses deterministically; without that two
    replicas would answer the same request with different bytes. The second call is
    answered from the memo; the other process composes every call.
    """
    body = _seed_request().SerializeToString()
    with _channel(insecure_server.target, None) as channel:
        first = _raw_call(channel, body)
        second = _raw_call(channel, body)
    assert first == second

    other = launcher.start(["--insecure", "--cache-mib", "0"])
    with _channel(other.target, None) as channel:
        third = _raw_call(channel, body)

    assert first == third
    _assert_first_wave(fnv1.RunFunctionResponse.FromString(third))


MALFORMED_BODIES = [
    # Wire type 7 does not exist.
    pytest.param(b"\xff\xff\xff\xff", id="invalid-wire-type"),
    # Field 1 (meta) claims more bytes than follow.
    pytest.param(b"\x0a\x05ab", id="truncated-field"),
    # A length that is a varint never terminated.
    pytest.param(b"\x0a\xff\xff", id="unterminated-varint"),
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_malformed_body_is_refused_and_server_keeps_serving(
    body: bytes, insecure_server: Server
) -> None:
    with _channel(insecure_server.target, None) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            _raw_call(channel, body)
        # grpc.aio reports the request deserializer's DecodeError as UNKNOWN.
        assert caught.value.code() == grpc.StatusCode.UNKNOWN
        assert "DecodeError" in (caught.value.details() or "")
        after = fnv1.RunFunctionResponse.FromString(
            _raw_call(channel, _seed_request().SerializeToString())
        )
    _assert_first_wave(after)
    assert insecure_server.process.poll() is None


def test_empty_body_is_a_fatal_result_not_a_crash(insecure_server: Server) -> None:
    """Zero bytes is a valid, empty RunFunctionRequest: the function must say why it is bad."""
    with _channel(insecure_server.target, None) as channel:
        rsp = fnv1.RunFunctionResponse.FromString(_raw_call(channel, b""))
    fatal = offline.fatal_of(rsp)
    assert fatal is not None
    assert "spec" in fatal
    assert not rsp.desired.resources
