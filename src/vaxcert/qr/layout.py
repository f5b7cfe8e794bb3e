"""QR symbol layout: function patterns, data-module order, masks, format and version information.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np

from .tables import BoolMatrix, IntArray, Point, _alignment_positions, _size

__all__ = []


def _bch_format(data: int) -> int:
    """15-bit format information for 5 data bits (BCH(15,5) then the fixed XOR mask)."""
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return ((data << 10) | rem) ^ 0x5412


def _bch_version(version: int) -> int:
    """18-bit version information (BCH(18,6))."""
    rem = version
    for _ in range(12):
        rem = (rem << 1) ^ ((rem >> 11) * 0x1F25)
    return (version << 12) | rem


_FORMAT_WORDS: Final = {_bch_format(d): d for d in range(32)}


def _format_coordinates(size: int) -> tuple[list[Point], list[Point]]:
    """(row, col) of format bits 0..14, first copy (around the top-left finder) and second copy."""
    first: list[Point] = [(i, 8) for i in range(6)] + [(7, 8), (8, 8), (8, 7)]
    first += [(8, 14 - i) for i in range(9, 15)]
    second: list[Point] = [(8, size - 1 - i) for i in range(8)]
    second += [(size - 15 + i, 8) for i in range(8, 15)]
    return first, second


def _version_coordinates(size: int) -> list[tuple[Point, Point]]:
    """(row, col) pairs (bottom-left copy, top-right copy) of version bits 0..17."""
    pairs: list[tuple[Point, Point]] = []
    for i in range(18):
        a, b = size - 11 + i % 3, i // 3
        pairs.append(((a, b), (b, a)))
    return pairs


@dataclass(frozen=True, slots=True)
class _Layout:
    """Everything about a version that does not depend on the content."""

    version: int
    size: int
    template: BoolMatrix  # function patterns drawn (dark = True), format area light
    rows: IntArray  # data modules in placement order
    cols: IntArray
    mask_stack: BoolMatrix  # [k] = mask pattern k restricted to data modules


def _draw_finder(m: BoolMatrix, is_fn: BoolMatrix, row: int, col: int) -> None:
    """Finder pattern centred at (row, col) with its light separator."""
    size = m.shape[0]
    for dr in range(-4, 5):
        for dc in range(-4, 5):
            r, c = row + dr, col + dc
            if 0 <= r < size and 0 <= c < size:
                dist = max(abs(dr), abs(dc))
                m[r, c] = dist not in (2, 4)
                is_fn[r, c] = True


def _draw_alignment(m: BoolMatrix, is_fn: BoolMatrix, row: int, col: int) -> None:
    """Alignment pattern centred at (row, col)."""
    for dr in range(-2, 3):
        for dc in range(-2, 3):
            m[row + dr, col + dc] = max(abs(dr), abs(dc)) != 1
            is_fn[row + dr, col + dc] = True


@lru_cache(maxsize=41)
def _layout(version: int) -> _Layout:
    """Build (once per version) the function patterns, the data-module order and the masks."""
    size = _size(version)
    m = np.zeros((size, size), dtype=np.bool_)
    is_fn = np.zeros((size, size), dtype=np.bool_)
    idx = np.arange(size)
    m[6, :] = idx % 2 == 0
    m[:, 6] = idx % 2 == 0
    is_fn[6, :] = True
    is_fn[:, 6] = True
    for row, col in ((3, 3), (3, size - 4), (size - 4, 3)):
        _draw_finder(m, is_fn, row, col)
    align = _alignment_positions(version)
    last = len(align) - 1
    for i, row in enumerate(align):
        for j, col in enumerate(align):
            if (i, j) not in ((0, 0), (0, last), (last, 0)):
                _draw_alignment(m, is_fn, row, col)
    first, second = _format_coordinates(size)
    for r, c in first + second:
        is_fn[r, c] = True
        m[r, c] = False
    m[size - 8, 8] = True  # the dark module
    is_fn[size - 8, 8] = True
    if version >= 7:
        bits = _bch_version(version)
        for i, (a, b) in enumerate(_version_coordinates(size)):
            for r, c in (a, b):
                m[r, c] = bool((bits >> i) & 1)
                is_fn[r, c] = True
    rows, cols = _placement_order(is_fn)
    mask_stack = np.stack([_mask_pattern(k, size) & ~is_fn for k in range(8)])
    for arr in (m, mask_stack):
        arr.flags.writeable = False
    return _Layout(version, size, m, rows, cols, mask_stack)


def _placement_order(is_fn: BoolMatrix) -> tuple[IntArray, IntArray]:
    """Coordinates of the non-function modules in the zig-zag codeword placement order."""
    size = is_fn.shape[0]
    rows: list[int] = []
    cols: list[int] = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = ((right + 1) & 2) == 0
        for vert in range(size):
            r = size - 1 - vert if upward else vert
            for c in (right, right - 1):
                if not is_fn[r, c]:
                    rows.append(r)
                    cols.append(c)
        right -= 2
    return np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)


def _mask_pattern(k: int, size: int) -> BoolMatrix:
    """Mask pattern ``k`` (True where the module is inverted), over the whole symbol."""
    r, c = np.indices((size, size))
    patterns = (
        (r + c) % 2 == 0,
        r % 2 == 0,
        c % 3 == 0,
        (r + c) % 3 == 0,
        (r // 2 + c // 3) % 2 == 0,
        (r * c) % 2 + (r * c) % 3 == 0,
        ((r * c) % 2 + (r * c) % 3) % 2 == 0,
        ((r + c) % 2 + (r * c) % 3) % 2 == 0,
    )
    return np.asarray(patterns[k], dtype=np.bool_)
