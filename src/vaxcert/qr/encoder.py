"""Render HC1 strings as QR codes and decode QR codes from pictures.

Two levels, as elsewhere in vaxcert:

* Recipes: :func:`render_png`, :func:`render_svg`, :func:`render_terminal`, :func:`save`,
  :func:`plan_size`, :func:`decode_image`, :func:`decode_file`.
* Primitives: :func:`encode` (text -> module matrix) and :func:`read_symbol` (module matrix ->
  segments, error-correction level, mask).

Rendering uses a small QR encoder written here (numpy), restricted on purpose to what the EU DCC
specification asks for: the whole text in **one alphanumeric segment** at error-correction level
**Q**.  Text outside the QR alphanumeric set (Base45 is exactly that set) is refused with
:class:`~vaxcert.errors.InputError`; there is no silent fallback to byte mode.

Decoding finds codes with zxing-cpp, then reads the sampled module matrix of every code again here
(format information, Reed-Solomon correction, segment headers) to tell which encoding modes the
code really uses: zxing-cpp reports the text but not the segment modes, and DCC rule Q2 rejects a
code that is not in alphanumeric mode.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from .codes import FailureCode, Stage
from .errors import DecodeError, InputError

__all__ = [
    "ALPHANUMERIC_CHARSET",
    "DEFAULT_BORDER",
    "DEFAULT_DPI",
    "DEFAULT_SCALE",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "DecodedCode",
    "ImageDecodeError",
    "ImageSource",
    "QrMatrix",
    "RenderSize",
    "SymbolInfo",
    "decode_file",
    "decode_image",
    "encode",
    "is_alphanumeric",
    "plan_size",
    "read_symbol",
    "render_png",
    "render_svg",
    "render_terminal",
    "save",
]

BoolMatrix: TypeAlias = npt.NDArray[np.bool_]
U8Array: TypeAlias = npt.NDArray[np.uint8]
IntArray: TypeAlias = npt.NDArray[np.int64]
Point: TypeAlias = tuple[int, int]
ImageSource: TypeAlias = (
    "str | os.PathLike[str] | bytes | bytearray | memoryview | Image.Image | npt.NDArray[Any]"
)

#: The 45 characters of QR alphanumeric mode, in code order (also the Base45 alphabet).
ALPHANUMERIC_CHARSET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
DEFAULT_SCALE: Final = 4
DEFAULT_BORDER: Final = 4
DEFAULT_DPI: Final = 300
#: Largest encoded image file accepted by :func:`decode_image` (bytes).
MAX_IMAGE_BYTES: Final = 64 * 1024 * 1024
#: Images with more pixels than this are refused as unreasonable (a 64 MP photo passes).
MAX_IMAGE_PIXELS: Final = 64_000_000
#: Larger images are scaled down to about this many pixels before searching for codes.
_WORK_PIXELS: Final = 12_000_000
#: Images up to this many pixels are also tried upscaled twice in the fallback pass.
_UPSCALE_MAX_PIXELS: Final = 2_000_000

_ALNUM_INDEX: Final = {c: i for i, c in enumerate(ALPHANUMERIC_CHARSET)}
_MM_PER_INCH: Final = 25.4


# ---------------------------------------------------------------------------------------------
# QR tables (ISO/IEC 18004:2015, tables 7 and 9), indexed [ecl][version]; index 0 is unused.
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# GF(256) arithmetic and Reed-Solomon over x^8 + x^4 + x^3 + x^2 + 1, generator roots a^0..a^(n-1).
# ---------------------------------------------------------------------------------------------


def _gf_tables() -> tuple[list[int], list[int]]:
    """Exponent (doubled, so sums of two logs need no modulo) and logarithm tables."""
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _gf_tables()
_EXP_NP: Final = np.array(_EXP, dtype=np.int64)
_LOG_NP: Final = np.array(_LOG, dtype=np.int64)


def _gf_mul(a: int, b: int) -> int:
    """Product in GF(256)."""
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def _gf_inv(a: int) -> int:
    """Multiplicative inverse in GF(256) (``a`` must not be 0)."""
    return _EXP[255 - _LOG[a]]


@lru_cache(maxsize=64)
def _rs_generator_logs(degree: int) -> IntArray:
    """Logs of the generator polynomial coefficients (highest degree first, leading 1 dropped)."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, coef in enumerate(poly):
            nxt[j] ^= coef
            nxt[j + 1] ^= _gf_mul(coef, _EXP[i])
        poly = nxt
    return np.array([_LOG[c] for c in poly[1:]], dtype=np.int64)


