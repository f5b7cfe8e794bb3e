"""Keys and signers.

Safe recipes: :func:`generate_private_key`, :func:`save_private_key` (always encrypted PKCS#8
PEM), :func:`load_private_key`, and :class:`KeySigner`.  Passwords are parameters: the library
reads no environment variable (the CLI reads ``VAXCERT_KEY_PASSWORD``).  The :class:`Signer` Protocol is what
the issuing pipeline needs; an HSM signer (PKCS#11) implements the same Protocol.

Key material never appears in ``repr`` or in exception messages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..errors import ConfigurationError, KeyLoadError, SigningError
from ..stages.cose import ALG_ES256, ALG_PS256, ALGORITHMS
from .encoding import kid_of, load_certificate_file

__all__ = [
    "CertificateSigner",
    "KeyKind",
    "KeySigner",
    "PrivateKey",
    "Signer",
    "algorithm_for_key",
    "generate_private_key",
    "kid_of",
    "load_private_key",
    "save_private_key",
]

KeyKind = Literal["ec", "rsa2048", "rsa3072"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@runtime_checkable
class Signer(Protocol):
    """Signs COSE Sig_structures for one Document Signer Certificate.

    ``sign`` returns the signature in COSE form (ES256: raw r‖s, 64 bytes; PS256: RSA-PSS
    with a 32-byte salt).  Implementations: :class:`KeySigner` (a key in memory, loaded from
    an encrypted file) and the PKCS#11 signer in :mod:`vaxcert.pki.hsm`.
    """

    @property
    def algorithm(self) -> int: ...

    @property
    def kid(self) -> bytes: ...

    @property
    def certificate(self) -> x509.Certificate: ...

    def sign(self, data: bytes) -> bytes: ...


def generate_private_key(kind: KeyKind = "ec") -> PrivateKey:
    """A new P-256 key (ES256) or RSA key of 2048 / 3072 bits (PS256)."""
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind in ("rsa2048", "rsa3072"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    raise ConfigurationError(f"unknown key kind {kind!r}; use ec, rsa2048 or rsa3072")


def algorithm_for_key(key: PrivateKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> int:
    """The COSE algorithm a key signs with: ES256 for P-256, PS256 for RSA ≥ 2048 bits."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ConfigurationError("EC keys must use the P-256 curve (prime256v1) for ES256")
        return ALG_ES256
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ConfigurationError("RSA keys must have at least 2048 bits for PS256")
        return ALG_PS256
    raise ConfigurationError("unsupported key type; use P-256 or RSA")


def save_private_key(key: PrivateKey, path: str | Path, password: bytes) -> None:
    """Write ``key`` as password-encrypted PKCS#8 PEM, readable by the owner only."""
    if not password:
        raise ConfigurationError("refusing to write a private key without a password")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def load_private_key(path: str | Path, password: bytes | None) -> PrivateKey:
    """Load a PEM private key (encrypted PKCS#8 expected); raise KeyLoadError naming the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read key file {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=password or None)
    except TypeError:
        raise KeyLoadError(f"key file {path} is encrypted: a password is needed") from None
    except ValueError:
        raise KeyLoadError(f"cannot load key file {path}: wrong password or not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise KeyLoadError(f"key file {path} holds an unsupported key type")
    return key


class CertificateSigner:
    """What every :class:`Signer` implementation shares: its certificate, kid and algorithm."""

    __slots__ = ("_algorithm", "_certificate", "_kid")

    def __init__(self, certificate: x509.Certificate, algorithm: int) -> None:
        self._certificate = certificate
        self._algorithm = algorithm
        self._kid = kid_of(certificate)

    @property
    def algorithm(self) -> int:
        return self._algorithm

    @property
    def kid(self) -> bytes:
        return self._kid

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate


class KeySigner(CertificateSigner):
    """A :class:`Signer` over a private key in memory and its Document Signer Certificate."""

    __slots__ = ("_ecdsa", "_key", "_pss")

    def __init__(self, key: PrivateKey, certificate: x509.Certificate, *, deterministic: bool = False) -> None:
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
            raise ConfigurationError("the private key does not belong to the certificate")
        super().__init__(certificate, algorithm_for_key(key))
        self._key = key
        self._ecdsa = ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic)
        self._pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

    @classmethod
    def from_files(
        cls, key_path: str | Path, cert_path: str | Path, password: bytes | None, *, deterministic: bool = False
    ) -> KeySigner:
        """Load the key and its certificate from files."""
        certs = load_certificate_file(cert_path)
        return cls(load_private_key(key_path, password), certs[0], deterministic=deterministic)

    def sign(self, data: bytes) -> bytes:
        """Sign ``data``; ES256 signatures come back as raw r‖s (64 bytes)."""
        try:
            if isinstance(self._key, ec.EllipticCurvePrivateKey):
                r, s = decode_dss_signature(self._key.sign(data, self._ecdsa))
                return r.to_bytes(32, "big") + s.to_bytes(32, "big")
            return self._key.sign(data, self._pss, hashes.SHA256())
        except Exception as exc:  # pragma: no cover - backend failure
            raise SigningError(f"signing failed: {type(exc).__name__}") from None

    def __repr__(self) -> str:
        return f"KeySigner(alg={ALGORITHMS[self._algorithm]}, kid={self._kid.hex()}, key=<redacted>)"
