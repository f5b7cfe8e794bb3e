"""An independent EU DCC verifier, for tests only: written from the specifications, sharing no code
with vaxcert, so that vaxcert is not only agreeing with itself.

It uses the ``base45`` package (RFC 9285), the standard library's ``zlib``, ``cbor2`` for CBOR,
and ``cryptography`` for X.509 and the two signature algorithms of the DCC profile (ES256 on
P-256 with a raw r‖s signature; PS256 with a 32-byte salt).  The rules: ``HC1:`` context,
COSE_Sign1 untagged, tagged 18 or 61(18(...)), kid from the protected header (the unprotected one
only when the protected has none) equal to the first 8 bytes of SHA-256 over the DSC's DER,
iat <= now <= exp, key-usage OIDs covering the certificate type (none means all types).

pycose (1.1.0) is used as a second check of the COSE signature.  Measured here: its own
``CoseMessage.decode`` fails under cbor2 6 ("Bytes cannot be decoded as COSE message"), because
cbor2 6 decodes the contents of a tag as a tuple and a ``frozendict`` while pycose checks for
``list`` and ``dict``.  Its message classes work when given the structure thawed, so
:func:`pycose_verifies` decodes with cbor2 and hands pycose lists and dicts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import base45 as base45_lib
import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["Outcome", "cose_from_hc1", "payload_of", "pycose_verifies", "verify_cose", "verify_hc1"]

_TYPE_OIDS = {
    "1.3.6.1.4.1.1847.2021.1.1": "t",
    "1.3.6.1.4.1.1847.2021.1.2": "v",
    "1.3.6.1.4.1.1847.2021.1.3": "r",
    "1.3.6.1.4.1.0.1847.2021.1.1": "t",
    "1.3.6.1.4.1.0.1847.2021.1.2": "v",
    "1.3.6.1.4.1.0.1847.2021.1.3": "r",
}


@dataclass(frozen=True)
class Outcome:
    """What the independent verifier concluded; ``stage`` names where it stopped."""

    authentic: bool  # the signature holds with the given certificate
    valid: bool  # authentic, within iat..exp, and the key usage allows the type
    stage: str
    payload: dict[str, Any] | None = None
    issued_at: float | None = None
    expires_at: float | None = None


class _Stop(Exception):
    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


def cose_from_hc1(text: str) -> bytes:
    """COSE bytes from an ``HC1:`` string (raises ValueError at the stage that fails)."""
    if not text.startswith("HC1:"):
        raise ValueError("prefix")
    try:
        compressed = base45_lib.b45decode(text[4:])
    except ValueError:
        raise ValueError("base45") from None
    try:
        return zlib.decompress(compressed)
    except zlib.error:
        raise ValueError("zlib") from None


def _thaw(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_thaw(v) for v in obj]
    return obj


def _sign1(cose: bytes) -> list[Any]:
    obj = cbor2.loads(cose)
    if isinstance(obj, cbor2.CBORTag) and obj.tag == 61:
        obj = obj.value
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag != 18:
            raise _Stop("cose-tag")
        obj = obj.value
    obj = _thaw(obj)
    if not isinstance(obj, list) or len(obj) != 4:
        raise _Stop("cose-structure")
    return obj


def _check_signature(alg: Any, key: Any, signature: bytes, data: bytes) -> None:
    if alg == -7:
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise _Stop("alg-key")
        if len(signature) != 64:
            raise _Stop("signature")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    elif alg == -37:
        if not isinstance(key, rsa.RSAPublicKey):
            raise _Stop("alg-key")
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
        key.verify(signature, data, pss, hashes.SHA256())
    else:
        raise _Stop("alg")


def _allowed_types(certificate: x509.Certificate) -> set[str]:
    try:
        eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        oids = [oid.dotted_string for oid in eku]
    except x509.ExtensionNotFound:
        oids = []
    types = {_TYPE_OIDS[o] for o in oids if o in _TYPE_OIDS}
    return types or {"v", "t", "r"}


def verify_cose(cose: bytes, certificate_der: bytes, now: dt.datetime) -> Outcome:
    """Verify COSE_Sign1 bytes with one DSC (DER) at ``now``."""
    stage = "cose"
    try:
        protected_bytes, unprotected, payload, signature = _sign1(cose)
        protected = _thaw(cbor2.loads(protected_bytes)) if protected_bytes else {}
        kid = protected[4] if 4 in protected else unprotected.get(4)
        alg = protected.get(1, unprotected.get(1))
        if kid != hashlib.sha256(certificate_der).digest()[:8]:
            raise _Stop("kid")
        certificate = x509.load_der_x509_certificate(certificate_der)
        data = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
        stage = "signature"
        _check_signature(alg, certificate.public_key(), signature, data)
        stage = "cwt"
        claims = _thaw(cbor2.loads(payload))
        if not isinstance(claims, dict):
            raise _Stop("cwt")
        iat, exp = claims.get(6), claims.get(4)
        dcc = claims.get(-260, {}).get(1)
        if not isinstance(iat, int | float) or not isinstance(exp, int | float) or not isinstance(dcc, dict):
            raise _Stop("cwt")
    except _Stop as stop:
        return Outcome(False, False, stop.stage)
    except InvalidSignature:
        return Outcome(False, False, "signature")
    except (cbor2.CBORDecodeError, ValueError, TypeError, AttributeError, KeyError):
        return Outcome(False, False, stage)
    kinds = [k for k in ("v", "t", "r") if k in dcc]
    if not iat <= now.timestamp() <= exp:
        return Outcome(True, False, "time", dcc, iat, exp)
    if len(kinds) != 1 or not set(kinds) <= _allowed_types(certificate):
        return Outcome(True, False, "key-usage", dcc, iat, exp)
    return Outcome(True, True, "done", dcc, iat, exp)


def payload_of(cose: bytes) -> Any:
    """The DCC payload inside COSE bytes, decoded without checking anything else."""
    return _thaw(cbor2.loads(_sign1(cose)[2]))[-260][1]


def verify_hc1(text: str, certificate_der: bytes, now: dt.datetime) -> Outcome:
    """Verify an ``HC1:`` string with one DSC (DER) at ``now``."""
    try:
        cose = cose_from_hc1(text)
    except ValueError as exc:
        return Outcome(False, False, str(exc))
    return verify_cose(cose, certificate_der, now)


def pycose_verifies(cose: bytes, certificate_der: bytes) -> bool:
    """pycose's verdict on the COSE signature (ES256 / PS256 only)."""
    from pycose.keys.ec2 import EC2Key
    from pycose.keys.rsa import RSAKey
    from pycose.messages.sign1message import Sign1Message

    message = Sign1Message.from_cose_obj(_sign1(cose), True)
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        nums = key.public_numbers()
        message.key = EC2Key(crv="P_256", x=nums.x.to_bytes(32, "big"), y=nums.y.to_bytes(32, "big"))
    elif isinstance(key, rsa.RSAPublicKey):
        rn = key.public_numbers()
        message.key = RSAKey(n=rn.n.to_bytes((rn.n.bit_length() + 7) // 8, "big"),
                             e=rn.e.to_bytes((rn.e.bit_length() + 7) // 8, "big"))
    else:
        raise TypeError("unsupported key type")
    return bool(message.verify_signature())
