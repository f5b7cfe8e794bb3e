"""Certificate encodings: PEM / DER / base64 splitting and loading, and the DCC key identifier.

The bottom of :mod:`vaxcert.pki`: it imports nothing else from it, so keys and certificates
both build on it without an import cycle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import textwrap
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..errors import ConfigurationError

__all__ = [
    "certificate_pem",
    "kid_of",
    "kid_of_der",
    "load_certificate_file",
    "load_certificates",
    "pem_from_der",
    "read_certificate_file",
    "split_certificates",
]

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def kid_of_der(der: bytes) -> bytes:
    """The DCC key identifier of a certificate: the first 8 bytes of SHA-256 over its DER."""
    return hashlib.sha256(der).digest()[:8]


def kid_of(certificate: x509.Certificate) -> bytes:
    """The DCC key identifier of a certificate object (see :func:`kid_of_der`)."""
    return kid_of_der(certificate.public_bytes(serialization.Encoding.DER))


def split_certificates(data: bytes) -> list[bytes]:
    """DER blobs from PEM (one or many), DER, or base64 DER without PEM armour (not parsed).

    DER is binary and taken as it is: stripping "whitespace" would cut a certificate whose
    signature happens to end in a byte such as 0x20 or 0x0a.
    """
    blocks = _PEM_BLOCK.findall(data)
    try:
        if blocks:
            return [base64.b64decode(b"".join(b.split(b"-----")[2].split()), validate=True) for b in blocks]
        if data[:1] == b"\x30":
            return [data]
        return [base64.b64decode(b"".join(data.split()), validate=True)]
    except (ValueError, binascii.Error, IndexError):
        raise ConfigurationError("not a certificate in PEM, DER or base64 form") from None


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Parse certificates from PEM (one or many), DER, or base64 DER without PEM armour."""
    try:
        return [x509.load_der_x509_certificate(der) for der in split_certificates(data)]
    except ValueError:
        raise ConfigurationError("not a well-formed X.509 certificate") from None


def read_certificate_file(path: str | Path) -> list[bytes]:
    """DER blobs of the certificates in one file, naming the file in any error."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read certificate file {path}: {exc.strerror}") from None
    try:
        return split_certificates(data)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{path}: {exc}") from None


def load_certificate_file(path: str | Path) -> list[x509.Certificate]:
    """Load certificates from one file, naming the file in any error."""
    try:
        return [x509.load_der_x509_certificate(der) for der in read_certificate_file(path)]
    except ValueError:
        raise ConfigurationError(f"{path}: not a well-formed X.509 certificate") from None


def certificate_pem(certificate: x509.Certificate) -> bytes:
    """PEM encoding of a certificate."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def pem_from_der(der: bytes) -> bytes:
    """PEM armour around certificate DER taken as it is (for certificates only a tolerant parser reads)."""
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()
