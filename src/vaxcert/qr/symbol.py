"""Reading a sampled QR symbol (module matrix → format, Reed–Solomon correction, segment modes).

zxing-cpp reports a code's text but not its segment modes; DCC rule Q2 rejects a code that is not
in alphanumeric mode, so :func:`read_symbol` reads the matrix again here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .layout import _FORMAT_WORDS, _format_coordinates, _layout
from .reedsolomon import _rs_correct_blocks
from .tables import _FORMAT_BITS_ECL, _MODE_NAMES, BoolMatrix, _block_lengths, _count_bits, _raw_data_modules

__all__ = ["SymbolInfo", "read_symbol"]


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    """What :func:`read_symbol` learns from a QR module matrix."""

    version: int
    ec_level: str
    mask: int
    modes: tuple[str, ...]  # segment modes in order, e.g. ("alphanumeric",)
    corrected_codewords: int  # codewords Reed-Solomon had to fix

    @property
    def alphanumeric(self) -> bool:
        """True if the data is one or more alphanumeric segments and nothing else."""
        return bool(self.modes) and all(m == "alphanumeric" for m in self.modes)


class _SymbolError(Exception):
    """The module matrix is not a readable QR model 2 symbol."""


def _read_format(m: BoolMatrix) -> tuple[str, int]:
    """Error-correction level and mask from the format information (best of both copies)."""
    first, second = _format_coordinates(m.shape[0])
    best: tuple[int, int] = (99, 0)
    for coords in (first, second):
        word = sum(int(m[rc]) << i for i, rc in enumerate(coords))
        for valid, data in _FORMAT_WORDS.items():
            dist = (word ^ valid).bit_count()
            if dist < best[0]:
                best = (dist, data)
    if best[0] > 3:
        raise _SymbolError("format information unreadable")
    return _FORMAT_BITS_ECL[best[1] >> 3], best[1] & 7


def _deinterleave(codewords: Sequence[int], version: int, ecl: str) -> list[list[int]]:
    """Split interleaved codewords into blocks (data followed by EC codewords)."""
    lengths, ecc = _block_lengths(version, ecl)
    blocks: list[list[int]] = [[] for _ in lengths]
    it = iter(codewords)
    for i in range(max(lengths)):
        for b, n in zip(blocks, lengths, strict=True):
            if i < n:
                b.append(next(it))
    for _ in range(ecc):
        for b in blocks:
            b.append(next(it))
    return blocks


class _BitReader:
    """Big-endian bit reader over a byte string."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._total = 8 * len(data)
        self.pos = 0

    @property
    def remaining(self) -> int:
        """Bits not yet read."""
        return self._total - self.pos

    def read(self, n: int) -> int:
        """Read ``n`` bits as an unsigned integer."""
        if n > self.remaining:
            raise _SymbolError("bit stream ends inside a segment")
        self.pos += n
        return (self._value >> (self._total - self.pos)) & ((1 << n) - 1)


def _skip_eci(reader: _BitReader) -> None:
    """Consume an ECI designator (1 to 3 bytes)."""
    first = reader.read(8)
    if first & 0x80 == 0:
        return
    if first & 0xC0 == 0x80:
        reader.read(8)
    elif first & 0xE0 == 0xC0:
        reader.read(16)
    else:
        raise _SymbolError("invalid ECI designator")


def _segment_payload_bits(mode: str, count: int) -> int:
    """Bits occupied by ``count`` characters of ``mode``."""
    if mode == "numeric":
        return 10 * (count // 3) + (0, 4, 7)[count % 3]
    if mode == "alphanumeric":
        return 11 * (count // 2) + 6 * (count % 2)
    if mode == "byte":
        return 8 * count
    return 13 * count  # kanji, hanzi


def _parse_segments(data: bytes, version: int) -> tuple[str, ...]:
    """Modes of the segments in a data bit stream, in order (terminator excluded)."""
    reader = _BitReader(data)
    modes: list[str] = []
    while reader.remaining >= 4:
        indicator = reader.read(4)
        if indicator == 0:
            break
        mode = _MODE_NAMES.get(indicator)
        if mode is None:
            raise _SymbolError(f"unknown mode indicator {indicator:04b}")
        modes.append(mode)
        if mode == "eci":
            _skip_eci(reader)
        elif mode == "structured_append":
            reader.read(16)
        elif mode == "fnc1_second":
            reader.read(8)
        elif mode != "fnc1_first":
            if mode == "hanzi":
                reader.read(4)
            count = reader.read(_count_bits(mode, version))
            reader.read(_segment_payload_bits(mode, count))
    return tuple(modes)


def _read_oriented(m: BoolMatrix) -> SymbolInfo:
    """Read a matrix in reading orientation (raises :class:`_SymbolError`)."""
    size = m.shape[0] if m.ndim == 2 and m.shape[0] == m.shape[1] else 0
    if (size - 17) % 4 or not 21 <= size <= 177:
        raise _SymbolError(f"matrix of shape {m.shape} is not a QR model 2 symbol")
    version = (size - 17) // 4
    ecl, mask = _read_format(m)
    layout = _layout(version)
    unmasked = m ^ layout.mask_stack[mask]
    bits = unmasked[layout.rows, layout.cols]
    n_codewords = _raw_data_modules(version) // 8
    codewords = np.packbits(bits[: n_codewords * 8]).tolist()
    lengths, ecc = _block_lengths(version, ecl)
    blocks = _deinterleave(codewords, version, ecl)
    fixed_blocks = _rs_correct_blocks(blocks, ecc)
    if fixed_blocks is None:
        raise _SymbolError("too many errors for Reed-Solomon correction")
    data = bytearray()
    corrected = 0
    for block, fixed, n in zip(blocks, fixed_blocks, lengths, strict=True):
        corrected += sum(a != b for a, b in zip(block, fixed, strict=True))
        data += bytes(fixed[:n])
    return SymbolInfo(version, ecl, mask, _parse_segments(bytes(data), version), corrected)


def read_symbol(modules: npt.ArrayLike) -> SymbolInfo:
    """Read format, segment modes and error-correction level from a QR module matrix.

    ``modules`` is a square matrix without quiet zone, True (or non-zero) for dark modules, as
    drawn or as sampled by a detector.  A mirrored (transposed) matrix is accepted too.  Raises
    :class:`ValueError` if the matrix is not a readable QR model 2 symbol.
    """
    m = np.asarray(modules).astype(np.bool_)
    try:
        return _read_oriented(m)
    except _SymbolError as first:
        try:
            return _read_oriented(np.ascontiguousarray(m.T))
        except _SymbolError:
            raise ValueError(str(first)) from None
