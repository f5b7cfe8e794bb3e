"""Bounded CBOR decoding and the CBOR ⇄ JSON bridge for DCC payloads.

Decoding is hardened for hostile input: nesting depth is capped, duplicate map keys are
rejected (two parsers must never disagree about which value counts), bignums (tags 2 and 3) are
capped at :data:`MAX_BIGNUM_BYTES` and shared references (tags 28 and 29, which build cyclic
structures) are refused, and every decoder exception becomes ``DecodeError(CBOR_INVALID)``.

The bignum cap also keeps cbor2 quiet: an integer of more than 4,300 digits cannot be turned
into text, and when cbor2 formats such a value for an error message it prints an "Exception
ignored" traceback to stderr.  Nothing in a DCC or a vaxcert document needs more than 64 bits.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from typing import Any

import cbor2

from ..codes import FailureCode, Stage
from ..errors import DecodeError

try:
    from ._speedups import cbor_dumps as _compiled_dumps
    from ._speedups import cbor_loads as _compiled_loads
    from ._speedups import plain_state as _compiled_plain_state
except ImportError:  # not built (a wheel, no C compiler): pure Python (scripts/build_speedups.py)
    _compiled_loads = _compiled_plain_state = _compiled_dumps = None  # type: ignore[assignment]

__all__ = ["MAX_BIGNUM_BYTES", "MAX_DEPTH", "dumps", "dumps_cbor2", "loads", "loads_cbor2", "to_json_checked",
           "to_json_compatible"]

#: DCC structures nest about six levels deep; anything much deeper is hostile.
MAX_DEPTH = 16
#: Longest bignum (CBOR tags 2 and 3) accepted: 64 bytes, about 154 decimal digits.
MAX_BIGNUM_BYTES = 64


def _bignum(value: Any, negative: bool) -> int:
    if type(value) is not bytes or len(value) > MAX_BIGNUM_BYTES:
        raise ValueError("bignum too large or malformed")
    number = int.from_bytes(value, "big")
    return -1 - number if negative else number


def _refuse_shared(value: Any, immutable: bool = False) -> Any:
    raise ValueError("shared references are not accepted")


#: cbor2's semantic decoders replaced for hostile input (see the module docstring).
_DECODERS: dict[int, Any] = {
    2: lambda value, immutable=False: _bignum(value, False),
    3: lambda value, immutable=False: _bignum(value, True),
    28: _refuse_shared,
    29: _refuse_shared,
}


def dumps(obj: object) -> bytes:
    """Encode with definite lengths and no undefined values (cbor2 default).

    Plain JSON (exact dicts with text keys, lists, text, bytes, 64-bit integers, true, false,
    null) is written by the compiled shortcut when it is built, which gives what cbor2 gives;
    everything else, and everything when it is not built, by cbor2.
    """
    if _compiled_dumps is not None:
        quick = _compiled_dumps(obj)
        if quick is not None:
            return quick
    return cbor2.dumps(obj)


def dumps_cbor2(obj: object) -> bytes:
    """:func:`dumps` by cbor2 alone (the reference the compiled shortcut is tested against)."""
    return cbor2.dumps(obj)


def loads(data: bytes, stage: Stage = Stage.COSE) -> Any:
    """Decode exactly one CBOR item from ``data`` or raise DecodeError.

    Plain CBOR (definite lengths; maps, arrays, text, bytes, 64-bit integers, true, false,
    null; no duplicate key) is read by the compiled shortcut when it is built, which gives
    what cbor2 gives; everything else, and everything when it is not built, by cbor2.
    """
    if _compiled_loads is not None:
        quick = _compiled_loads(data)
        if quick is not None:
            return quick[0]
    return loads_cbor2(data, stage)


def loads_cbor2(data: bytes, stage: Stage = Stage.COSE) -> Any:
    """:func:`loads` by cbor2 alone (the reference the compiled shortcut is tested against)."""
    try:
        return cbor2.loads(data, max_depth=MAX_DEPTH, allow_duplicate_keys=False, semantic_decoders=_DECODERS)
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


_NOT_PLAIN, _PLAIN, _TIDY = 0, 1, 2


def _plain_state(obj: object) -> int:
    """:func:`_is_plain` and, in the same pass, whether the JSON is *tidy*.

    Tidy: no member whose value is null, no text starting or ending with whitespace, no
    floating-point number.  (Issuers write ``"t": null``, ``" VN"`` and ``2.0``; the verifier's
    lenient reading normalises them, and learns here, for free, when there is nothing to do.)
    Returns 0 (not plain JSON), 1 (plain) or 2 (plain and tidy).
    """
    kind = type(obj)
    state = _TIDY
    if kind is dict:
        for key, value in obj.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                return _NOT_PLAIN
            vkind = type(value)
            if vkind is str:
                if value.strip() is not value:  # CPython: the same object when nothing is stripped
                    state = _PLAIN
            elif vkind is int or vkind is bool:
                continue
            elif value is None:
                state = _PLAIN
            else:
                sub = _plain_state(value)
                if sub < state:
                    if sub == _NOT_PLAIN:
                        return _NOT_PLAIN
                    state = sub
        return state
    if kind is list:
        for value in obj:  # type: ignore[attr-defined]
            vkind = type(value)
            if vkind is str:
                if value.strip() is not value:
                    state = _PLAIN
            elif vkind is int or vkind is bool or value is None:
                continue
            else:
                sub = _plain_state(value)
                if sub < state:
                    if sub == _NOT_PLAIN:
                        return _NOT_PLAIN
                    state = sub
        return state
    if kind is float:
        return _PLAIN if math.isfinite(obj) else _NOT_PLAIN  # type: ignore[arg-type]
    if kind is str:
        return _TIDY if obj.strip() is obj else _PLAIN  # type: ignore[attr-defined]
    return _TIDY if kind in _SCALARS else _NOT_PLAIN


def to_json_checked(obj: object, path: str = "$") -> tuple[Any, bool]:
    """:func:`to_json_compatible`, and whether the result is tidy (see :func:`_plain_state`)."""
    state = _compiled_plain_state(obj) if _compiled_plain_state is not None else -1
    if state < 0:  # not built, or nested deeper than the compiled walk goes
        state = _plain_state(obj)
    if state != _NOT_PLAIN:
        return obj, state == _TIDY
    converted = _convert(obj, path)
    return converted, _plain_state(converted) == _TIDY


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
