"""Keys and signers.

Safe recipes: :func:`generate_private_key`, :func:`save_private_key` (always encrypted PKCS#8
PEM), :func:`load_private_key`, and :class:`KeySigner`.

**Key files.**  :func:`save_private_key` writes PKCS#8 ``ENCRYPTED PRIVATE KEY`` PEM with PBES2:
scrypt (N = 2**14, r = 8, p = 5: OWASP's equivalent of its N = 2**17, p = 1 minimum, within the
16 MiB that the ``openssl`` command reads by default; about 0.3 s to derive) and AES-256-CBC. It
writes atomically (a temporary file renamed over the target) and readable by the owner only
(0600), also when it replaces an existing file.  Passwords shorter than :data:`MIN_PASSWORD_CHARS`
(12) characters are refused.  ``cryptography``'s own ``BestAvailableEncryption`` uses PBKDF2
with 2,048 iterations, which a GPU tries by the billion: files written that way (by earlier
vaxcert versions, or by OpenSSL) are still read.  An unencrypted key file is refused with a
message saying so.

Passwords are parameters: the library reads no environment variable (the CLI reads
``VAXCERT_KEY_PASSWORD``).  The :class:`Signer` Protocol is what the issuing pipeline needs; an
HSM signer (PKCS#11) implements the same Protocol.

Key material never appears in ``repr`` or in exception messages.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..errors import ConfigurationError, KeyLoadError, SigningError
from ..files import write_atomic
from ..stages.cose import ALG_ES256, ALG_PS256, ALGORITHMS, raw_signature
from .encoding import kid_of, load_certificate_file

__all__ = [
    "MIN_PASSWORD_CHARS",
    "SCRYPT_N",
    "CertificateSigner",
    "KeyKind",
    "KeySigner",
    "PrivateKey",
    "Signer",
    "algorithm_for_key",
    "encrypt_pkcs8",
    "generate_private_key",
    "kid_of",
    "load_private_key",
    "save_private_key",
]

KeyKind = Literal["ec", "rsa2048", "rsa3072"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

#: Shortest password accepted when a key file is written.
MIN_PASSWORD_CHARS = 12
#: scrypt cost of new key files, with r = 8 and p = 5 (16 MiB of memory per guess, five times over).
SCRYPT_N = 2**14
_SCRYPT_R, _SCRYPT_P = 8, 5
_OID_PBES2 = "1.2.840.113549.1.5.13"
_OID_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"


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


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + content


def _der_oid(dotted: str) -> bytes:
    first, second, *rest = (int(part) for part in dotted.split("."))
    body = bytearray((first * 40 + second,))
    for arc in rest:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def encrypt_pkcs8(key: PrivateKey, password: bytes, *, n: int = SCRYPT_N) -> bytes:
    """``key`` as PKCS#8 EncryptedPrivateKeyInfo PEM: PBES2 with scrypt (RFC 7914) and AES-256-CBC."""
    plain = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())  # fmt: skip
    salt, iv = os.urandom(16), os.urandom(16)
    secret = Scrypt(salt=salt, length=32, n=n, r=_SCRYPT_R, p=_SCRYPT_P).derive(password)
    padder = block_padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    kdf = _der(0x30, _der_oid(_OID_SCRYPT) + _der(0x30, _der(0x04, salt) + _der_int(n) + _der_int(_SCRYPT_R)
                                                     + _der_int(_SCRYPT_P) + _der_int(32)))  # fmt: skip
    scheme = _der(0x30, _der_oid(_OID_AES256_CBC) + _der(0x04, iv))
    algorithm = _der(0x30, _der_oid(_OID_PBES2) + _der(0x30, kdf + scheme))
    der = _der(0x30, algorithm + _der(0x04, ciphertext))
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{lines}\n-----END ENCRYPTED PRIVATE KEY-----\n".encode()


def save_private_key(key: PrivateKey, path: str | Path, password: bytes) -> None:
    """Write ``key`` as scrypt-encrypted PKCS#8 PEM (see the module docstring), 0600, atomically.

    Refuses an empty password or one shorter than :data:`MIN_PASSWORD_CHARS` characters.
    """
    if not password:
        raise ConfigurationError("refusing to write a private key without a password")
    if len(password.decode("utf-8", errors="replace")) < MIN_PASSWORD_CHARS:
        raise ConfigurationError(f"the key password must have at least {MIN_PASSWORD_CHARS} characters")
    pem = encrypt_pkcs8(key, password)
    write_atomic(path, pem, fail=lambda reason: ConfigurationError(f"cannot write key file {path}: {reason}"))


def load_private_key(path: str | Path, password: bytes | None) -> PrivateKey:
    """Load an encrypted PEM private key; raise KeyLoadError naming the file.

    Reads scrypt and PBKDF2 (any iteration count) PKCS#8 files and OpenSSL's traditional
    encrypted PEM.  An unencrypted key file is refused, saying that it is unencrypted.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyLoadError(f"cannot read key file {path}: {exc.strerror}") from None
    try:
        serialization.load_pem_private_key(data, password=None)
    except TypeError:
        pass  # encrypted, as it should be
    except ValueError:
        raise KeyLoadError(f"cannot load key file {path}: not a PEM private key") from None
    else:
        raise KeyLoadError(f"key file {path} is not encrypted: vaxcert refuses unencrypted private keys "
                           "(write it again with a password, e.g. 'openssl pkcs8 -topk8 -scrypt')")  # fmt: skip
    if not password:
        raise KeyLoadError(f"key file {path} is encrypted: a password is needed")
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (TypeError, ValueError):
        raise KeyLoadError(f"cannot load key file {path}: wrong password") from None
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

    __slots__ = ("_ec_key", "_ecdsa", "_key", "_pss")

    def __init__(self, key: PrivateKey, certificate: x509.Certificate, *, deterministic: bool = False) -> None:
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
            raise ConfigurationError("the private key does not belong to the certificate")
        super().__init__(certificate, algorithm_for_key(key))
        self._key = key
        # decided once: isinstance against cryptography's abstract key classes costs ~0.5 µs a call
        self._ec_key = key if isinstance(key, ec.EllipticCurvePrivateKey) else None
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
            ec_key = self._ec_key
            if ec_key is not None:
                return raw_signature(ec_key.sign(data, self._ecdsa))
            assert isinstance(self._key, rsa.RSAPrivateKey)
            return self._key.sign(data, self._pss, hashes.SHA256())
        except Exception as exc:  # pragma: no cover - backend failure
            raise SigningError(f"signing failed: {type(exc).__name__}") from None

    def __repr__(self) -> str:
        return f"KeySigner(alg={ALGORITHMS[self._algorithm]}, kid={self._kid.hex()}, key=<redacted>)"
