"""The JWS stage of SMART Health Cards: compact serialization, ES256, raw DEFLATE, bounded JSON.

A Health Card is ``BASE64URL(header) . BASE64URL(DEFLATE(claims JSON)) . BASE64URL(r||s)``
with the protected header ``{"zip": "DEF", "alg": "ES256", "kid": <JWK thumbprint>}``.  This
module parses and checks that shape without a key (:func:`parse`), checks the signature with a
key (:func:`verify_signature`), and inflates and parses the payload within size and depth
limits (:func:`inflate`, :func:`load_json`).  Everything raises
:class:`vaxcert.errors.DecodeError` with a failure code and stage, never echoing input.

Low-level building blocks; :func:`vaxcert.formats.shc.verify_shc` is the safe recipe.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ...codes import FailureCode, Stage
from ...errors import DecodeError

__all__ = [
    "MAX_HEADER_CHARS",
    "MAX_INFLATED",
    "MAX_JSON_DEPTH",
    "MAX_JWS_CHARS",
    "CompactJws",
    "b64url_decode",
    "b64url_encode",
    "deflate",
    "inflate",
    "is_der_signature",
    "load_json",
    "parse",
    "peek_kid",
    "verify_signature",
]

#: The longest JWS accepted (QR cards hold <= 1,195 characters per code; files may hold more).
MAX_JWS_CHARS: Final = 64 * 1024
#: The longest encoded protected header accepted.
MAX_HEADER_CHARS: Final = 1024
#: The largest claims JSON accepted after inflating.
MAX_INFLATED: Final = 256 * 1024
#: The deepest JSON nesting accepted (a Health Card's FHIR bundle needs about 10 levels).
MAX_JSON_DEPTH: Final = 32

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_DEPTH_STEP = np.zeros(256, dtype=np.int32)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1
_SIGNATURE_SIZE: Final = 64  # ES256: r and s, 32 bytes each


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str = "value") -> bytes:
    """Strict unpadded base64url: only ``A-Z a-z 0-9 - _``, no ``=``, no whitespace, canonical.

    Canonical: the unused low bits of the last character are zero, so one byte string has one
    encoding (otherwise the unsigned signature part of a card could be written several ways).
    """
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, f"{what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern above excludes these
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, f"{what} is not base64url") from None
    tail = len(data) % 3  # bytes in the last, partial group
    if tail and b64url_encode(data[-tail:])[-1] != text[-1]:
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, f"{what} is not canonical base64url")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _depth(text: str) -> int:
    """The bracket nesting depth of JSON text that parsed (strings removed first; vectorised)."""
    structure = _JSON_STRING.sub("", text).encode("utf-8")
    if not structure:
        return 0
    return int(np.cumsum(_DEPTH_STEP[np.frombuffer(structure, dtype=np.uint8)]).max())


def load_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, what: str = "JSON") -> Any:
    """Parse strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, at most ``max_depth`` deep.

    Raises ``JSON_INVALID`` or ``JSON_TOO_DEEP`` (stage ``payload``).
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_reject_constant)
    except RecursionError:
        raise DecodeError(FailureCode.JSON_TOO_DEEP, Stage.PAYLOAD, f"{what} nests too deeply") from None
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise DecodeError(FailureCode.JSON_INVALID, Stage.PAYLOAD, f"{what} is not valid JSON") from None
    if _depth(text) > max_depth:  # text parsed, so every string is closed: the pattern runs in linear time
        raise DecodeError(FailureCode.JSON_TOO_DEEP, Stage.PAYLOAD, f"{what} nests deeper than {max_depth}")
    return value


def deflate(data: bytes) -> bytes:
    """Raw DEFLATE (RFC 1951, no zlib or gzip header), maximum compression."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def inflate(data: bytes, max_size: int = MAX_INFLATED) -> bytes:
    """Inflate one complete raw DEFLATE stream of at most ``max_size`` bytes, nothing after it."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, max_size)
    except zlib.error:
        raise DecodeError(FailureCode.DECOMPRESSION_FAILED, Stage.COMPRESSION, "corrupt DEFLATE stream") from None
    if inflater.unconsumed_tail:
        raise DecodeError(
            FailureCode.DECOMPRESSED_TOO_LARGE, Stage.COMPRESSION, f"inflates to more than {max_size} bytes"
        )
    if not inflater.eof:
        raise DecodeError(FailureCode.DECOMPRESSION_FAILED, Stage.COMPRESSION, "truncated DEFLATE stream")
    if inflater.unused_data:
        raise DecodeError(FailureCode.DECOMPRESSION_FAILED, Stage.COMPRESSION, "data after the DEFLATE stream")
    return out


