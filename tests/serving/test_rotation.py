"""mTLS certificate rotation against the real server: ``python -m function serve`` in a subprocess.

Crossplane's package runtime rotates the Secret mounted at TLS_SERVER_CERTS_DIR, and
kubelet publishes the new files atomically: it writes them to a fresh timestamped
directory and re-points the ``..data`` symlink that ``tls.crt``, ``tls.key`` and
``ca.crt`` link through. The server must pick the new files up for new connections
without a restart, and must keep serving with the old ones when the new ones are broken.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
import pytest
from servers import (
    CALL_TIMEOUT_S,
    CHANNEL_OPTIONS,
    HOST,
    REPO,
    SDK_ENV,
    Identity,
    Launcher,
    Server,
    _assert_first_wave,
    _Authority,
    _seed_request,
    _stub,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from crossplane.function.proto.v1 import run_function_pb2 as fnv1

pytestmark = pytest.mark.slow  # real servers and certificate rotation on disk

CERT, KEY, CA = "tls.crt", "tls.key", "ca.crt"

# A fresh channel must mean a fresh connection, hence a fresh handshake: without a
# local subchannel pool, gRPC may share one connection between equal channels.
FRESH_CONNECTION = [*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
RELOAD_ERROR = "cannot load the rotated TLS certificates"
STARTUP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Generation:
    """One CA and the server and client certificates it signed, as Crossplane issues them."""

    ca: bytes
    server: Identity
    client: Identity

    @property
    def files(self) -> dict[str, bytes]:
        """The Secret's keys as the function reads them."""
        return {CERT: self.server.chain, KEY: self.server.key, CA: self.ca}


def _generation(name: str) -> Generation:
    authority = _Authority(f"{name}-ca")
    return Generation(
        ca=authority.pem,
        server=authority.identity("function-vcluster-environment", server=True),
        client=authority.identity("crossplane", server=False),
    )


@pytest.fixture(scope="module")
def ca1() -> Generation:
    """The certificates the server starts with."""
    return _generation("ca1")


@pytest.fixture(scope="module")
def ca2() -> Generation:
    """The certificates of the rotation: a new CA, a new server and client certificate."""
    return _generation("ca2")


class SecretVolume:
    """A certs directory written the way the Secret reaches the function."""

    def __init__(self, root: Path, *, kubelet: bool) -> None:
        """``kubelet``: symlinks through ``..data``; otherwise plain files renamed into place."""
        self.root = root
        self.kubelet = kubelet
        self._version = 0

    def publish(self, files: Mapping[str, bytes]) -> None:
        """Publish new files: kubelet's way all at once, plain files each by an atomic rename."""
        self._version += 1
        if not self.kubelet:
            for name, data in files.items():
                staged = self.root / f".{name}.tmp"
                staged.write_bytes(data)
                staged.replace(self.root / name)
            return
        # kubelet's AtomicWriter: a new timestamped directory, then swap the ..data symlink.
        previous = (self.root / "..data").resolve() if (self.root / "..data").exists() else None
        payload = self.root / f"..{self._version}"
        payload.mkdir()
        for name, data in files.items():
            (payload / name).write_bytes(data)
        link = self.root / "..data_tmp"
        link.symlink_to(payload.name)
        link.replace(self.root / "..data")
        for name in files:
            if not (self.root / name).is_symlink():
                (self.root / name).symlink_to(f"..data/{name}")
        if previous is not None:
            shutil.rmtree(previous)

    def overwrite(self, name: str, data: bytes) -> None:
        """Write one file in place, not atomically: what a reader sees half-way through."""
        (self.root / name).write_bytes(data)

    def remove(self, name: str) -> None:
        """Delete one file (through its symlink, for kubelet's layout)."""
        (self.root / name).unlink()


def _serve(launcher: Launcher, volume: SecretVolume) -> Server:
    return launcher.start(["--tls-certs-dir", str(volume.root)])


def _tls(roots: bytes, client: Identity) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=roots, private_key=client.key, certificate_chain=client.chain
    )


def _call(target: str, tls: grpc.ChannelCredentials) -> fnv1.RunFunctionResponse:
    """One RunFunction call on a new connection, so after a new handshake."""
    with grpc.secure_channel(target, tls, options=FRESH_CONNECTION) as channel:
        response: fnv1.RunFunctionResponse = _stub(channel).RunFunction(
            _seed_request(), timeout=CALL_TIMEOUT_S
        )
        return response


