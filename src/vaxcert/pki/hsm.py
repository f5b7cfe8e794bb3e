"""Signing with keys kept in an HSM through PKCS#11 (python-pkcs11; tested against SoftHSM2).

Safe recipe::

    token = HsmToken(HsmConfig.from_env(os.environ))  # VAXCERT_PKCS11_MODULE, _HSM_TOKEN, _HSM_PIN
    public_key = token.generate_key("dsc-2026", "ec")   # generated inside the token
    dsc = pki.create_dsc(public_key, csca=..., csca_key=..., facility_id=..., ...)
    signer = token.signer("dsc-2026", dsc)          # a vaxcert.pki.keys.Signer
    Issuer(signer).issue(payload, now=...)

Keys are generated in the token as private, sensitive and non-extractable objects that may
only sign: their private half never leaves the token, and PKCS#11 forbids turning
``CKA_EXTRACTABLE`` back on.  When the ministry issues the DSC on another machine, the token
side makes a PKCS#10 request signed by the token key (:meth:`HsmToken.create_csr`) and the
ministry takes the public key from it (:func:`csr_public_key`) after checking its signature.

Mechanisms: ES256 = ``CKM_ECDSA`` over a SHA-256 digest computed here (the output is already
raw r‖s, as COSE wants; SoftHSM 2.6 has no ``CKM_ECDSA_SHA256``); PS256 =
``CKM_SHA256_RSA_PKCS_PSS`` with MGF1-SHA-256 and a 32-byte salt.

Concurrency: one :class:`HsmToken` holds one logged-in session, and every operation on it
takes a lock, so threads may share a token and its signers.  Processes may not: after a fork
the PKCS#11 library must be initialised again, so open a token in each worker process (a
signer used in another process raises :class:`~vaxcert.errors.SigningError`).  The PIN never
appears in ``repr`` or messages.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from asn1crypto import core as asn1_core
from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ..errors import ConfigurationError, SigningError, needs_extra
from ..stages.cose import ALG_ES256, ALGORITHMS
from .certificates import PublicKey
from .keys import CertificateSigner, KeyKind, algorithm_for_key

with needs_extra("hsm", "signing with a PKCS#11 HSM"):
    import pkcs11

__all__ = [
    "ENV_MODULE",
    "ENV_PIN",
    "ENV_TOKEN",
    "HsmConfig",
    "HsmSigner",
    "HsmToken",
]

ENV_MODULE = "VAXCERT_PKCS11_MODULE"
ENV_TOKEN = "VAXCERT_HSM_TOKEN"  # noqa: S105 - the name of a variable, not a secret
ENV_PIN = "VAXCERT_HSM_PIN"
_LABEL = re.compile(r"[A-Za-z0-9._-]{1,64}")
_P256_PARAMS = asn1_keys.ECDomainParameters(name="named", value="secp256r1").dump()


@dataclass(frozen=True, slots=True)
class HsmConfig:
    """Where the token is: PKCS#11 module path, token label and user PIN (redacted in repr)."""

    module: str
    token_label: str
    pin: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> HsmConfig:
        """From VAXCERT_PKCS11_MODULE, VAXCERT_HSM_TOKEN and VAXCERT_HSM_PIN in ``env`` (the caller's
        environment: the library reads none itself); a clear error naming those unset."""
        source = env
        missing = [name for name in (ENV_MODULE, ENV_TOKEN, ENV_PIN) if not source.get(name)]
        if missing:
            raise ConfigurationError(f"HSM not configured: set {', '.join(missing)}")
        return cls(source[ENV_MODULE], source[ENV_TOKEN], source[ENV_PIN])


def _check_label(label: str) -> str:
    if not _LABEL.fullmatch(label):
        raise ConfigurationError("HSM key label must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'")
    return label


def _failure(action: str, exc: BaseException) -> str:
    return f"HSM {action} failed: {type(exc).__name__}"


