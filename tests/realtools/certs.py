"""Throw-away certificates for a test control plane: one CA signs every server and client.

The API server's serving certificate and client CA, the admin's client certificate
(``O=system:masters``), Crossplane core's webhook certificate and its client certificate for
functions, and the function's server certificate all come from one ``Authority``. Keys are
ECDSA P-256: quick to make, and accepted by Go's TLS and by gRPC.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from pathlib import Path

LIFETIME = dt.timedelta(hours=6)
CLOCK_SKEW = dt.timedelta(minutes=5)
# The file names Crossplane's package runtime mounts, and the SDK and core read.
CERT_FILE, KEY_FILE, CA_FILE = "tls.crt", "tls.key", "ca.crt"


def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pem_public_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The public half of a key as PEM."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _subject(common_name: str, organization: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


@dataclass(frozen=True)
class Leaf:
    """A certificate and its key, both PEM."""

    cert: bytes
    key: bytes

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """Write ``name.crt`` and ``name.key`` into ``directory``; returns their paths."""
        cert, key = directory / f"{name}.crt", directory / f"{name}.key"
        cert.write_bytes(self.cert)
        key.write_bytes(self.key)
        key.chmod(0o600)
        return cert, key


class Authority:
    """A certificate authority that lives as long as the test session."""

    def __init__(self, common_name: str) -> None:
        """Make the CA's key and self-signed certificate."""
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = _subject(common_name, None)
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.pem = self._cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        common_name: str,
        *,
        organization: str | None = None,
        ips: tuple[str, ...] = (),
        dns: tuple[str, ...] = (),
        client: bool = False,
        shift: dt.timedelta = dt.timedelta(0),
    ) -> Leaf:
        """A leaf certificate: a server one for ``ips``/``dns`` if given, a client one if asked.

        Valid from now (less clock skew) for its lifetime, both moved by ``shift``.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC) + shift
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
        if ips or dns:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_subject(common_name, organization))
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        )
        names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        names.extend(x509.DNSName(name) for name in dns)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return Leaf(cert=cert.public_bytes(serialization.Encoding.PEM), key=pem_key(key))

    def tls_dir(self, directory: Path, leaf: Leaf) -> Path:
        """``directory`` laid out as a mounted TLS Secret: tls.crt, tls.key and this CA."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CERT_FILE).write_bytes(leaf.cert)
        (directory / KEY_FILE).write_bytes(leaf.key)
        (directory / KEY_FILE).chmod(0o600)
        (directory / CA_FILE).write_bytes(self.pem)
        return directory


def signing_key() -> ec.EllipticCurvePrivateKey:
    """A key pair for signing service-account tokens."""
    return ec.generate_private_key(ec.SECP256R1())