def _refused(target: str, tls: grpc.ChannelCredentials) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _call(target, tls)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("kubelet", [True, False], ids=["kubelet-symlinks", "plain-files"])
def test_rotation_applies_to_new_connections(
    kubelet: bool, ca1: Generation, ca2: Generation, tmp_path: Path, launcher: Launcher
) -> None:
    """A rotation to a new CA applies to new connections without a restart; live ones stay up."""
    volume = SecretVolume(tmp_path / "tls", kubelet=kubelet)
    volume.root.mkdir()
    volume.publish(ca1.files)
    server = _serve(launcher, volume)
    _assert_first_wave(_call(server.target, _tls(ca1.ca, ca1.client)))
    both_roots = ca1.ca + ca2.ca
    # A new client certificate is refused until its CA is published.
    _refused(server.target, _tls(both_roots, ca2.client))

    with grpc.secure_channel(
        server.target, _tls(ca1.ca, ca1.client), options=FRESH_CONNECTION
    ) as live:
        _stub(live).RunFunction(_seed_request(), timeout=CALL_TIMEOUT_S)
        volume.publish(ca2.files)

        # Trusting CA2 alone also proves the server now presents its CA2 certificate.
        _assert_first_wave(_call(server.target, _tls(ca2.ca, ca2.client)))
        # Only the client CA changed for this caller: its CA1 certificate is refused.
        _refused(server.target, _tls(both_roots, ca1.client))
        # The connection made before the rotation keeps its handshake.
        _assert_first_wave(_stub(live).RunFunction(_seed_request(), timeout=CALL_TIMEOUT_S))

    assert server.terminate() == 0, server.output()
    assert "loaded rotated TLS certificates" in server.output()
    assert RELOAD_ERROR not in server.output()


BREAKAGES = [
    # Half of a certificate: a writer caught mid-way.
    pytest.param(
        CERT,
        lambda v, g: v.overwrite(CERT, g.server.chain[: len(g.server.chain) // 2]),
        id="half-cert",
    ),
    pytest.param(KEY, lambda v, _: v.overwrite(KEY, b"not a key\n"), id="garbage-key"),
    pytest.param(CA, lambda v, _: v.overwrite(CA, b""), id="empty-ca"),
    pytest.param(CA, lambda v, _: v.overwrite(CA, b"\xff\xfe\x00binary"), id="binary-ca"),
    # A new key next to the old certificate: half a rotation.
    pytest.param(KEY, lambda v, g: v.overwrite(KEY, g.server.key), id="key-of-another-cert"),
    pytest.param(CERT, lambda v, _: v.remove(CERT), id="missing-cert"),
]


@pytest.mark.parametrize(("culprit", "damage"), BREAKAGES)
def test_broken_files_keep_the_previous_certificates(
    *,
    culprit: str,
    damage: Callable[[SecretVolume, Generation], None],
    ca1: Generation,
    ca2: Generation,
    tmp_path: Path,
    launcher: Launcher,
) -> None:
    """Broken certificate files are logged once and ignored; a later good rotation still loads."""
    volume = SecretVolume(tmp_path / "tls", kubelet=True)
    volume.root.mkdir()
    volume.publish(ca1.files)
    server = _serve(launcher, volume)

    damage(volume, ca2)
    for _ in range(3):  # Every new connection looks at the files again.
        _assert_first_wave(_call(server.target, _tls(ca1.ca, ca1.client)))
    assert server.process.poll() is None

    volume.publish(ca2.files)
    _assert_first_wave(_call(server.target, _tls(ca2.ca, ca2.client)))
    _refused(server.target, _tls(ca1.ca + ca2.ca, ca1.client))

    assert server.terminate() == 0, server.output()
    errors = [line for line in server.output().splitlines() if RELOAD_ERROR in line]
    assert len(errors) == 1, server.output()
    assert culprit in errors[0], errors[0]


def test_unusable_certificates_at_startup_exit_with_the_reason(tmp_path: Path) -> None:
    """With unusable certificates at start-up the server exits non-zero and names the file."""
    volume = SecretVolume(tmp_path / "tls", kubelet=True)
    volume.root.mkdir()
    volume.publish({CERT: b"garbage", KEY: b"garbage", CA: b"garbage"})
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        address = f"{HOST}:{probe.getsockname()[1]}"
    environment = {k: v for k, v in os.environ.items() if k not in SDK_ENV}
    completed = subprocess.run(
        [sys.executable, "-m", "function", "serve", "--address", address],
        cwd=REPO,
        env={**environment, "TLS_SERVER_CERTS_DIR": str(volume.root)},
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode != 0
    assert f"cannot load TLS certificates from {volume.root}" in completed.stderr
    assert CERT in completed.stderr