class HsmToken:
    """A logged-in session on one PKCS#11 token; operations are serialised by a lock.

    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, config: HsmConfig) -> None:
        self._pkcs11 = pkcs11
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self.token_label = config.token_label
        try:
            lib = pkcs11.lib(config.module)
            token = lib.get_token(token_label=config.token_label)
        except pkcs11.exceptions.NoSuchToken:
            raise ConfigurationError(f"no PKCS#11 token labelled {config.token_label!r}") from None
        except Exception as exc:
            raise ConfigurationError(_failure("module load", exc)) from None
        try:
            self._session = token.open(rw=True, user_pin=config.pin)
        except pkcs11.exceptions.UserAlreadyLoggedIn:
            # Login state is shared by all sessions of the application: reuse it.
            self._session = token.open(rw=True)
        except pkcs11.exceptions.PinIncorrect:
            raise ConfigurationError("HSM login failed: wrong PIN") from None
        except Exception as exc:
            raise ConfigurationError(_failure("login", exc)) from None
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session (signers made from this token stop working)."""
        with self._lock:
            if not self._closed and os.getpid() == self._pid:
                try:
                    self._session.close()
                except Exception:  # noqa: S110 - closing is best effort
                    pass
            self._closed = True

    def __enter__(self) -> HsmToken:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _check_usable(self) -> None:
        if self._closed:
            raise SigningError("the HSM session is closed")
        if os.getpid() != self._pid:
            raise SigningError("the HSM session was opened in another process: open the token in each worker")

    # -- keys -------------------------------------------------------------------------------

    def _key(self, label: str, kind: str) -> Any:
        """The token's ``kind`` ("private" / "public") key with this label; one, or a clear error."""
        pkcs11 = self._pkcs11
        object_class = pkcs11.ObjectClass.PRIVATE_KEY if kind == "private" else pkcs11.ObjectClass.PUBLIC_KEY
        try:
            return self._session.get_key(object_class=object_class, label=label)
        except pkcs11.exceptions.NoSuchKey:
            raise ConfigurationError(f"no {kind} key labelled {label!r} in the token") from None
        except pkcs11.exceptions.MultipleObjectsReturned:
            raise ConfigurationError(f"several {kind} keys labelled {label!r} in the token") from None

    def _private(self, label: str) -> Any:
        return self._key(label, "private")

    def _public(self, label: str) -> Any:
        return self._key(label, "public")

    def has_key(self, label: str) -> bool:
        """True if the token holds a private key with this label."""
        with self._lock:
            self._check_usable()
            attrs = {self._pkcs11.Attribute.LABEL: _check_label(label),
                     self._pkcs11.Attribute.CLASS: self._pkcs11.ObjectClass.PRIVATE_KEY}
            return any(True for _ in self._session.get_objects(attrs))

    def generate_key(self, label: str, kind: KeyKind = "ec") -> PublicKey:
        """Generate a signing key pair inside the token; return its public key.

        The private key is a token object that is private, sensitive, never extractable and
        may only sign.  Refuses a label already in use.
        """
        pkcs11 = self._pkcs11
        attr = pkcs11.Attribute
        _check_label(label)
        if kind not in ("ec", "rsa2048", "rsa3072"):
            raise ConfigurationError(f"unknown key kind {kind!r}; use ec, rsa2048 or rsa3072")
        private_template = {
            attr.PRIVATE: True,
            attr.SENSITIVE: True,
            attr.EXTRACTABLE: False,
            attr.SIGN: True,
            attr.DECRYPT: False,
            attr.UNWRAP: False,
            attr.DERIVE: False,
        }
        capabilities = pkcs11.MechanismFlag.SIGN | pkcs11.MechanismFlag.VERIFY
        key_id = secrets.token_bytes(16)
        with self._lock:
            self._check_usable()
            if self.has_key(label):
                raise ConfigurationError(f"the token already holds a key labelled {label!r}")
            try:
                if kind == "ec":
                    params = self._session.create_domain_parameters(
                        pkcs11.KeyType.EC, {attr.EC_PARAMS: _P256_PARAMS}, local=True)
                    public, _ = params.generate_keypair(
                        store=True, label=label, id=key_id, capabilities=capabilities,
                        private_template=private_template)
                else:
                    public, _ = self._session.generate_keypair(
                        pkcs11.KeyType.RSA, int(kind[3:]), store=True, label=label, id=key_id,
                        capabilities=capabilities, private_template=private_template)
            except Exception as exc:
                raise SigningError(_failure("key generation", exc)) from None
            return self._public_from_object(public)

    def _public_from_object(self, obj: Any) -> PublicKey:
        attr = self._pkcs11.Attribute
        key_type = self._pkcs11.KeyType
        try:
            if obj.key_type == key_type.EC:
                if bytes(obj[attr.EC_PARAMS]) != _P256_PARAMS:
                    raise ConfigurationError("HSM EC key is not on the P-256 curve")
                point = asn1_core.OctetString.load(bytes(obj[attr.EC_POINT])).native
                return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
            if obj.key_type == key_type.RSA:
                n = int.from_bytes(bytes(obj[attr.MODULUS]), "big")
                e = int.from_bytes(bytes(obj[attr.PUBLIC_EXPONENT]), "big")
                return rsa.RSAPublicNumbers(e, n).public_key()
        except ConfigurationError:
            raise
        except Exception as exc:
            raise ConfigurationError(_failure("public key read", exc)) from None
        raise ConfigurationError("HSM key is neither EC nor RSA")

    def public_key(self, label: str) -> PublicKey:
        """The public key of the key pair labelled ``label``."""
        with self._lock:
            self._check_usable()
            return self._public_from_object(self._public(_check_label(label)))

    def key_protection(self, label: str) -> dict[str, bool]:
        """The private key's protection attributes (sensitive, extractable, ...), for audits."""
        attr = self._pkcs11.Attribute
        names = {"sensitive": attr.SENSITIVE, "extractable": attr.EXTRACTABLE,
                 "always_sensitive": attr.ALWAYS_SENSITIVE, "never_extractable": attr.NEVER_EXTRACTABLE,
                 "local": attr.LOCAL, "private": attr.PRIVATE}
        with self._lock:
            self._check_usable()
            key = self._private(_check_label(label))
            return {name: bool(key[a]) for name, a in names.items()}

    def delete_key(self, label: str) -> int:
        """Destroy every object (private and public key) labelled ``label``; return how many."""
        with self._lock:
            self._check_usable()
            objects = list(self._session.get_objects({self._pkcs11.Attribute.LABEL: _check_label(label)}))
            for obj in objects:
                obj.destroy()
            return len(objects)

    # -- signing ----------------------------------------------------------------------------

    def _sign(self, key: Any, data: bytes, algorithm: int) -> bytes:
        pkcs11 = self._pkcs11
        with self._lock:
            self._check_usable()
            try:
                if algorithm == ALG_ES256:
                    return bytes(key.sign(hashlib.sha256(data).digest(), mechanism=pkcs11.Mechanism.ECDSA))
                return bytes(key.sign(
                    data,
                    mechanism=pkcs11.Mechanism.SHA256_RSA_PKCS_PSS,
                    mechanism_param=(pkcs11.Mechanism.SHA256, pkcs11.MGF.SHA256, 32),
                ))
            except Exception as exc:
                raise SigningError(_failure("signing", exc)) from None

    def signer(self, label: str, certificate: x509.Certificate) -> HsmSigner:
        """A :class:`vaxcert.pki.keys.Signer` for the token key ``label`` and its DSC."""
        public = self.public_key(label)
        if public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
                certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo):
            raise ConfigurationError(f"the HSM key {label!r} does not belong to the certificate")
        with self._lock:
            key = self._private(label)
        return HsmSigner(self, key, certificate, algorithm_for_key(public), label)

    def create_csr(self, label: str, *, common_name: str, country: str = "VN") -> bytes:
        """A PKCS#10 certificate request (DER) for the token key, signed inside the token.

        The ministry checks it with :func:`csr_public_key` and issues the DSC for the public
        key (the facility id in the DSC comes from the ministry's records, not the request).
        """
        public = self.public_key(label)
        spki = asn1_keys.PublicKeyInfo.load(
            public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        subject = asn1_x509.Name.build({"country_name": country, "common_name": common_name})
        info = asn1_csr.CertificationRequestInfo(
            {"version": "v1", "subject": subject, "subject_pk_info": spki, "attributes": []})
        tbs = info.dump()
        pkcs11 = self._pkcs11
        with self._lock:
            self._check_usable()
            key = self._private(label)
            try:
                if isinstance(public, ec.EllipticCurvePublicKey):
                    raw = bytes(key.sign(hashlib.sha256(tbs).digest(), mechanism=pkcs11.Mechanism.ECDSA))
                    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
                    algorithm = "sha256_ecdsa"
                else:
                    signature = bytes(key.sign(tbs, mechanism=pkcs11.Mechanism.SHA256_RSA_PKCS))
                    algorithm = "sha256_rsa"
            except Exception as exc:
                raise SigningError(_failure("CSR signing", exc)) from None
        request = asn1_csr.CertificationRequest({
            "certification_request_info": info,
            "signature_algorithm": {"algorithm": algorithm},
            "signature": signature,
        })
        return bytes(request.dump())

    def __repr__(self) -> str:
        return f"HsmToken(token={self.token_label!r}, pin=<redacted>)"


class HsmSigner(CertificateSigner):
    """A :class:`vaxcert.pki.keys.Signer` whose private key stays in a PKCS#11 token."""

    __slots__ = ("_key", "_token", "label")

    def __init__(self, token: HsmToken, key: Any, certificate: x509.Certificate, algorithm: int,
                 label: str) -> None:
        super().__init__(certificate, algorithm)
        self._token = token
        self._key = key
        self.label = label

    def sign(self, data: bytes) -> bytes:
        """Sign in the token: ES256 as raw r‖s (64 bytes), PS256 with a 32-byte salt."""
        return self._token._sign(self._key, data, self._algorithm)

    def __repr__(self) -> str:
        return f"HsmSigner(alg={ALGORITHMS[self._algorithm]}, kid={self._kid.hex()}, label={self.label!r})"
