"""mTLS that follows certificate rotation: the Secret's files, re-read when they change.

Crossplane's package runtime mounts a Secret at ``TLS_SERVER_CERTS_DIR`` and
rotates it; kubelet swaps the files in place. gRPC asks ``CertificateReloader``
before every handshake, so a rotation applies to new connections without a restart.
"""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from pathlib import Path

import grpc
from crossplane.function import logging

from function.serving.validity import validity

# The layout of the Secret Crossplane's package runtime mounts at TLS_SERVER_CERTS_DIR.
CERT, KEY, CA = "tls.crt", "tls.key", "ca.crt"
Files = tuple[bytes, bytes, bytes]


def _read(directory: Path) -> Files:
    return (
        (directory / CERT).read_bytes(),
        (directory / KEY).read_bytes(),
        (directory / CA).read_bytes(),
    )


def _no_password() -> bytes:
    # An encrypted key must fail to load, never make OpenSSL prompt on a terminal.
    return b""


def _validate(directory: Path, files: Files) -> None:
    """Raise unless the files on disk are ``files`` and form a usable mTLS configuration.

    gRPC only reports a bad configuration from its C core, as a handshake failure.
    OpenSSL (through ``ssl``) parses the same PEM and checks that the key matches the
    certificate, so a half-written or mismatched set is caught here, with the file named.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(directory / CERT, directory / KEY, password=_no_password)
    except ssl.SSLError as error:
        msg = f"{CERT} and {KEY} do not load as a PEM certificate and its matching key: {error}"
        raise ValueError(msg) from None
    try:
        context.load_verify_locations(cafile=directory / CA)
    except ssl.SSLError as error:
        msg = f"{CA} holds no PEM certificate: {error}"
        raise ValueError(msg) from None
    _check_dates(files[0])
    if _read(directory) != files:
        msg = "the files changed while being checked; they are read again at the next connection"
        raise ValueError(msg)


def _check_dates(cert: bytes) -> None:
    """Raise unless the server certificate is valid now: gRPC would serve an expired one."""
    try:
        not_before, not_after = validity(cert.decode("ascii"))
    except (ValueError, UnicodeDecodeError) as error:
        msg = f"{CERT}: cannot read the certificate's validity: {error}"
        raise ValueError(msg) from None
    now = dt.datetime.now(dt.UTC)
    if now < not_before:
        msg = f"{CERT}: the certificate is not valid before {not_before.isoformat()}"
        raise ValueError(msg)
    if now > not_after:
        msg = f"{CERT}: the certificate expired at {not_after.isoformat()}"
        raise ValueError(msg)


def _configuration(files: Files) -> grpc.ServerCertificateConfiguration:
    cert, key, ca = files
    return grpc.ssl_server_certificate_configuration([(key, cert)], root_certificates=ca)


class CertificateReloader:
    """The mTLS certificates of a directory, handed to gRPC again whenever they change.

    Crossplane's package runtime rotates the Secret mounted there, and kubelet swaps the
    files atomically by re-pointing a ``..data`` symlink: the directory's own mtime tells
    nothing, so the bytes behind the names are compared. gRPC calls the instance before
    every TLS handshake, so a rotation applies to new connections; established ones keep
    the certificates they were made with. A set that does not load (half-written,
    garbage, a key that does not match) is logged once and otherwise ignored: the server
    keeps serving with the last good set rather than failing every handshake.
    """

    def __init__(self, directory: str) -> None:
        """Load the certificates; raise ValueError or OSError if they are unusable."""
        self.directory = Path(directory)
        self._loaded = _read(self.directory)
        _validate(self.directory, self._loaded)
        self._failure: str | None = None
        # gRPC calls the fetcher from its own threads, one per handshake in progress.
        self._lock = threading.Lock()
        self._log = logging.get_logger().bind(directory=str(self.directory))

    def initial(self) -> grpc.ServerCertificateConfiguration:
        """The configuration loaded at start-up."""
        return _configuration(self._loaded)

    def __call__(self) -> grpc.ServerCertificateConfiguration | None:
        """A new configuration if the files changed and load; None to keep the current one."""
        with self._lock:
            try:
                files = _read(self.directory)
                if files == self._loaded:
                    self._failure = None
                    return None
                _validate(self.directory, files)
            except (OSError, ValueError) as error:
                if str(error) != self._failure:
                    self._failure = str(error)
                    self._log.error(
                        "cannot load the rotated TLS certificates; "
                        "still serving with the previous ones",
                        error=self._failure,
                    )
                return None
            self._loaded, self._failure = files, None
            self._log.info("loaded rotated TLS certificates")
            return _configuration(files)


def credentials(tls_certs_dir: str) -> grpc.ServerCredentials:
    """Server credentials for mTLS that follow certificate rotation.

    Raises:
        SystemExit: the certificates cannot be read or do not load, with the reason.
    """
    try:
        reloader = CertificateReloader(tls_certs_dir)
    except (OSError, ValueError) as error:
        msg = f"cannot load TLS certificates from {tls_certs_dir}: {error}"
        raise SystemExit(msg) from None
    return grpc.dynamic_ssl_server_credentials(
        reloader.initial(), reloader, require_client_authentication=True
    )
