"""The QR encoder: HC1 text → module matrix, one alphanumeric segment at error-correction level Q.

The EU DCC specification asks for exactly this; text outside the QR alphanumeric set (Base45 is
exactly that set) is refused with :class:`~vaxcert.errors.InputError`, with no fallback to byte mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..errors import InputError
from .layout import _bch_format, _format_coordinates, _layout
from .reedsolomon import _rs_remainders
from .tables import (
    _ALNUM_INDEX,
    _ECL_FORMAT_BITS,
    ALPHANUMERIC_CHARSET,
    BoolMatrix,
    IntArray,
    _block_lengths,
    _count_bits,
    _data_codewords,
)

__all__ = ["QrMatrix", "encode", "is_alphanumeric"]


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
