"""CWT claims for HCERT: {1 iss, 4 exp, 6 iat, -260 {1 payload}}."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..codes import FailureCode, Stage
from ..errors import DecodeError
from . import cbor
from .records import maker

try:
    from ._speedups import cwt_claims as _compiled_claims
except ImportError:  # not built (a wheel, no C compiler): pure Python (scripts/build_speedups.py)
    _compiled_claims = None  # type: ignore[assignment]

__all__ = ["CLAIM_EXP", "CLAIM_HCERT", "CLAIM_IAT", "CLAIM_ISS", "Claims", "decode", "decode_python", "encode"]

CLAIM_ISS = 1
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_HCERT = -260
HCERT_EU_DCC = 1


@dataclass(frozen=True, slots=True)
class Claims:
    """Decoded CWT claims.  ``payload`` is the DCC JSON object (plain JSON types).

    ``tidy`` is True when the payload holds no null member, no text with surrounding whitespace
    and no floating-point number (see :func:`vaxcert.stages.cbor.to_json_checked`).
    """

    issuer: str | None
    issued_at: int | float
    expires_at: int | float
    payload: dict[str, Any]
    tidy: bool = False

    def __repr__(self) -> str:
        return (f"Claims(issuer={self.issuer!r}, issued_at={self.issued_at}, "
                f"expires_at={self.expires_at}, payload=<redacted>)")


def encode(payload: Mapping[str, Any], *, issuer: str, issued_at: int, expires_at: int) -> bytes:
    """Encode claims; times must be integers (seconds since the epoch)."""
    if type(issued_at) is not int or type(expires_at) is not int:
        raise TypeError("CWT times must be int seconds since the epoch")
    if type(issuer) is not str or not 0x10000 <= issued_at <= 0xFFFFFFFF or not 0x10000 <= expires_at <= 0xFFFFFFFF:
        return cbor.dumps(
            {CLAIM_ISS: issuer, CLAIM_IAT: issued_at, CLAIM_EXP: expires_at, CLAIM_HCERT: {HCERT_EU_DCC: payload}}
        )
    # The same bytes cbor2 writes for the map above, the claims' heads written directly and the
    # payload encoded by cbor2: {1: iss, 6: iat, 4: exp, -260: {1: payload}}.
    return b"".join((b"\xa4\x01", cbor.dumps(issuer), b"\x06\x1a", issued_at.to_bytes(4, "big"), b"\x04\x1a",
                     expires_at.to_bytes(4, "big"), b"\x39\x01\x03\xa1\x01", cbor.dumps(payload)))  # fmt: skip


#: ``Claims(*fields)`` without the frozen dataclass's ``__init__`` cost (see :mod:`.records`).
_new_claims = maker(Claims)


def _time_claim(claims: Mapping[Any, Any], key: int, name: str) -> int | float:
    """A NumericDate (RFC 8392): vaxcert issues integers, and accepts finite floats on reading,
    because RFC 8392 allows them and real issuers (e.g. Spain in 2021) used them."""
    value = claims.get(key)
    if value is None:
        raise DecodeError(FailureCode.CWT_TIME_INVALID, Stage.CWT, f"claim {name} missing")
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    raise DecodeError(FailureCode.CWT_TIME_INVALID, Stage.CWT, f"claim {name} is not a number")


def decode(data: bytes) -> Claims:
    """Decode the COSE payload bytes into Claims or raise DecodeError at Stage.CWT.

    The usual claims are read in one C call when the compiled shortcuts are built
    (:func:`decode_python`, the reference, otherwise and for everything they decline).
    """
    if _compiled_claims is not None:
        usual = _compiled_claims(data)
        if usual is not None:
            return _new_claims(*usual)
    return decode_python(data)


def decode_python(data: bytes) -> Claims:
    """:func:`decode` in Python (cbor2 or the compiled reader, then each claim looked at)."""
    claims = cbor.loads(data, Stage.CWT)
    if type(claims) is not dict:
        raise DecodeError(FailureCode.CWT_INVALID, Stage.CWT, "CWT claims are not a map")
    issuer = claims.get(CLAIM_ISS)
    if issuer is not None and not isinstance(issuer, str):
        raise DecodeError(FailureCode.CWT_INVALID, Stage.CWT, "claim iss is not text")
    iat = claims.get(CLAIM_IAT)
    if type(iat) is not int:  # vaxcert and most issuers write integers; anything else is looked at
        iat = _time_claim(claims, CLAIM_IAT, "iat")
    exp = claims.get(CLAIM_EXP)
    if type(exp) is not int:
        exp = _time_claim(claims, CLAIM_EXP, "exp")
    hcert = claims.get(CLAIM_HCERT)
    if type(hcert) is not dict or HCERT_EU_DCC not in hcert:
        raise DecodeError(FailureCode.PAYLOAD_MISSING, Stage.CWT, "no hcert claim (-260 / 1)")
    payload = hcert[HCERT_EU_DCC]
    if type(payload) is not dict:
        raise DecodeError(FailureCode.CWT_INVALID, Stage.CWT, "hcert payload is not a map")
    plain, tidy = cbor.to_json_checked(payload)
    return _new_claims(issuer, iat, exp, plain, tidy)