def is_der_signature(signature: bytes) -> bool:
    """True when ``signature`` is a DER ``SEQUENCE { INTEGER r, INTEGER s }`` (ECDSA-Sig-Value)."""
    if len(signature) < 8 or signature[0] != 0x30 or signature[1] != len(signature) - 2:
        return False
    pos = 2
    for _ in range(2):
        if pos + 2 > len(signature) or signature[pos] != 0x02:
            return False
        length = signature[pos + 1]
        if not 1 <= length <= 33:
            return False
        pos += 2 + length
    return pos == len(signature)


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A parsed JWS whose header passed the Health Card checks.  ``repr`` is redacted."""

    header: dict[str, Any] = field(repr=False)
    kid: str
    signing_input: bytes = field(repr=False)
    payload: bytes = field(repr=False)  # the compressed payload (base64url-decoded)
    signature: bytes = field(repr=False)  # raw r || s

    def __repr__(self) -> str:
        return "CompactJws(<redacted>)"


def parse(jws: str, *, max_chars: int = MAX_JWS_CHARS) -> CompactJws:
    """Parse a compact JWS and check the Health Card header and signature format (no key needed).

    Refuses: more or fewer than 3 parts, non-base64url parts, a header that is not a JSON object,
    ``crit`` (no extension is understood), ``alg`` other than ES256 (``ALGORITHM_MISSING`` /
    ``ALGORITHM_UNSUPPORTED``), ``zip`` other than ``DEF`` (``NOT_COMPRESSED``), no ``kid``
    (``KID_MISSING``), a DER signature (``SIGNATURE_DER_ENCODED``) or one that is not 64 bytes
    (``SIGNATURE_MALFORMED``).
    """
    if len(jws) > max_chars:
        raise DecodeError(FailureCode.INPUT_TOO_LARGE, Stage.JWS, f"JWS longer than {max_chars}")
    parts = jws.split(".")
    if len(parts) != 3:
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, "a compact JWS has three dot-separated parts")
    header_b64, payload_b64, signature_b64 = parts
    if len(header_b64) > MAX_HEADER_CHARS:
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, f"header longer than {MAX_HEADER_CHARS}")
    header_bytes = b64url_decode(header_b64, "header")
    payload = b64url_decode(payload_b64, "payload")
    signature = b64url_decode(signature_b64, "signature")
    try:
        header = load_json(header_bytes, max_depth=4, what="header")
    except DecodeError:
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, "header is not a JSON object") from None
    if not isinstance(header, dict):
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, "header is not a JSON object")
    if "crit" in header:
        raise DecodeError(FailureCode.JWS_INVALID, Stage.JWS, "critical header extensions are not supported")
    alg = header.get("alg")
    if alg is None:
        raise DecodeError(FailureCode.ALGORITHM_MISSING, Stage.JWS, "no alg in the header")
    if alg != "ES256":
        raise DecodeError(FailureCode.ALGORITHM_UNSUPPORTED, Stage.JWS, "alg must be ES256")
    if "zip" not in header:
        raise DecodeError(FailureCode.NOT_COMPRESSED, Stage.JWS, 'no zip: "DEF" in the header')
    if header["zip"] != "DEF":
        raise DecodeError(FailureCode.NOT_COMPRESSED, Stage.JWS, 'zip must be "DEF"')
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise DecodeError(FailureCode.KID_MISSING, Stage.JWS, "no kid in the header")
    if len(signature) != _SIGNATURE_SIZE:
        if is_der_signature(signature):
            raise DecodeError(
                FailureCode.SIGNATURE_DER_ENCODED, Stage.SIGNATURE, "DER-encoded signature; ES256 needs raw r||s"
            )
        raise DecodeError(FailureCode.SIGNATURE_MALFORMED, Stage.SIGNATURE, "ES256 signature must be 64 bytes")
    return CompactJws(
        header=header,
        kid=kid,
        signing_input=f"{header_b64}.{payload_b64}".encode("ascii"),
        payload=payload,
        signature=signature,
    )


def peek_kid(jws: str) -> str | None:
    """The ``kid`` of a JWS header if it can be read at all (for diagnostics; never raises)."""
    header_b64 = jws.split(".", 1)[0]
    if len(header_b64) > MAX_HEADER_CHARS:
        return None
    try:
        header = load_json(b64url_decode(header_b64, "header"), max_depth=4, what="header")
    except DecodeError:
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) and 0 < len(kid) <= 256 else None


def verify_signature(jws: CompactJws, key: ec.EllipticCurvePublicKey) -> bool:
    """True when the raw r||s signature verifies under the P-256 ``key`` (ES256)."""
    if not isinstance(key.curve, ec.SECP256R1):
        return False
    r = int.from_bytes(jws.signature[:32], "big")
    s = int.from_bytes(jws.signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), jws.signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
