"""Bounded CBOR decoding and the CBOR ⇄ JSON bridge for DCC payloads.

Decoding is hardened for hostile input: nesting depth is capped, duplicate map keys are
rejected (two parsers must never disagree about which value counts), and every decoder
exception becomes ``DecodeError(CBOR_INVALID)``.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

import cbor2

from ..codes import FailureCode, Stage
from ..errors import DecodeError

__all__ = ["MAX_DEPTH", "dumps", "loads", "to_json_compatible"]

#: DCC structures nest about six levels deep; anything much deeper is hostile.
MAX_DEPTH = 16


def dumps(obj: object) -> bytes:
    """Encode with definite lengths and no undefined values (cbor2 default)."""
    return cbor2.dumps(obj)


def loads(data: bytes, stage: Stage = Stage.COSE) -> Any:
    """Decode exactly one CBOR item from ``data`` or raise DecodeError."""
    try:
        return cbor2.loads(data, max_depth=MAX_DEPTH, allow_duplicate_keys=False)
    except cbor2.CBORDecodeError as exc:
        code = FailureCode.CBOR_TOO_DEEP if "depth" in str(exc) else FailureCode.CBOR_INVALID
        raise DecodeError(code, stage, "malformed CBOR") from None
    except (RecursionError, MemoryError):
        raise DecodeError(FailureCode.CBOR_TOO_DEEP, stage, "CBOR nesting too deep") from None
    except Exception:
        raise DecodeError(FailureCode.CBOR_INVALID, stage, "malformed CBOR") from None


_SCALARS = frozenset({str, int, bool, type(None)})


def _is_plain(obj: object) -> bool:
    """True when ``obj`` already is plain JSON (dict/list/str/int/bool/None/finite float)."""
    kind = type(obj)
    if kind is dict:
        for key, value in obj.items():  # type: ignore[attr-defined]
            if type(key) is not str or (type(value) not in _SCALARS and not _is_plain(value)):
                return False
        return True
    if kind is list:
        for value in obj:  # type: ignore[attr-defined]
            if type(value) not in _SCALARS and not _is_plain(value):
                return False
        return True
    if kind is float:
        return math.isfinite(obj)  # type: ignore[arg-type]
    return kind in _SCALARS


def to_json_compatible(obj: object, path: str = "$") -> Any:
    """Convert a decoded CBOR payload to plain JSON types, or raise DecodeError naming the path.

    Text keys only; integers, finite floats, text, booleans, null, arrays and maps.  A CBOR
    date/time tag is rendered as an RFC 3339 string (some issuers tag ``sc``).  Payloads that
    already are plain JSON (the normal case) are returned as they are, without copying.
    """
    if _is_plain(obj):
        return obj
    return _convert(obj, path)


def _convert(obj: object, path: str) -> Any:
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        raise DecodeError(FailureCode.CWT_INVALID, Stage.PAYLOAD, f"{path}: non-finite number")
    if isinstance(obj, list | tuple):
        return [_convert(v, f"{path}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise DecodeError(FailureCode.CWT_INVALID, Stage.PAYLOAD, f"{path}: non-text map key")
            out[key] = _convert(value, f"{path}.{key}")
        return out
    if isinstance(obj, _dt.datetime):
        return obj.isoformat().replace("+00:00", "Z")
    raise DecodeError(FailureCode.CWT_INVALID, Stage.PAYLOAD, f"{path}: value of unsupported CBOR type")