def _rs_remainders(blocks: IntArray, degree: int) -> IntArray:
    """Error-correction codewords of every row of ``blocks`` (all rows the same length)."""
    gen_logs = _rs_generator_logs(degree)
    rem = np.zeros((blocks.shape[0], degree), dtype=np.int64)
    for i in range(blocks.shape[1]):
        factor = blocks[:, i] ^ rem[:, 0]
        rem[:, :-1] = rem[:, 1:]
        rem[:, -1] = 0
        terms = _EXP_NP[_LOG_NP[factor][:, None] + gen_logs[None, :]]
        rem ^= np.where((factor != 0)[:, None], terms, 0)
    return rem


def _rs_syndromes(blocks: IntArray, nsym: int) -> IntArray:
    """Syndromes S_i = r(a^i), i < nsym, of each received block (rows, highest degree first).

    Blocks of unequal length may be left-padded with zeros: that does not change their value.
    """
    powers = np.arange(blocks.shape[1] - 1, -1, -1, dtype=np.int64)
    exps = _LOG_NP[blocks][:, None, :] + np.arange(nsym, dtype=np.int64)[None, :, None] * powers
    terms = np.where((blocks != 0)[:, None, :], _EXP_NP[exps % 255], 0)
    return np.asarray(np.bitwise_xor.reduce(terms, axis=2), dtype=np.int64)


def _berlekamp_massey(synd: Sequence[int]) -> list[int]:
    """Error-locator polynomial (lowest degree first) for the given syndromes."""
    c, b = [1], [1]
    length, m, last = 0, 1, 1
    for n, s in enumerate(synd):
        d = s
        for i in range(1, length + 1):
            if i < len(c):
                d ^= _gf_mul(c[i], synd[n - i])
        if d == 0:
            m += 1
            continue
        coef = _gf_mul(d, _gf_inv(last))
        shifted = [0] * m + [_gf_mul(coef, x) for x in b]
        new_c = [(c[i] if i < len(c) else 0) ^ (shifted[i] if i < len(shifted) else 0)
                 for i in range(max(len(c), len(shifted)))]
        if 2 * length <= n:
            b, length, last, m = c, n + 1 - length, d, 1
        else:
            m += 1
        c = new_c
    return c[: length + 1]


def _poly_eval_low(poly: Sequence[int], x: int) -> int:
    """Evaluate a polynomial given lowest degree first."""
    y = 0
    for coef in reversed(poly):
        y = _gf_mul(y, x) ^ coef
    return y


def _poly_eval_many(poly: Sequence[int], exps: IntArray) -> IntArray:
    """Values of a polynomial (lowest degree first) at the points a^exps."""
    total = np.zeros(exps.shape, dtype=np.int64)
    for i, coef in enumerate(poly):
        if coef:
            total ^= _EXP_NP[(_LOG[coef] + i * exps) % 255]
    return total


def _rs_correct(block: Sequence[int], synd: Sequence[int]) -> list[int] | None:
    """Correct a received block with non-zero syndromes; ``None`` if it is beyond correction."""
    nsym = len(synd)
    locator = _berlekamp_massey(synd)
    errors = len(locator) - 1
    if errors == 0 or 2 * errors > nsym:
        return None
    n = len(block)
    omega = [0] * nsym  # S(x) * locator(x) mod x^nsym
    for i, s in enumerate(synd):
        for j, lam in enumerate(locator):
            if i + j < nsym:
                omega[i + j] ^= _gf_mul(s, lam)
    deriv = [locator[i] if i % 2 == 1 else 0 for i in range(1, len(locator))]
    powers = np.arange(n - 1, -1, -1, dtype=np.int64)
    inv_exps = (255 - powers) % 255
    positions = np.flatnonzero(_poly_eval_many(locator, inv_exps) == 0).tolist()
    if len(positions) != errors:
        return None
    fixed = list(block)
    for j in positions:
        power = n - 1 - j
        x_inv = _EXP[(255 - power) % 255]
        denom = _poly_eval_low(deriv, x_inv)
        if denom == 0:
            return None
        fixed[j] ^= _gf_mul(_EXP[power], _gf_mul(_poly_eval_low(omega, x_inv), _gf_inv(denom)))
    if _rs_syndromes(np.array([fixed], dtype=np.int64), nsym).any():
        return None
    return fixed


def _rs_correct_blocks(blocks: Sequence[Sequence[int]], nsym: int) -> list[list[int]] | None:
    """Correct every block (same EC length); ``None`` if any is beyond correction."""
    width = max(len(b) for b in blocks)
    padded = np.array([[0] * (width - len(b)) + list(b) for b in blocks], dtype=np.int64)
    syndromes = _rs_syndromes(padded, nsym)
    out: list[list[int]] = []
    for block, synd in zip(blocks, syndromes.tolist(), strict=True):
        fixed = _rs_correct(block, synd) if any(synd) else list(block)
        if fixed is None:
            return None
        out.append(fixed)
    return out


