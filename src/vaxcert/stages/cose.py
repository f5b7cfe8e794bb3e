"""COSE_Sign1 (RFC 9052) as used by HCERT: ES256 (raw r‖s) and PS256.

Low level: building the Sig_structure, parsing the message and checking a signature with a
given public key.  Which key to use (trust) is decided by the verifier, not here.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..codes import FailureCode, Stage
from ..errors import DecodeError
from . import cbor
from .records import maker

try:
    from ._speedups import der_to_raw as _compiled_der_to_raw
    from ._speedups import es256_inputs as _compiled_es256_inputs
except ImportError:  # not built (a wheel, no C compiler): pure Python (scripts/build_speedups.py)
    _compiled_der_to_raw = _compiled_es256_inputs = None  # type: ignore[assignment]

__all__ = [
    "ALGORITHMS",
    "ALG_ES256",
    "ALG_PS256",
    "UNDERSTOOD_HEADERS",
    "CoseSign1",
    "SignerLike",
    "decode",
    "encode",
    "es256_inputs",
    "from_usual_layout",
    "protected_header",
    "raw_signature",
    "raw_signature_python",
    "sig_structure",
    "verify_signature",
]

ALG_ES256 = -7
ALG_PS256 = -37
ALGORITHMS = {ALG_ES256: "ES256", ALG_PS256: "PS256"}
HDR_ALG = 1
HDR_CRIT = 2
HDR_KID = 4
#: Header parameters this implementation processes: a ``crit`` list may name only these.
UNDERSTOOD_HEADERS = frozenset({HDR_ALG, HDR_CRIT, HDR_KID})
TAG_COSE_SIGN1 = 18
TAG_CWT = 61
KID_LENGTH = 8
# What cbor2 decodes arrays and maps into (tuples and frozendicts inside tags); exact type
# checks are several times cheaper than isinstance against the ABCs on this hot path.
_ARRAY = (list, tuple)
_MAP = (dict, cbor2.frozendict)
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_PSS_ANY_SALT = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
_SHA256 = hashes.SHA256()


class SignerLike(Protocol):
    """What the COSE stage needs from a signer (see :class:`vaxcert.pki.keys.Signer`)."""

    @property
    def algorithm(self) -> int: ...

    @property
    def kid(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class CoseSign1:
    """A parsed COSE_Sign1 message; every part kept so tests can compare it with vectors."""

    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes
    algorithm: int
    kid: bytes
    kid_in_protected: bool

    def to_be_signed(self) -> bytes:
        """The Sig_structure bytes the signature covers."""
        return sig_structure(self.protected_bytes, self.payload)


#: ``CoseSign1(*fields)`` without the frozen dataclass's ``__init__`` cost (see :mod:`.records`).
_new_message = maker(CoseSign1)


def protected_header(algorithm: int, kid: bytes) -> bytes:
    """The serialized protected header {1: alg, 4: kid}."""
    return cbor2.dumps({HDR_ALG: algorithm, HDR_KID: kid})


def _bstr_head(length: int) -> bytes:
    """The CBOR head of a byte string of ``length`` bytes (major type 2)."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


def _head_size(length: int) -> int:
    """The size of the shortest CBOR head for a length (1, 2, 3, 5 or 9 bytes)."""
    if length < 24:
        return 1
    if length < 0x100:
        return 2
    return 3 if length < 0x10000 else 5 if length < 0x100000000 else 9


def sig_structure(protected_bytes: bytes, payload: bytes) -> bytes:
    """Sig_structure = ["Signature1", protected, external_aad = h'', payload], as CBOR.

    Written directly (a fixed array head, the text "Signature1", three byte strings): it is on
    the path of every signature and every verification.
    """
    size = len(payload)
    if len(protected_bytes) < 24 and 0x100 <= size < 0x10000:  # the usual certificate's sizes
        return b"".join((b"\x84\x6aSignature1", _SHORT_BSTR_HEADS[len(protected_bytes)], protected_bytes,
                         b"\x40\x59", size.to_bytes(2, "big"), payload))
    return b"".join((b"\x84\x6aSignature1", _bstr_head(len(protected_bytes)), protected_bytes,
                     b"\x40", _bstr_head(size), payload))


