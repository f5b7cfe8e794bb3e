"""Base45 (RFC 9285), table driven.

Encoding maps each big-endian 16-bit word to three characters through a precomputed table;
decoding maps each three-character group back through a dictionary.  Both loops run in C
(``map`` over the tables), which makes this codec several times faster than a per-character
Python loop (see benchmarks/bench_pipeline.py).  Decoding is strict: characters outside the
alphabet, a dangling single character, and groups whose value overflows are all rejected.
"""

from __future__ import annotations

import re
import struct
from functools import cache

from ..codes import FailureCode, Stage
from ..errors import DecodeError

__all__ = ["ALPHABET", "decode", "encode"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_CHUNK3 = re.compile(r"[\s\S]{3}")


@cache
def _encode_word_table() -> tuple[str, ...]:
    a = ALPHABET
    return tuple(a[n % 45] + a[(n // 45) % 45] + a[n // 2025] for n in range(65536))


@cache
def _decode_word_table() -> dict[str, bytes]:
    return {text: n.to_bytes(2, "big") for n, text in enumerate(_encode_word_table())}


@cache
def _decode_pair_table() -> dict[str, bytes]:
    a = ALPHABET
    return {a[n % 45] + a[n // 45]: bytes((n,)) for n in range(256)}


def encode(data: bytes) -> str:
    """Encode bytes as Base45 text."""
    table = _encode_word_table()
    even = len(data) & ~1
    words = struct.unpack(f">{even // 2}H", data[:even])
    text = "".join(map(table.__getitem__, words))
    if len(data) & 1:
        n = data[-1]
        text += ALPHABET[n % 45] + ALPHABET[n // 45]
    return text


def decode(text: str) -> bytes:
    """Decode Base45 text; raise DecodeError(BASE45_INVALID) for anything not canonical Base45."""
    full = len(text) - len(text) % 3
    rest = text[full:]
    if len(rest) == 1:
        raise DecodeError(FailureCode.BASE45_INVALID, Stage.BASE45, "length leaves a single character")
    try:
        out = b"".join(map(_decode_word_table().__getitem__, _CHUNK3.findall(text, 0, full)))
        if rest:
            out += _decode_pair_table()[rest]
    except KeyError:
        raise DecodeError(
            FailureCode.BASE45_INVALID, Stage.BASE45, "invalid character or group value out of range"
        ) from None
    return out