# ---------------------------------------------------------------------------------------------
# Symbol layout: function patterns, data-module order, masks, format and version information.
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Encoding (text -> matrix).
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """A QR symbol: ``modules[row, col]`` is True for a dark module (no quiet zone)."""

    version: int
    ec_level: str
    mask: int
    modules: BoolMatrix = field(repr=False)

    @property
    def size(self) -> int:
        """Modules per side, without the quiet zone."""
        return int(self.modules.shape[0])


def is_alphanumeric(text: str) -> bool:
    """True if every character of ``text`` is in the QR alphanumeric set (and it is not empty)."""
    return bool(text) and all(ch in _ALNUM_INDEX for ch in text)


def _check_alphanumeric(text: str) -> None:
    """Raise :class:`InputError` unless ``text`` can be one alphanumeric segment."""
    if not isinstance(text, str):
        raise InputError("text", f"expected str, got {type(text).__name__}")
    if not text:
        raise InputError("text", "is empty")
    for pos, ch in enumerate(text):
        if ch not in _ALNUM_INDEX:
            hint = " (lowercase letters are not allowed)" if ch.islower() else ""
            raise InputError(
                "text",
                f"character U+{ord(ch):04X} at index {pos} is not in the QR alphanumeric set "
                f"{ALPHANUMERIC_CHARSET!r}{hint}; refusing to switch to byte mode",
            )


def _alphanumeric_bits(text: str) -> str:
    """The data bits of ``text`` as alphanumeric characters (no header)."""
    values = [_ALNUM_INDEX[ch] for ch in text]
    parts = [format(values[i] * 45 + values[i + 1], "011b") for i in range(0, len(values) - 1, 2)]
    if len(values) % 2:
        parts.append(format(values[-1], "06b"))
    return "".join(parts)


