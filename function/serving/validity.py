"""When a PEM certificate is valid: its notBefore and notAfter, read from the DER.

The standard library loads certificates without checking their dates, and the
only reader of them it has is private; the validity is at a fixed place in the
DER (RFC 5280 4.1), so it is read here directly.
"""

from __future__ import annotations

import datetime as dt
import ssl

_SEQUENCE, _EXPLICIT_VERSION, _UTC_TIME, _GENERALIZED_TIME = 0x30, 0xA0, 0x17, 0x18
# Within TBSCertificate: serialNumber, signature, issuer, then validity.
_VALIDITY_INDEX = 3


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """The (tag, content start, content end) of each DER element in ``der[start:end]``."""
    found = []
    pos = start
    while pos < end:
        if pos + 2 > end:
            msg = "truncated DER"
            raise ValueError(msg)
        tag, length = der[pos], der[pos + 1]
        pos += 2
        if length & 0x80:
            size = length & 0x7F
            length = int.from_bytes(der[pos : pos + size], "big")
            pos += size
        if pos + length > end:
            msg = "truncated DER"
            raise ValueError(msg)
        found.append((tag, pos, pos + length))
        pos += length
    return found


def _time(tag: int, raw: bytes) -> dt.datetime:
    text = raw.decode("ascii")
    if tag == _UTC_TIME:  # YYMMDDHHMMSSZ; RFC 5280: years 50-99 are 19xx
        text = ("19" if int(text[:2]) >= 50 else "20") + text  # noqa: PLR2004
    elif tag != _GENERALIZED_TIME:
        msg = "a validity time is neither UTCTime nor GeneralizedTime"
        raise ValueError(msg)
    return dt.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=dt.UTC)


def _sequence(element: tuple[int, int, int] | None) -> tuple[int, int]:
    """The content range of ``element``, which must be a SEQUENCE."""
    if element is None or element[0] != _SEQUENCE:
        msg = "not an X.509 certificate"
        raise ValueError(msg)
    return element[1], element[2]


def validity(pem: str) -> tuple[dt.datetime, dt.datetime]:
    """The first certificate's notBefore and notAfter in ``pem``.

    Raises:
        ValueError: not a PEM certificate whose validity can be read.
    """
    der = ssl.PEM_cert_to_DER_cert(pem)
    cert = _children(der, 0, len(der))
    tbs = _children(der, *_sequence(cert[0] if cert else None))
    fields = _children(der, *_sequence(tbs[0] if tbs else None))
    if fields and fields[0][0] == _EXPLICIT_VERSION:
        fields = fields[1:]
    at = fields[_VALIDITY_INDEX] if len(fields) > _VALIDITY_INDEX else None
    times = _children(der, *_sequence(at))
    if len(times) != 2:  # noqa: PLR2004
        msg = "not an X.509 certificate"
        raise ValueError(msg)
    not_before, not_after = (_time(tag, der[a:b]) for tag, a, b in times)
    return not_before, not_after
