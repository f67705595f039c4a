"""End-to-end tests of the real gRPC server: ``python -m function serve`` in a subprocess.

Every server listens on a free port of 127.0.0.1 only, and every fixture kills its
subprocesses, whatever the outcome of the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
import pytest
from crossplane.function.proto.v1 import run_function_pb2 as fnv1
from crossplane.function.proto.v1beta1 import run_function_pb2 as fnv1beta1
from crossplane.function.proto.v1beta1 import run_function_pb2_grpc as grpcv1beta1
from servers import (
    CALL_TIMEOUT_S,
    FIRST_WAVE,
    Certs,
    Launcher,
    Server,
    _assert_first_wave,
    _Authority,
    _channel,
    _client_tls,
    _raw_call,
    _run,
    _seed_request,
    _seed_xr,
    _stub,
)

from function.offline import documents
from function.offline.simulate import simulate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.slow  # real servers in subprocesses


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
    fatal = documents.fatal_of(rsp)
    assert fatal is not None
    assert "spec" in fatal
    assert not rsp.desired.resources