def _choose_version(length: int, ecl: str) -> int:
    """Smallest version holding ``length`` alphanumeric characters at level ``ecl``."""
    payload = 11 * (length // 2) + 6 * (length % 2)
    for version in range(1, 41):
        need = 4 + _count_bits("alphanumeric", version) + payload
        if need <= _data_codewords(version, ecl) * 8:
            return version
    raise InputError("text", f"{length} characters exceed a version 40 QR code at level {ecl}")


def _data_codeword_array(text: str, version: int, ecl: str) -> list[int]:
    """Header, data, terminator and padding of one alphanumeric segment, as codewords."""
    capacity = _data_codewords(version, ecl) * 8
    bits = "0010" + format(len(text), f"0{_count_bits('alphanumeric', version)}b") + _alphanumeric_bits(text)
    bits += "0" * min(4, capacity - len(bits))
    bits += "0" * (-len(bits) % 8)
    words = [int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)]
    pad = (0xEC, 0x11)
    words += [pad[i % 2] for i in range(capacity // 8 - len(words))]
    return words


def _interleave(data: Sequence[int], version: int, ecl: str) -> list[int]:
    """Split data codewords into blocks, append RS codewords and interleave them."""
    lengths, ecc = _block_lengths(version, ecl)
    blocks: list[list[int]] = []
    pos = 0
    for n in lengths:
        blocks.append(list(data[pos : pos + n]))
        pos += n
    ecc_blocks: list[list[int]] = []
    for n in sorted(set(lengths)):
        group = [b for b in blocks if len(b) == n]
        ecc_blocks += _rs_remainders(np.array(group, dtype=np.int64), ecc).tolist()
    out: list[int] = []
    for i in range(max(lengths)):
        out += [b[i] for b in blocks if i < len(b)]
    for i in range(ecc):
        out += [b[i] for b in ecc_blocks]
    return out


def _penalties(c: BoolMatrix) -> IntArray:
    """Mask penalty N1 + N2 + N3 + N4 (ISO/IEC 18004 section 7.8.3) of each symbol in a stack."""
    size = c.shape[1]
    lines = np.concatenate([c, c.transpose(0, 2, 1)], axis=1)  # rows then columns
    # N1: a run of L >= 5 same-coloured modules scores L - 2: it holds L - 4 uniform windows of
    # five modules, plus 2 for the window that starts the run.
    eq = lines[:, :, 1:] == lines[:, :, :-1]
    uniform = eq[:, :, :-3] & eq[:, :, 1:-2] & eq[:, :, 2:-1] & eq[:, :, 3:]
    starts_run = uniform.copy()
    starts_run[:, :, 1:] &= ~eq[:, :, :-4]
    n1 = np.count_nonzero(uniform, axis=(1, 2)) + 2 * np.count_nonzero(starts_run, axis=(1, 2))
    # N2: 2x2 blocks of one colour score 3 each.
    a = c[:, :-1, :-1]
    same = (a == c[:, 1:, :-1]) & (a == c[:, :-1, 1:]) & (a == c[:, 1:, 1:])
    n2 = 3 * np.count_nonzero(same, axis=(1, 2))
    # N3: 1:1:3:1:1 finder-like patterns with 4 light modules on one side score 40 each.
    p = np.pad(lines, ((0, 0), (0, 0), (4, 4)))
    w = p.shape[2] - 10
    core = p[:, :, 4 : 4 + w] & ~p[:, :, 5 : 5 + w] & p[:, :, 6 : 6 + w] & p[:, :, 7 : 7 + w]
    core &= p[:, :, 8 : 8 + w] & ~p[:, :, 9 : 9 + w] & p[:, :, 10 : 10 + w]
    light_before = ~(p[:, :, 0:w] | p[:, :, 1 : 1 + w] | p[:, :, 2 : 2 + w] | p[:, :, 3 : 3 + w])
    w2 = w - 4
    core_after = core[:, :, :w2]
    light_after = ~(p[:, :, 11 : 11 + w2] | p[:, :, 12 : 12 + w2])
    light_after &= ~(p[:, :, 13 : 13 + w2] | p[:, :, 14 : 14 + w2])
    n3 = 40 * (np.count_nonzero(core & light_before, axis=(1, 2))
               + np.count_nonzero(core_after & light_after, axis=(1, 2)))
    # N4: 10 points per 5 % deviation of the dark proportion from 50 %.
    total = size * size
    dark = np.count_nonzero(c, axis=(1, 2))
    n4 = 10 * ((np.abs(dark * 20 - total * 10) + total - 1) // total - 1)
    return np.asarray(n1 + n2 + n3 + n4, dtype=np.int64)


@lru_cache(maxsize=41)
def _format_arrays(size: int, ecl: str) -> tuple[IntArray, IntArray, BoolMatrix]:
    """Rows, columns (both copies) and the bits for masks 0-7 of the format information."""
    first, second = _format_coordinates(size)
    coords = first + second
    rows = np.array([r for r, _ in coords], dtype=np.int64)
    cols = np.array([c for _, c in coords], dtype=np.int64)
    words = [_bch_format((_ECL_FORMAT_BITS[ecl] << 3) | k) for k in range(8)]
    bits = np.array([[(w >> (i % 15)) & 1 for i in range(30)] for w in words], dtype=np.bool_)
    return rows, cols, bits


def encode(text: str, *, mask: int | None = None) -> QrMatrix:
    """Encode ``text`` as one alphanumeric segment at level Q (the DCC requirement).

    ``mask`` forces a mask pattern (0-7); by default the one with the lowest penalty is used.
    Raises :class:`InputError` for text outside the alphanumeric set or beyond version 40.
    """
    _check_alphanumeric(text)
    if mask is not None and mask not in range(8):
        raise InputError("mask", "must be between 0 and 7")
    ecl = "Q"
    version = _choose_version(len(text), ecl)
    layout = _layout(version)
    codewords = _interleave(_data_codeword_array(text, version, ecl), version, ecl)
    bits = np.unpackbits(np.array(codewords, dtype=np.uint8)).astype(np.bool_)
    base = layout.template.copy()
    base[layout.rows[: bits.size], layout.cols[: bits.size]] = bits
    masks = range(8) if mask is None else [mask]
    candidates = base[None, :, :] ^ layout.mask_stack[list(masks)]
    f_rows, f_cols, f_bits = _format_arrays(layout.size, ecl)
    candidates[:, f_rows, f_cols] = f_bits[list(masks)]
    best = int(np.argmin(_penalties(candidates))) if mask is None else 0
    chosen = np.ascontiguousarray(candidates[best])
    chosen.flags.writeable = False
    return QrMatrix(version=version, ec_level=ecl, mask=masks[best], modules=chosen)


# ---------------------------------------------------------------------------------------------
# Reading a sampled symbol (matrix -> format, segments).
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Rendering: size planning, PNG, SVG, terminal.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderSize:
    """How a symbol is laid out in an image.

    ``scale`` is pixels per module; ``pixels`` the side of the whole image including the quiet
    zone; ``symbol_mm`` and ``image_mm`` the printed sides (without / with the quiet zone) at
    ``dpi``; ``diagonal_mm`` the symbol diagonal, which the DCC specification recommends to be
    35-60 mm on paper.
    """

    modules: int
    border: int
    scale: int
    dpi: float
    pixels: int
    module_mm: float
    symbol_mm: float
    image_mm: float
    diagonal_mm: float


def _check_border(border: int) -> None:
    """Raise :class:`InputError` unless ``border`` is a whole number of modules >= 0."""
    if isinstance(border, bool) or not isinstance(border, int) or border < 0:
        raise InputError("border", "must be a whole number >= 0")


def _check_positive(name: str, value: float, *, integer: bool = False) -> None:
    """Raise :class:`InputError` unless ``value`` is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(name, f"expected a number, got {type(value).__name__}")
    if integer and not isinstance(value, int):
        raise InputError(name, "must be a whole number")
    if not math.isfinite(value) or value <= 0:
        raise InputError(name, "must be a positive number")


def plan_size(
    modules: int,
    *,
    scale: int | None = None,
    size_mm: float | None = None,
    dpi: float = DEFAULT_DPI,
    border: int = DEFAULT_BORDER,
) -> RenderSize:
    """Choose pixels per module for a symbol of ``modules`` per side.

    Give either ``scale`` (pixels per module) or ``size_mm``: the printed side of the symbol
    without its quiet zone, at ``dpi``.  Modules are whole pixels (sharp edges for scanners), so
    the side actually obtained is the nearest multiple of the module and is reported in the result.
    """
    if scale is not None and size_mm is not None:
        raise InputError("size", "give either scale or size_mm, not both")
    _check_positive("dpi", dpi)
    _check_border(border)
    if size_mm is not None:
        _check_positive("size_mm", size_mm)
        exact = size_mm / _MM_PER_INCH * dpi / modules
        if exact < 1:
            raise InputError(
                "size_mm",
                f"{size_mm} mm at {dpi} dpi gives {exact:.2f} pixels per module; use a higher dpi",
            )
        scale = max(1, round(exact))
    elif scale is None:
        scale = DEFAULT_SCALE
    _check_positive("scale", scale, integer=True)
    module_mm = _MM_PER_INCH / dpi * scale
    symbol_mm = modules * module_mm
    return RenderSize(
        modules=modules,
        border=border,
        scale=scale,
        dpi=float(dpi),
        pixels=(modules + 2 * border) * scale,
        module_mm=module_mm,
        symbol_mm=symbol_mm,
        image_mm=(modules + 2 * border) * module_mm,
        diagonal_mm=symbol_mm * math.sqrt(2),
    )


def _with_border(modules: BoolMatrix, border: int) -> BoolMatrix:
    """The module matrix surrounded by ``border`` light modules."""
    return np.pad(modules, border) if border else modules


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_from_modules(modules: BoolMatrix, size: RenderSize) -> bytes:
    """A 1-bit greyscale PNG of ``modules`` (dark = True) with quiet zone and pHYs (DPI)."""
    light = ~_with_border(modules, size.border)
    row_bits = np.repeat(light, size.scale, axis=1)
    packed = np.packbits(row_bits, axis=1)
    rows = np.repeat(np.pad(packed, ((0, 0), (1, 0))), size.scale, axis=0)  # filter byte 0
    width = height = size.pixels
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    ppm = round(size.dpi / 0.0254)
    phys = struct.pack(">IIB", ppm, ppm, 1)
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", ihdr),
        _png_chunk(b"pHYs", phys),
        _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)),
        _png_chunk(b"IEND", b""),
    ))


def render_png(
    text: str,
    *,
    scale: int | None = None,
    size_mm: float | None = None,
    dpi: float = DEFAULT_DPI,
    border: int = DEFAULT_BORDER,
) -> bytes:
    """PNG bytes of ``text`` as a QR code (alphanumeric mode, level Q).

    Size by ``scale`` (pixels per module, default 4) or ``size_mm`` (printed side of the symbol
    without quiet zone) at ``dpi``; the DPI is written into the PNG.  ``border`` is the quiet zone
    in modules (the QR standard asks for 4).
    """
    matrix = encode(text)
    size = plan_size(matrix.size, scale=scale, size_mm=size_mm, dpi=dpi, border=border)
    return _png_from_modules(matrix.modules, size)


def _svg_path(modules: BoolMatrix, offset: int) -> str:
    """SVG path data drawing each horizontal run of dark modules as one rectangle."""
    padded = np.pad(modules.astype(np.int8), ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    parts: list[str] = []
    for row in range(modules.shape[0]):
        starts = np.flatnonzero(edges[row] == 1)
        ends = np.flatnonzero(edges[row] == -1)
        y = row + offset
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            length = end - start
            parts.append(f"M{start + offset} {y}h{length}v1h-{length}z")
    return "".join(parts)


def render_svg(
    text: str,
    *,
    scale: int | None = None,
    size_mm: float | None = None,
    dpi: float = DEFAULT_DPI,
    border: int = DEFAULT_BORDER,
) -> str:
    """An SVG document of ``text`` as a QR code (alphanumeric mode, level Q).

    The drawing is in module units (``viewBox``); with ``size_mm`` the width and height are given
    in millimetres (the symbol side without quiet zone is ``size_mm``, exactly: SVG needs no whole
    pixels), otherwise in pixels of ``scale`` per module.  ``dpi`` is accepted for symmetry with
    :func:`render_png` and only validated: a vector drawing has no pixel grid.
    """
    _check_positive("dpi", dpi)
    matrix = encode(text)
    _check_border(border)
    total = matrix.size + 2 * border
    if size_mm is not None:
        if scale is not None:
            raise InputError("size", "give either scale or size_mm, not both")
        _check_positive("size_mm", size_mm)
        side = f"{size_mm * total / matrix.size:.3f}mm"
    else:
        side = str(plan_size(matrix.size, scale=scale, dpi=dpi, border=border).pixels)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
        f'viewBox="0 0 {total} {total}" shape-rendering="crispEdges">'
        f'<rect width="{total}" height="{total}" fill="#fff"/>'
        f'<path fill="#000" d="{_svg_path(matrix.modules, border)}"/></svg>\n'
    )


_HALF_BLOCKS: Final = (" ", "\u2584", "\u2580", "\u2588")  # index: 2 * top + bottom, lit cells


def render_terminal(text: str, *, border: int = DEFAULT_BORDER, invert: bool = False) -> str:
    """The QR code as text, two module rows per line with half-block characters.

    By default light modules are drawn with block characters, which suits the usual light-on-dark
    terminal; ``invert=True`` draws dark modules instead, for dark-on-light terminals.  Lines end
    with ``\\n``.
    """
    _check_border(border)
    modules = _with_border(encode(text).modules, border)
    lit = modules if invert else ~modules
    if lit.shape[0] % 2:
        lit = np.pad(lit, ((0, 1), (0, 0)))
    codes = 2 * lit[0::2].astype(np.int8) + lit[1::2].astype(np.int8)
    return "".join("".join(_HALF_BLOCKS[v] for v in row) + "\n" for row in codes.tolist())


def save(text: str, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write ``text`` as a QR code to ``path``; the suffix (.png or .svg) picks the format.

    ``options`` are those of :func:`render_png` / :func:`render_svg`.  Returns the path written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".png":
        target.write_bytes(render_png(text, **options))
    elif suffix == ".svg":
        target.write_text(render_svg(text, **options), encoding="utf-8")
    else:
        raise InputError("path", f"unsupported suffix {suffix!r}: use .png or .svg")
    return target


# ---------------------------------------------------------------------------------------------
# Decoding pictures.
# ---------------------------------------------------------------------------------------------


class ImageDecodeError(DecodeError):
    """The image data cannot be read: not an image, truncated, corrupt or unreasonably large."""

    def __init__(self, message: str) -> None:
        super().__init__(FailureCode.IMAGE_UNREADABLE, Stage.IMAGE, message)


@dataclass(frozen=True, slots=True)
class DecodedCode:
    """One QR code found in a picture.

    ``alphanumeric`` is True when the data is in alphanumeric mode and nothing else (DCC rule Q2);
    ``modes`` lists the segment modes read from the symbol (empty if the symbol could not be read
    again, e.g. a Micro QR code).  ``position`` gives the corners top-left, top-right, bottom-right,
    bottom-left in pixels of the source image.  ``text`` and ``raw`` are left out of ``repr``: they
    hold personal data.
    """

    text: str = field(repr=False)
    alphanumeric: bool
    modes: tuple[str, ...]
    ec_level: str | None
    version: int | None
    position: tuple[Point, Point, Point, Point]
    orientation: int
    symbology: str
    raw: bytes = field(repr=False)


_FORMATS: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # models 1 and 2, Micro, rMQR


def _read_file(path: Path) -> bytes:
    """Read an image file, refusing files larger than :data:`MAX_IMAGE_BYTES`."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ImageDecodeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageDecodeError(f"{path} is larger than {MAX_IMAGE_BYTES} bytes")
    return data


def _fit_work_size(width: int, height: int) -> tuple[int, int]:
    """Size at most :data:`_WORK_PIXELS` pixels with the same aspect ratio."""
    if width * height <= _WORK_PIXELS:
        return width, height
    factor = math.sqrt(_WORK_PIXELS / (width * height))
    return max(1, int(width * factor)), max(1, int(height * factor))


#: A greyscale working image and its scale relative to the source (work pixels per source pixel).
_Loaded: TypeAlias = tuple[U8Array, float]


def _open_bytes(data: bytes) -> _Loaded:
    """Decode image bytes (any format Pillow reads) to a greyscale array."""
    if not data:
        raise ImageDecodeError("empty image data")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageDecodeError(f"image data larger than {MAX_IMAGE_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                if width <= 0 or height <= 0 or width * height > MAX_IMAGE_PIXELS:
                    raise ImageDecodeError(f"image of {width}x{height} exceeds {MAX_IMAGE_PIXELS} pixels")
                if im.format == "JPEG":
                    im.draft("L", _fit_work_size(width, height))  # decode in grey, reduced if large
                im.load()
                return _pil_to_gray(ImageOps.exif_transpose(im), width * height)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"image exceeds {MAX_IMAGE_PIXELS} pixels") from exc
    except Exception as exc:  # Pillow raises many exception types on corrupt data
        raise ImageDecodeError(f"cannot decode image data ({type(exc).__name__})") from exc


def _pil_to_gray(im: Image.Image, source_pixels: int | None = None) -> _Loaded:
    """Greyscale working array of a Pillow image; transparent areas count as white paper.

    ``source_pixels`` is the pixel count of the source if ``im`` was already reduced (JPEG draft).
    """
    if im.width <= 0 or im.height <= 0:
        raise ImageDecodeError("image has no pixels")
    source = source_pixels or im.width * im.height
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        gray, _ = _array_to_gray(np.asarray(im))
        im = Image.fromarray(gray)
    elif im.mode != "L":
        im = im.convert("L")
    work = _fit_work_size(im.width, im.height)
    if work != im.size:
        im = im.resize(work, Image.Resampling.BOX)
    gray = np.ascontiguousarray(np.asarray(im, dtype=np.uint8))
    return gray, math.sqrt(gray.size / source)


def _array_to_gray(array: npt.NDArray[Any]) -> _Loaded:
    """Greyscale working array from a 2-D grey or 3-D RGB / RGBA array of any numeric dtype."""
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.size == 0 or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ImageDecodeError(f"array of shape {a.shape} is not a grey, RGB or RGBA image")
    if a.dtype == np.uint8:  # the usual case: let Pillow convert and resize in C
        mode = {2: "L", 3: "RGB", 4: "RGBA"}[a.shape[2] if a.ndim == 3 else 2]
        return _pil_to_gray(Image.fromarray(np.ascontiguousarray(a), mode))
    if a.dtype == np.bool_:
        values = a.astype(np.float32) * 255.0
    elif np.issubdtype(a.dtype, np.number) and not np.issubdtype(a.dtype, np.complexfloating):
        values = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        top = float(values.max())
        if np.issubdtype(a.dtype, np.floating) and top <= 1.0:
            values *= 255.0
        elif top > 255.0:
            values *= 255.0 / top
    else:
        raise ImageDecodeError(f"array dtype {a.dtype} is not numeric")
    if values.ndim == 3:
        alpha = values[:, :, 3:4] / 255.0 if values.shape[2] == 4 else 1.0
        rgb = values[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
        values = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return _pil_to_gray(Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L"))


def _load_gray(source: ImageSource) -> _Loaded:
    """Any supported image source as a greyscale array (raises :class:`ImageDecodeError`)."""
    if isinstance(source, np.ndarray):
        return _array_to_gray(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return _open_bytes(bytes(source))
    if isinstance(source, str | os.PathLike):
        return _open_bytes(_read_file(Path(source)))
    if not isinstance(source, Image.Image):
        raise TypeError(f"unsupported image source type {type(source).__name__}")
    if source.width * source.height > MAX_IMAGE_PIXELS:
        raise ImageDecodeError(f"image exceeds {MAX_IMAGE_PIXELS} pixels")
    try:
        source.load()
        return _pil_to_gray(source)
    except ImageDecodeError:
        raise
    except Exception as exc:  # a lazily opened image may fail to load or convert
        raise ImageDecodeError(f"cannot decode image data ({type(exc).__name__})") from exc


def _scan(gray: U8Array) -> list[zxingcpp.Barcode]:
    """One zxing-cpp pass over ``gray`` for QR codes."""
    return zxingcpp.read_barcodes(
        gray,
        formats=_FORMATS,
        try_rotate=True,
        try_downscale=True,
        try_invert=True,
        text_mode=zxingcpp.TextMode.Plain,
        binarizer=zxingcpp.Binarizer.LocalAverage,
    )


def _stretch(gray: U8Array) -> U8Array:
    """Linear contrast stretch between the 1st and 99th percentiles."""
    lo, hi = np.percentile(gray, (1, 99))
    if hi - lo < 1:
        return gray
    out = (gray.astype(np.float32) - float(lo)) * (255.0 / float(hi - lo))
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def _resize(gray: U8Array, factor: float) -> U8Array:
    """Resize by ``factor`` (bicubic up, box down)."""
    height, width = gray.shape
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    method = Image.Resampling.BICUBIC if factor > 1 else Image.Resampling.BOX
    return np.asarray(Image.fromarray(gray).resize(size, method), dtype=np.uint8)


def _filtered(gray: U8Array, image_filter: ImageFilter.Filter) -> U8Array:
    """Apply a Pillow filter to a greyscale array."""
    return np.asarray(Image.fromarray(gray).filter(image_filter), dtype=np.uint8)


def _fallback_variants(gray: U8Array) -> Iterator[tuple[U8Array, float]]:
    """Preprocessed versions of ``gray`` to try, cheapest first: (image, scale factor).

    Chosen on the synthetic photo set (scripts/make_photo_set.py): a contrast stretch rescues dim,
    low-contrast pictures; unsharp masking rescues blur and tilted, blurred camera shots; a light
    Gaussian blur rescues heavy sensor noise; upscaling twice and sharpening rescues codes with
    modules of 1.2-1.5 pixels.  Median filtering and the GlobalHistogram binarizer were measured
    too and rescued nothing the others did not.
    """
    stretched = _stretch(gray)
    yield stretched, 1.0
    yield _filtered(stretched, ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0)), 1.0
    yield _filtered(stretched, ImageFilter.GaussianBlur(1.0)), 1.0
    if gray.size <= _UPSCALE_MAX_PIXELS:
        upscaled = _resize(stretched, 2.0)
        yield _filtered(upscaled, ImageFilter.UnsharpMask(radius=3, percent=300, threshold=0)), 2.0


def _corner(point: zxingcpp.Point, factor: float) -> Point:
    """A corner mapped back to source-image pixels."""
    return round(point.x / factor), round(point.y / factor)


def _to_decoded(barcode: zxingcpp.Barcode, factor: float) -> DecodedCode:
    """Build a :class:`DecodedCode`, reading the segment modes from the sampled symbol."""
    pos = barcode.position
    corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    info: SymbolInfo | None
    try:
        info = read_symbol(np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128)
    except (ValueError, RuntimeError):  # not a model 2 symbol (e.g. Micro QR), or no matrix
        info = None
    version_text = str(dict(barcode.extra).get("Version", "")) if isinstance(barcode.extra, dict) else ""
    return DecodedCode(
        text=barcode.text,
        alphanumeric=info.alphanumeric if info else False,
        modes=info.modes if info else (),
        ec_level=info.ec_level if info else (barcode.ec_level or None),
        version=info.version if info else (int(version_text) if version_text.isdigit() else None),
        position=(
            _corner(corners[0], factor),
            _corner(corners[1], factor),
            _corner(corners[2], factor),
            _corner(corners[3], factor),
        ),
        orientation=int(barcode.orientation),
        symbology=str(barcode.format),
        raw=bytes(barcode.bytes),
    )


def _centre(code: DecodedCode) -> tuple[float, float]:
    """Centre of a code's corners."""
    return (sum(p[0] for p in code.position) / 4, sum(p[1] for p in code.position) / 4)


def _add_unique(found: list[DecodedCode], new: DecodedCode) -> None:
    """Append ``new`` unless the same text was already found at about the same place."""
    cx, cy = _centre(new)
    for old in found:
        ox, oy = _centre(old)
        if old.text == new.text and abs(cx - ox) < 20 and abs(cy - oy) < 20:
            return
    found.append(new)


def decode_image(source: ImageSource, *, fallback: bool = True) -> list[DecodedCode]:
    """Every QR code in a picture, in the order found.

    ``source`` is a path (``str`` or path-like), encoded image bytes (PNG, JPEG or anything
    Pillow reads), a Pillow image, or a numpy array (grey ``HxW``, ``HxWx3`` RGB or ``HxWx4`` RGBA).
    A first pass uses zxing-cpp as is (rotations, downscaling and inverted codes included).  Only
    if it finds nothing, and ``fallback`` is true, preprocessed variants are tried one after the
    other (contrast stretch, sharpening, denoising, upscaling) until one finds a code; a live
    camera loop that gets a new frame soon may pass ``fallback=False`` to bound the time per frame.

    Returns ``[]`` for a readable image without a QR code.  Raises :class:`ImageDecodeError` for
    data that is not a readable image or is larger than :data:`MAX_IMAGE_BYTES` /
    :data:`MAX_IMAGE_PIXELS`.  Large photos are scanned at about 12 megapixels; positions are
    still given in pixels of the source (after applying its EXIF orientation).
    """
    gray, load_factor = _load_gray(source)
    found: list[DecodedCode] = []
    for barcode in _scan(gray):
        _add_unique(found, _to_decoded(barcode, load_factor))
    if found or not fallback:
        return found
    for variant, factor in _fallback_variants(gray):
        for barcode in _scan(variant):
            _add_unique(found, _to_decoded(barcode, load_factor * factor))
        if found:
            break
    return found


def decode_file(path: str | os.PathLike[str], *, fallback: bool = True) -> list[DecodedCode]:
    """Every QR code in the image file at ``path`` (see :func:`decode_image`)."""
    return decode_image(Path(path), fallback=fallback)
