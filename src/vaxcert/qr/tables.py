"""QR code tables (ISO/IEC 18004:2015): error correction per version and level, segment modes.
"""

from __future__ import annotations

from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["ALPHANUMERIC_CHARSET"]


BoolMatrix: TypeAlias = npt.NDArray[np.bool_]
U8Array: TypeAlias = npt.NDArray[np.uint8]
IntArray: TypeAlias = npt.NDArray[np.int64]
Point: TypeAlias = tuple[int, int]

#: The 45 characters of QR alphanumeric mode, in code order (also the Base45 alphabet).
ALPHANUMERIC_CHARSET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

_ALNUM_INDEX: Final = {c: i for i, c in enumerate(ALPHANUMERIC_CHARSET)}


_ECL_FORMAT_BITS: Final = {"L": 1, "M": 0, "Q": 3, "H": 2}
_FORMAT_BITS_ECL: Final = {bits: ecl for ecl, bits in _ECL_FORMAT_BITS.items()}

_ECC_PER_BLOCK: Final = {
    "L": (0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
          28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    "M": (0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
          26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28),
    "Q": (0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
          28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
    "H": (0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
          30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30),
}
_NUM_BLOCKS: Final = {
    "L": (0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
          8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25),
    "M": (0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
          17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49),
    "Q": (0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
          23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68),
    "H": (0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
          25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81),
}

_MODE_NAMES: Final = {
    0b0001: "numeric",
    0b0010: "alphanumeric",
    0b0100: "byte",
    0b1000: "kanji",
    0b1101: "hanzi",
    0b0111: "eci",
    0b0011: "structured_append",
    0b0101: "fnc1_first",
    0b1001: "fnc1_second",
}
#: Character-count indicator widths for versions 1-9, 10-26 and 27-40.
_COUNT_BITS: Final = {
    "numeric": (10, 12, 14),
    "alphanumeric": (9, 11, 13),
    "byte": (8, 16, 16),
    "kanji": (8, 10, 12),
    "hanzi": (8, 10, 12),
}


def _count_bits(mode: str, version: int) -> int:
    """Width of the character-count indicator of ``mode`` in ``version``."""
    band = 0 if version <= 9 else 1 if version <= 26 else 2
    return _COUNT_BITS[mode][band]


def _size(version: int) -> int:
    """Modules per side of a QR code of ``version``."""
    return 17 + 4 * version


def _raw_data_modules(version: int) -> int:
    """Modules available for codewords (data + EC + remainder bits) in ``version``."""
    result = (16 * version + 128) * version + 64
    if version >= 2:
        num_align = version // 7 + 2
        result -= (25 * num_align - 10) * num_align - 55
        if version >= 7:
            result -= 36
    return result


def _data_codewords(version: int, ecl: str) -> int:
    """Data codewords (excluding error correction) of ``version`` at level ``ecl``."""
    return _raw_data_modules(version) // 8 - _ECC_PER_BLOCK[ecl][version] * _NUM_BLOCKS[ecl][version]


def _block_lengths(version: int, ecl: str) -> tuple[list[int], int]:
    """Data codewords per block (short blocks first) and EC codewords per block."""
    num_blocks = _NUM_BLOCKS[ecl][version]
    ecc = _ECC_PER_BLOCK[ecl][version]
    raw = _raw_data_modules(version) // 8
    num_short = num_blocks - raw % num_blocks
    short_data = raw // num_blocks - ecc
    return [short_data if i < num_short else short_data + 1 for i in range(num_blocks)], ecc


def _alignment_positions(version: int) -> list[int]:
    """Row/column centres of the alignment patterns of ``version``."""
    if version == 1:
        return []
    num_align = version // 7 + 2
    step = (version * 8 + num_align * 3 + 5) // (num_align * 4 - 4) * 2
    positions = [_size(version) - 7 - i * step for i in range(num_align - 1)]
    return [6, *reversed(positions)]