#: The one-byte heads of byte strings of 0-23 bytes.
_SHORT_BSTR_HEADS = tuple(bytes((0x40 | length,)) for length in range(24))


def encode(payload: bytes, signer: SignerLike, *, protected: bytes | None = None, tagged: bool = True) -> bytes:
    """Sign ``payload`` into a COSE_Sign1 message (tag 18 by default)."""
    prot = protected if protected is not None else protected_header(signer.algorithm, signer.kid)
    signature = signer.sign(sig_structure(prot, payload))
    # [protected, {}, payload, signature] written directly (as cbor2 writes it: shortest heads),
    # after the tag head d2 when tagged: on the path of every certificate issued.
    return b"".join((b"\xd2\x84" if tagged else b"\x84", _bstr_head(len(prot)), prot, b"\xa0",
                     _bstr_head(len(payload)), payload, _bstr_head(len(signature)), signature))


def _fail(code: FailureCode, message: str) -> DecodeError:
    return DecodeError(code, Stage.COSE, message)


def _untag(obj: Any) -> tuple[Any, int]:
    """The tagged content and the size of the tag heads around it (d2: 1 byte, d8 3d d2: 3)."""
    heads = 0
    if isinstance(obj, cbor2.CBORTag) and obj.tag == TAG_CWT:
        obj = obj.value
        heads += 2
        if not (isinstance(obj, cbor2.CBORTag) and obj.tag == TAG_COSE_SIGN1):
            raise _fail(FailureCode.COSE_UNEXPECTED_TAG, "CWT tag 61 must wrap a COSE_Sign1 tag 18")
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag != TAG_COSE_SIGN1:
            raise _fail(FailureCode.COSE_UNEXPECTED_TAG, "not a COSE_Sign1 tag")
        obj = obj.value
        heads += 1
    return obj, heads


def _has_trailing_bytes(data: bytes, tag_heads: int, items: tuple[bytes, Any, bytes, bytes]) -> bool:
    """True when ``data`` holds more than the one CBOR item decoded from it.

    cbor2 ignores what follows the first item.  The usual message (shortest heads, an empty
    unprotected map) is sized from its parts: it cannot be shorter than that, nor longer than
    ``data``.  Anything else is decoded again to find where the item ends.
    """
    prot, unprotected, payload, signature = items
    if not unprotected:
        lp, lpay, lsig = len(prot), len(payload), len(signature)
        # tag heads, the array head, three byte strings with the shortest heads, and a0
        smallest = tag_heads + 2 + lp + lpay + lsig + _head_size(lp) + _head_size(lpay) + _head_size(lsig)
        if smallest == len(data):
            return False
    stream = io.BytesIO(data)
    try:
        cbor2.CBORDecoder(stream, max_depth=cbor.MAX_DEPTH).decode()
    except Exception:  # already decoded once: cannot fail, but never raise from here
        return True
    return stream.tell() != len(data)


# Every certificate of one DSC carries the same protected header bytes: decode each once.
_PROTECTED_CACHE: dict[bytes, Mapping[Any, Any]] = {}
_PROTECTED_CACHE_MAX = 256


def _protected_header(prot_bytes: bytes) -> Mapping[Any, Any]:
    """The decoded (read-only) protected header; an empty byte string is an empty map."""
    cached = _PROTECTED_CACHE.get(prot_bytes)
    if cached is not None:
        return cached
    protected = cbor.loads(prot_bytes, Stage.COSE) if prot_bytes else {}
    if type(protected) not in _MAP:
        raise _fail(FailureCode.COSE_INVALID_STRUCTURE, "protected header is not a map")
    frozen = MappingProxyType(dict(protected))
    if len(prot_bytes) <= 64 and len(_PROTECTED_CACHE) < _PROTECTED_CACHE_MAX:
        _PROTECTED_CACHE[prot_bytes] = frozen
    return frozen


