"""Base45 (RFC 9285): encoding vectorised with numpy, decoding in big-integer arithmetic.

Each big-endian 16-bit word becomes three characters (c0 + 45·c1 + 2025·c2); a trailing byte
becomes two.  Encoding gathers the characters of each word from a 65536-entry table; decoding
maps characters to values with ``bytes.translate`` and combines every group at once in
big-integer arithmetic (see :func:`decode`).  Both are 5-10× faster than the ``base45`` package
(see benchmarks/bench_pipeline.py).
Decoding is strict: characters outside the alphabet, a dangling single character, and groups
whose value overflows (> 65535, or > 255 for a final pair) are all rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from ..codes import FailureCode, Stage
from ..errors import DecodeError

try:
    from ._speedups import b45decode as _compiled_decode
    from ._speedups import b45encode as _compiled_encode
except ImportError:  # not built (a wheel, no C compiler): pure Python (scripts/build_speedups.py)
    _compiled_decode = None  # type: ignore[assignment]
    _compiled_encode = None  # type: ignore[assignment]

__all__ = ["ALPHABET", "decode", "decode_python", "encode", "encode_many", "encode_python"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHA = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
# bytes.translate table: each ASCII character to its value 0-44, anything else to 0xFF.
_INVALID = 0xFF
_VALUES = bytes(ALPHABET.encode("ascii").index(c) if chr(c) in ALPHABET else _INVALID for c in range(256))


@cache
def _word_table() -> np.ndarray[tuple[int, int], np.dtype[np.uint8]]:
    """The three characters of every 16-bit word (65536 × 3 bytes, built once)."""
    words = np.arange(0x10000, dtype=np.uint32)
    return np.stack([_ALPHA[words % 45], _ALPHA[words // 45 % 45], _ALPHA[words // 2025]], axis=1)


@cache
def _pair_table() -> np.ndarray[tuple[int], np.dtype[np.bytes_]]:
    """The three characters of each pair of bytes, indexed by the pair read little-endian.

    Items of three bytes (``S3``), so that ``take`` gathers whole groups; indexed by the pair
    read as a little-endian number, so that the input is read without a byte swap (the
    big-endian word of bytes ``a b`` is ``a·256 + b``, its little-endian reading ``b·256 + a``).
    """
    pairs = np.arange(0x10000, dtype=np.uint32)
    words = (pairs & 0xFF) << 8 | pairs >> 8
    return np.ascontiguousarray(_word_table()[words]).view("S3").reshape(-1)


def encode(data: bytes) -> str:
    """Encode bytes as Base45 text (in one C call when the compiled shortcuts are built)."""
    if _compiled_encode is not None:
        text = _compiled_encode(data)
        if text is not None:
            return text
    return encode_python(data)


def encode_python(data: bytes) -> str:
    """:func:`encode` in Python and numpy (the reference the compiled shortcut is tested against)."""
    pairs = np.frombuffer(data, dtype="<u2", count=len(data) // 2)
    text: str = _pair_table().take(pairs).tobytes().decode("ascii")
    if len(data) & 1:
        text += _odd_byte(data[-1])
    return text


def _odd_byte(n: int) -> str:
    """The two characters of a last, unpaired byte."""
    return ALPHABET[n % 45] + ALPHABET[n // 45]


def encode_many(chunks: Sequence[bytes]) -> list[str]:
    """``[encode(c) for c in chunks]`` with one table pass over all of them (batch issuance).

    Base45 encodes each pair of bytes on its own, so the even-length parts of the chunks are
    encoded together and cut apart at 3/2 of each length; an odd last byte is added per chunk.
    """
    evens = [c if not len(c) & 1 else c[:-1] for c in chunks]
    text = encode(b"".join(evens))
    out: list[str] = []
    at = 0
    for whole, even in zip(chunks, evens, strict=True):
        end = at + len(even) // 2 * 3
        out.append(text[at:end] + _odd_byte(whole[-1]) if len(whole) & 1 else text[at:end])
        at = end
    return out


def _invalid(message: str) -> DecodeError:
    return DecodeError(FailureCode.BASE45_INVALID, Stage.BASE45, message)


def _group_mask(groups: int) -> int:
    """The number whose 3-byte slots each hold 0x0000FF (one per group of three characters)."""
    mask = _MASKS.get(groups)
    if mask is None:
        mask = int.from_bytes(b"\0\0\xff" * groups, "big")
        if len(_MASKS) < _MASKS_MAX:
            _MASKS[groups] = mask
    return mask


_MASKS: dict[int, int] = {}
_MASKS_MAX = 256


def decode(text: str) -> bytes:
    """Decode Base45 text; raise DecodeError(BASE45_INVALID) for anything not canonical Base45.

    The compiled shortcut (:mod:`vaxcert.stages._speedups`, when built) decodes canonical
    Base45; anything else, and every text when it is not built, goes to :func:`decode_python`,
    the reference, which names the problem.
    """
    if _compiled_decode is not None:
        out = _compiled_decode(text)
        if out is not None:
            return out
    return decode_python(text)


def decode_python(text: str) -> bytes:
    """:func:`decode` in pure Python (the reference the compiled shortcut is tested against).

    The character values, read as one big-endian integer, hold each group (c0 c1 c2) in a
    3-byte slot; masks and shifts take out the c0, c1 and c2 of every slot at once, and one
    sum gives every group's value c0 + 45·c1 + 2025·c2 in its slot (at most 91,124: slots never
    carry into each other).  A value above 65535 shows in a slot's top byte; otherwise the top
    bytes are dropped and the rest is the data.  A handful of big-integer operations per text,
    where numpy's calls cost more on the verification path (measured in
    benchmarks/bench_pipeline.py).
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise _invalid("non-ASCII character") from None
    size = len(raw)
    if size % 3 == 1:
        raise _invalid("length leaves a single character")
    values = raw.translate(_VALUES)
    if b"\xff" in values:
        raise _invalid("character outside the Base45 alphabet")
    full = size - size % 3
    mask = _group_mask(full // 3)
    slots = int.from_bytes(values[:full] if full < size else values, "big")
    words = (slots >> 16 & mask) + 45 * (slots >> 8 & mask) + 2025 * (slots & mask)
    if words >> 16 & mask:
        raise _invalid("group value out of range")
    out = bytearray(words.to_bytes(full, "big"))
    del out[::3]  # each slot's top byte (zero)
    if full < size:
        last = values[full] + values[full + 1] * 45
        if last > 0xFF:
            raise _invalid("group value out of range")
        out.append(last)
    return bytes(out)
