"""Reed–Solomon over GF(256) for QR codes: codeword remainders (encoding) and error correction (reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Final

import numpy as np

from .tables import IntArray

__all__ = []


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
