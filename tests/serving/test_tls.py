"""Certificate dates: an expired or not yet valid server certificate is never served."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from servers import _Authority

from function.serving import tls
from function.serving.validity import validity

if TYPE_CHECKING:
    from pathlib import Path

DAY = dt.timedelta(days=1)


def _write(directory: Path, authority: _Authority, shift: dt.timedelta) -> None:
    server = authority.identity("function", server=True, shift=shift)
    directory.mkdir(exist_ok=True)
    (directory / tls.CERT).write_bytes(server.chain)
    (directory / tls.KEY).write_bytes(server.key)
    (directory / tls.CA).write_bytes(authority.pem)


@pytest.fixture(scope="module")
def authority() -> _Authority:
    """One CA for every case: only the server certificate's dates change."""
    return _Authority("tls-dates-ca")


@pytest.mark.parametrize(
    ("shift", "reason"),
    [
        pytest.param(-DAY, "the certificate expired at", id="expired"),
        pytest.param(DAY, "the certificate is not valid before", id="not-yet-valid"),
    ],
)
def test_out_of_date_certificates_stop_the_start(
    shift: dt.timedelta, reason: str, authority: _Authority, tmp_path: Path
) -> None:
    """Loaded as they are, every handshake would fail; the start-up names the reason instead."""
    _write(tmp_path, authority, shift)
    with pytest.raises(SystemExit, match=f"{tls.CERT}: {reason}"):
        tls.credentials(str(tmp_path))


@pytest.mark.parametrize("shift", [-DAY, DAY], ids=["expired", "not-yet-valid"])
def test_out_of_date_certificates_are_never_rotated_in(
    shift: dt.timedelta, authority: _Authority, tmp_path: Path
) -> None:
    """A rotation to certificates out of their dates keeps the current ones."""
    _write(tmp_path, authority, dt.timedelta(0))
    reloader = tls.CertificateReloader(str(tmp_path))
    _write(tmp_path, authority, shift)
    assert reloader() is None
    _write(tmp_path, authority, dt.timedelta(minutes=1))
    assert reloader() is not None, "a good rotation afterwards still loads"


def test_validity_reads_the_dates(authority: _Authority) -> None:
    """The DER reader agrees with the certificate's own dates, to the second."""
    cert = authority.pem
    parsed = x509.load_pem_x509_certificate(cert)
    assert validity(cert.decode()) == (parsed.not_valid_before_utc, parsed.not_valid_after_utc)


@pytest.mark.parametrize(
    "pem",
    [
        pytest.param("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", id="short"),
        pytest.param("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", id="empty"),
    ],
)
def test_validity_refuses_what_is_no_certificate(pem: str) -> None:
    """Garbage between the PEM markers is a ValueError, never an IndexError."""
    with pytest.raises(ValueError, match=r"X\.509|DER"):
        validity(pem)