def _check_crit(protected: Mapping[Any, Any], unprotected: Mapping[Any, Any]) -> None:
    """Refuse a ``crit`` header naming parameters this implementation does not process.

    RFC 9052 section 3.1: crit is protected, a non-empty array of labels, and a recipient that
    does not understand one of them must reject the message.
    """
    if HDR_CRIT in unprotected:
        raise _fail(FailureCode.COSE_INVALID_STRUCTURE, "crit header outside the protected header")
    crit = protected[HDR_CRIT]
    if type(crit) not in _ARRAY or not crit or any(type(label) not in (int, str) for label in crit):
        raise _fail(FailureCode.COSE_INVALID_STRUCTURE, "crit header is not a list of labels")
    if any(label not in UNDERSTOOD_HEADERS or type(label) is not int for label in crit):
        raise _fail(FailureCode.CRITICAL_HEADER_UNKNOWN, "critical header parameter not understood")


_NO_HEADERS: Mapping[Any, Any] = MappingProxyType({})


def _bstr_at(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """The byte string at ``pos`` written with the shortest head, and the position after it."""
    head = data[pos]
    if 0x40 <= head < 0x58:
        start, size = pos + 1, head - 0x40
    elif head == 0x58:
        start, size = pos + 2, data[pos + 1]
        if size < 24:
            return None
    elif head == 0x59:
        start, size = pos + 3, data[pos + 1] << 8 | data[pos + 2]
        if size < 0x100:
            return None
    else:
        return None
    end = start + size
    return (data[start:end], end) if end <= len(data) else None


def _usual_layout(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(protected, payload, signature) of the message every issuer writes, read without cbor2.

    Tag 18, an array of four, a byte string, an empty map, two byte strings, every head the
    shortest, and nothing after: what cbor2 would decode to the same items, with nothing
    following.  Anything else returns None and takes the general path.
    """
    try:
        if data[0] != 0xD2 or data[1] != 0x84:
            return None
        head = data[2]
        if 0x40 <= head < 0x58 and data[head - 0x3D] == 0xA0 and data[head - 0x3C] == 0x59:
            # The most usual of all: a short protected header, a payload of 256 B-64 KiB and an
            # ES256 signature (58 40), in one look; anything else goes on below.
            start = head - 0x39
            size = data[start - 2] << 8 | data[start - 1]
            end = start + size
            if size >= 0x100 and data[end] == 0x58 and data[end + 1] == 64 and end + 66 == len(data):
                return data[3 : head - 0x3D], data[start:end], data[end + 2 :]
        prot = _bstr_at(data, 2)
        if prot is None or data[prot[1]] != 0xA0:
            return None
        payload = _bstr_at(data, prot[1] + 1)
        if payload is None:
            return None
        signature = _bstr_at(data, payload[1])
    except IndexError:
        return None
    if signature is None or signature[1] != len(data):
        return None
    return prot[0], payload[0], signature[0]


# The outcome of reading a protected header when nothing is unprotected (the usual layout):
# every certificate of one DSC repeats it, so each is worked out once.
_USUAL_HEADERS: dict[bytes, tuple[Mapping[Any, Any], int, bytes, bool]] = {}


def decode(data: bytes) -> CoseSign1:
    """Parse COSE_Sign1 (untagged, tag 18, or tag 61 wrapping 18) and its header parameters."""
    usual = _usual_layout(data) if type(data) is bytes else None
    if usual is not None:
        return from_usual_layout(*usual)
    return _read_headers(*_general_layout(data))


def from_usual_layout(prot_bytes: bytes, payload: bytes, signature: bytes) -> CoseSign1:
    """The message of the three byte strings of a COSE_Sign1 in the usual layout (tag 18, shortest
    heads, an empty unprotected map, nothing after), its header parameters checked: what
    :func:`decode` gives for it.  For the whole-HC1 shortcut, which found that layout."""
    known = _USUAL_HEADERS.get(prot_bytes)
    if known is not None:
        return _new_message(prot_bytes, known[0], _NO_HEADERS, payload, signature, known[1], known[2], known[3])
    message = _read_headers(prot_bytes, _NO_HEADERS, payload, signature)
    if prot_bytes in _PROTECTED_CACHE and len(_USUAL_HEADERS) < _PROTECTED_CACHE_MAX:
        _USUAL_HEADERS[prot_bytes] = (message.protected, message.algorithm, message.kid, message.kid_in_protected)
    return message


def _read_headers(prot_bytes: bytes, unprotected: Mapping[Any, Any], payload: bytes, signature: bytes) -> CoseSign1:
    """The message with its header parameters checked (algorithm, kid, crit)."""
    protected = _protected_header(prot_bytes)
    if HDR_CRIT in protected or HDR_CRIT in unprotected:
        _check_crit(protected, unprotected)

    alg = protected.get(HDR_ALG)
    if alg is None:
        if HDR_ALG in unprotected:
            # RFC 9052 section 3.1: alg must be protected, or an attacker could swap it.
            raise _fail(FailureCode.ALGORITHM_UNPROTECTED, "algorithm only in the unprotected header")
        raise _fail(FailureCode.ALGORITHM_MISSING, "no algorithm header")
    if type(alg) is not int or alg not in ALGORITHMS:
        raise _fail(FailureCode.ALGORITHM_UNSUPPORTED, "algorithm is not ES256 or PS256")

    kid_in_protected = HDR_KID in protected
    kid = protected[HDR_KID] if kid_in_protected else unprotected.get(HDR_KID)
    if kid is None:
        raise _fail(FailureCode.KID_MISSING, "no kid header")
    if not isinstance(kid, bytes):
        raise _fail(FailureCode.COSE_INVALID_STRUCTURE, "kid is not a byte string")
    if len(kid) != KID_LENGTH:
        raise _fail(FailureCode.KID_INVALID_LENGTH, f"kid is {len(kid)} bytes, not {KID_LENGTH}")
    return _new_message(prot_bytes, protected, unprotected, payload, signature, alg, kid, kid_in_protected)


def _general_layout(data: bytes) -> tuple[bytes, Mapping[Any, Any], bytes, bytes]:
    """The four items of any COSE_Sign1 cbor2 can read (tags 61 / 18 or none), trailing bytes refused."""
    obj, tag_heads = _untag(cbor.loads(data, Stage.COSE))
    if type(obj) not in _ARRAY or len(obj) != 4:
        raise _fail(FailureCode.COSE_INVALID_STRUCTURE, "COSE_Sign1 must be an array of four items")
    prot_bytes, unprotected, payload, signature = obj
    if type(prot_bytes) is not bytes or type(unprotected) not in _MAP:
        raise _fail(FailureCode.COSE_INVALID_STRUCTURE, "bad protected or unprotected header")
    if type(payload) is not bytes or type(signature) is not bytes:
        raise _fail(FailureCode.COSE_INVALID_STRUCTURE, "payload and signature must be byte strings")
    # cbor2 ignores what follows the first item.  The usual message (shortest heads, an empty
    # unprotected map) cannot be shorter than the sum of its parts nor longer than ``data``, so
    # when the two sizes agree nothing follows; anything else is decoded again (below).
    lp, lpay, lsig = len(prot_bytes), len(payload), len(signature)
    if unprotected or len(data) != (
        tag_heads + 2 + lp + lpay + lsig
        + (1 if lp < 24 else 2 if lp < 0x100 else 3)
        + (1 if lpay < 24 else 2 if lpay < 0x100 else 3)
        + (1 if lsig < 24 else 2 if lsig < 0x100 else 3)
    ):
        if _has_trailing_bytes(data, tag_heads, obj):
            raise _fail(FailureCode.COSE_TRAILING_DATA, "bytes after the COSE_Sign1 item")
    return prot_bytes, unprotected, payload, signature


# The kind of each public key seen, by identity: ``isinstance`` against cryptography's abstract
# key classes costs about a microsecond on every verification, and a trust store holds few keys.
# A key object is kept alive by the entry, so its identity cannot be reused by another object.
_KEY_KINDS: dict[int, tuple[object, str]] = {}
_KEY_KINDS_MAX = 4096


def _key_kind(public_key: object) -> str:
    """"P-256", "RSA" or "other" (another curve, another algorithm, not a key)."""
    entry = _KEY_KINDS.get(id(public_key))
    if entry is not None and entry[0] is public_key:
        return entry[1]
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        kind = "P-256" if isinstance(public_key.curve, ec.SECP256R1) else "other"
    else:
        kind = "RSA" if isinstance(public_key, rsa.RSAPublicKey) else "other"
    if len(_KEY_KINDS) < _KEY_KINDS_MAX:
        _KEY_KINDS[id(public_key)] = (public_key, kind)
    return kind


def _der_integer(value: bytes) -> bytes:
    """A DER INTEGER of a big-endian unsigned number (minimal: leading zeros dropped, 00 before a high bit)."""
    value = value.lstrip(b"\x00") or b"\x00"
    if value[0] & 0x80:
        value = b"\x00" + value
    return b"\x02" + bytes((len(value),)) + value


# The DER INTEGER head of a 32-byte number by its first byte: 02 20 below 0x80, 02 21 00 (a
# zero before a high bit) from 0x80; None for a leading zero byte (the general path strips it).
_INTEGER_HEADS: tuple[bytes | None, ...] = (None, *(b"\x02\x20" if first < 0x80 else b"\x02\x21\x00"
                                                    for first in range(1, 256)))
_SEQUENCE_HEADS = {4: b"\x30\x44", 5: b"\x30\x45", 6: b"\x30\x46"}


def _der_signature(raw: bytes) -> bytes:
    """The DER ECDSA-Sig-Value of a raw r‖s ES256 signature (what encode_dss_signature writes)."""
    head_r, head_s = _INTEGER_HEADS[raw[0]], _INTEGER_HEADS[raw[32]]
    if head_r is not None and head_s is not None:  # both 32 bytes long, no leading zero
        return b"".join((_SEQUENCE_HEADS[len(head_r) + len(head_s)], head_r, raw[:32], head_s, raw[32:]))
    body = _der_integer(raw[:32]) + _der_integer(raw[32:])
    return b"\x30" + bytes((len(body),)) + body


def raw_signature(der: bytes) -> bytes:
    """The COSE form (raw r‖s, 64 bytes) of a DER ES256 signature, as a P-256 key signs it.

    In one C call when the compiled shortcuts are built (strict DER only); anything else, and
    everything when they are not built, by :func:`raw_signature_python`.
    """
    if _compiled_der_to_raw is not None:
        raw = _compiled_der_to_raw(der)
        if raw is not None:
            return raw
    return raw_signature_python(der)


def raw_signature_python(der: bytes) -> bytes:
    """:func:`raw_signature` by cryptography's DER reader (the reference; raises ValueError on
    a signature that is not DER or whose numbers do not fit P-256's 32 bytes)."""
    r, s = decode_dss_signature(der)
    try:
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    except OverflowError:
        raise ValueError("an ECDSA number longer than 32 bytes: not a P-256 signature") from None


def es256_inputs(message: CoseSign1) -> tuple[bytes, bytes]:
    """The DER signature and the Sig_structure an ES256 check takes (its signature must be 64 bytes).

    In one C call when the compiled shortcuts are built; :func:`_der_signature` and
    :meth:`CoseSign1.to_be_signed` are the reference.
    """
    if _compiled_es256_inputs is not None:
        prepared = _compiled_es256_inputs(message.protected_bytes, message.payload, message.signature)
        if prepared is not None:
            return prepared
    return _der_signature(message.signature), message.to_be_signed()


def verify_signature(message: CoseSign1, public_key: object) -> None:
    """Check the signature with ``public_key``; raise DecodeError at Stage.SIGNATURE on failure."""
    try:
        if message.algorithm == ALG_ES256:
            if _key_kind(public_key) != "P-256":
                raise DecodeError(FailureCode.ALGORITHM_KEY_MISMATCH, Stage.SIGNATURE, "ES256 needs a P-256 key")
            if len(message.signature) != 64:
                raise DecodeError(
                    FailureCode.SIGNATURE_MALFORMED, Stage.SIGNATURE, "ES256 signature must be 64 bytes (r‖s)"
                )
            der, data = es256_inputs(message)
            public_key.verify(der, data, _ECDSA_SHA256)  # type: ignore[attr-defined]
        else:
            data = message.to_be_signed()
            if _key_kind(public_key) != "RSA":
                raise DecodeError(FailureCode.ALGORITHM_KEY_MISMATCH, Stage.SIGNATURE, "PS256 needs an RSA key")
            public_key.verify(message.signature, data, _PSS_ANY_SALT, _SHA256)  # type: ignore[attr-defined]
    except InvalidSignature:
        raise DecodeError(FailureCode.SIGNATURE_INVALID, Stage.SIGNATURE, "signature does not verify") from None
